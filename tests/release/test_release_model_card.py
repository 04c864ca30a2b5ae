"""The release's model card: built from the record the release recomputed (never the pull
request's claim), with the team's intended-use section read at the merged commit; its front
matter parses back with ``huggingface_hub`` (offline: ``ModelCard.validate`` would call the
Hub). Real git, DVC and predict.command on the bundled example; the fake GitHub API online."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results

from ml_ci.example import ExampleRepo
from ml_ci.record import MetricResult, load_record, save_record
from tests.fakegithub.server import FakeGitHub
from tests.release.helpers import LightRepo, remote_tag_names, run
from tests.release.records import write_record
from tests.release.test_recompute import cli, edit_config, merge
from tests.release.test_release_github import REPO, merged, release  # noqa: F401

MODEL = "breast-cancer"
INTENDED = "Screening aid for **trained clinicians**; not a diagnosis.\n"
FORGED = 0.987654321  # a value only the pull request's claim holds


def main_with_card(repo: ExampleRepo, card: str | None) -> None:
    """main sets governance.model_card (and commits ``card`` there, unless None); the
    candidate branch merges main, so the release's first parent has the key."""
    run(["git", "checkout", "-q", "main"], repo.root)
    edit_config(
        repo.root,
        {"governance": {"approvers": ["alice"], "model_card": "docs/intended-use.md"}},
    )
    if card is not None:
        (repo.root / "docs").mkdir(exist_ok=True)
        (repo.root / "docs" / "intended-use.md").write_text(card, encoding="utf-8")
    run(["git", "add", "-A"], repo.root)
    run(["git", "commit", "-q", "-m", "governance: model card"], repo.root)
    run(["git", "checkout", "-q", repo.candidate_branch], repo.root)
    run(["git", "merge", "-q", "--no-edit", "main"], repo.root)


def forged_claim(root: Path, path: Path, pull_request: int) -> None:
    """The pull request's record, with a metric value the recomputation does not give."""
    head = run(["git", "rev-parse", "HEAD"], root)
    record = write_record(root, head, path, pull_request=pull_request)
    assert record.compare is not None
    record.compare.metrics = [
        MetricResult(
            name="roc_auc", baseline=0.5, candidate=FORGED, delta=0.4, method="claimed", n=9
        )
    ]
    save_record(path, record)


def parsed(text: str) -> tuple[ModelCard, dict[str, float]]:
    card = ModelCard(text)
    name, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    assert name == MODEL
    return card, {r.metric_type: r.metric_value for r in results}


@pytest.fixture
def repo(example_repo: ExampleRepo, monkeypatch: pytest.MonkeyPatch) -> ExampleRepo:
    monkeypatch.chdir(example_repo.root)
    return example_repo


def test_the_card_carries_the_recomputed_values_and_the_written_section(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_with_card(repo, INTENDED)
    record = tmp_path / "record.json"
    forged_claim(repo.root, record, pull_request=6)
    merged_sha = merge(repo)
    code, out, err = cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record), "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    written = Path(result["model_card"])
    assert written == record.with_name("ml-ci-model-card.md")
    carried = load_record(record.with_name("ml-ci-record.release.json"))
    assert carried.compare is not None
    card, values = parsed(written.read_text(encoding="utf-8"))
    expected = {
        m.name: m.candidate
        for m in carried.compare.metrics
        if m.slice is None and m.candidate is not None
    }
    assert values == expected and "roc_auc" in values
    assert values["roc_auc"] != FORGED and str(FORGED)[:8] not in card.content
    assert card.data.to_dict()["model_version"] == result["version"]
    assert INTENDED.strip() in card.text  # the team's own markdown, as written
    assert "Not written yet" not in card.text
    assert f"recomputed by ml-ci release for `{merged_sha[:12]}`" in card.text
    assert "approved by alice" in card.text and "\n## Lineage\n" in card.text
    assert carried.drift is not None and "\n## Data drift\n" in card.text


def test_a_missing_model_card_file_stops_the_release_before_any_tag(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_with_card(repo, None)  # the key, but no file
    record = tmp_path / "record.json"
    forged_claim(repo.root, record, pull_request=7)
    before = remote_tag_names(repo.git_remote)
    merge(repo)
    code, _out, err = cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record)
    )
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("...")]
    assert code == 2 and len(lines) == 1, err
    assert lines[0].count("governance.model_card") == 1 and "docs/intended-use.md" in lines[0]
    assert "Traceback" not in err
    assert remote_tag_names(repo.git_remote) == before
    assert run(["git", "tag", "-l", f"{MODEL}@*"], repo.root) == ""
    assert not record.with_name("ml-ci-model-card.md").exists()


def test_online_the_card_is_an_asset_says_it_was_not_recomputed_and_is_repaired(
    merged: tuple[LightRepo, FakeGitHub, str, Path],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The light repository releases on its record (release.trust_record): the card says so.
    A card asset left partial by a broken upload is replaced on the rerun."""
    _, gh, _, record = merged
    gh.add_review(REPO, 3, "alice", "APPROVED")
    code, _out, err = release(capsys, record)
    assert code == 0, err

    def card_asset() -> dict[str, object]:
        (published,) = gh.releases(REPO)
        return next(a for a in published["assets"] if a["name"] == "MODEL_CARD.md")

    first = card_asset()
    text = gh.asset_bytes(REPO, int(str(first["id"]))).decode("utf-8")
    card = ModelCard(text)
    assert card.data.to_dict()["model_version"] == "v1.0.0"
    assert "NOT recomputed (`release.trust_record: true`)" in card.text
    assert text == record.with_name("ml-ci-model-card.md").read_text(encoding="utf-8")
    with gh.lock:  # what GitHub shows for an upload that broke off
        gh.repos[REPO].assets[int(str(first["id"]))].update(state="open", size=3)
        gh.repos[REPO].asset_data[int(str(first["id"]))] = b"---"
    code, _out, err = release(capsys, record)
    assert code == 0, err
    fixed = card_asset()
    assert fixed["id"] != first["id"] and fixed["state"] == "uploaded"
    assert gh.asset_bytes(REPO, int(str(fixed["id"]))).decode("utf-8") == text


def test_a_rerun_never_builds_the_card_from_a_forged_record_beside_it(
    repo: ExampleRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rerunning a release that is already tagged: the record given (the pull request's
    artifact, now with the release section) and a carried record beside it (an artifact may
    hold a file of that name) are claims unless their digest is the one the tag carries."""
    main_with_card(repo, INTENDED)
    record = tmp_path / "record.json"
    forged_claim(repo.root, record, pull_request=8)
    merge(repo)
    code, _out, err = cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record)
    )
    assert code == 0, err
    claimed = load_record(record)
    assert claimed.release is not None  # the rerun's condition for resuming
    carried = record.with_name("ml-ci-record.release.json")
    for path in (record, carried):  # both forged: the claim, and a carried file beside it
        forged = claimed.model_copy(deep=True)
        assert forged.compare is not None
        forged.compare.metrics = [
            MetricResult(name="roc_auc", baseline=0.5, candidate=FORGED, delta=0.4, method="x", n=9)
        ]
        save_record(path, forged)
    code, _out, err = cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record)
    )
    assert code == 0, err
    _card, values = parsed(record.with_name("ml-ci-model-card.md").read_text(encoding="utf-8"))
    assert values["roc_auc"] != FORGED
    carried.unlink()  # no carried record at all: the recomputation, not the claim
    code, _out, err = cli(
        capsys, "release", "--offline", "--approved-by", "alice", "--record", str(record)
    )
    assert code == 0, err
    _card, values = parsed(record.with_name("ml-ci-model-card.md").read_text(encoding="utf-8"))
    assert values["roc_auc"] != FORGED
