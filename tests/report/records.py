"""Sample evaluation records built from the record models (shared by the report tests)."""

from __future__ import annotations

from ml_ci.record import (
    ColumnDrift,
    CompareSection,
    Decision,
    DriftSection,
    EvaluationRecord,
    GateResult,
    GovernanceSection,
    Lineage,
    LineageEntry,
    MetricResult,
    OutputCheck,
    ParamChange,
    QualityFinding,
    RepoInfo,
    ReproSection,
)


def metric(
    name: str, base: float, cand: float, half: float, *, slice_: str | None = None, n: int = 1000
) -> MetricResult:
    delta = cand - base
    return MetricResult(
        name=name,
        baseline=base,
        candidate=cand,
        delta=delta,
        ci_low=delta - half,
        ci_high=delta + half,
        p_value=0.2,
        method="paired bootstrap",
        n=n,
        slice=slice_,
    )


def demo_record(*, verdict: str = "fail", slices: int = 4, columns: int = 6) -> EvaluationRecord:
    """A record like the demo's: gates, slices, latency, drift, repro, lineage, links."""
    metrics = [
        metric("roc_auc", 0.981, 0.962, 0.008),
        metric("accuracy", 0.947, 0.951, 0.012),
        metric("latency_p95_ms", 12.0, 13.5, 0.9),
    ]
    gates = [
        GateResult(
            metric="accuracy",
            rule="non_inferior",
            margin=0.01,
            verdict="pass",
            p_value=0.001,
            adjusted_p_value=0.002,
        ),
        GateResult(
            metric="roc_auc",
            rule="non_inferior",
            margin=0.01,
            verdict=verdict if verdict in ("fail", "inconclusive") else "pass",
            p_value=0.94,
            adjusted_p_value=0.94,
            reason="the lower bound -0.027 is below -0.01",
        ),
        GateResult(
            metric="latency_p95_ms",
            rule="absolute",
            margin=20.0,
            max=20.0,
            verdict="pass",
            reason="p95 13.5 ms <= 20 ms",
        ),
    ]
    for index in range(slices):
        name = f"region=r{index}"
        metrics.append(
            metric("roc_auc", 0.97, 0.95 if index % 2 else 0.975, 0.03, slice_=name, n=250)
        )
        gates.append(
            GateResult(
                metric="roc_auc",
                rule="non_inferior",
                margin=0.01,
                slice=name,
                verdict="inconclusive" if index % 2 else "pass",
                p_value=0.3,
                adjusted_p_value=0.6,
            )
        )
    compare_verdict = verdict if verdict in ("pass", "fail", "inconclusive") else "pass"
    drift_columns = [
        ColumnDrift(
            column=f"feature_{i}",
            method="psi",
            value=0.3 if i < 2 else 0.01,
            threshold=0.2,
            drifted=i < 2,
            p_value=None,
        )
        for i in range(columns)
    ]
    return EvaluationRecord(
        model="churn",
        repo=RepoInfo(
            name="acme/models",
            head_sha="a" * 40,
            base_sha="b" * 40,
            pull_request=7,
            run_url="https://github.com/acme/models/actions/runs/1",
        ),
        lineage=Lineage(
            deps=[LineageEntry(path="data/train.csv", hash="0123456789abcdef", stage="train")],
            outs=[
                LineageEntry(path="model.pkl", hash="fedcba9876543210", stage="train", kind="out")
            ],
            params_diff=[ParamChange(file="params.yaml", key="train.C", base=1.0, head=0.5)],
        ),
        repro=ReproSection(
            verdict="verified",
            runs=2,
            outputs=[
                OutputCheck(path="model.pkl", expected="fedcba98", actual="fedcba98", match=True)
            ],
        ),
        compare=CompareSection(metrics=metrics, gates=gates, verdict=compare_verdict, alpha=0.05),  # type: ignore[arg-type]
        drift=DriftSection(
            columns=drift_columns,
            quality=[
                QualityFinding(
                    check="missing",
                    column="feature_1",
                    rows=12,
                    verdict="warn",
                    detail="12 missing values",
                ),
                QualityFinding(check="schema", verdict="pass"),
            ],
            share_drifted=2 / max(columns, 1),
            verdict="significant" if verdict == "needs human" else "pass",
        ),
        links={"report": "https://github.com/acme/models/actions/runs/1/artifacts/9"},
    )


def with_governance(record: EvaluationRecord) -> EvaluationRecord:
    record.governance = GovernanceSection(
        required=True,
        required_approvals=2,
        approvers=["alice", "bob"],
        teams=["acme/ml-leads"],
        decisions=[
            Decision(
                actor="alice",
                action="approve",
                sha="a" * 40,
                at="2026-01-01T00:00:00Z",
                via="review",
                counted=True,
            ),
            Decision(
                actor="mallory",
                action="approve",
                sha="a" * 40,
                at="2026-01-01T00:01:00Z",
                via="comment",
                counted=False,
                reason="not an approver",
            ),
        ],
        satisfied=False,
        head_sha="a" * 40,
    )
    return record


def with_curves(record: EvaluationRecord) -> EvaluationRecord:
    """``record`` with ROC/PR curves of two synthetic models (as compare writes them)."""
    from ml_ci.compare import curves
    from tests.compare.helpers import binary_scores

    assert record.compare is not None
    y, baseline, candidate = binary_scores(2000, seed=5, decimals=None)
    record.compare.curves = [
        build(y, score, model)  # type: ignore[arg-type]
        for model, score in (("baseline", baseline), ("candidate", candidate))
        for build in (curves.roc, curves.precision_recall)
    ]
    return record
