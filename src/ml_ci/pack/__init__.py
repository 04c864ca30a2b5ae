"""The pack: ``ml-ci init``, the pre-commit hooks and the GitHub Actions glue.

Everything here stays light (stdlib + pyyaml): the hooks must start fast, so no pandas,
scikit-learn or dvc import on their path.
"""
