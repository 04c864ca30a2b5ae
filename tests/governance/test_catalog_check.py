"""``ml-ci catalog`` in a pull request: the catalog comes from the base branch, not the PR."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ml_ci.record import load_record

CONFIG = """\
model: {name: churn, path: models/model.pkl}
predictions: {id: id}
predict: {command: "python predict.py {model} {data} {output}", data: data/test.csv}
drift: {exclude: [label]}
governance: {catalog: governance/catalog.yaml}
"""
CATALOG = """\
sources: [https://data.example.com/*]
paths: [data/*]
features: [age, income]
"""


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "governance").mkdir(parents=True)
    (root / "data").mkdir()
    _git(root.parent, "init", "-q", "-b", "main", str(root))
    (root / "ml-ci.yaml").write_text(CONFIG)
    (root / "governance" / "catalog.yaml").write_text(CATALOG)
    (root / "data" / "raw.csv.dvc").write_text(
        "deps:\n- path: https://data.example.com/raw.csv\nouts:\n- path: raw.csv\n"
    )
    (root / "data" / "test.csv").write_text("id,age,income,label\n1,30,100,0\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "main")
    _git(root, "checkout", "-q", "-b", "candidate")
    return root


def _check(root: Path) -> tuple[int, dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, "-m", "ml_ci", "catalog", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


def test_approved_sources_pass_and_are_recorded(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    code, payload, err = _check(root)
    assert code == 0, err
    assert payload["verdict"] == "pass" and payload["origin"] == "main:governance/catalog.yaml"
    record = load_record(root / "ml-ci-record.json")
    assert record.catalog is not None and record.catalog.verdict == "pass"


def test_a_pull_request_cannot_approve_its_own_source(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "data" / "raw.csv.dvc").write_text(
        "deps:\n- path: https://files.attacker.example/raw.csv\nouts:\n- path: raw.csv\n"
    )
    # the pull request also adds the source, a feature and lifts its own catalog's limits
    (root / "governance" / "catalog.yaml").write_text(
        "sources: ['*']\npaths: ['*']\nfeatures: [age, income, zip]\n"
    )
    (root / "ml-ci.yaml").write_text(CONFIG.replace("governance/catalog.yaml", "mine.yaml"))
    (root / "data" / "test.csv").write_text("id,age,income,zip,label\n1,30,100,12345,0\n")
    code, payload, err = _check(root)
    assert code == 1, err
    assert payload["verdict"] == "fail" and payload["changed"] is True
    lines = payload["violations"]
    assert lines == [
        "data/raw.csv.dvc: import source https://files.attacker.example/raw.csv is not "
        "approved (not in sources of main:governance/catalog.yaml); add it there through a "
        "reviewed change, or remove it",
        "data/test.csv: feature column 'zip' is not approved (not in features of "
        "main:governance/catalog.yaml); add it there through a reviewed change, or remove it",
    ]


def test_no_catalog_on_the_base_branch_is_nothing_to_check(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _git(root, "checkout", "-q", "main")
    (root / "ml-ci.yaml").write_text(
        CONFIG.replace("governance: {catalog: governance/catalog.yaml}\n", "")
    )
    _git(root, "commit", "-q", "-am", "no catalog")
    _git(root, "checkout", "-q", "-b", "other")
    code, payload, err = _check(root)
    assert code == 0, err
    assert payload["verdict"] == "none"
