"""Render the report with jinja2: markdown (the PR comment), HTML (the artifact), summary.

Templates live in ``templates/report/``. ``report.template_dir`` in ml-ci.yaml puts a user
folder in front (a ``ChoiceLoader``): a file there with the same name replaces the bundled
one, and the bundled ones stay reachable as ``ml-ci/<name>`` so an override can
``{% extends "ml-ci/report.md.j2" %}`` and replace single blocks.

Size: a comment is at most 65,536 characters and a job summary at most 1 MiB. Rendering
walks down :data:`LADDER` (collapse ``<details>`` lists -- the model card among them -- then
fewer rows per table with a note and a link to the full report, then no chart) until the text
fits.

The model card (:mod:`ml_ci.report.model_card`) is shown as its markdown source in a
``<details>`` block (a code block: its front matter stays readable, and nothing in it renders
as markdown). Without ``card=`` it is the card of this record, without the team's intended-use
section, which the release adds from the merged commit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ml_ci.errors import ConfigError
from ml_ci.record import EvaluationRecord
from ml_ci.report.canary import CanaryView, mermaid_gate, svg_gate
from ml_ci.report.charts import mermaid_deltas, svg_curves, svg_intervals
from ml_ci.report.environment import environment_view
from ml_ci.report.graph import lineage_graph, mermaid_lineage, svg_lineage
from ml_ci.report.safe import md_code, md_link, md_text, safe_url
from ml_ci.report.view import build_view

if TYPE_CHECKING:
    import jinja2

Format = Literal["markdown", "html", "summary"]
TEMPLATE_NAMES: dict[str, str] = {
    "markdown": "report.md.j2",
    "html": "report.html.j2",
    "summary": "summary.md.j2",
}
COMMENT_LIMIT = 65_536
SUMMARY_LIMIT = 1024 * 1024
# room kept for the sticky comment's hidden marker and a trailing note
MARKER_ROOM = 200


@dataclass(frozen=True)
class Budget:
    """How much a rendering may show. The templates read it as ``budget``."""

    details: bool = True
    max_rows: int | None = None
    chart: bool = True


LADDER: tuple[Budget, ...] = (
    Budget(),
    Budget(details=False),
    Budget(details=False, max_rows=200),
    Budget(details=False, max_rows=50),
    Budget(details=False, max_rows=10),
    Budget(details=False, max_rows=3, chart=False),
)


# ---------------------------------------------------------------------- filters
MISSING = "\u2013"  # en dash: a missing value
MINUS = "\u2212"  # a real minus sign lines up with "+" in tables


def _number(value: float, sign: str = "") -> str:
    """Four decimals below 1 (metric scores line up: 0.9895, 0.0003), else 4 significant
    digits (13.5 ms, 1234)."""
    if abs(value) < 1:
        return f"{value:{sign}.4f}"
    return f"{value:{sign}.4g}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_num(value: Any) -> str:
    """A metric value; an en dash when missing."""
    if _missing(value):
        return MISSING
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _number(float(value))


def fmt_delta(value: Any) -> str:
    """A signed difference with a real minus sign (+0.0123 / \u22120.0040)."""
    if _missing(value):
        return MISSING
    return _number(float(value), "+").replace("-", MINUS)


def fmt_p(value: Any) -> str:
    """p-values: three decimals, ``< 0.001`` below that."""
    if value is None:
        return MISSING
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_pct(value: Any) -> str:
    return MISSING if value is None else f"{float(value):.0%}"


def short(value: Any) -> str:
    """The first 8 characters of a hash or SHA (an en dash when missing)."""
    return MISSING if not value else str(value)[:8]


md_cell = md_text  # the name older overrides and tests use


def verdict_icon(verdict: str) -> str:
    return {"pass": "✅", "fail": "❌", "inconclusive": "⚠️", "warn": "⚠️"}.get(verdict, "•")


# ---------------------------------------------------------------------- environment
def bundled_dir() -> Path:
    from ml_ci.resources import templates_dir

    return templates_dir() / "report"


def environment(template_dir: Path | None = None, *, html: bool = False) -> jinja2.Environment:
    """The jinja2 environment: user folder first, then the bundled templates."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not template_dir.is_dir():
            raise ConfigError(
                f"report.template_dir: {template_dir} is not a folder; create it or remove the key"
            )
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    bundled = jinja2.FileSystemLoader(str(bundled_dir()))
    loaders += [bundled, jinja2.PrefixLoader({"ml-ci": bundled})]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=html,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        num=fmt_num,
        delta=fmt_delta,
        p=fmt_p,
        pct=fmt_pct,
        short=short,
        md=md_text,
        code=md_code,
        url=safe_url,
        icon=verdict_icon,
    )
    env.globals["link"] = md_link
    return env


def _tidy(text: str) -> str:
    """Collapse the blank-line runs that template blocks leave behind."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.strip() and lines and not lines[-1].strip():
            continue
        lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


def render(
    record: EvaluationRecord,
    fmt: Format = "markdown",
    *,
    title: str | None = None,
    template_dir: Path | None = None,
    limit: int | None = None,
    canary: CanaryView | None = None,
    card: str | None = None,
) -> str:
    """The report as text. ``limit`` (characters) defaults to what GitHub accepts:
    the comment size for markdown, 1 MiB for the summary, none for HTML. ``canary``: a
    version's canary result (:func:`ml_ci.report.canary.canary_view`) adds its section.
    ``card``: the model card to show (default: a preview built from the record)."""
    import jinja2

    if limit is None:
        limit = {"markdown": COMMENT_LIMIT - MARKER_ROOM, "summary": SUMMARY_LIMIT, "html": 0}[fmt]
    env = environment(template_dir, html=fmt == "html")
    try:
        template = env.get_template(TEMPLATE_NAMES[fmt])
    except jinja2.TemplateError as error:
        raise ConfigError(f"report template {TEMPLATE_NAMES[fmt]}: {error}") from None
    view = build_view(record, title)
    graph = lineage_graph(record.lineage) if record.lineage is not None else None
    context: dict[str, Any] = {
        "view": view,
        "record": record,
        "mermaid": mermaid_deltas(view.gates),  # one unit per chart: latency (ms) stays out
        "svg": svg_intervals(view.gates + view.slices_flagged[:30]) if fmt == "html" else None,
        "curves_svg": svg_curves(record.compare.curves)
        if fmt == "html" and record.compare
        else None,
        "show_governance": record.governance is not None or record.compare is not None,
        "ci_level": _ci_level(record),
        "lineage_graph": graph,
        "lineage_mermaid": mermaid_lineage(graph) if graph is not None else None,
        "lineage_svg": svg_lineage(graph) if graph is not None and fmt == "html" else None,
        "environment": environment_view(record),
        "canary": canary,
        "model_card": card if card is not None or fmt == "summary" else card_preview(record),
        "canary_charts": [
            (track, svg_gate(track) if fmt == "html" else mermaid_gate(track))
            for track in (canary.gates if canary is not None else [])
        ],
    }
    context["model_card_fence"] = fence_for(context["model_card"] or "")
    text = ""
    for budget in LADDER if limit else LADDER[:1]:
        try:
            rendered = template.render(budget=budget, **context)
        except jinja2.TemplateError as error:
            raise ConfigError(f"report template {TEMPLATE_NAMES[fmt]}: {error}") from None
        text = rendered if fmt == "html" else _tidy(rendered)
        if not limit or len(encoded(text, fmt)) <= limit:
            return text
    # an override that ignores the budget: cut, but never past the limit
    note = "\n\n_(report cut to fit GitHub's size limit; see the full report artifact)_\n"
    return text[: limit - len(note) - 8] + note


CARD_PLACEHOLDER = (
    "The team's intended use and limitations (governance.model_card) are added from the "
    "merged commit when ml-ci release builds the card."
)


def card_preview(record: EvaluationRecord) -> str | None:
    """The model card of ``record`` as the report shows it (None without a comparison)."""
    from ml_ci.report.model_card import infer_task, model_card

    if record.compare is None:
        return None
    version = record.release.version if record.release is not None else None
    return model_card(
        record, task=infer_task(record), version=version, placeholder=CARD_PLACEHOLDER
    )


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run in ``text`` (CommonMark: the block
    ends only at a fence at least as long), so the text cannot close it."""
    import re

    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _ci_level(record: EvaluationRecord) -> str:
    """``95% CI`` from the compare section's alpha (two-sided intervals), else ``CI``."""
    alpha = record.compare.alpha if record.compare is not None else None
    return f"{1 - alpha:.0%} CI" if alpha else "CI"


def encoded(text: str, fmt: Format) -> str | bytes:
    """What the limit counts: characters for a comment, bytes for the summary file."""
    return text.encode("utf-8") if fmt == "summary" else text
