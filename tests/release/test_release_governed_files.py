"""A merge that changes a governed file -- the approved-source catalog or the model card's
intended-use file, as named by the FIRST PARENT's config -- needs a governance approval at
release even under ``governance.require: flagged`` with nothing flagged (issue 15, items 2
and 4): the same rule approve-status applies, so an approve-status check that is not a
required status cannot be skipped. Real git repositories, ``--offline`` approvals."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.release.helpers import LightRepo, commit, light_repo, remote_tag_names, run
from tests.release.records import write_record
from tests.release.test_release_offline import cli, merge_candidate

MODEL = "breast-cancer"
CATALOG = "governance/catalog.yaml"
CARD = "docs/intended-use.md"
FLAGGED = f"""\
model: {{name: {MODEL}, path: models/model.pkl}}
release: {{trust_record: true}}
governance:
  approvers: [alice]
  require: flagged
  catalog: {CATALOG}
  model_card: {CARD}
"""


@pytest.fixture
def light(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LightRepo:
    """main governs a catalog and a model-card file; the candidate branch has them too."""
    made = light_repo(tmp_path / "light")
    root = made.root
    run(["git", "checkout", "-q", "main"], root)
    (root / "ml-ci.yaml").write_text(FLAGGED, encoding="utf-8")
    (root / "governance").mkdir()
    (root / CATALOG).write_text("remotes: ['/srv/dvc/*']\n", encoding="utf-8")
    (root / "docs").mkdir()
    (root / CARD).write_text("## Intended use\n\nTriage aid.\n", encoding="utf-8")
    run(["git", "add", "-A"], root)
    commit(root, "governance: catalog and model card")
    run(["git", "push", "-q", "origin", "main"], root)
    run(["git", "checkout", "-q", made.candidate_branch], root)
    run(["git", "merge", "-q", "--no-edit", "main"], root)
    monkeypatch.chdir(root)
    return made


def change(repo: LightRepo, path: str, text: str) -> str:
    """The candidate branch edits ``path`` (and nothing else); returns its new head."""
    (repo.root / path).write_text(text, encoding="utf-8")
    run(["git", "add", "-A"], repo.root)
    return commit(repo.root, f"edit {path}")


def release(
    capsys: pytest.CaptureFixture[str], repo: LightRepo, head: str, tmp: Path, *approvers: str
) -> tuple[int, str]:
    record = tmp / f"record-{len(approvers)}.json"
    write_record(repo.root, head, record)
    flags = [arg for name in approvers for arg in ("--approved-by", name)]
    code, _out, err = cli(capsys, "release", "--offline", *flags, "--record", str(record))
    return code, err


def test_flagged_with_nothing_flagged_releases_without_approval(
    light: LightRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: the refusals below come from the governed file, not from the config."""
    head = run(["git", "rev-parse", "HEAD"], light.root)
    merge_candidate(light)
    code, err = release(capsys, light, head, tmp_path)
    assert code == 0, err


@pytest.mark.parametrize(
    ("path", "text", "key"),
    [
        (CATALOG, "remotes: ['*']\n", "governance.catalog"),
        (CARD, "## Approvals\n\nApproved by the board.\n", "governance.model_card"),
    ],
    ids=["catalog", "model-card"],
)
def test_a_changed_governed_file_needs_an_approval_at_release(
    light: LightRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    path: str,
    text: str,
    key: str,
) -> None:
    head = change(light, path, text)
    merge_candidate(light)
    code, err = release(capsys, light, head, tmp_path)
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("...")]
    assert code == 1 and len(lines) == 1, err
    assert f"{path} ({key})" in lines[0] and "governance approval" in lines[0]
    assert "Traceback" not in err
    assert not any(name.startswith(MODEL) for name in remote_tag_names(light.git_remote))
    assert run(["git", "tag", "--list"], light.root) == ""
    code, err = release(capsys, light, head, tmp_path, "alice")
    assert code == 0, err
    assert remote_tag_names(light.git_remote) == {f"{MODEL}@v0.1.0", f"{MODEL}#canary#1"}


def test_the_keys_are_the_first_parents(
    light: LightRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Re-pointing governance.catalog at a new file changes ml-ci.yaml: still governed."""
    (light.root / "other.yaml").write_text("remotes: ['*']\n", encoding="utf-8")
    head = change(light, "ml-ci.yaml", FLAGGED.replace(CATALOG, "other.yaml"))
    merge_candidate(light)
    code, err = release(capsys, light, head, tmp_path)
    assert code == 1 and "ml-ci.yaml (the ml-ci config)" in err, err
