"""Results beside a version (git notes): append-only, pushed, merged when two runs race."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ml_ci.release.results import REF, append_result, read_results
from tests.release.helpers import clone, commit, init_repo, run


def test_results_are_appended_and_read_back_in_time_order(tmp_path: Path) -> None:
    root, bare = init_repo(tmp_path)
    sha = commit(root, "model")
    tags_before = run(["git", "tag", "--list"], root)
    append_result(root, sha, "canary", {"verdict": "continue"}, now=2_000_000_000)
    append_result(root, sha, "monitor", {"alert": "none"}, now=1_000_000_000)
    entries = read_results(root, sha)
    assert [e["kind"] for e in entries] == ["monitor", "canary"]  # sorted by time
    assert read_results(root, sha, "canary") == [
        {"kind": "canary", "at": "2033-05-18T03:33:20Z", "verdict": "continue"}
    ]
    # the commit and the tags are untouched; the remote has the notes
    assert run(["git", "rev-parse", "HEAD"], root) == sha
    assert run(["git", "tag", "--list"], root) == tags_before
    assert run(["git", "rev-parse", REF], bare)


def test_notes_written_elsewhere_meanwhile_are_merged_not_lost(tmp_path: Path) -> None:
    root, bare = init_repo(tmp_path)
    sha = commit(root, "model")
    run(["git", "push", "-q", "origin", "main"], root)
    other = clone(bare, tmp_path / "other")
    # a runner that noted a result locally (its push had not happened yet) ...
    run(
        ["git", "notes", "--ref=ml-ci", "append", "-m", '{"at":"2","kind":"canary","run":2}', sha],
        other,
    )
    # ... while another run appended and pushed
    append_result(root, sha, "canary", {"run": 1}, now=1)
    # the first runner's next result: the remote's notes are merged in, nothing is lost
    append_result(other, sha, "canary", {"run": 3}, now=3)
    fresh = clone(bare, tmp_path / "fresh")
    subprocess.run(["git", "fetch", "-q", "origin", f"{REF}:{REF}"], cwd=fresh, check=True)
    assert sorted(e["run"] for e in read_results(fresh, sha)) == [1, 2, 3]


def test_no_note_is_no_result(tmp_path: Path) -> None:
    root, _ = init_repo(tmp_path)
    assert read_results(root, run(["git", "rev-parse", "HEAD"], root)) == []
