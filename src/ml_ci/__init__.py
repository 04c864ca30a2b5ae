"""ml-ci: CI/CD for ML teams that keep code in git and data in DVC."""

__version__ = "0.1.0"
