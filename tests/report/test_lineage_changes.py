"""Every changed dependency and output is marked with its base and head hashes (issue 12,
item 5), on the real example (git + DVC): its candidate changes ``data/raw.csv``."""

from __future__ import annotations

from pathlib import Path

import html5lib
import yaml
from markdown_it import MarkdownIt

from ml_ci import gitutil
from ml_ci.dvcrepo import file_md5, read_lock_at
from ml_ci.example import ExampleRepo
from ml_ci.lineage import build_lineage, find_base, lineage_changes
from ml_ci.record import EvaluationRecord, Lineage
from ml_ci.report.render import render


def committed_md5(root: Path, rev: str, dvc_file: str) -> str:
    """The md5 a ``.dvc`` file records at ``rev`` (read with git and yaml, not ml-ci)."""
    text = gitutil.git(["show", f"{rev}:{dvc_file}"], root)
    return str(yaml.safe_load(text)["outs"][0]["md5"])


def lineage_of(example: ExampleRepo) -> Lineage:
    root = example.root
    lock = read_lock_at(root, "HEAD")
    assert lock is not None
    base = find_base(root, ref=None, default_branch="main")
    assert base is not None and base.sha == example.main_sha
    return build_lineage(root, lock, "HEAD", base)


def test_changed_data_is_marked_with_both_hashes(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    lineage = lineage_of(example_repo)
    before = committed_md5(root, "main", "data/raw.csv.dvc")
    after = file_md5(root / "data/raw.csv")
    assert before != after  # the example's candidate changed its raw data
    raw = [e for e in lineage.deps if e.path == "data/raw.csv"]
    assert raw and all((e.base_hash, e.hash, e.changed) == (before, after, True) for e in raw)
    # unchanged entries say so (not None: there was a base to compare with)
    lock_main = read_lock_at(root, "main")
    assert lock_main is not None
    same = {e.path for e in lock_main.deps() if e.path.endswith(".py")}
    for entry in lineage.deps:
        if entry.path in same and entry.hash == entry.base_hash:
            assert entry.changed is False

    changes = lineage_changes(lineage)
    first = changes[0]
    assert (first.path, first.role, first.status) == ("data/raw.csv", "data", "modified")
    assert (first.base_hash, first.head_hash) == (before, after)
    assert len({c.path for c in changes}) == len(changes)  # each path once
    roles = [c.role for c in changes]
    assert roles == sorted(roles, key=["data", "code", "output"].index)

    record = EvaluationRecord(model="m", lineage=lineage)
    doc = html5lib.parse(MarkdownIt("gfm-like").render(render(record)), namespaceHTMLElements=False)
    table = next(t for t in doc.iter("table"))  # the first table of the report
    rows = [["".join(td.itertext()) for td in tr.iter("td")] for tr in table.iter("tr")][1:]
    assert rows[0] == ["modified", "data/raw.csv", "data", "prepare", before[:8], after[:8]]
    html = html5lib.parse(render(record, "html"), namespaceHTMLElements=False)
    changed = next(t for t in html.iter("table") if t.get("id") == "changes")
    cells = ["".join(td.itertext()) for td in changed.iter("td")][:6]
    assert cells == ["modified", "data/raw.csv", "data", "prepare", before[:8], after[:8]]


def test_without_a_base_nothing_is_claimed(example_repo: ExampleRepo) -> None:
    root = example_repo.root
    lock = read_lock_at(root, "HEAD")
    assert lock is not None
    lineage = build_lineage(root, lock, "HEAD", None)
    assert all(e.changed is None for e in [*lineage.deps, *lineage.outs])
    assert lineage_changes(lineage) == []
