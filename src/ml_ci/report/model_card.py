"""``MODEL_CARD.md`` from the evaluation record: Hugging Face front matter + what it lacks.

The front matter is the Hub's model-card metadata (``model-index``: task, dataset, metrics and
values), so hubs and tools read the card; ``huggingface_hub``'s ``ModelCard`` parses it back.
The body adds what that format has no field for and Google's Model Card Toolkit does:
confidence intervals, the baseline it was compared with and the gates, slices, drift,
approvals, lineage hashes, and the intended use and limitations the team writes itself
(``governance.model_card``: a markdown file of theirs, included as it is).

Every value comes from the record; record strings are escaped for markdown (a record can come
from a pull request), the front matter is written by a YAML dumper.
"""

from __future__ import annotations

from typing import Any

import yaml

from ml_ci.record import EvaluationRecord
from ml_ci.report.safe import md_code, md_text

TASK_TYPES = {
    "binary": "tabular-classification",
    "multiclass": "tabular-classification",
    "regression": "tabular-regression",
}


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def front_matter(record: EvaluationRecord, task: str, version: str | None) -> dict[str, Any]:
    """The Hub's metadata: ``model-index`` with the candidate's value of every overall metric."""
    dataset = next(
        (d for d in (record.lineage.deps if record.lineage else []) if d.kind == "data"), None
    )
    metrics = [
        {"type": m.name, "value": m.candidate, "name": f"{m.name} ({m.method})"}
        for m in (record.compare.metrics if record.compare else [])
        if m.slice is None and m.candidate is not None
    ]
    name = record.model or "model"
    result: dict[str, Any] = {
        "task": {"type": TASK_TYPES.get(task, "tabular-classification"), "name": task},
        "dataset": {"type": "tabular", "name": dataset.path if dataset else "evaluation data"},
        "metrics": metrics,
    }
    if dataset is not None and dataset.hash:
        result["dataset"]["revision"] = dataset.hash
    data: dict[str, Any] = {
        "tags": ["ml-ci", TASK_TYPES.get(task, "tabular-classification")],
        "model-index": [{"name": name, "results": [result]}] if metrics else [],
    }
    if version:
        data["model_version"] = version
    return data


def model_card(
    record: EvaluationRecord,
    *,
    task: str,
    version: str | None = None,
    intended_use: str | None = None,
) -> str:
    """The card's text (front matter, then the sections)."""
    meta = yaml.safe_dump(front_matter(record, task, version), sort_keys=False, allow_unicode=True)
    name = md_text(record.model or "model")
    lines = [
        "---",
        meta.rstrip(),
        "---",
        "",
        f"# {name}" + (f" {md_text(version)}" if version else ""),
        "",
    ]
    lines += ["## Model details", ""]
    details = [
        ("task", md_text(task)),
        ("commit", md_code(record.repo.head_sha or "-")),
        (
            "model artifact",
            md_code(record.artifact.path) + " " + md_code(record.artifact.hash or "-")
            if record.artifact
            else "-",
        ),
        ("ml-ci", md_text(record.tool_version)),
    ]
    lines += [f"- {key}: {value}" for key, value in details] + [""]
    lines += ["## Intended use and limitations", ""]
    lines.append(
        intended_use.strip()
        if intended_use
        else "_Not written yet: set governance.model_card to a markdown file._"
    )
    lines.append("")
    compare = record.compare
    if compare is not None:
        lines += ["## Evaluation", ""]
        level = f"{1 - (compare.alpha or 0.05):.0%}"
        base = md_code(record.repo.base_sha or "-")
        lines += [
            f"Compared with the baseline at {base} on the same {compare.n or '-'} rows "
            f"(paired; {level} intervals of candidate - baseline). Verdict: **{md_text(compare.verdict)}**.",
            "",
            "| metric | baseline | candidate | difference | interval | gated |",
            "|---|---|---|---|---|---|",
        ]
        for m in compare.metrics:
            if m.slice is not None:
                continue
            lines.append(
                f"| {md_text(m.name)} | {_number(m.baseline)} | {_number(m.candidate)} | "
                f"{_number(m.delta)} | [{_number(m.ci_low)}, {_number(m.ci_high)}] | "
                f"{'yes' if m.gated else 'no'} |"
            )
        slices = [m for m in compare.metrics if m.slice is not None]
        if slices:
            lines += [
                "",
                "### Slices",
                "",
                "| slice | metric | baseline | candidate | interval |",
                "|---|---|---|---|---|",
            ]
            for m in slices:
                lines.append(
                    f"| {md_text(m.slice)} | {md_text(m.name)} | {_number(m.baseline)} | "
                    f"{_number(m.candidate)} | [{_number(m.ci_low)}, {_number(m.ci_high)}] |"
                )
        lines += [
            "",
            "### Gates",
            "",
            "| gate | rule | margin | verdict | gate p |",
            "|---|---|---|---|---|",
        ]
        for g in compare.gates:
            where = f" [{md_text(g.slice)}]" if g.slice else ""
            p = (
                "-"
                if g.adjusted_p_value is None
                else ("< 0.001" if g.adjusted_p_value < 0.001 else f"{g.adjusted_p_value:.3f}")
            )
            lines.append(
                f"| {md_text(g.metric)}{where} | {g.rule} | {g.margin:g} | {g.verdict} | {p} |"
            )
        lines.append("")
    drift = record.drift
    if drift is not None:
        drifted = [c for c in drift.columns if c.drifted]
        lines += [
            "## Data drift",
            "",
            f"Verdict: **{md_text(drift.verdict)}**; drifted columns: "
            + (", ".join(md_code(c.column) for c in drifted) or "none")
            + ".",
            "",
        ]
    governance = record.governance
    lines += ["## Approvals", ""]
    if governance is None:
        lines += ["No approval was recorded.", ""]
    else:
        who = ", ".join(md_text(a) for a in governance.approved_by) or "nobody"
        lines += [
            f"Required: {'yes' if governance.required else 'no'}; approved by {who} for "
            f"{md_code(governance.head_sha or '-')}.",
            "",
        ]
    lineage = record.lineage
    if lineage is not None:
        lines += ["## Lineage", "", "| path | kind | hash |", "|---|---|---|"]
        for entry in [*lineage.deps, *lineage.outs]:
            lines.append(f"| {md_code(entry.path)} | {entry.kind} | {md_code(entry.hash or '-')} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
