"""MODEL_CARD.md: huggingface_hub parses the front matter back into the record's values."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results

from ml_ci.errors import ConfigError
from ml_ci.report.model_card import infer_task, intended_use_at, model_card
from tests.report.records import demo_record, with_governance


def test_front_matter_parses_offline_into_the_records_metrics() -> None:
    record = with_governance(demo_record(verdict="pass"))
    text = model_card(record, task="binary", version="v0.2.0", intended_use="Screening aid only.")
    card = ModelCard(
        text
    )  # parses the YAML front matter; no network (validate() would call the Hub)
    data = card.data.to_dict()
    assert data["model_version"] == "v0.2.0" and "ml-ci" in data["tags"]
    name, results = model_index_to_eval_results(data["model-index"])
    assert name == record.model
    expected = {
        m.name: m.candidate
        for m in record.compare.metrics  # type: ignore[union-attr]
        if m.slice is None and m.candidate is not None
    }
    got = {r.metric_type: r.metric_value for r in results}
    assert got == expected and expected
    assert {r.task_type for r in results} == {"tabular-classification"}
    assert "Screening aid only." in card.text
    assert "\n## Approvals\n" in card.text and "\n### Gates\n" in card.text


def test_without_a_written_section_the_card_says_so_and_hostile_names_stay_text() -> None:
    record = demo_record()
    record.model = "<img src=x onerror=alert(1)> @team"
    text = model_card(record, task="regression")
    card = ModelCard(text)
    assert "Not written yet" in card.text
    assert "<img" not in card.text and "@team" not in card.text
    _, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    assert {r.task_type for r in results} == {"tabular-regression"}


def test_the_written_section_is_read_at_the_commit(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    git("init", "-q")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "use.md").write_text("## Intended use\n\nTriage.\n", encoding="utf-8")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "card")
    sha = git("rev-parse", "HEAD")
    (tmp_path / "docs" / "use.md").write_text("changed after the commit", encoding="utf-8")
    assert intended_use_at(tmp_path, sha, "docs/use.md") == "## Intended use\n\nTriage.\n"
    assert intended_use_at(tmp_path, sha, "./docs/use.md") == "## Intended use\n\nTriage.\n"
    assert intended_use_at(tmp_path, sha, None) is None
    for path, what in (("docs/none.md", "does not exist"), ("docs", "is a folder")):
        with pytest.raises(ConfigError) as caught:
            intended_use_at(tmp_path, sha, path)
        message = str(caught.value)
        assert message.startswith(f"governance.model_card: {path} {what} at {sha[:12]}")
        assert "\n" not in message


def test_the_task_is_the_one_whose_metrics_the_record_holds() -> None:
    record = demo_record()
    assert infer_task(record) == "binary"
    assert record.compare is not None
    record.compare.metrics[0].name = "rmse"
    assert infer_task(record) == "regression"
    record.compare.metrics[0].name = "f1_macro"
    assert infer_task(record) == "multiclass"


def test_a_release_card_shows_its_own_environment_beside_the_claimed_one() -> None:
    from ml_ci.record import EnvironmentSection
    from ml_ci.record.environment import Fingerprint

    record = demo_record()
    assert "## Environment" not in model_card(record, task="binary")  # none recorded: no section
    record.environment = EnvironmentSection(
        role="release",
        python="3.11.9",
        lockfile="uv.lock:sha256:" + "a" * 64,
        claimed=Fingerprint(python="3.12.0 `| <b>@team</b>"),
        required=["lockfile", "python"],
    )
    card = ModelCard(model_card(record, task="binary"))
    section = card.text.split("## Environment", 1)[1].split("\n## ", 1)[0]
    assert "release's own scoring job" in section
    row = next(line for line in section.splitlines() if line.startswith("| python |"))
    assert "3.11.9" in row and "3.12.0" in row  # own value first, the claim beside it
    from markdown_it import MarkdownIt

    html = MarkdownIt("gfm-like").render(section)  # a claim is text (a code span), never HTML
    assert "<b>" not in html and "&lt;b&gt;@team" in html
    assert "Checked against the merged commit: lockfile, python." in section
