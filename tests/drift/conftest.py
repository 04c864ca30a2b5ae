"""Fixtures of the drift tests: the fake GitHub server (tests/fakegithub)."""

from tests.fakegithub.plugin import fake_github  # noqa: F401
