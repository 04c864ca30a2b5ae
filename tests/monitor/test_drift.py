"""``ml-ci monitor``'s input drift: the window's features against the production version's
training reference, read through DVC at the version's commit, and ``--apply`` acting on it.

Real git, real DVC (a local remote), the real CLI, the fake GitHub API server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ml_ci.logs.simulate import Features, Profile, simulate_logs, write_reference

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400
MONITOR = {
    "window": "1d",
    "recent": "1d",
    "objectives": [{"metric": "error_rate", "max": 0.2}],
    "min_requests": 50,
}


def _run(args: list[str], cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def _config(
    root: Path, reference: str | None, logs: dict[str, Any] | None = None, **monitor: Any
) -> None:
    body: dict[str, Any] = {
        "model": {"name": "churn", "path": "models/model.pkl"},
        "monitor": {**MONITOR, **monitor},
    }
    if logs is not None:
        body["logs"] = logs
    if reference is not None:
        body["drift"] = {"reference": reference}
    (root / "ml-ci.yaml").write_text(yaml.safe_dump(body))


def dvc_registry(tmp_path: Path) -> Path:
    """A git + DVC repository where v0.1.0 (production) was trained on ``data/train.parquet``
    (tracked by DVC, pushed to a local remote); later commits replace that table with a shifted
    one and point the working tree's drift.reference elsewhere."""
    from ml_ci.release.apply import apply_tags
    from ml_ci.release.promote import AssignSettings, promote
    from ml_ci.release.release import release_planner
    from tests.release.helpers import config, init_repo

    (tmp_path / "repo").mkdir()
    root, _ = init_repo(tmp_path / "repo")
    dvc = [sys.executable, "-m", "dvc"]
    _run([*dvc, "init", "-q"], root)
    _run([*dvc, "remote", "add", "-d", "local", str(tmp_path / "dvc-remote")], root)
    (root / "data").mkdir()
    write_reference(root / "data/train.parquet", rows=20_000, features=Features(), seed=1)
    _run([*dvc, "add", "-q", "data/train.parquet"], root)
    _config(root, "data/train.parquet")
    _run(["git", "add", "-A"], root)
    _run(["git", "commit", "-q", "-m", "train v0.1.0"], root)
    sha = _run(["git", "rev-parse", "HEAD"], root)
    _run([*dvc, "push", "-q"], root)
    apply_tags(root, "churn", release_planner("churn", sha, "canary", "minor", {}))
    promote(AssignSettings(root=root, config=config(), model="churn", stage="production"))
    # after the release: the training table changes (+1 sd in x1) and is committed, and the
    # working tree's config now names another table: neither is v0.1.0's reference
    shifted = Features(shift=("x1", 0.0, 1.0))
    write_reference(root / "data/train.parquet", rows=20_000, features=shifted, seed=2)
    write_reference(root / "data/other.parquet", rows=20_000, features=shifted, seed=3)
    _run([*dvc, "add", "-q", "data/train.parquet"], root)
    _run(["git", "add", "-A"], root)
    _run(["git", "commit", "-q", "-m", "new training data"], root)
    _config(root, "data/other.parquet")
    return root


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dvc_registry(tmp_path_factory.mktemp("drift"))


def window_logs(path: Path, shift: float = 0.0, column: str = "x0", seed: int = 0) -> Path:
    """A day of production requests up to NOW with features; ``shift`` sd in ``column`` over
    the whole window."""
    return simulate_logs(
        path,
        start=NOW - DAY,
        duration=DAY - 1,
        requests=20_000,
        canary=("v9.9.9", Profile()),
        production=("v0.1.0", Profile()),
        traffic=0.0,
        seed=seed,
        features=Features(shift=(column, 0.0, shift) if shift else None),
    )


def monitor(
    root: Path, logs: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ml_ci", "monitor", "--logs", str(logs), "--now", str(NOW),
         "--json", *extra],
        cwd=root, capture_output=True, text=True, env=env,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("shift", "verdict"), [(0.0, "pass"), (0.15, "retrain"), (0.6, "significant")]
)
def test_a_shift_planted_in_one_column_gives_its_verdict(
    repo: Path, tmp_path: Path, shift: float, verdict: str
) -> None:
    done = monitor(repo, window_logs(tmp_path / "logs.parquet", shift))
    assert done.returncode == 0, done.stderr  # drift never pages: the objectives decide
    payload = json.loads(done.stdout)
    drift = payload["drift"]
    assert payload["drift_reason"] is None and drift["verdict"] == verdict
    columns = {c["column"]: c for c in drift["columns"]}
    assert set(columns) == {"x0", "x1", "x2", "segment"}  # no contract column, no label
    assert [c for c in columns if columns[c]["drifted"]] == (["x0"] if shift else [])
    if shift:  # Wasserstein in reference sd: about the planted shift
        assert columns["x0"]["value"] == pytest.approx(shift, abs=0.03)
    # v0.1.0's reference (through DVC at its commit), not the working tree's tables: with
    # those, x1 (+1 sd) would be significant
    assert not columns["x1"]["drifted"]
    if not shift:
        import pandas as pd

        from ml_ci.config.drift import DriftConfig
        from ml_ci.drift.engine import analyse

        features = ["x0", "x1", "x2", "segment"]
        window = pd.read_parquet(tmp_path / "logs.parquet", columns=features)
        for table in ("data/other.parquet", "data/train.parquet"):
            now = pd.read_parquet(repo / table, columns=features)
            levels = {c.column: c.level for c in analyse(now, window, DriftConfig()).columns}
            assert levels["x1"] == "significant", table
    tags = _run(["git", "rev-list", "-n", "1", "churn@v0.1.0"], repo)
    assert drift["commit"] == tags and drift["reference"] == f"data/train.parquet@{tags}"
    assert drift["window_rows"] == drift["rows_current"] == 20_000 and not drift["sampled"]


def test_drift_looks_at_the_recent_part_so_a_new_shift_is_not_diluted(
    repo: Path, tmp_path: Path
) -> None:
    """A 0.6 sd shift in the last 6 h of a 4-day window: 1/16 of the window's rows, so over
    the whole window the Wasserstein distance is about 0.6 / 16 = 0.04 (below retrain, 0.1);
    over drift_window 6h it is the whole 0.6 (significant)."""
    logs = simulate_logs(
        tmp_path / "logs.parquet",
        start=NOW - 4 * DAY,
        duration=4 * DAY - 1,
        requests=64_000,
        canary=("v9.9.9", Profile()),
        production=("v0.1.0", Profile()),
        traffic=0.0,
        seed=5,
        features=Features(shift=("x0", NOW - DAY / 4, 0.6)),
    )
    verdicts = {}
    for name, span in (("window", "4d"), ("6h", "6h")):
        _config(repo, "data/other.parquet", window="4d", recent="4d", drift_window=span)
        try:
            done = monitor(repo, logs)
        finally:
            _config(repo, "data/other.parquet")
        assert done.returncode == 0, done.stderr
        drift = json.loads(done.stdout)["drift"]
        verdicts[name] = drift["verdict"]
        x0 = next(c for c in drift["columns"] if c["column"] == "x0")
        expected = 0.6 / 16 if name == "window" else 0.6
        assert x0["value"] == pytest.approx(expected, abs=0.03), name
    assert verdicts == {"window": "pass", "6h": "significant"}
    assert drift["since"] == "2025-12-31T18:00:00Z"


def test_the_window_is_sampled_beyond_drift_rows(repo: Path, tmp_path: Path) -> None:
    _config(repo, "data/other.parquet", drift_rows=5_000)
    try:
        done = monitor(repo, window_logs(tmp_path / "logs.parquet", 0.6))
    finally:
        _config(repo, "data/other.parquet")
    drift = json.loads(done.stdout)["drift"]
    assert drift["rows_current"] == 5_000 and drift["window_rows"] == 20_000 and drift["sampled"]
    assert drift["verdict"] == "significant"


def test_no_drift_when_it_cannot_be_computed(repo: Path, tmp_path: Path) -> None:
    logs = window_logs(tmp_path / "logs.parquet")
    # a version the registry does not know: its commit (and reference) is unknown
    done = monitor(repo, logs, "--version", "v9.9.9")
    assert done.returncode == 2  # no request of it in the window: the objectives' error
    without = tmp_path / "plain.parquet"
    simulate_logs(
        without, start=NOW - DAY, duration=DAY - 1, requests=2_000,
        canary=("v9.9.9", Profile()), production=("v0.1.0", Profile()), traffic=0.0,
    )  # fmt: skip
    done = monitor(repo, without)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["drift"] is None
    assert "no feature column of data/train.parquet" in payload["drift_reason"]
    text = subprocess.run(
        [sys.executable, "-m", "ml_ci", "monitor", "--logs", str(without), "--now", str(NOW)],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip
    assert "input drift: not available (no feature column" in text.stdout


def test_a_reference_dvc_cannot_read_is_a_reason_not_an_error(repo: Path, tmp_path: Path) -> None:
    """A broken reference must not hide a page: the objectives still decide the exit code."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    shutil.rmtree(copy / ".dvc" / "cache")
    _run(
        [sys.executable, "-m", "dvc", "remote", "modify", "local", "url", str(tmp_path / "gone")],
        copy,
    )
    done = monitor(copy, window_logs(tmp_path / "logs.parquet", 0.6))
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["drift"] is None
    assert payload["drift_reason"].startswith("drift not computed: data/train.parquet@")
    assert "\n" not in payload["drift_reason"]


def test_apply_dispatches_once_and_keeps_one_incident(
    repo: Path, tmp_path: Path, fake_github: Any
) -> None:
    gh = fake_github
    gh.add_token("ghs_monitor", "github-actions[bot]", app=True)
    gh.add_repo("acme/churn")
    env = {**os.environ, "GITHUB_API_URL": gh.url, "GITHUB_TOKEN": "ghs_monitor"}
    act = ("--apply", "--repo", "acme/churn", "--no-push")

    retrain = window_logs(tmp_path / "retrain.parquet", 0.15)
    first = monitor(repo, retrain, *act, env=env)
    assert first.returncode == 0, first.stderr
    applied = json.loads(first.stdout)["applied"]["drift"]
    assert applied["verdict"] == "retrain" and applied["incident"]["action"] == "opened"
    assert applied["dispatched"] == {"workflow": "retrain.yml", "ref": "main"}
    assert [d["workflow"] for d in gh.dispatches("acme/churn")] == ["retrain.yml"]

    again = monitor(repo, retrain, *act, env=env)  # the next scheduled run, same drift
    applied = json.loads(again.stdout)["applied"]["drift"]
    assert applied["dispatched"] is None and applied["incident"]["action"] == "updated"
    assert len(gh.dispatches("acme/churn")) == 1

    significant = window_logs(tmp_path / "significant.parquet", 0.6)
    for expected in ("updated", "updated"):
        done = monitor(repo, significant, *act, env=env)
        applied = json.loads(done.stdout)["applied"]["drift"]
        assert applied["verdict"] == "significant" and applied["dispatched"] is None
        assert applied["incident"]["action"] == expected
    issues = gh.issues("acme/churn")
    assert len(issues) == 1, [(i["title"], i["state"]) for i in issues]
    assert issues[0]["state"] == "open"
    body = issues[0]["body"]
    assert "needs human validation" in issues[0]["title"] and "drift.md" in body
    assert "`x0`" in body and "kind=drift" in body and "not** triggered" in body
    assert len(gh.dispatches("acme/churn")) == 1  # significant never retrains

    clean = monitor(repo, window_logs(tmp_path / "clean.parquet", seed=3), *act, env=env)
    assert json.loads(clean.stdout)["applied"]["drift"]["incident"]["action"] == "closed"
    assert [i["state"] for i in gh.issues("acme/churn")] == ["closed"]
    assert "ghs_monitor" not in first.stdout + first.stderr + clean.stdout + clean.stderr


def test_postgres_logs_give_the_same_drift_as_the_files(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd
    from sqlalchemy import create_engine

    from tests.logs.postgres import running_postgres

    logs = window_logs(tmp_path / "logs.parquet", 0.15)
    with running_postgres() as url:
        frame = pd.read_parquet(logs)
        frame["model_version"] = frame["model_version"].astype(str)
        engine = create_engine(url)
        frame.to_sql("serving_logs", engine, index=False, chunksize=10_000)
        engine.dispose()
        _config(repo, "data/other.parquet", logs={"sql": {"table": "serving_logs"}})
        try:
            env = {**os.environ, "ML_CI_LOGS_URL": url}
            from_sql = subprocess.run(
                [sys.executable, "-m", "ml_ci", "monitor", "--now", str(NOW), "--json"],
                cwd=repo, capture_output=True, text=True, env=env,
            )  # fmt: skip
        finally:
            _config(repo, "data/other.parquet")
    assert from_sql.returncode == 0, from_sql.stderr
    from_files = monitor(repo, logs)
    a, b = json.loads(from_sql.stdout)["drift"], json.loads(from_files.stdout)["drift"]
    assert a["verdict"] == "retrain" and a == b


def test_prometheus_has_no_input_features(repo: Path) -> None:
    from ml_ci.config import load_config
    from ml_ci.config.logs import PrometheusLogsConfig
    from ml_ci.logs import Window
    from ml_ci.logs.prometheus import PrometheusLogs
    from ml_ci.monitor.engine import MonitorSettings, window_drift

    settings = MonitorSettings(
        config=load_config(repo / "ml-ci.yaml"), base=repo, now=NOW, root=repo
    )
    source = PrometheusLogs(PrometheusLogsConfig(url="http://127.0.0.1:9"))  # never asked
    drift, reason = window_drift(settings, "v0.1.0", source, Window(["v0.1.0"], NOW, NOW - DAY))
    assert drift is None and reason is not None
    assert reason.startswith("not available from Prometheus")


def test_the_incident_escapes_hostile_column_names() -> None:
    """Column names come from the logs and the data: no mention, HTML or table break."""
    import numpy as np
    import pandas as pd

    from ml_ci.config import Config
    from ml_ci.config.drift import DriftConfig
    from ml_ci.drift.engine import analyse
    from ml_ci.monitor.apply import drift_body
    from ml_ci.monitor.engine import MonitorResult, WindowDrift

    hostile = "@acme/owners <img src=x onerror=alert(1)> | `x` [link](http://evil)"
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({hostile: rng.standard_normal(2_000)})
    current = pd.DataFrame({hostile: rng.standard_normal(2_000) + 1.0})
    section = analyse(reference, current, DriftConfig())
    result = MonitorResult("churn", "v0.1.0", NOW - DAY, NOW, 2_000, "none", [])
    config = Config.model_validate({"model": {"name": "churn"}})
    body = drift_body(
        result, WindowDrift(section, "a" * 40, 2_000, False), config, "u", None, False
    )
    row = next(line for line in body.splitlines() if "onerror" in line)
    from ml_ci.report.safe import md_code

    assert row.startswith(f"| {md_code(hostile)} |") and hostile not in body  # in a code span
    assert row.count(" | ") == 7  # the name's pipe does not add a cell (8 cells)


def test_the_text_output_keeps_a_hostile_column_name_on_its_line() -> None:
    from ml_ci.commands.monitor import _describe_drift

    column = {"column": "x0\n  error_rate none", "drifted": True, "level": "retrain"}
    column |= {"method": "wasserstein", "value": 0.2, "threshold": 0.1}
    drift = {"columns": [column], "quality": [], "verdict": "retrain", "commit": "a" * 40}
    drift |= {"sampled": False, "rows_current": 10, "window_rows": 10}
    lines = _describe_drift({"drift": drift})
    assert len(lines) == 2 and lines[1].startswith("    x0 error_rate none")


def _break_column(logs: Path, column: str, how: str) -> Path:
    """The logs with ``column`` as a broken feature pipeline writes it."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(logs)
    values = table[column].to_numpy()
    n = table.num_rows
    broken = {
        "null": lambda: pa.nulls(n, pa.float64()),
        "nan": lambda: pa.array(np.full(n, np.nan)),
        "text": lambda: pa.array([f"{v:.3f}" for v in values]),
        "dictionary": lambda: pa.array([f"{v:.3f}" for v in values]).dictionary_encode(),
        "timestamp": lambda: pa.array(np.arange(n).astype("datetime64[s]")),
        "duration": lambda: pa.array(np.arange(n).astype("timedelta64[s]")),
        "list": lambda: pa.array([[1.0]] * n),
    }[how]()
    table = table.set_column(table.schema.get_field_index(column), column, broken)
    out = logs.with_name(f"broken-{how}.parquet")
    pq.write_table(table, out)
    return out


@pytest.mark.parametrize(
    ("how", "check", "detail"),
    [
        ("null", "missing_values", "all missing"),
        ("nan", "missing_values", "all missing"),
        ("text", "schema", "number in the reference but text"),
        ("dictionary", "schema", "number in the reference but text"),
        ("timestamp", "schema", "number in the reference but datetime"),
        ("duration", "schema", "cannot compare"),
        ("list", "schema", "cannot compare"),
    ],
)
def test_a_broken_feature_column_is_a_failed_finding_not_a_switched_off_check(
    repo: Path, tmp_path: Path, how: str, check: str, detail: str
) -> None:
    """One feature column broken (all missing, another type) must flag the drift check
    (significant: a person looks, nothing retrains on it), not turn it off; the other
    columns are still compared."""
    logs = _break_column(window_logs(tmp_path / "logs.parquet", 0.6, column="x1"), "x0", how)
    done = monitor(repo, logs)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["drift_reason"] is None, payload["drift_reason"]
    drift = payload["drift"]
    assert drift["verdict"] == "significant"
    failed = [f for f in drift["quality"] if f["verdict"] == "fail"]
    assert [(f["check"], f["column"]) for f in failed] == [(check, "x0")], failed
    assert detail in failed[0]["detail"]
    columns = {c["column"]: c for c in drift["columns"]}
    assert set(columns) == {"x1", "x2", "segment"}  # x0 is not compared, the others are
    assert columns["x1"]["level"] == "significant" and not columns["x2"]["drifted"]
    text = subprocess.run(
        [sys.executable, "-m", "ml_ci", "monitor", "--logs", str(logs), "--now", str(NOW)],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip
    assert "not available" not in text.stdout and "x0" in text.stdout, text.stdout


def test_a_broken_column_opens_the_incident_and_never_dispatches_retraining(
    repo: Path, tmp_path: Path, fake_github: Any
) -> None:
    """Only x0 broken, no shift elsewhere: the verdict is significant, not pass or retrain."""
    gh = fake_github
    gh.add_token("ghs_monitor", "github-actions[bot]", app=True)
    gh.add_repo("acme/churn")
    env = {**os.environ, "GITHUB_API_URL": gh.url, "GITHUB_TOKEN": "ghs_monitor"}
    logs = _break_column(window_logs(tmp_path / "logs.parquet"), "x0", "null")
    done = monitor(repo, logs, "--apply", "--repo", "acme/churn", "--no-push", env=env)
    assert done.returncode == 0, done.stderr
    applied = json.loads(done.stdout)["applied"]["drift"]
    assert applied["verdict"] == "significant" and applied["dispatched"] is None
    assert applied["incident"]["action"] == "opened"
    assert gh.dispatches("acme/churn") == []
    assert "`x0`" in gh.issues("acme/churn")[0]["body"]


def test_a_config_variant_not_committed_then_falls_back_to_the_committed_ml_ci_yaml(
    repo: Path, tmp_path: Path
) -> None:
    """``--config ml-ci-sql.yaml``, a variant written after the release: v0.1.0's commit has no
    file of that name, so its reference is the one its committed ml-ci.yaml names."""
    variant = repo / "ml-ci-sql.yaml"
    variant.write_text((repo / "ml-ci.yaml").read_text())
    try:
        done = monitor(repo, window_logs(tmp_path / "logs.parquet"), "--config", variant.name)
    finally:
        variant.unlink()
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["drift_reason"] is None, payload["drift_reason"]
    tag = _run(["git", "rev-list", "-n", "1", "churn@v0.1.0"], repo)
    assert payload["drift"]["reference"] == f"data/train.parquet@{tag}"


def test_a_config_variant_committed_at_the_version_is_the_one_read(tmp_path: Path) -> None:
    """v0.1.0's commit holds ml-ci.yaml (reference data/a.parquet, shifted +1 sd in x0) and
    ml-ci-sql.yaml (data/b.parquet, like the logs): ``--config ml-ci-sql.yaml`` reads the
    variant's reference, so no column drifts; the default reads ml-ci.yaml's, so x0 does."""
    from ml_ci.release.apply import apply_tags
    from ml_ci.release.promote import AssignSettings, promote
    from ml_ci.release.release import release_planner
    from tests.release.helpers import config, init_repo

    (tmp_path / "repo").mkdir()
    root, _ = init_repo(tmp_path / "repo")
    (root / "data").mkdir()
    write_reference(
        root / "data/a.parquet", rows=5_000, features=Features(shift=("x0", 0.0, 1.0)), seed=1
    )
    write_reference(root / "data/b.parquet", rows=5_000, features=Features(), seed=2)
    _config(root, "data/b.parquet")
    (root / "ml-ci.yaml").rename(root / "ml-ci-sql.yaml")
    _config(root, "data/a.parquet")
    _run(["git", "add", "-A"], root)
    _run(["git", "commit", "-q", "-m", "train v0.1.0"], root)
    sha = _run(["git", "rev-parse", "HEAD"], root)
    apply_tags(root, "churn", release_planner("churn", sha, "canary", "minor", {}))
    promote(AssignSettings(root=root, config=config(), model="churn", stage="production"))
    logs = window_logs(tmp_path / "logs.parquet")
    drifted = {}
    for extra in ((), ("--config", "ml-ci-sql.yaml")):
        done = monitor(root, logs, *extra)
        assert done.returncode == 0, done.stderr
        drift = json.loads(done.stdout)["drift"]
        assert drift is not None, json.loads(done.stdout)["drift_reason"]
        drifted[extra] = (
            drift["reference"],
            [c["column"] for c in drift["columns"] if c["drifted"]],
        )
    assert drifted[()] == (f"data/a.parquet@{sha}", ["x0"])
    assert drifted[("--config", "ml-ci-sql.yaml")] == (f"data/b.parquet@{sha}", [])


def test_drift_going_from_significant_to_retrain_dispatches_once(
    repo: Path, tmp_path: Path, fake_github: Any
) -> None:
    """The drift incident opened at ``significant`` (no retraining) is still open when the drift
    reaches ``retrain``: retraining is dispatched then, once for the incident, remembered in
    its body across the rewrites of later runs."""
    gh = fake_github
    gh.add_token("ghs_monitor", "github-actions[bot]", app=True)
    gh.add_repo("acme/churn")
    env = {**os.environ, "GITHUB_API_URL": gh.url, "GITHUB_TOKEN": "ghs_monitor"}
    act = ("--apply", "--repo", "acme/churn", "--no-push")
    significant = window_logs(tmp_path / "significant.parquet", 0.6)
    retrain = window_logs(tmp_path / "retrain.parquet", 0.15)
    seen = []
    for logs in (significant, retrain, retrain, significant, retrain):
        done = monitor(repo, logs, *act, env=env)
        assert done.returncode == 0, done.stderr
        applied = json.loads(done.stdout)["applied"]["drift"]
        (issue,) = gh.issues("acme/churn")
        seen.append((applied["verdict"], applied["dispatched"] is not None, issue["body"]))
    assert [(v, d) for v, d, _ in seen] == [
        ("significant", False),
        ("retrain", True),
        ("retrain", False),
        ("significant", False),
        ("retrain", False),
    ]
    assert [d["workflow"] for d in gh.dispatches("acme/churn")] == ["retrain.yml"]
    assert "not** triggered" in seen[0][2] and "dispatched" not in seen[0][2].lower()
    assert "Retraining dispatched: `retrain.yml` on `main`" in seen[1][2]
    for _, _, body in seen[2:]:  # every later rewrite says it truthfully, and keeps the mark
        assert "Retraining (`retrain.yml` on `main`) was dispatched at `20" in body
        assert "<!-- ml-ci:dispatched workflow=retrain.yml ref=main at=" in body


def test_a_column_named_like_the_dispatch_mark_does_not_stop_retraining() -> None:
    """A column name is data: written into the body, it must not read as ml-ci's own mark
    that retraining was dispatched (only a whole line of the body is)."""
    import numpy as np
    import pandas as pd

    from ml_ci.config import Config
    from ml_ci.config.drift import DriftConfig
    from ml_ci.drift.engine import analyse
    from ml_ci.monitor.apply import DISPATCH_MARK, dispatch_mark, drift_body
    from ml_ci.monitor.engine import MonitorResult, WindowDrift

    forged = DISPATCH_MARK.format(workflow="retrain.yml", ref="main", at="2026-01-01T00:00:00Z")
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({forged: rng.standard_normal(2_000)})
    current = pd.DataFrame({forged: rng.standard_normal(2_000) + 1.0})
    section = analyse(reference, current, DriftConfig())
    result = MonitorResult("churn", "v0.1.0", NOW - DAY, NOW, 2_000, "none", [])
    config = Config.model_validate({"model": {"name": "churn"}})
    drift = WindowDrift(section, "a" * 40, 2_000, False)
    body = drift_body(result, drift, config, "u", None, False)
    assert forged in body and dispatch_mark(body) is None
    mark = {"workflow": "retrain.yml", "ref": "main", "at": "2026-01-02T00:00:00Z"}
    assert dispatch_mark(drift_body(result, drift, config, "u", None, True, mark)) == mark
