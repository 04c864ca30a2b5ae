"""Install ml-ci for the composite actions (stdlib only: it runs before ml-ci exists).

``python3 $GITHUB_ACTION_PATH/<to root>/src/ml_ci/pack/install.py`` installs the ml-ci of the
action's own checkout (so ``uses: owner/ml-ci@v1.2.3`` runs exactly v1.2.3's code) and puts it
on ``$GITHUB_PATH`` for the following steps:

* if an ``ml-ci`` of the same version is already on PATH (a self-hosted runner, a prepared
  image), it is reused;
* otherwise a venv under ``$RUNNER_TEMP`` gets ``pip install <action root>``, with pip's cache in
  ``$RUNNER_TOOL_CACHE`` (kept between jobs on self-hosted runners; nothing fetched from a cache
  service, so it also works offline with a local index).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def wanted_version(root: Path = ROOT) -> str:
    """The version in the action's own ``pyproject.toml``."""
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
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", str(root)], env=pip_env, check=True
    )
    return bin_dir


def main() -> int:
    """Install, then append the bin folder to ``$GITHUB_PATH`` and the version to the outputs."""
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
    for name, line in (("GITHUB_PATH", str(bin_dir)), ("GITHUB_OUTPUT", f"version={version}")):
        if environ.get(name):
            with Path(environ[name]).open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
    print(f"ml-ci {version}: {bin_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
