"""A committed copy of this project's working tree, for tools that need a git repository.

``pre-commit try-repo`` and act's ``--local-repository`` read committed files, and the lead may
be committing /work/main at any moment, so tests never use /work/main's own git: they copy the
working tree (tracked and untracked files, minus .gitignore'd ones) into a fresh repository.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def project_files(project: Path = PROJECT) -> list[str]:
    """Files of the working tree that git would see (tracked + untracked, not ignored)."""
    done = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=project,
        capture_output=True,
        check=True,
    )
    names = {name for name in done.stdout.decode().split("\0") if name}
    return sorted(name for name in names if (project / name).is_file())


def commit_all(repo: Path, message: str = "snapshot") -> str:
    """``git add -A && git commit`` in ``repo``; returns the new commit's SHA."""
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, capture_output=True)
    subprocess.run(
        ["git", "commit", "-q", "--no-verify", "-m", message],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def snapshot_project(destination: Path, project: Path = PROJECT) -> Path:
    """Copy the project's working tree into ``destination`` (a new git repo, one commit)."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in project_files(project):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / name, target)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=destination, check=True)
    commit_all(destination, "ml-ci snapshot")
    return destination


def copy_tree_into_repo(source: Path, destination: Path) -> Path:
    """Copy ``source`` (a folder of example files) into a new committed git repo."""
    shutil.copytree(source, destination)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=destination, check=True)
    commit_all(destination, "example")
    return destination
