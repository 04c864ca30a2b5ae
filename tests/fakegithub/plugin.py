"""pytest plugin: the ``fake_github`` fixture.

Use it from a conftest.py::

    from tests.fakegithub.plugin import fake_github  # noqa: F401

The fixture starts a fresh server per test and, at teardown, fails the test if any request
did not conform to GitHub's OpenAPI description (or the fake answered out of spec).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.fakegithub.server import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    server = FakeGitHub(timeout_sleep=0.6).start()
    try:
        yield server
    finally:
        server.stop()
    if server.violations:
        shown = json.dumps(server.violations[:5], indent=1)[:4000]
        pytest.fail(f"{len(server.violations)} request(s) violated GitHub's OpenAPI: {shown}")
