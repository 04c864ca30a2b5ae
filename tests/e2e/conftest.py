"""Fixtures of the end-to-end tests: the fake GitHub API (in-process, 127.0.0.1)."""

from tests.fakegithub.plugin import fake_github  # noqa: F401
