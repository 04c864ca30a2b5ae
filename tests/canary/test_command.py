"""``ml-ci canary`` end to end on generated serving logs (real files, the real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_ci.cli import main
from ml_ci.config.durations import parse_duration
from ml_ci.logs.simulate import Profile, simulate_logs

START = 1_780_000_000.0
HOURS = 6
CONFIG = """
logs: {path: logs.parquet}
canary:
  interval: 10m
  min_duration: 1h
  max_duration: 6h
  min_requests: 500
  traffic: 0.1
  gates:
    - {metric: error_rate, margin: 0.01}
    - {metric: latency_p95_ms, margin: 0.1, relative: true}
    - {metric: accuracy, margin: 0.05}
"""


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("10m", 600), ("1h", 3600), ("23h50m", 85800), ("2d", 172800)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "1m2h", "0s", "5 minutes"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def _logs(tmp_path: Path, canary: Profile, traffic: float = 0.1) -> Path:
    (tmp_path / "ml-ci.yaml").write_text(CONFIG, encoding="utf-8")
    return simulate_logs(
        tmp_path / "logs.parquet",
        start=START,
        duration=HOURS * 3600,
        requests=120_000,
        canary=("v2", canary),
        production=("v1", Profile()),
        traffic=traffic,
        seed=7,
    )


def _canary(capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(
        [
            "canary",
            "--config",
            str(tmp_path / "ml-ci.yaml"),
            "--canary",
            "v2",
            "--production",
            "v1",
            "--now",
            str(START + HOURS * 3600),
            "--json",
            *extra,
        ]
    )
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_good_canary_is_promoted_and_replay_counts_match_the_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _logs(tmp_path, Profile())
    code, payload = _canary(capsys, tmp_path, "--replay")
    assert code == 0 and payload["verdict"] == "promote"
    looks = payload["looks"]
    assert looks[-1]["verdict"] == "promote" and all(x["verdict"] == "continue" for x in looks[:-1])
    assert len(looks) >= 6  # not before min_duration
    frame = pd.read_parquet(path)
    seconds = frame["timestamp"].astype("int64") / 1e6
    origin = seconds[frame["model_version"] == "v2"].min()
    for k, look in enumerate(looks):
        inside = (seconds >= origin) & (seconds < origin + (k + 1) * 600)
        assert look["n_canary"] == (inside & (frame["model_version"] == "v2")).sum()
        assert look["n_production"] == (inside & (frame["model_version"] == "v1")).sum()
    assert {gate["status"] for gate in payload["gates"]} == {"non_inferior"}
    # without --replay: the same verdict and gates, no looks
    code, current = _canary(capsys, tmp_path)
    assert current["verdict"] == "promote" and "looks" not in current
    assert current["gates"] == payload["gates"]


def test_latency_regression_is_rolled_back_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _logs(tmp_path, Profile(latency_median_ms=135.0))
    code, payload = _canary(capsys, tmp_path, "--replay")
    assert code == 1 and payload["verdict"] == "rollback"
    latency = next(g for g in payload["gates"] if g["metric"] == "latency_p95_ms")
    assert latency["status"] == "worse" and latency["lower"] > 0
    assert len(payload["looks"]) <= 6


def test_sample_ratio_mismatch_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _logs(tmp_path, Profile(), traffic=0.13)
    code, payload = _canary(capsys, tmp_path)
    assert code == 0 and payload["verdict"] == "hold"
    assert payload["sample_ratio"]["mismatch"] and payload["sample_ratio"]["lower"] > 0.1


def test_early_look_continues_and_since_moves_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _logs(tmp_path, Profile())
    code, payload = _canary(capsys, tmp_path, "--since", str(START + HOURS * 3600 - 1800))
    assert code == 0 and payload["verdict"] == "continue"  # 3 looks: under min_requests
    assert payload["start"] >= "2026-05-29"


def test_versions_come_from_the_registry_without_both_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _logs(tmp_path, Profile())
    monkeypatch.chdir(tmp_path)  # not a git repository: the registry cannot be read
    code = main(["canary", "--config", str(tmp_path / "ml-ci.yaml"), "--canary", "v2"])
    err = capsys.readouterr().err
    assert code == 2 and "git" in err.lower()


def test_replay_never_looks_ahead(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Look k of a replay equals a run as of that look's end: same rows, same outcomes (only
    those whose label_time had arrived), same intervals."""
    from datetime import datetime

    _logs(tmp_path, Profile(accuracy=0.87))
    _, replay = _canary(capsys, tmp_path, "--replay")
    for k in (2, 5):
        look = replay["looks"][k]
        end = datetime.fromisoformat(look["end"].replace("Z", "+00:00")).timestamp()
        code = main(
            [
                "canary",
                "--config",
                str(tmp_path / "ml-ci.yaml"),
                "--canary",
                "v2",
                "--production",
                "v1",
                "--now",
                str(end + 1),
                "--json",
            ]
        )
        as_of = json.loads(capsys.readouterr().out)
        assert code in (0, 1)
        assert as_of["gates"] == look["gates"] and as_of["n_canary"] == look["n_canary"]
    accuracy = next(g for g in replay["looks"][5]["gates"] if g["metric"] == "accuracy")
    assert accuracy["canary"] is not None


def test_score_drift_is_reported_not_gated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ml_ci.drift.methods import psi

    path = _logs(tmp_path, Profile(accuracy=0.6))  # a different model: different scores
    code, payload = _canary(capsys, tmp_path, "--since", str(START), "--replay")
    drift = payload["score_drift"]
    assert drift["gated"] is False and drift["value"] > 0
    assert code == 1 and payload["verdict"] == "rollback"  # by the accuracy gate, not by drift
    frame = pd.read_parquet(path)
    seconds = frame["timestamp"].astype("int64") / 1e6
    origin = seconds[frame["model_version"] == "v2"].min()
    end = origin + len(payload["looks"]) * 600
    rows = frame[(seconds >= origin) & (seconds < end)]
    hist = {
        v: np.bincount(
            np.minimum((rows[rows.model_version == v].y_score * 20).astype(int), 19), minlength=20
        ).astype(float)
        for v in ("v1", "v2")
    }
    assert drift["value"] == pytest.approx(psi(hist["v1"], hist["v2"]))


def test_brier_gate_on_partial_scores_equals_sklearn_on_the_scored_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A labelled row without a score is left out of Brier: the gate's value is sklearn's
    ``brier_score_loss`` over the labelled rows (as of now) that have a score, not that sum
    divided by all labelled rows."""
    from sklearn.metrics import brier_score_loss

    path = _logs(tmp_path, Profile(accuracy=0.87))
    frame = pd.read_parquet(path)
    frame["y_score"] = frame["y_score"].astype("float64")
    frame.loc[np.random.default_rng(3).random(len(frame)) < 0.1, "y_score"] = np.nan
    frame.to_parquet(path, index=False)
    (tmp_path / "ml-ci.yaml").write_text(
        CONFIG.replace("{metric: accuracy, margin: 0.05}", "{metric: brier, margin: 0.05}"),
        encoding="utf-8",
    )
    code, payload = _canary(capsys, tmp_path, "--replay")
    assert code in (0, 1)
    gate = next(g for g in payload["gates"] if g["metric"] == "brier")  # at the verdict's look
    seconds = frame["timestamp"].astype("int64") / 1e6
    origin = seconds[frame["model_version"] == "v2"].min()
    end = origin + len(payload["looks"]) * 600
    arrived = np.maximum(frame["label_time"].astype("int64") / 1e6, seconds)
    labelled = frame.y_true.notna() & (seconds >= origin) & (arrived < end)
    for version, key in (("v2", "canary"), ("v1", "production")):
        rows = frame[labelled & (frame.model_version == version)]
        scored = rows[rows.y_score.notna()]
        assert 0 < len(scored) < len(rows)
        expected = brier_score_loss(scored.y_true.astype(int), scored.y_score)
        assert gate[key] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("scores", ["absent", "all null"])
def test_brier_gate_without_any_score_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scores: str
) -> None:
    """Without a score on any labelled row Brier has no rows: it used to read as 0 (a perfect
    model, promoted) when the column was absent; now it says what is missing."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = _logs(tmp_path, Profile())
    table = pq.read_table(path)
    at = table.schema.get_field_index("y_score")
    if scores == "absent":
        table = table.remove_column(at)
    else:
        table = table.set_column(at, "y_score", pa.nulls(len(table), pa.float64()))
    pq.write_table(table, path)
    (tmp_path / "ml-ci.yaml").write_text(
        CONFIG.replace("{metric: accuracy, margin: 0.05}", "{metric: brier, margin: 0.05}"),
        encoding="utf-8",
    )
    code = main(
        ["canary", "--config", str(tmp_path / "ml-ci.yaml"), "--canary", "v2",
         "--production", "v1", "--now", str(START + HOURS * 3600), "--json"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if not line.startswith("...")]  # progress
    assert code == 2 and out == "" and len(lines) == 1, err
    assert "y_score" in lines[0] and "brier" in lines[0]
