"""Where ml-ci's data folders are: report/workflow templates and the bundled example.

In a source checkout (editable install) they are the repository's top-level ``templates/``
and ``examples/`` folders; in an installed wheel they are copies inside the package
(``ml_ci/templates``, ``ml_ci/examples``), put there by pyproject's package-data mapping.
"""

from __future__ import annotations

from pathlib import Path

from ml_ci.errors import MlCiError

_PACKAGE = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE.parents[1]  # src/ml_ci -> repository root


def _data_dir(name: str) -> Path:
    """The packaged copy of ``name`` if the wheel has one, else the source checkout's folder."""
    if (_PACKAGE / name).is_dir():
        return _PACKAGE / name
    # only a source checkout (it has pyproject.toml) may lend its top-level folder
    if (_SOURCE_ROOT / "pyproject.toml").is_file() and (_SOURCE_ROOT / name).is_dir():
        return _SOURCE_ROOT / name
    raise MlCiError(
        f"ml-ci's {name}/ folder is missing from the installation ({_PACKAGE}); reinstall ml-ci"
    )


def templates_dir() -> Path:
    """The folder of jinja2 report templates and workflow templates."""
    return _data_dir("templates")


def examples_dir() -> Path:
    """The folder of bundled example projects (``breast-cancer/``)."""
    return _data_dir("examples")


def example_dir(name: str = "breast-cancer") -> Path:
    """One bundled example project."""
    path = examples_dir() / name
    if not path.is_dir():
        raise MlCiError(f"bundled example {name!r} not found in {examples_dir()}")
    return path
