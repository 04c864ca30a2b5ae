"""``ml-ci compare``: candidate vs baseline predictions through statistical gates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ml_ci.commands._common import config_option, optional_config
from ml_ci.console import Console, json_option

if TYPE_CHECKING:
    from ml_ci.record.compare import CompareSection


@click.command("compare")
@click.option(
    "--baseline",
    "baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("baseline-predictions.csv"),
    show_default=True,
    help="Baseline predictions table (CSV or Parquet), e.g. from `ml-ci baseline`.",
)
@click.option(
    "--candidate",
    "candidate",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Candidate predictions table (default: predictions.path in ml-ci.yaml).",
)
@config_option
@click.option(
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("ml-ci-record.json"),
    show_default=True,
    help="Evaluation record to write the `compare` section into.",
)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Bootstrap seed.")
@click.option(
    "--timing",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Timed predict runs for latency gates (default: <baseline>.timing.json if present).",
)
@json_option
def command(
    baseline: Path,
    candidate: Path | None,
    config_path: Path | None,
    output: Path,
    seed: int | None,
    timing: Path | None,
    json_mode: bool,
) -> None:
    """Compare candidate with baseline on the same rows; exit 1 when a gate fails.

    Every metric gets a paired interval; a gate passes only when its one-sided confidence
    bound clears the margin (Holm-corrected across gates and slices by default).
    """
    from ml_ci.compare.engine import CompareSettings, execute
    from ml_ci.errors import GateFailed
    from ml_ci.record import load_record, save_record

    console = Console(json_mode=json_mode)
    config, _found = optional_config(config_path, console.progress)
    from ml_ci.fingerprint import check_settings

    check_settings(config)  # before the computation: a bad $image_env loses no result
    settings = CompareSettings(
        baseline=baseline,
        candidate=candidate or Path(config.predictions.path),
        config=config,
        seed=seed,
        timing=timing,
    )
    section = execute(settings, progress=console.progress)
    record = load_record(output, missing_ok=True)
    record.compare = section
    if record.environment is None:  # no ml-ci repro before: the evaluation's environment
        from ml_ci.errors import InputError
        from ml_ci.fingerprint import record_environment
        from ml_ci.gitutil import repo_root

        try:
            root = repo_root(Path.cwd())
        except InputError:  # predictions compared outside a clone: no lock file to read
            root = Path.cwd()
        record.environment = record_environment(root, config, record.repo.base_sha)
    save_record(output, record)
    console.result(describe(section, console), section.model_dump(mode="json"))
    for metric in section.metrics:
        if metric.worse:
            console.warn(
                f"{metric.name} is significantly worse ({_num(metric.baseline)} -> "
                f"{_num(metric.candidate)}, {alpha_label(section)} interval "
                f"[{_num(metric.ci_low)}, {_num(metric.ci_high)}], adjusted p "
                f"{_p(metric.adjusted_p_value)}); it has no gate, so the exit code is unchanged"
            )
    policy = config.compare.inconclusive
    if section.verdict == "fail" or (section.verdict == "inconclusive" and policy == "fail"):
        raise GateFailed(f"compare: {summary(section)} (record: {output})")
    if section.verdict == "inconclusive" and policy == "warn":
        console.warn(f"compare: {summary(section)}; compare.inconclusive is 'warn'")


def summary(section: CompareSection) -> str:
    """'verdict pass (3 pass; 2 not counted: slice below min_size or metric undefined)'."""
    counts: dict[str, int] = {}
    skipped = 0
    for gate in section.gates:
        if gate.undefined or "below min_size" in (gate.reason or ""):
            skipped += 1  # reported, but they never decide the verdict
            continue
        counts[gate.verdict] = counts.get(gate.verdict, 0) + 1
    parts = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    if skipped:
        parts += f"; {skipped} not counted: slice below min_size or metric undefined"
    if section.unchanged:
        parts += "; predictions unchanged"
    return f"verdict {section.verdict} ({parts or 'no gates'})"


def _num(value: Any, digits: int = 4) -> str:
    return (
        "-" if value is None else f"{value:.{digits}g}" if isinstance(value, float) else str(value)
    )


def alpha_label(section: CompareSection) -> str:
    alpha = 0.05 if section.alpha is None else section.alpha
    return f"{100 * (1 - alpha):g}%"


def _p(value: float | None) -> str:
    """A p-value for people: '< 0.001' rather than 0 or 1e-12."""
    if value is None:
        return "-"
    return "< 0.001" if value < 0.001 else f"{value:.3g}"


LEGEND = (
    "legend: p (difference) = two-sided test of no difference between the models; "
    "gate p = one-sided test against the gate's margin (Holm-adjusted when corrected); "
    "! = not gated and significantly worse"
)


def describe(section: CompareSection, console: Console) -> str:
    """The human-readable table of metrics and gates."""
    ci_head = f"{alpha_label(section)} CI"
    lines = [
        f"{'metric':<28} {'baseline':>9} {'candidate':>9} {'delta':>9}  {ci_head:<21} "
        "p (difference)  gated"
    ]
    for m in section.metrics:
        name = m.name if m.slice is None else f"{m.name} [{m.slice}]"
        ci = "-" if m.ci_low is None else f"[{_num(m.ci_low)}, {_num(m.ci_high)}]"
        flag = "yes" if m.gated else "no !" if m.worse else "no"
        lines.append(
            f"{name:<28} {_num(m.baseline):>9} {_num(m.candidate):>9} {_num(m.delta):>9}  "
            f"{ci:<21} {_p(m.p_value):<15} {flag}"
        )
    lines.append("")
    for g in section.gates:
        where = "" if g.slice is None else f" [{g.slice}]"
        where += f" by {g.groups}" if g.groups else ""
        ok = {"pass": True, "fail": False}.get(g.verdict)
        gate_p = _p(g.p_value)
        if g.adjusted_p_value is not None and g.adjusted_p_value != g.p_value:
            gate_p += f" (adjusted {_p(g.adjusted_p_value)})"
        lines.append(
            f"{console.verdict(g.verdict.upper(), ok)} {g.metric}{where} {g.rule}: "
            f"gate p {gate_p}; {g.reason}"
        )
    lines.append(LEGEND)
    ok = {"pass": True, "fail": False}.get(section.verdict)
    lines.append(f"{console.verdict(summary(section), ok)}")
    return "\n".join(lines)
