"""Small real git repositories with a bare remote, and the real ``gto`` to read them."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_ci.config import Config, validate_config

GTO = str(Path(sys.executable).parent / "gto")


def run(args: list[str], cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def init_repo(base: Path) -> tuple[Path, Path]:
    """``base/work`` (one commit on main) with ``origin`` -> ``base/origin.git`` (bare)."""
    bare = base / "origin.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], base)
    root = base / "work"
    root.mkdir()
    run(["git", "init", "-q", "-b", "main"], root)
    commit(root, "initial")
    run(["git", "remote", "add", "origin", str(bare)], root)
    run(["git", "push", "-q", "origin", "main"], root)
    return root, bare


def clone(bare: Path, dest: Path) -> Path:
    run(["git", "clone", "-q", str(bare), str(dest)], bare.parent)
    return dest


def commit(root: Path, message: str) -> str:
    run(["git", "commit", "-q", "--allow-empty", "-m", message], root)
    return run(["git", "rev-parse", "HEAD"], root)


def gto_show(root: Path) -> dict[str, Any]:
    """``gto show --json``: {model: {"version": latest, "stage": {stage: version}, ...}}."""
    data: dict[str, Any] = json.loads(run([GTO, "show", "--json"], root))
    return data


def gto_history(root: Path, model: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(run([GTO, "history", model, "--json"], root))
    return data


def gto_stages(root: Path, model: str) -> dict[str, str]:
    return dict(gto_show(root).get(model, {}).get("stage") or {})


def remote_tag_names(bare: Path) -> set[str]:
    return set(run(["git", "tag", "--list"], bare).split())


def config(**sections: Any) -> Config:
    data: dict[str, Any] = {"model": {"name": "churn", "path": "models/model.pkl"}}
    data.update(sections)
    return validate_config(data)


LOCK = """\
schema: '2.0'
stages:
  train:
    cmd: python src/train.py
    deps:
    - path: data/train.csv
      md5: {data}
      size: 10
    - path: src/train.py
      md5: 0123456789abcdef0123456789abcdef
      size: 5
    outs:
    - path: data/train.csv
      md5: {data}
      size: 10
    - path: models/model.pkl
      md5: {model}
      size: 20
"""
LIGHT_CONFIG = """\
model: {name: breast-cancer, path: models/model.pkl}
release: {trust_record: true}  # no predict.command here: nothing to recompute
governance: {approvers: [alice]}
"""


@dataclass(frozen=True)
class LightRepo:
    """A git repository whose commits carry a dvc.lock (no data: the release only reads the
    committed lock), a ``candidate`` branch with a new model hash, and a bare ``origin``."""

    root: Path
    git_remote: Path
    main_sha: str
    candidate_sha: str
    candidate_branch: str = "candidate"


def light_repo(base: Path) -> LightRepo:
    base.mkdir(parents=True, exist_ok=True)
    root, bare = init_repo(base)
    (root / "ml-ci.yaml").write_text(LIGHT_CONFIG, encoding="utf-8")
    (root / "dvc.lock").write_text(LOCK.format(data="a" * 32, model="b" * 32), encoding="utf-8")
    run(["git", "add", "-A"], root)
    main_sha = commit(root, "baseline model")
    run(["git", "push", "-q", "origin", "main"], root)
    run(["git", "checkout", "-q", "-b", "candidate"], root)
    (root / "dvc.lock").write_text(LOCK.format(data="c" * 32, model="d" * 32), encoding="utf-8")
    run(["git", "add", "-A"], root)
    candidate_sha = commit(root, "candidate model")
    return LightRepo(root, bare, main_sha, candidate_sha)
