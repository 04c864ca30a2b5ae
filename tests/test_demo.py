"""The full offline demo, step by step, on a copy of the bundled example (real git, DVC, gto)."""

from __future__ import annotations

import subprocess

from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results

from ml_ci.demo import FULL_DEMO_STEPS, REPORT_HTML, REPORT_MARKDOWN
from ml_ci.example import ExampleRepo, run_demo
from ml_ci.record import load_record


def _tags(bare: str) -> set[str]:
    done = subprocess.run(["git", "tag", "--list"], cwd=bare, capture_output=True, text=True)
    return set(done.stdout.split())


def test_full_demo_reaches_release_canary_and_rollback(example_repo: ExampleRepo) -> None:
    steps = [step for step in FULL_DEMO_STEPS if step[0] != "build"]  # the fixture built it
    context = run_demo(example_repo.workdir, steps=steps, example=example_repo)
    verdicts = context.verdicts

    assert verdicts["repro"] == "verified"
    assert verdicts["compare"].startswith("pass")
    # the candidate branch plants a shift in mean_texture, and only there
    assert verdicts["drift"] == "significant (drifted: mean_texture)"
    assert "v0.1.0 released and promoted" in verdicts["register"]
    assert "breast-cancer@v0.2.0" in verdicts["release"]
    # the canary: rolled back on slow traffic (production untouched), then promoted on good
    assert verdicts["canary-rollback"].startswith("rollback at ")
    assert "'production': 'v0.1.0'" in verdicts["canary-rollback"]
    assert verdicts["canary-promote"].startswith("promote at ")
    assert "'production': 'v0.2.0'" in verdicts["canary-promote"]
    assert verdicts["rollback"].startswith("production back to v0.1.0")
    # production monitoring of v0.2.0: objectives met, the CBPE estimate beside the measured
    # accuracy, the planted mean_radius shift of the last day found, the dashboard drawn
    monitor = verdicts["monitor"]
    assert monitor.startswith("v0.2.0 alert none (exit 0); accuracy "), monitor
    assert "input drift retrain (mean_radius)" in monitor or (
        "input drift significant (mean_radius)" in monitor
    ), monitor
    measured, estimate = (float(monitor.split(word)[1].split()[0]) for word in (
        "accuracy ", "estimate "))  # fmt: skip
    assert abs(measured - 0.95) < 0.01 and abs(estimate - 0.95) < 0.01, monitor
    page = (example_repo.workdir / "ci-checkout/site/index.html").read_text(encoding="utf-8")
    assert "v0.2.0" in page and "<svg" in page

    checkout = example_repo.workdir / "ci-checkout"
    record = load_record(checkout / "ml-ci-record.json")
    assert record.repro is not None and record.repro.verdict == "verified"
    assert record.compare is not None and record.compare.verdict == "pass"
    assert record.drift is not None and record.needs_human
    assert record.governance is not None and record.governance.satisfied
    assert record.release is not None and record.release.version == "v0.2.0"

    # the release's model card: Hugging Face front matter with the recomputed record's values
    assert "(card ml-ci-model-card.md)" in verdicts["release"]
    carried = load_record(checkout / "ml-ci-record.release.json")
    assert carried.compare is not None and carried.release is not None
    card = ModelCard((checkout / "ml-ci-model-card.md").read_text(encoding="utf-8"))
    data = card.data.to_dict()
    assert data["model_version"] == "v0.2.0" == carried.release.version
    name, results = model_index_to_eval_results(data["model-index"])
    assert name == "breast-cancer"
    expected = {m.name: m.candidate for m in carried.compare.metrics if m.slice is None}
    assert {r.metric_type: r.metric_value for r in results} == expected and expected
    assert "\n## Data drift\n" in card.text and "`mean_texture`" in card.text

    markdown = (checkout / REPORT_MARKDOWN).read_text(encoding="utf-8")
    assert "NEEDS HUMAN VALIDATION" in markdown and "| roc_auc |" in markdown
    assert (checkout / REPORT_HTML).read_text(encoding="utf-8").lstrip().startswith("<!")
    tags = _tags(str(example_repo.git_remote))
    assert {"breast-cancer@v0.1.0", "breast-cancer@v0.2.0"} <= tags
    assert any(tag.startswith("breast-cancer#production#") for tag in tags)
