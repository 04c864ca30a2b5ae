"""``ml-ci release --offline`` / promote / rollback on the example git + DVC repository.

This is the demo path: no GitHub, approvals from ``--approved-by``, tags pushed to the
example's bare ``origin``; ``ml-ci registry show`` and the real ``gto show`` agree at
every step.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_ci.cli import main
from ml_ci.example import ExampleRepo
from ml_ci.record import load_record
from tests.release.helpers import LightRepo, gto_show, light_repo, remote_tag_names, run
from tests.release.records import write_record

MODEL = "breast-cancer"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def registry_stages(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    code, out, _ = cli(capsys, "registry", "show", "--json")
    assert code == 0
    stages = json.loads(out)["models"][MODEL]["stages"]
    return {stage: holder["version"] for stage, holder in stages.items()}


def agree(capsys: pytest.CaptureFixture[str], root: Path) -> dict[str, str]:
    ours = registry_stages(capsys)
    assert ours == gto_show(root)[MODEL]["stage"]
    return ours


def merge_candidate(repo: ExampleRepo | LightRepo) -> str:
    run(["git", "checkout", "-q", "main"], repo.root)
    run(
        ["git", "merge", "-q", "--no-ff", "-m", "Merge candidate", repo.candidate_branch], repo.root
    )
    return run(["git", "rev-parse", "HEAD"], repo.root)


@pytest.fixture
def repo(example_repo: ExampleRepo, monkeypatch: pytest.MonkeyPatch) -> ExampleRepo:
    """The bundled example (real DVC pipeline): the demo's repository."""
    monkeypatch.chdir(example_repo.root)
    return example_repo


@pytest.fixture
def light(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LightRepo:
    """A small git repository with committed dvc.lock files: enough for the refusals."""
    made = light_repo(tmp_path / "light")
    monkeypatch.chdir(made.root)
    return made


def test_release_promote_rollback_demo(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "main-record.json"
    write_record(repo.root, repo.main_sha, record)
    run(["git", "checkout", "-q", "main"], repo.root)  # the release scores the checkout
    code, out, err = cli(
        capsys,
        "release",
        "--offline",
        "--approved-by",
        "alice",
        "--record",
        str(record),
        "--commit",
        repo.main_sha,
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert (result["version"], result["stage"]) == ("v0.1.0", "canary")
    assert result["tags"] == [f"{MODEL}@v0.1.0", f"{MODEL}#canary#1"]
    assert set(result["tags"]) <= remote_tag_names(repo.git_remote)
    assert agree(capsys, repo.root) == {"canary": "v0.1.0"}
    saved = load_record(record)
    assert saved.release is not None and saved.release.version == "v0.1.0"
    assert saved.governance is not None and saved.governance.approved_by == ["alice"]
    manifest = json.loads((tmp_path / "ml-ci-canary.json").read_text())
    assert manifest["artifact"]["hash"] == saved.artifact.hash  # type: ignore[union-attr]
    assert manifest["canary_traffic"] == 0.1 and manifest["rollback_to"] is None
    message = run(["git", "tag", "-l", "--format=%(contents)", f"{MODEL}@v0.1.0"], repo.root)
    assert "record-digest: sha256:" in message and "approvers: alice" in message
    assert "data: data/" in message

    assert cli(capsys, "promote", "--to", "production")[0] == 0
    assert agree(capsys, repo.root) == {"canary": "v0.1.0", "production": "v0.1.0"}

    merge = merge_candidate(repo)
    record2 = tmp_path / "candidate-record.json"
    write_record(repo.root, repo.candidate_sha, record2, pull_request=2)
    code, out, err = cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record2), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["manifest"]["rollback_to"] == "v0.1.0"
    assert run(["git", "rev-parse", f"{MODEL}@v0.2.0^{{commit}}"], repo.root) == merge
    assert agree(capsys, repo.root) == {"canary": "v0.2.0", "production": "v0.1.0"}

    code, out, _ = cli(capsys, "promote", "--to", "production", "--json")
    assert code == 0 and json.loads(out)["previous"] == "v0.1.0"
    assert agree(capsys, repo.root)["production"] == "v0.2.0"

    code, out, _ = cli(capsys, "rollback", "--stage", "production")
    assert code == 0 and "v0.2.0 -> v0.1.0" in out
    assert agree(capsys, repo.root)["production"] == "v0.1.0"

    # rerunning the release of the same merge creates nothing and exits 0
    before = remote_tag_names(repo.git_remote)
    code, out, _ = cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record2)
    )
    assert code == 0 and out.startswith("already released")
    assert remote_tag_names(repo.git_remote) == before


@pytest.mark.parametrize(
    ("approvers", "record_options", "message"),
    [
        ((), {}, "governance not satisfied (0 approval(s))"),
        (("bob",), {}, "governance not satisfied"),
        (("alice",), {"verdict": "fail"}, "the gates did not pass (fail: roc_auc)"),
        (("alice",), {"artifact_hash": "0" * 32}, "the model changed after evaluation"),
    ],
    ids=["no-approval", "non-approver", "gates-failed", "swapped-model"],
)
def test_release_refuses(
    light: LightRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    approvers: tuple[str, ...],
    record_options: dict[str, str],
    message: str,
) -> None:
    repo = light
    merge_candidate(repo)
    record = tmp_path / "record.json"
    write_record(repo.root, repo.candidate_sha, record, **record_options)  # type: ignore[arg-type]
    flags = [arg for name in approvers for arg in ("--approved-by", name)]
    code, _out, err = cli(capsys, "release", "--offline", *flags, "--record", str(record))
    assert code == 1
    assert message in err and "Traceback" not in err
    assert not any(name.startswith(MODEL) for name in remote_tag_names(repo.git_remote))
    assert run(["git", "tag", "--list"], repo.root) == ""


def test_promote_with_required_approval_checks_governance(
    light: LightRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = light
    config = repo.root / "ml-ci.yaml"
    config.write_text(
        config.read_text().replace(
            "{trust_record: true}", "{trust_record: true, promote_requires_approval: true}"
        )
    )
    record = tmp_path / "record.json"
    write_record(repo.root, repo.main_sha, record)
    args = ["--record", str(record), "--commit", repo.main_sha]
    assert cli(capsys, "release", "--offline", "--approved-by", "alice", *args)[0] == 0
    code, _, err = cli(capsys, "promote", "--to", "production", "--approved-by", "bob")
    assert code == 1 and "promote refused" in err
    assert cli(capsys, "promote", "--to", "production", "--approved-by", "alice")[0] == 0
    assert agree(capsys, repo.root) == {"canary": "v0.1.0", "production": "v0.1.0"}


def test_tags_left_unpushed_by_an_earlier_run_are_pushed_on_rerun(
    light: LightRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    merge_candidate(light)
    record = tmp_path / "record.json"
    write_record(light.root, light.candidate_sha, record)
    args = ["release", "--offline", "--approved-by", "alice", "--record", str(record)]
    assert cli(capsys, *args, "--no-push")[0] == 0  # as if the job died before pushing
    assert not remote_tag_names(light.git_remote)
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    assert out.startswith("already released")
    assert remote_tag_names(light.git_remote) == {f"{MODEL}@v0.1.0", f"{MODEL}#canary#1"}
    code, out, _ = cli(capsys, "registry", "show")
    assert code == 0 and "canary: v0.1.0" in out
