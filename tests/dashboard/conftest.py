from tests.fakegithub.plugin import fake_github  # noqa: F401
