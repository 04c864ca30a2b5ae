"""The bundled example repository: what the other test folders rely on."""

from __future__ import annotations

import subprocess
import sys

from ml_ci import gitutil
from ml_ci.dvcrepo import file_md5, read_lock_at
from ml_ci.example import ExampleRepo


def test_example_has_base_and_candidate(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    assert gitutil.git(["rev-parse", "--abbrev-ref", "HEAD"], root) == "candidate"
    assert gitutil.git(["status", "--porcelain"], root) == ""
    assert gitutil.merge_base(root, "main", "candidate") == example_repo.main_sha
    header = (root / "predictions.csv").read_text().splitlines()[0]
    assert header == "id,y_true,y_pred,y_score,segment"
    # the workspace model is the one dvc.lock at HEAD names
    lock = read_lock_at(root, "HEAD")
    assert lock is not None
    model = next(out for out in lock.outs() if out.path == "models/model.pkl")
    assert file_md5(root / "models/model.pkl") == model.hash
    # the candidate changed the model
    base_lock = read_lock_at(root, example_repo.main_sha)
    assert base_lock is not None
    base_model = next(out for out in base_lock.outs() if out.path == "models/model.pkl")
    assert base_model.hash != model.hash


def test_example_remotes_follow_the_copy(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    assert gitutil.git(["remote", "get-url", "origin"], root) == str(example_repo.git_remote)
    # a fresh clone of origin can pull everything from the (relative) DVC remote
    clone = example_repo.workdir / "clone"
    subprocess.run(["git", "clone", "-q", str(example_repo.git_remote), str(clone)], check=True)
    gitutil.git(["checkout", "-q", "candidate"], clone)
    done = subprocess.run(
        [sys.executable, "-m", "dvc", "pull", "-q"], cwd=clone, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert file_md5(clone / "models/model.pkl") == file_md5(root / "models/model.pkl")
