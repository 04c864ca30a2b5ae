"""Hashes, lock parsing and lineage helpers agree with DVC itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from ml_ci.dvcrepo import dir_md5, file_md5, parse_lock, read_tracked
from ml_ci.example import ExampleRepo
from ml_ci.lineage import params_diff
from ml_ci.repro import upstream_stages


def test_hashes_match_dvc_add(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dvc.repo import Repo

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "folder" / "sub").mkdir(parents=True)
    (tmp_path / "folder" / "a.txt").write_text("a\n")
    (tmp_path / "folder" / "sub" / "b.bin").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "file.txt").write_text("hello\r\nworld\n")  # DVC 3 does not dos2unix
    monkeypatch.chdir(tmp_path)  # DVC's add resolves targets from the working folder
    with Repo.init(str(tmp_path)) as repo:  # DVC itself writes the .dvc files
        repo.add(["folder", "file.txt"])
    folder = yaml.safe_load((tmp_path / "folder.dvc").read_text())["outs"][0]["md5"]
    single = yaml.safe_load((tmp_path / "file.txt.dvc").read_text())["outs"][0]["md5"]
    assert dir_md5(tmp_path / "folder") == folder and folder.endswith(".dir")
    assert file_md5(tmp_path / "file.txt") == single


def test_read_tracked_at_the_base_commit(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    at_base = read_tracked(root, "data/train.csv", example_repo.main_sha)
    here = (root / "data/train.csv").read_bytes()
    assert at_base != here  # the candidate shifted mean_texture
    assert at_base.splitlines()[0] == here.splitlines()[0]


LOCK = """
schema: '2.0'
stages:
  prepare:
    cmd: python prepare.py
    deps: [{path: raw.csv, hash: md5, md5: aa, size: 3}]
    outs: [{path: data, hash: md5, md5: bb.dir, size: 5, nfiles: 2}]
  train:
    cmd: python train.py
    deps: [{path: data/train.csv, hash: md5, md5: cc}]
    params: {params.yaml: {lr: 0.1}}
    outs: [{path: model.pkl, hash: md5, md5: dd}]
  other:
    cmd: echo
    outs: [{path: other.txt, hash: md5, md5: ee}]
"""


def test_parse_lock_and_upstream() -> None:
    lock = parse_lock(LOCK)
    assert [out.path for out in lock.outs()] == ["data", "model.pkl", "other.txt"]
    assert lock.outs(["prepare"])[0].is_dir
    assert lock.params() == {"params.yaml": {"lr": 0.1}}
    # data/train.csv lives inside prepare's output folder
    assert upstream_stages(lock, ["train"]) == ["prepare", "train"]
    assert upstream_stages(lock, ["other"]) == ["other"]
    assert upstream_stages(lock, []) == ["prepare", "train", "other"]


def test_params_diff_reports_changed_added_removed() -> None:
    changes = params_diff(
        {"params.yaml": {"a": 1, "b": 2}}, {"params.yaml": {"a": 1, "b": 3, "c": 4}}
    )
    assert [(c.key, c.base, c.head) for c in changes] == [("b", 2, 3), ("c", None, 4)]
