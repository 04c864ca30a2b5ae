"""The canary section of the report (issue 13, item 7): verdict, gates, and each gate's
interval over the looks as mermaid (checked by the real mermaid parser) and inline SVG; from a
`ml-ci canary --replay --json` file and from the result stored in git notes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import html5lib
import pytest

from ml_ci.cli import main
from ml_ci.logs.simulate import Profile
from ml_ci.record import EvaluationRecord, save_record
from ml_ci.registry import load_registry
from ml_ci.release.results import append_result
from ml_ci.report.canary import canary_view, harmful_margin
from tests.canary.test_apply import _registry
from tests.canary.test_command import _canary, _logs
from tests.report import mermaid

SVG = "{http://www.w3.org/2000/svg}"


def _payload(tmp_path: Path, capsys: pytest.CaptureFixture[str], profile: Profile) -> Path:
    _logs(tmp_path, profile)
    _, payload = _canary(capsys, tmp_path, "--replay")
    path = tmp_path / "canary.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def _report(capsys: pytest.CaptureFixture[str], record: Path, *extra: str) -> str:
    code = main(["report", "--record", str(record), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _record(tmp_path: Path) -> Path:
    path = tmp_path / "record.json"
    save_record(path, EvaluationRecord(model="churn"))
    return path


def test_rolled_back_canary_is_drawn_look_by_look(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _payload(tmp_path, capsys, Profile(latency_median_ms=135.0))
    payload = json.loads(source.read_text())
    assert payload["verdict"] == "rollback"
    record = _record(tmp_path)

    markdown = _report(capsys, record, "--canary", str(source))
    assert "**Verdict: rollback**" in markdown
    charts = re.findall(r"```mermaid\n(xychart-beta\n.*?)\n```", markdown, re.S)
    assert len(charts) == len(payload["gates"])
    results = mermaid.parse(charts, tmp_path / "chromium")
    assert all(r == {"ok": True, "type": "xychart"} for r in results), results
    # the chart's lines are the looks' bounds and the margin on the harmful side
    latency = next(c for c in charts if "latency_p95_ms" in c.split("\n")[1])
    lines = [
        json.loads(line.strip().removeprefix("line "))
        for line in latency.split("\n")
        if line.strip().startswith("line [")
    ]
    gate_looks = [
        next(g for g in look["gates"] if g["metric"] == "latency_p95_ms")
        for look in payload["looks"]
    ]
    finite = [g for g in gate_looks if g["lower"] is not None and g["upper"] is not None]
    assert lines[0] == pytest.approx([g["lower"] for g in finite], rel=1e-5)
    assert lines[1] == pytest.approx([g["upper"] for g in finite], rel=1e-5)
    assert set(lines[-1]) == {0.1}  # latency: higher is worse, so +margin

    html = _report(capsys, record, "--canary", str(source), "--format", "html")
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    svgs = [s for s in doc.iter(SVG + "svg") if s.get("class") == "canary-gate"]
    assert len(svgs) == len(payload["gates"])
    for svg in svgs:
        band = next(p for p in svg.iter(SVG + "polygon") if p.get("class") == "band")
        points = [tuple(map(float, p.split(","))) for p in band.get("points", "").split()]
        title = "".join(next(svg.iter(SVG + "title")).itertext())
        metric = title.split(" ")[0].removesuffix(":")
        count = sum(
            1
            for look in payload["looks"]
            for g in look["gates"]
            if g["metric"] == metric and g["lower"] is not None and g["upper"] is not None
        )
        assert len(points) == 2 * count  # upper edge out, lower edge back
        # anytime-valid intervals only narrow: the band is no wider at the last look
        first, last = points[0][1] - points[-1][1], points[count - 1][1] - points[count][1]
        assert abs(last) <= abs(first) + 1e-6
    assert 'id="canary"' in html and "rollback" in html


def test_the_stored_result_of_a_version_is_read_from_git_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _registry(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    payload = json.loads(_payload(logs, capsys, Profile()).read_text())
    assert payload["verdict"] == "promote"
    commit = load_registry(root)["churn"].versions["v0.2.0"].commit
    append_result(root, commit, "canary", payload, push=False)
    record = _record(tmp_path)
    monkeypatch.chdir(root)
    markdown = _report(capsys, record, "--canary-version", "v0.2.0")
    assert "**Verdict: promote**" in markdown
    charts = re.findall(r"```mermaid\n(xychart-beta\n.*?)\n```", markdown, re.S)
    assert charts and all(r["ok"] for r in mermaid.parse(charts, tmp_path / "chromium"))

    code = main(["report", "--record", str(record), "--canary-version", "v9.9.9"])
    err = capsys.readouterr().err
    assert code == 2 and "v9.9.9" in err and len(err.strip().splitlines()) == 1


def test_a_file_that_is_not_a_canary_result_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "canary.json"
    bad.write_text('{"looks": []}', encoding="utf-8")
    code = main(["report", "--record", str(_record(tmp_path)), "--canary", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "verdict" in err and str(bad) in err


def test_the_margin_line_is_on_the_harmful_side() -> None:
    assert harmful_margin("error_rate", "non_inferior", 0.002) == 0.002
    assert harmful_margin("accuracy", "non_inferior", 0.01) == -0.01
    assert harmful_margin("latency_p95_ms", "absolute", 0.1) is None
    view = canary_view({"verdict": "continue", "gates": [{"metric": 'a"]\nclick'}]}, "x")
    assert view.gates[0].label == 'a"]\nclick' and view.looks == 0


def test_tiny_deltas_are_valid_mermaid(tmp_path: Path) -> None:
    """xychart has no exponent notation: a delta of 3.9e-06 once broke the report's chart."""
    from ml_ci.report.render import render
    from tests.report.records import demo_record

    record = demo_record()
    assert record.compare is not None
    for index, item in enumerate(record.compare.metrics):
        item.delta = (-1) ** index * 3.94288e-06 * (index + 1)
    charts = re.findall(r"```mermaid\n(xychart-beta\n.*?)\n```", render(record), re.S)
    assert charts and "e-06" not in charts[0]
    assert mermaid.parse(charts, tmp_path) == [{"ok": True, "type": "xychart"}]
