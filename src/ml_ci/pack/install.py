"""Install ml-ci for the composite actions (stdlib only: it runs before ml-ci exists).

``python3 $GITHUB_ACTION_PATH/<to root>/src/ml_ci/pack/install.py`` installs the ml-ci of the
action's own checkout (so ``uses: owner/ml-ci@v1.2.3`` runs exactly v1.2.3's code) and puts it
on ``$GITHUB_PATH`` for the following steps:

* if an ``ml-ci`` of the same version is already on PATH (a self-hosted runner, a prepared
  image), it is reused;
* otherwise a venv under ``$RUNNER_TEMP`` gets ``pip install <action root>``, with pip's cache in
  ``$RUNNER_TOOL_CACHE`` (kept between jobs on self-hosted runners; nothing fetched from a cache
  service, so it also works offline with a local index). pip's own ``PIP_*`` variables reach
  it (``PIP_INDEX_URL``, ``PIP_NO_INDEX``, ``PIP_FIND_LINKS``); ``ML_CI_PIP_ARGS`` adds
  arguments to that one ``pip install`` only (e.g. ``--no-index --find-links /wheelhouse``).

Then the project's own requirements (``$ML_CI_REQUIREMENTS``, the action's ``requirements``
input, default ``requirements.txt``; skipped when that file does not exist) go into the same
environment, so ``dvc repro`` and ``predict.command`` find what the training code imports, as
the release job does: the pull request's check and the release score in the same kind of
environment.

The interpreter is checked first (ml-ci needs :data:`MINIMUM_PYTHON`; ``tomllib`` is 3.11's),
so an older ``python3`` on the runner gets one line saying what to add, not a traceback.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MINIMUM_PYTHON = (3, 11)


def python_problem(version: tuple[int, ...]) -> str | None:
    """One line when ``version`` (``sys.version_info``) is too old for ml-ci, else None."""
    if tuple(version[:2]) >= MINIMUM_PYTHON:
        return None
    have = ".".join(str(part) for part in version[:3])
    need = ".".join(str(part) for part in MINIMUM_PYTHON)
    return (
        f"ml-ci needs Python {need} or newer, but python3 on this runner is {have}; add "
        f'`- uses: actions/setup-python@v5` with `python-version: "{need}"` before ml-ci\'s step'
    )


def wanted_version(root: Path = ROOT) -> str:
    """The version in the action's own ``pyproject.toml``."""
    import tomllib  # after python_problem(): an older interpreter has no tomllib

    with (root / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def installed_version(executable: str) -> str | None:
    """``ml-ci --version``'s last word, or None when it does not run."""
    try:
        done = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return None
    words = done.stdout.split()
    return words[-1] if done.returncode == 0 and words else None


def install(root: Path, version: str, environ: dict[str, str]) -> Path:
    """The bin folder of an ml-ci ``version``: reused from PATH, else installed into a venv."""
    on_path = shutil.which("ml-ci", path=environ.get("PATH"))
    if on_path and installed_version(on_path) == version:
        print(f"ml-ci {version} already installed: {on_path}")
        return Path(on_path).parent
    temp = Path(environ.get("RUNNER_TEMP") or Path.home() / ".cache")
    env_dir = temp / f"ml-ci-{version}"
    bin_dir = env_dir / "bin"
    if installed_version(str(bin_dir / "ml-ci")) == version:
        return bin_dir
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    cache = Path(environ.get("RUNNER_TOOL_CACHE") or temp) / "ml-ci-pip"
    pip_env = {**environ, "PIP_CACHE_DIR": str(cache), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    extra = shlex.split(environ.get("ML_CI_PIP_ARGS", ""))
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", *extra, str(root)],
        env=pip_env,
        check=True,
    )
    return bin_dir


def install_requirements(bin_dir: Path, requirements: str, environ: dict[str, str]) -> bool:
    """``pip install -r requirements`` into ml-ci's environment; False when there is no such
    file (nothing to do). The interpreter is the venv's, else this one (ml-ci found on PATH)."""
    if not requirements or not Path(requirements).is_file():
        return False
    python = bin_dir / "python"
    interpreter = str(python) if python.exists() else sys.executable
    subprocess.run(
        [interpreter, "-m", "pip", "install", "-r", requirements],
        env={**environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        check=True,
    )
    return True


def main() -> int:
    """Install, then append the bin folder to ``$GITHUB_PATH`` and the version to the outputs."""
    problem = python_problem((sys.version_info[0], sys.version_info[1], sys.version_info[2]))
    if problem:
        print(f"::error::{problem}", file=sys.stderr)
        return 2
    environ = dict(os.environ)
    version = wanted_version()
    try:
        bin_dir = install(ROOT, version, environ)
    except subprocess.CalledProcessError as error:
        print(
            f"::error::ml-ci: pip install of {ROOT} failed (exit {error.returncode})",
            file=sys.stderr,
        )
        return 3
    requirements = environ.get("ML_CI_REQUIREMENTS", "requirements.txt")
    try:
        if install_requirements(bin_dir, requirements, environ):
            print(f"installed {requirements} into ml-ci's environment")
    except subprocess.CalledProcessError as error:
        print(
            f"::error::ml-ci: pip install -r {requirements} failed (exit {error.returncode}); "
            "fix the file or set the action's requirements input to another one ('' to skip)",
            file=sys.stderr,
        )
        return 2
    for name, line in (("GITHUB_PATH", str(bin_dir)), ("GITHUB_OUTPUT", f"version={version}")):
        if environ.get(name):
            with Path(environ[name]).open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
    print(f"ml-ci {version}: {bin_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
