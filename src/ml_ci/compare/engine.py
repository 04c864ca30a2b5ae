"""``execute(settings) -> CompareSection``: metrics, paired uncertainty, gates, verdict.

Order: load and join the tables (:mod:`.inputs`); for all rows and then each slice compute
every metric of the task with its paired interval (:func:`task_metrics`); apply the gates
(:mod:`.gates`) with the multiple-testing correction; build the record section.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ml_ci.compare import bootstrap, fairness, metrics, paired
from ml_ci.compare.curves import binary_curves
from ml_ci.compare.estimates import Estimate, PointEstimate, ReplicateEstimate
from ml_ci.compare.gates import (
    GateCheck,
    GateOutcome,
    MetricStats,
    check_gate,
    decide,
    fairness_check,
    holm,
)
from ml_ci.compare.inputs import Paired, load_pair
from ml_ci.compare.latency import QUANTILES, Timing, quantile, read_timing, timing_path
from ml_ci.compare.metrics import higher_is_better
from ml_ci.compare.power import underpowered
from ml_ci.config import Config, default_gates
from ml_ci.config.compare import Gate, is_fairness_metric
from ml_ci.errors import ConfigError
from ml_ci.record.compare import (
    CompareSection,
    FairnessResult,
    GateResult,
    GroupRate,
    MetricResult,
)

Floats = npt.NDArray[np.float64]
Progress = Callable[[str], None]

BOOTSTRAP = "paired Poisson bootstrap (percentile)"
UNDEFINED_AUC = "undefined: one class only"


@dataclass(frozen=True)
class CompareSettings:
    baseline: Path
    candidate: Path
    config: Config
    seed: int | None = None
    timing: Path | None = None  # default: <baseline>.timing.json when it exists


def execute(settings: CompareSettings, progress: Progress | None = None) -> CompareSection:
    """Compare the two predictions tables under ``settings.config``; never prints."""
    say = progress or (lambda _m: None)
    config = settings.config
    latency_column = config.predictions.latency or config.latency.column
    say(f"reading {settings.baseline} and {settings.candidate}")
    table = load_pair(
        settings.baseline,
        settings.candidate,
        config.task,
        config.predictions,
        latency=latency_column,
        slices=list(config.slices.columns),
        groups=config.fairness.columns() if _fairness_gates(config) else [],
    )
    timing = read_timing(settings.timing or timing_path(settings.baseline))
    seed = config.compare.bootstrap.seed if settings.seed is None else settings.seed
    return compare_paired(table, config, seed=seed, timing=timing, progress=say)


def compare_tables(
    baseline: Path, candidate: Path, config: Config, *, seed: int | None = None
) -> CompareSection:
    """Convenience for other stages (e.g. a trusted re-run of the gates at release)."""
    return execute(CompareSettings(baseline, candidate, config, seed))


def compare_paired(
    table: Paired,
    config: Config,
    *,
    seed: int,
    timing: Timing | None = None,
    progress: Progress | None = None,
) -> CompareSection:
    """Metrics with paired intervals on all rows and on each slice, then the gates."""
    say = progress or (lambda _m: None)
    alpha = config.compare.alpha
    resamples = config.compare.bootstrap.resamples
    gates = list(config.gates) or default_gates(config.task)
    say(f"{table.n} rows: metrics with paired intervals ({resamples} bootstrap replicates)")
    fair_gates = [g for g in gates if is_fairness_metric(g.metric)]
    gates = [g for g in gates if not is_fairness_metric(g.metric)]
    fair = (
        fairness_stage(table, config, fair_gates, seed=seed, resamples=resamples)
        if fair_gates and table.task == "binary" and table.n
        else None
    )
    # one sort per model on all rows serves DeLong, average precision and the curves
    ranked = _ranked(table) if table.task == "binary" and table.n else None
    results: list[MetricStats] = task_metrics(
        table,
        seed,
        resamples,
        stream=0,
        ranked=ranked,
        cell_reps=None if fair is None else fair.draw.coarse,
    )
    results += latency_metrics(table, timing)
    by_slice: list[tuple[str, int, list[MetricStats]]] = []
    stream = 1
    for column in config.slices.columns:
        values = table.slices[column]
        for value in sorted(set(values.tolist())):
            mask = values == value
            name = f"{column}={value}"
            sub = table.subset(mask)
            say(f"slice {name}: {sub.n} rows")
            stats = [_in_slice(s, name) for s in task_metrics(sub, seed, resamples, stream=stream)]
            stats += [_in_slice(s, name) for s in latency_metrics(sub, None)]
            stream += 1
            results += stats
            by_slice.append((name, sub.n, stats))
    checks = _checks(gates, results, by_slice, config)
    if fair is not None:
        checks += fair.checks
    same = unchanged(table)
    outcomes = decide(checks, alpha, config.compare.correction, unchanged=same)
    gate_results = [
        GateResult(
            metric=o.check.stats.name,
            rule=o.check.gate.rule,
            margin=o.check.margin,
            slice=o.check.stats.slice,
            verdict=o.verdict,
            p_value=_clean(o.check.p_value),
            adjusted_p_value=_clean(o.adjusted_p_value),
            reason=o.reason,
            undefined=o.check.undefined,
            threshold=_clean(o.check.threshold),
            bound=_clean(o.check.bound),
            mde=_clean(o.check.mde),
            underpowered=underpowered(o.check.gate.rule, o.check.margin, _clean(o.check.mde)),
            relative=o.check.gate.relative,
            min=o.check.gate.min,
            max=o.check.gate.max,
            groups=o.check.groups,
        )
        for o in outcomes
    ]
    # slices below min_size, and slices where the metric is undefined, are reported but
    # never decide the verdict
    verdicts = {
        g.verdict
        for g, o in zip(gate_results, outcomes, strict=True)
        if not o.check.below_min and not o.check.undefined
    }
    verdict = (
        "fail" if "fail" in verdicts else "inconclusive" if "inconclusive" in verdicts else "pass"
    )
    gated = {(c.stats.name, c.stats.slice) for c in checks}
    return CompareSection(
        metrics=ungated_warnings(
            [_metric_record(s, alpha, (s.name, s.slice) in gated) for s in results],
            alpha,
            config.compare.correction,
        ),
        gates=gate_results,
        verdict=verdict,
        alpha=alpha,
        correction=config.compare.correction,
        inconclusive=config.compare.inconclusive,
        resamples=resamples,
        seed=seed,
        n=table.n,
        curves=binary_curves(table, ranked),
        fairness=[] if fair is None else fair.records(outcomes),
        unchanged=same,
    )


# --- fairness gates --------------------------------------------------------------------------


def _fairness_gates(config: Config) -> list[Gate]:
    return [g for g in config.gates if is_fairness_metric(g.metric)]


@dataclass(frozen=True)
class _FairnessRun:
    """One fairness gate on one grouping, before the correction."""

    check: GateCheck
    change: fairness.GapChange
    lower: float | None
    cells: fairness.GroupCells
    min_size: int


@dataclass(frozen=True)
class FairnessStage:
    """The shared draw (its ``coarse`` counts feed compare's count table) and the checks."""

    draw: fairness.SharedDraw
    runs: list[_FairnessRun]

    @property
    def checks(self) -> list[GateCheck]:
        return [r.check for r in self.runs]

    def records(self, outcomes: list[GateOutcome]) -> list[FairnessResult]:
        """One record per run, with the verdict and adjusted p of its outcome."""
        by_check = {id(o.check): o for o in outcomes}
        out = []
        for run in self.runs:
            outcome = by_check[id(run.check)]
            change = run.change
            rates = []
            for rate in fairness.rates_for(change.metric):
                values = fairness.by_group(run.cells, rate)
                for name, size in zip(run.cells.groups, run.cells.sizes, strict=True):
                    base, cand = values[name]
                    rates.append(
                        GroupRate(
                            group=name,
                            n=int(size),
                            gated=bool(size >= run.min_size),
                            rate=rate,
                            baseline=_clean(base),
                            candidate=_clean(cand),
                        )
                    )
            out.append(
                FairnessResult(
                    metric=change.metric,
                    groups=run.check.groups or "",
                    rule="absolute" if run.check.gate.rule == "absolute" else "non_inferior",
                    margin=run.check.margin,
                    max=run.check.gate.max,
                    verdict=outcome.verdict,
                    baseline=_clean(change.baseline),
                    candidate=_clean(change.candidate),
                    delta=_clean(change.delta),
                    upper=_clean(change.upper),
                    lower=_clean(run.lower),
                    p_value=_clean(change.p_value),
                    adjusted_p_value=_clean(outcome.adjusted_p_value),
                    gated_groups=list(change.groups),
                    reason=change.reason,
                    by_group=rates,
                )
            )
        return out


def fairness_stage(
    table: Paired, config: Config, gates: list[Gate], *, seed: int, resamples: int
) -> FairnessStage:
    """Every fairness gate on every grouping of ``fairness.groups``, on ONE Poisson draw.

    The draw is made on the common refinement of all groupings' cells and of compare's
    (y, baseline, candidate) table, from compare's count-table stream; summed, it is the
    replicate set of compare's precision / recall / f1 too (:func:`fairness.shared_draw`)."""
    alpha = config.compare.alpha
    min_size = config.fairness.min_size
    groupings = config.fairness.groupings()
    labels = [
        table.groups[columns[0]]
        if len(columns) == 1
        else fairness.intersect([table.groups[c] for c in columns])
        for _, columns in groupings
    ]
    draw = fairness.shared_draw(
        labels, table.y, table.base.pred, table.cand.pred, resamples, _rng(seed, 0, 1)
    )
    runs = []
    for (label, _), cells, replicates in zip(groupings, draw.cells, draw.replicates, strict=True):
        small = [g for g, n in zip(cells.groups, cells.sizes, strict=True) if n < min_size]
        notes = (
            [
                f"{len(small)} group(s) below fairness.min_size ({min_size} rows) reported, "
                f"not gated: {', '.join(small[:5])}{' ...' if len(small) > 5 else ''}"
            ]
            if small
            else []
        )
        for gate in gates:
            if gate.rule == "absolute":
                assert gate.max is not None  # the config allows absolute with max only
                change, lower, p_opposite = fairness.gap_cap(
                    cells,
                    gate.metric,
                    limit=gate.max,
                    alpha=alpha,
                    replicates=replicates,
                    min_size=min_size,
                )
            else:
                change = fairness.gap_change(
                    cells,
                    gate.metric,
                    margin=gate.margin,
                    alpha=alpha,
                    replicates=replicates,
                    min_size=min_size,
                )
                lower, p_opposite = fairness.gap_change_lower(
                    cells,
                    gate.metric,
                    margin=gate.margin,
                    alpha=alpha,
                    replicates=replicates,
                    min_size=min_size,
                )
            check = fairness_check(gate, label, change, p_opposite, table.n, list(notes))
            runs.append(_FairnessRun(check, change, lower, cells, min_size))
    return FairnessStage(draw, runs)


def unchanged(table: Paired) -> bool:
    """The candidate's y_pred and scores equal the baseline's on every row (exactly: a model
    hash alone is not enough, the predict code can change)."""
    if not np.array_equal(table.base.pred, table.cand.pred):
        return False
    sb, sc = table.base.score, table.cand.score
    if sb is None or sc is None:
        return sb is None and sc is None
    return bool(np.array_equal(sb, sc))


def _checks(
    gates: list[Gate],
    results: list[MetricStats],
    by_slice: list[tuple[str, int, list[MetricStats]]],
    config: Config,
) -> list[GateCheck]:
    alpha = config.compare.alpha
    overall = {s.name: s for s in results if s.slice is None}
    checks = []
    for index, gate in enumerate(gates):
        if gate.metric not in overall:
            raise ConfigError(
                f"gates[{index}].metric: {gate.metric} has no data; give a per-row latency "
                "column (predictions.latency) or time the predict command (ml-ci baseline, "
                "which writes <baseline>.timing.json)"
            )
        guard = config.compare.max_improvement
        checks.append(check_gate(gate, overall[gate.metric], alpha, max_improvement=guard))
        if not gate.slices:
            continue
        for _name, n, stats in by_slice:
            found = [s for s in stats if s.name == gate.metric]
            if found:
                checks.append(
                    check_gate(
                        gate,
                        found[0],
                        alpha,
                        max_improvement=guard,
                        below_min=n < config.slices.min_size,
                        undefined=found[0].method.startswith("undefined"),
                    )
                )
    return checks


def _in_slice(stats: MetricStats, name: str) -> MetricStats:
    from dataclasses import replace

    return replace(stats, slice=name)


def _clean(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def ungated_warnings(
    records: list[MetricResult], alpha: float, correction: str
) -> list[MetricResult]:
    """Flag ungated metrics on all rows that are significantly worse than the baseline.

    The family is every ungated all-rows metric with a two-sided p-value of no difference;
    p is Holm-adjusted across it (``correction: holm``), and ``worse`` = adjusted p < alpha
    with the delta in the bad direction. A warning only: gates alone decide the verdict.
    """
    family = [
        i
        for i, m in enumerate(records)
        if not m.gated and m.slice is None and m.p_value is not None
    ]
    raw = [float(records[i].p_value) for i in family]  # type: ignore[arg-type]
    adjusted = holm(raw) if correction == "holm" else raw
    out = list(records)
    for i, adj in zip(family, adjusted, strict=True):
        m = records[i]
        bad = m.delta is not None and (m.delta > 0) != higher_is_better(m.name) and m.delta != 0
        out[i] = m.model_copy(update={"adjusted_p_value": adj, "worse": bad and adj < alpha})
    return out


def _metric_record(stats: MetricStats, alpha: float, gated: bool = False) -> MetricResult:
    low = high = None
    if stats.delta is not None and not isinstance(stats.delta, PointEstimate):
        low, high = stats.delta.interval(alpha)
    return MetricResult(
        name=stats.name,
        baseline=_clean(stats.baseline),
        candidate=_clean(stats.candidate),
        delta=None if stats.delta is None else _clean(stats.delta.value),
        ci_low=_clean(low),
        ci_high=_clean(high),
        p_value=_clean(stats.p_value),
        method=stats.method,
        n=stats.n,
        slice=stats.slice,
        gated=gated,
    )


# --- metrics per task -------------------------------------------------------------------------


def _rng(seed: int, stream: int, part: int) -> np.random.Generator:
    """Independent, reproducible streams: one per (rows subset, metric family)."""
    return np.random.default_rng([seed, stream, part])


def _two_sided(delta: Estimate) -> float:
    return min(1.0, 2 * min(delta.p_above(0.0), delta.p_below(0.0)))


def _from_replicates(
    name: str, base: float, cand: float, base_r: Floats, cand_r: Floats, n: int, method: str
) -> MetricStats:
    delta = ReplicateEstimate.of(cand - base, cand_r - base_r, method)
    return MetricStats(
        name,
        None,
        base,
        cand,
        delta,
        ReplicateEstimate.of(cand, cand_r, method),
        _two_sided(delta),
        method,
        n,
    )


def _accuracy(
    base_pred: npt.NDArray[np.generic],
    cand_pred: npt.NDArray[np.generic],
    y: npt.NDArray[np.generic],
) -> MetricStats:
    counts = paired.PairedCounts.of(base_pred == y, cand_pred == y)
    n = counts.n
    base = (counts.both + counts.base_only) / n
    cand = (counts.both + counts.cand_only) / n
    delta = paired.accuracy_delta(counts)
    return MetricStats(
        "accuracy",
        None,
        base,
        cand,
        delta,
        paired.proportion(counts.both + counts.cand_only, n),
        paired.mcnemar_exact_p(counts),
        delta.method,
        n,
    )


def _ranked(table: Paired) -> list[bootstrap.Ranked]:
    """Both models' labels in descending-score order, with the tie-group ends."""
    y = table.y.astype(np.float64)
    out = []
    for s in (table.base.score, table.cand.score):
        assert s is not None
        order = np.argsort(s)[::-1]
        out.append(bootstrap.Ranked(order, y[order], metrics.tie_group_ends(s[order])))
    return out


def task_metrics(
    table: Paired,
    seed: int,
    resamples: int,
    *,
    stream: int,
    ranked: list[bootstrap.Ranked] | None = None,
    cell_reps: Floats | None = None,
) -> list[MetricStats]:
    if table.n == 0:
        return []
    if table.task == "binary":
        return binary_metrics(table, seed, resamples, stream, ranked, cell_reps)
    if table.task == "multiclass":
        return multiclass_metrics(table, seed, resamples, stream)
    return regression_metrics(table, seed, resamples, stream)


def binary_metrics(
    table: Paired,
    seed: int,
    resamples: int,
    stream: int,
    ranked: list[bootstrap.Ranked] | None = None,
    cell_reps: Floats | None = None,
) -> list[MetricStats]:
    """``cell_reps``: (B, 8) replicate counts of the (y, baseline, candidate) table already
    drawn (by the fairness stage, on a refinement of these cells); else drawn here."""
    y = table.y.astype(np.int64)
    pb, pc = table.base.pred.astype(np.int64), table.cand.pred.astype(np.int64)
    sb, sc = table.base.score, table.cand.score
    assert sb is not None and sc is not None
    n = table.n
    out = [_accuracy(pb, pc, y)]

    # precision / recall / f1: the 2x2x2 table (y, baseline pred, candidate pred)
    cell = np.bincount(y * 4 + pb * 2 + pc, minlength=8).astype(np.float64)
    reps = (
        cell_reps
        if cell_reps is not None
        else bootstrap.cell_replicates(cell.astype(np.int64), resamples, _rng(seed, stream, 1))
    )
    for name in ("precision", "recall", "f1"):
        base, cand = (
            metrics.binary_count_metric(name, cell, 1),
            metrics.binary_count_metric(name, cell, 0),
        )
        out.append(
            _from_replicates(
                name,
                float(base),
                float(cand),
                metrics.binary_count_metric(name, reps, 1),
                metrics.binary_count_metric(name, reps, 0),
                n,
                BOOTSTRAP + " of the 2x2x2 count table",
            )
        )

    # one sort per model serves DeLong and AP (the order inside a run of ties never matters)
    ranked = ranked or _ranked(table)
    ascending = [r.order[::-1] for r in ranked]

    # ROC AUC: DeLong
    if 0 < int(y.sum()) < n:
        comps = []
        for s, order in ((sb, ascending[0]), (sc, ascending[1])):
            comps.append(paired.delong_components(s, y, order))
        delta, cand_est, p = paired.delong_pair(comps[0], comps[1])
        out.append(
            MetricStats(
                "roc_auc", None, comps[0][0], comps[1][0], delta, cand_est, p, delta.method, n
            )
        )
    else:
        out.append(MetricStats("roc_auc", None, None, None, None, None, None, UNDEFINED_AUC, n))

    # average precision, log loss, Brier: one shared continuous resampling
    ll_b, ll_c = metrics.binary_log_losses(y, sb), metrics.binary_log_losses(y, sc)
    br_b, br_c = metrics.brier_losses(y, sb), metrics.brier_losses(y, sc)
    columns = np.column_stack([ll_b, ll_c, br_b, br_c])
    rep = bootstrap.continuous_replicates(
        columns, ranked, ll_c - ll_b, resamples, _rng(seed, stream, 2)
    )
    how = BOOTSTRAP if rep.exact else BOOTSTRAP + ", moment-matched strata"
    means = rep.sums / rep.totals[:, None]
    ap_b = metrics.average_precision_sorted(ranked[0].y_sorted, ranked[0].ends)
    ap_c = metrics.average_precision_sorted(ranked[1].y_sorted, ranked[1].ends)
    ap_how = how + rep.ap_method
    out.append(
        _from_replicates("average_precision", ap_b, ap_c, rep.ap[:, 0], rep.ap[:, 1], n, ap_how)
    )
    out.append(
        _from_replicates(
            "log_loss", float(ll_b.mean()), float(ll_c.mean()), means[:, 0], means[:, 1], n, how
        )
    )
    out.append(
        _from_replicates(
            "brier", float(br_b.mean()), float(br_c.mean()), means[:, 2], means[:, 3], n, how
        )
    )
    return out


def multiclass_metrics(table: Paired, seed: int, resamples: int, stream: int) -> list[MetricStats]:
    y = table.y.astype(np.int64)
    pb, pc = table.base.pred.astype(np.int64), table.cand.pred.astype(np.int64)
    k = len(table.classes)
    n = table.n
    out = [_accuracy(pb, pc, y)]
    cells = np.bincount((y * k + pb) * k + pc, minlength=k**3)
    reps = bootstrap.cell_replicates(cells, resamples, _rng(seed, stream, 1)).reshape(-1, k, k, k)
    point = cells.astype(np.float64).reshape(k, k, k)
    conf_b, conf_c = point.sum(axis=2), point.sum(axis=1)  # [y, pred]
    rep_b, rep_c = reps.sum(axis=3), reps.sum(axis=2)
    seen_b = (conf_b.sum(axis=0) + conf_b.sum(axis=1)) > 0
    seen_c = (conf_c.sum(axis=0) + conf_c.sum(axis=1)) > 0
    how = BOOTSTRAP + f" of the {k}x{k}x{k} count table"
    out.append(
        _from_replicates(
            "f1_macro",
            float(metrics.f1_macro(conf_b, seen_b)),
            float(metrics.f1_macro(conf_c, seen_c)),
            metrics.f1_macro(rep_b, seen_b),
            metrics.f1_macro(rep_c, seen_c),
            n,
            how,
        )
    )
    out.append(
        _from_replicates(
            "f1_weighted",
            float(metrics.f1_weighted(conf_b)),
            float(metrics.f1_weighted(conf_c)),
            metrics.f1_weighted(rep_b),
            metrics.f1_weighted(rep_c),
            n,
            how,
        )
    )
    assert table.base.score is not None and table.cand.score is not None
    ll_b = metrics.multiclass_log_losses(y, table.base.score)
    ll_c = metrics.multiclass_log_losses(y, table.cand.score)
    rep = bootstrap.continuous_replicates(
        np.column_stack([ll_b, ll_c]), [], ll_c - ll_b, resamples, _rng(seed, stream, 2)
    )
    means = rep.sums / rep.totals[:, None]
    how = BOOTSTRAP if rep.exact else BOOTSTRAP + ", moment-matched strata"
    out.append(
        _from_replicates(
            "log_loss", float(ll_b.mean()), float(ll_c.mean()), means[:, 0], means[:, 1], n, how
        )
    )
    return out


def regression_metrics(table: Paired, seed: int, resamples: int, stream: int) -> list[MetricStats]:
    y = table.y.astype(np.float64)
    eb = table.base.pred.astype(np.float64) - y
    ec = table.cand.pred.astype(np.float64) - y
    n = table.n
    yc = y - y.mean()  # centred: the weighted SST without cancellation
    columns = np.column_stack([np.abs(eb), np.abs(ec), eb**2, ec**2, yc, yc**2])
    rep = bootstrap.continuous_replicates(
        columns, [], columns[:, 3] - columns[:, 2], resamples, _rng(seed, stream, 2)
    )
    s, t = rep.sums, rep.totals
    how = BOOTSTRAP if rep.exact else BOOTSTRAP + ", moment-matched strata"
    sst_rep = s[:, 5] - s[:, 4] ** 2 / t
    sst = float(np.sum(yc**2))
    out = [
        _from_replicates(
            "mae",
            float(columns[:, 0].mean()),
            float(columns[:, 1].mean()),
            s[:, 0] / t,
            s[:, 1] / t,
            n,
            how,
        ),
        _from_replicates(
            "rmse",
            math.sqrt(columns[:, 2].mean()),
            math.sqrt(columns[:, 3].mean()),
            np.sqrt(s[:, 2] / t),
            np.sqrt(s[:, 3] / t),
            n,
            how,
        ),
        _from_replicates(
            "r2",
            float(metrics.r2_from_sums(float(columns[:, 2].sum()), sst)),
            float(metrics.r2_from_sums(float(columns[:, 3].sum()), sst)),
            metrics.r2_from_sums(s[:, 2], sst_rep),
            metrics.r2_from_sums(s[:, 3], sst_rep),
            n,
            how,
        ),
    ]
    return out


def latency_metrics(table: Paired, timing: Timing | None) -> list[MetricStats]:
    """latency_p50/p95/p99_ms from the per-row column (preferred) or the timed runs."""
    out = []
    lb, lc = table.base.latency, table.cand.latency
    if lc is not None and len(lc):
        cand_sorted = np.sort(lc)
        for name, q in QUANTILES.items():
            base = quantile(lb, q) if lb is not None and len(lb) else None
            cand = quantile(lc, q)
            delta = None if base is None else PointEstimate(cand - base, "column")
            est = paired.QuantileEstimate(cand, cand_sorted, q, "column (order-statistic bounds)")
            out.append(
                MetricStats(
                    name,
                    None,
                    base,
                    cand,
                    delta,
                    est,
                    None,
                    "column (order-statistic bounds on the candidate)",
                    table.n,
                )
            )
    elif timing is not None and timing.candidate_ms:
        runs = len(timing.candidate_ms)
        method = f"timing ({runs} run(s) of predict.command, ms per run)"
        for name, q in QUANTILES.items():
            cand = quantile(np.asarray(timing.candidate_ms), q)
            base = quantile(np.asarray(timing.baseline_ms), q) if timing.baseline_ms else None
            delta = None if base is None else PointEstimate(cand - base, method)
            out.append(
                MetricStats(
                    name, None, base, cand, delta, PointEstimate(cand, method), None, method, runs
                )
            )
    return out
