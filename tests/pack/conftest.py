"""Fixtures of tests/pack: a team's own projects (tests/pack/projects.py), built once."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.pack.projects import build_project


class _Built(dict[str, Path]):
    """Projects by kind, each built on first use."""

    def __init__(self, base: Path) -> None:
        super().__init__()
        self.base = base

    def __missing__(self, kind: str) -> Path:
        self[kind] = build_project(self.base / kind, kind)
        return self[kind]


@pytest.fixture(scope="session")
def own_projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wine (multiclass) and diabetes (regression) projects, each built once on first
    use; read-only."""
    return _Built(tmp_path_factory.mktemp("own-projects"))


@pytest.fixture
def own_project(own_projects: dict[str, Path], tmp_path: Path) -> Callable[[str], Path]:
    """A private copy of one of :func:`own_projects` (its DVC remote is shared: read only)."""

    def copy(kind: str) -> Path:
        target = tmp_path / kind
        shutil.copytree(own_projects[kind], target, symlinks=True)
        return target

    return copy
