"""The release recomputes what it trusts (on the example: real git, DVC and predict.command).

The pull request's record is a claim its author controls. These tests forge it -- gates
"pass", drift null, no approval -- together with the committed predictions table, and push a
model that is truly worse; only the release's own scoring of both models can catch it.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import pytest
import yaml

from ml_ci.cli import main
from ml_ci.dvcrepo import dvc_env
from ml_ci.example import ExampleRepo
from ml_ci.record import load_record
from tests.fakegithub.server import FakeGitHub
from tests.release.helpers import remote_tag_names, run
from tests.release.records import write_record

MODEL = "breast-cancer"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def dvc(root: Path, *args: str) -> None:
    import subprocess

    subprocess.run(
        [str(Path(sys.executable).parent / "dvc"), *args],
        cwd=root,
        env=dvc_env(None),
        check=True,
        capture_output=True,
    )


def edit_config(root: Path, change: dict[str, object]) -> None:
    path = root / "ml-ci.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(change)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def flagged_main(repo: ExampleRepo) -> None:
    """main requires approval only when flagged (the setting the forgery exploits); the
    candidate branch is rebased on it so that the merge's first parent has it."""
    run(["git", "checkout", "-q", "main"], repo.root)
    edit_config(repo.root, {"governance": {"approvers": ["alice"], "require": "flagged"}})
    run(["git", "commit", "-q", "-am", "governance: flagged"], repo.root)
    run(["git", "checkout", "-q", repo.candidate_branch], repo.root)
    run(["git", "merge", "-q", "--no-edit", "main"], repo.root)


def push_worse_model(root: Path) -> None:
    """The candidate's model with its coefficients negated (AUC becomes 1 - AUC): truly
    worse. dvc.lock gets its hash and the remote its data; predictions.csv -- the committed
    table the record claims -- is left as the good model's."""
    path = root / "models" / "model.pkl"
    model = pickle.loads(path.read_bytes())
    model[-1].coef_ = -model[-1].coef_
    model[-1].intercept_ = -model[-1].intercept_
    path.write_bytes(pickle.dumps(model, protocol=4))
    dvc(root, "commit", "-q", "-f", "train")
    dvc(root, "push", "-q")


def merge(repo: ExampleRepo) -> str:
    run(["git", "checkout", "-q", "main"], repo.root)
    run(
        ["git", "merge", "-q", "--no-ff", "-m", "Merge candidate", repo.candidate_branch], repo.root
    )
    return run(["git", "rev-parse", "HEAD"], repo.root)


@pytest.fixture
def repo(example_repo: ExampleRepo, monkeypatch: pytest.MonkeyPatch) -> ExampleRepo:
    monkeypatch.chdir(example_repo.root)
    flagged_main(example_repo)
    return example_repo


def test_forged_record_and_predictions_with_a_worse_model_are_not_released(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    push_worse_model(repo.root)
    run(["git", "commit", "-q", "-am", "a worse model; the old predictions table"], repo.root)
    head = run(["git", "rev-parse", "HEAD"], repo.root)
    record = tmp_path / "forged.json"
    forged = write_record(repo.root, head, record, pull_request=5)  # pass, drift null
    assert forged.compare and forged.compare.verdict == "pass" and forged.drift is None
    before = remote_tag_names(repo.git_remote)
    merge(repo)
    code, _out, err = cli(capsys, "release", "--offline", "--record", str(record), "--json")
    assert code == 1, err
    refusal = err.strip().splitlines()[-1]
    assert "recomputed at" in refusal and "roc_auc" in refusal
    assert remote_tag_names(repo.git_remote) == before
    assert run(["git", "tag", "-l", f"{MODEL}@*"], repo.root) == ""


def test_honest_merge_is_released_with_the_recomputed_record(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = run(["git", "rev-parse", "HEAD"], repo.root)
    record = tmp_path / "record.json"
    write_record(repo.root, head, record, pull_request=6)
    merged = merge(repo)
    code, out, err = cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record), "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["recomputed"] is True and result["claimed"]["drift"] is None
    assert result["tags"] and set(result["tags"]) <= remote_tag_names(repo.git_remote)
    carried = load_record(record.with_name("ml-ci-record.release.json"))  # what it carries
    assert carried.compare is not None and carried.compare.n == 171  # scored, not claimed
    assert carried.drift is not None  # recomputed: the claim had none
    assert carried.repo.evaluated_sha == merged and carried.repo.head_sha == head
    claimed = load_record(record)  # the claim, with the release section added
    assert claimed.drift is None and claimed.compare and not claimed.compare.metrics
    assert claimed.release == carried.release
    message = run(["git", "tag", "-l", "--format=%(contents)", result["tags"][0]], repo.root)
    from ml_ci.record import record_digest

    assert f"record-digest: sha256:{record_digest(carried)}" in message


def test_a_pull_request_cannot_lower_its_own_bar(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    push_worse_model(repo.root)
    gates = [{"metric": m, "rule": "non_inferior", "margin": 1.0} for m in ("roc_auc",)]
    edit_config(repo.root, {"gates": gates, "release": {"trust_record": True}})
    run(["git", "commit", "-q", "-am", "a worse model and a lower bar"], repo.root)
    head = run(["git", "rev-parse", "HEAD"], repo.root)
    record = tmp_path / "record.json"
    write_record(repo.root, head, record, pull_request=7)
    merge(repo)
    code, _out, err = cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record), "--json"
    )
    assert code == 1, err
    refusal = err.strip().splitlines()[-1]
    assert "recomputed at" in refusal and "roc_auc" in refusal
    assert run(["git", "tag", "-l", f"{MODEL}@*"], repo.root) == ""


def test_a_change_to_the_config_needs_an_approval(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_config(repo.root, {"release": {"canary_traffic": 0.5}})
    run(["git", "commit", "-q", "-am", "more canary traffic"], repo.root)
    head = run(["git", "rev-parse", "HEAD"], repo.root)
    record = tmp_path / "record.json"
    write_record(repo.root, head, record, pull_request=8)
    merge(repo)
    code, out, err = cli(capsys, "release", "--offline", "--record", str(record), "--json")
    assert code == 1, err
    refusal = err.strip().splitlines()[-1]
    assert "the merge changes ml-ci.yaml" in refusal and "governance approval" in refusal
    code, out, err = cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["manifest"]["canary_traffic"] == 0.1  # the first parent's setting


def test_online_the_release_carries_the_recomputed_record_and_shows_the_claim(
    repo: ExampleRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_github: FakeGitHub,
) -> None:
    head = run(["git", "rev-parse", "HEAD"], repo.root)
    record = tmp_path / "record.json"
    write_record(repo.root, head, record, pull_request=9)
    merged = merge(repo)
    gh = fake_github
    gh.add_token("ghs_test", "github-actions[bot]", app=True)
    pull = gh.add_pull("acme/models", 9, head_sha=head, user="bob", merged=True)
    pull["merge_commit_sha"] = merged
    gh.add_collaborator("acme/models", "alice", "write")
    gh.add_review("acme/models", 9, "alice", "APPROVED")
    for name, value in (
        ("GITHUB_API_URL", gh.url),
        ("GITHUB_TOKEN", "ghs_test"),
        ("GITHUB_REPOSITORY", "acme/models"),
    ):
        monkeypatch.setenv(name, value)
    code, _out, err = cli(capsys, "release", "--record", str(record), "--json")
    assert code == 0, err
    (published,) = gh.releases("acme/models")
    assets = {a["name"]: a["id"] for a in published["assets"]}
    carried = json.loads(gh.asset_bytes("acme/models", assets["ml-ci-record.json"]))
    assert carried["compare"]["n"] == 171 and carried["drift"] is not None
    assert carried["repo"]["head_sha"] == head and carried["repo"]["evaluated_sha"] == merged
    claimed = json.loads(gh.asset_bytes("acme/models", assets["ml-ci-record.claimed.json"]))
    assert claimed["drift"] is None and claimed["compare"]["metrics"] == []
    assert "the pull request's record claimed" in published["body"]
