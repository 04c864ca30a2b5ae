"""The token is never written to stdout, stderr or a file, and ``--json`` stdout stays pure
JSON inside Actions (``GITHUB_ACTIONS=true``): the runner already masks the secrets it was
given, so printing ``::add-mask::<token>`` only leaked the token into redirected output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ml_ci.cli import main
from tests.fakegithub.server import FakeGitHub
from tests.release.helpers import LOCK, light_repo, run
from tests.release.records import write_record

REPO = "acme/models"
TOKEN = "ghs_s3cretTokenValue0123456789abcdef"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_no_command_writes_the_token_anywhere(
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = light_repo(tmp_path / "light")
    root = example.root
    run(["git", "checkout", "-q", "main"], root)
    config = yaml.safe_load((root / "ml-ci.yaml").read_text(encoding="utf-8"))
    # promote and rollback ask GitHub for approvals only with this
    config.setdefault("release", {})["promote_requires_approval"] = True
    (root / "ml-ci.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    run(["git", "commit", "-qam", "promotion needs approval"], root)
    run(["git", "merge", "-q", "--no-ff", "-m", "Merge #3", "candidate"], root)
    merge = run(["git", "rev-parse", "HEAD"], root)
    gh = fake_github
    gh.add_token(TOKEN, "github-actions[bot]", app=True)
    pull = gh.add_pull(REPO, 3, head_sha=example.candidate_sha, user="bob", merged=True)
    pull["merge_commit_sha"] = merge
    gh.add_collaborator(REPO, "alice", "write")
    gh.add_review(REPO, 3, "alice", "APPROVED")
    workflow = tmp_path / "runner"
    workflow.mkdir()
    record = workflow / "record.json"
    write_record(root, example.candidate_sha, record, pull_request=3)
    monkeypatch.chdir(root)
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": gh.url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_OUTPUT": str(workflow / "output.txt"),
        "GITHUB_STEP_SUMMARY": str(workflow / "summary.md"),
    }.items():
        monkeypatch.setenv(name, value)

    runs = {
        "approve-status": cli(
            capsys, "approve-status", "--pr", "3", "--json", "--record", str(record)
        ),
        "release": cli(capsys, "release", "--record", str(record), "--json"),
    }
    # a second merged pull request, so that rollback has a version to go back to
    run(["git", "checkout", "-q", "-b", "second"], root)
    (root / "dvc.lock").write_text(LOCK.format(data="e" * 32, model="f" * 32), encoding="utf-8")
    run(["git", "commit", "-qam", "second model"], root)
    second = run(["git", "rev-parse", "HEAD"], root)
    run(["git", "checkout", "-q", "main"], root)
    run(["git", "merge", "-q", "--no-ff", "-m", "Merge #4", "second"], root)
    pull = gh.add_pull(REPO, 4, head_sha=second, user="bob", merged=True)
    pull["merge_commit_sha"] = run(["git", "rev-parse", "HEAD"], root)
    gh.add_review(REPO, 4, "alice", "APPROVED")
    write_record(root, second, record, pull_request=4)
    runs["release again"] = cli(capsys, "release", "--record", str(record), "--json")
    runs["promote"] = cli(capsys, "promote", "--to", "production", "--json")
    runs["rollback"] = cli(capsys, "rollback", "--stage", "canary", "--json")
    for name, (code, out, err) in runs.items():
        assert code == 0, f"{name}: {err}"
        json.loads(out)  # pure JSON, no workflow command in front
        assert TOKEN not in out and TOKEN not in err, name
    assert json.loads(runs["release again"][1])["version"] == "v0.2.0"
    assert json.loads(runs["rollback"][1])["version"] == "v0.1.0"
    written = [p for base in (workflow, root) for p in base.rglob("*") if p.is_file()]
    assert record in written
    leaks = [p for p in written if TOKEN.encode() in p.read_bytes()]
    assert leaks == []
