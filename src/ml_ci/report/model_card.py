"""``MODEL_CARD.md`` from the evaluation record: Hugging Face front matter + what it lacks.

The front matter is the Hub's model-card metadata (``model-index``: task, dataset, metrics and
values), so hubs and tools read the card; ``huggingface_hub``'s ``ModelCard`` parses it back.
The body adds what that format has no field for and Google's Model Card Toolkit does:
confidence intervals, the baseline it was compared with and the gates, slices, drift,
approvals, lineage hashes, and the intended use and limitations the team writes itself
(``governance.model_card``: a markdown file of theirs, its headings nested under the card's
own, :func:`team_markdown`, so it cannot add an "Approvals" section or front matter).

Every value comes from the record; record strings are escaped for markdown (a record can come
from a pull request), the front matter is written by a YAML dumper. ``ml-ci release`` builds
the card from the record it recomputed (never the pull request's claim), reads the written
section at the merged commit (:func:`intended_use_at`), and attaches it as ``MODEL_CARD.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ml_ci.errors import ConfigError
from ml_ci.record import EvaluationRecord
from ml_ci.report.safe import md_code, md_text, plain

CARD_ASSET = "MODEL_CARD.md"  # the release asset's name (the Hub's and Model Card Toolkit's)

TASK_TYPES = {
    "binary": "tabular-classification",
    "multiclass": "tabular-classification",
    "regression": "tabular-regression",
}


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.4g}"


def _p(value: float | None) -> str:
    return "-" if value is None else ("< 0.001" if value < 0.001 else f"{value:.3f}")


def infer_task(record: EvaluationRecord) -> str:
    """The task whose metric set the record's compare section computed (the record does not
    name its task; compare computes every metric of it): regression, multiclass or binary."""
    from ml_ci.config import TASK_METRICS

    names = {m.name for m in (record.compare.metrics if record.compare else [])}
    for task in ("regression", "multiclass"):
        own = set(TASK_METRICS[task]) - set(TASK_METRICS["binary"])
        if names & own:
            return task
    return "binary"


def intended_use_at(root: Path, commit: str, path: str | None) -> str | None:
    """The ``governance.model_card`` file as committed at ``commit`` (None when the key is
    not set); a ``ConfigError`` naming the key when the file is not there or not UTF-8."""
    from ml_ci.gitutil import git, show_file

    if not path:
        return None
    spec = f"{commit}:{path.removeprefix('./')}"
    kind = git(["cat-file", "-t", spec], root, check=False)
    blob = show_file(root, commit, path.removeprefix("./")) if kind == "blob" else None
    if blob is None:
        what = "is a folder" if kind == "tree" else "does not exist"
        raise ConfigError(
            f"governance.model_card: {path} {what} at {commit[:12]}; commit that markdown "
            "file (intended use and limitations) or remove the key"
        )
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(
            f"governance.model_card: {path} at {commit[:12]} is not UTF-8 text; save it as UTF-8"
        ) from None


def front_matter(record: EvaluationRecord, task: str, version: str | None) -> dict[str, Any]:
    """The Hub's metadata: ``model-index`` with the candidate's value of every overall metric."""
    dataset = next(
        (d for d in (record.lineage.deps if record.lineage else []) if d.kind == "data"), None
    )
    metrics = [
        {"type": plain(m.name), "value": m.candidate, "name": plain(f"{m.name} ({m.method})")}
        for m in (record.compare.metrics if record.compare else [])
        if m.slice is None and m.candidate is not None
    ]
    # one line each (a record from a pull request could carry newlines into YAML strings)
    name = plain(record.model) or "model"
    result: dict[str, Any] = {
        "task": {"type": TASK_TYPES.get(task, "tabular-classification"), "name": task},
        "dataset": {
            "type": "tabular",
            "name": plain(dataset.path) if dataset else "evaluation data",
        },
        "metrics": metrics,
    }
    if dataset is not None and dataset.hash:
        result["dataset"]["revision"] = plain(dataset.hash)
    data: dict[str, Any] = {
        "tags": ["ml-ci", TASK_TYPES.get(task, "tabular-classification")],
        "model-index": [{"name": name, "results": [result]}] if metrics else [],
    }
    if version:
        data["model_version"] = plain(version)
    return data


def model_card(
    record: EvaluationRecord,
    *,
    task: str,
    version: str | None = None,
    intended_use: str | None = None,
    baseline: str | None = None,
    note: str | None = None,
    placeholder: str | None = None,
) -> str:
    """The card's text (front matter, then the sections).

    ``intended_use``: the team's own markdown (read at the merged commit, whose change to it
    needed an approval), nested under the card's heading by :func:`team_markdown`;
    ``baseline``: the commit whose model was the baseline (default: the record's base);
    ``note``: ml-ci's own markdown line under the title (where the values come from; not
    escaped, so never record text); ``placeholder``: what
    the intended-use section says when there is no text."""
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
    if note:
        lines += [f"_{note}_", ""]  # ml-ci's own words (see the docstring)
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
    team, dropped = team_markdown(intended_use or "")
    if dropped:  # ml-ci's words: the card has one front matter, its own
        lines += ["_A front-matter block at the top of the team's file was left out._", ""]
    lines.append(
        team
        if team.strip()
        else (
            f"_{md_text(placeholder)}_"
            if placeholder
            else "_Not written yet: set governance.model_card to a markdown file._"
        )
    )
    lines.append("")
    compare = record.compare
    if compare is not None:
        lines += ["## Evaluation", ""]
        level = f"{1 - (compare.alpha or 0.05):.0%}"
        base = md_code(baseline or record.repo.base_sha or "-")
        lines += [
            f"Compared with the baseline model at {base} on the same {compare.n or '-'} rows "
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
            where += f" by {md_text(g.groups)}" if g.groups else ""
            lines.append(
                f"| {md_text(g.metric)}{where} | {g.rule} | {g.margin:g} | {g.verdict} | {p} |"
            )
        lines.append("")
        lines += fairness_lines(record)
    drift = record.drift
    if drift is not None:
        drifted = [c for c in drift.columns if c.drifted]
        lines += [
            "## Data drift",
            "",
            f"Verdict: **{md_text(drift.verdict)}**; {len(drifted)} of {len(drift.columns)} "
            "columns drifted"
            + (": " + ", ".join(md_code(c.column) for c in drifted) if drifted else "")
            + ".",
            "",
        ]
        if drifted:
            lines += ["| column | method | value | threshold | adj. p |", "|---|---|---|---|---|"]
            for c in drifted:
                lines.append(
                    f"| {md_code(c.column)} | {md_text(c.method)} | {_number(c.value)} | "
                    f"{_number(c.threshold)} | {_p(c.adjusted_p_value)} |"
                )
            lines.append("")
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
        if governance.decisions:
            lines += ["| who | decision | commit | via | counted |", "|---|---|---|---|---|"]
            for d in governance.decisions:
                lines.append(
                    f"| {md_text(d.actor)} | {d.action} | {md_code(d.sha[:12] or '-')} | "
                    f"{d.via} | {'yes' if d.counted else 'no'} |"
                )
            lines.append("")
    lines += environment_lines(record)
    lineage = record.lineage
    if lineage is not None:
        lines += ["## Lineage", ""]
        if lineage.base_sha:
            lines += [
                f"DVC hashes at {md_code(record.repo.evaluated_sha or record.repo.head_sha or '-')}; "
                f"changed: against {md_code(lineage.base_sha)}.",
                "",
            ]
        lines += ["| path | kind | stage | hash | changed |", "|---|---|---|---|---|"]
        for entry in [*lineage.deps, *lineage.outs]:
            lines.append(
                f"| {md_code(entry.path)} | {entry.kind} | {md_text(entry.stage or '-')} | "
                f"{md_code(entry.hash or '-')} | {'-' if entry.changed is None else ('yes' if entry.changed else 'no')} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- the team's intended-use markdown, nested under ml-ci's own heading --------------------
# Its headings go under "## Intended use and limitations", so none of them can be one of the
# card's own sections ("## Approvals", "## Evaluation"), and a front-matter block cannot
# become a second one: CommonMark line structure, enough to find block starts (the tests
# check the result with markdown-it-py).
TEAM_TOP_LEVEL = 3  # the team's shallowest heading becomes ###
_CONTAINER = re.compile(r"^(?:[ ]{0,3}(?:>|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t]))[ \t]?)*")
_ATX = re.compile(r"^([ ]{0,3})(#{1,6})(?=[ \t]|$)")
_UNDERLINE = re.compile(r"^[ ]{0,3}(=+|-+)[ \t]*$")
_BREAK = re.compile(r"^[ ]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
_HTML_HEADING = re.compile(r"<(/?h[1-6])\b", re.IGNORECASE)
# HTML blocks that run until a closer, not a blank line (CommonMark types 1-5): unclosed,
# they would swallow the rest of the card
_HTML_RUNS = (
    (re.compile(r"^[ ]{0,3}<(script|pre|style|textarea)(?=[\s>]|$)", re.IGNORECASE), None),
    (re.compile(r"^[ ]{0,3}<!--"), "-->"),
    (re.compile(r"^[ ]{0,3}<\?"), "?>"),
    (re.compile(r"^[ ]{0,3}<!\[CDATA\["), "]]>"),
    (re.compile(r"^[ ]{0,3}<![A-Za-z]"), ">"),
)


def _split(line: str) -> tuple[str, str]:
    """(container prefix: quote and list markers, the rest)."""
    cut = match.end() if (match := _CONTAINER.match(line)) else 0
    return line[:cut], line[cut:]


def _fence_step(body: str, fence: tuple[str, int] | None) -> tuple[bool, tuple[str, int] | None]:
    """(is ``body`` in or at a code fence, the fence open after it)."""
    opened = _FENCE.match(body)
    if fence is not None:
        closes = (
            opened is not None
            and opened.group(1)[0] == fence[0]
            and len(opened.group(1)) >= fence[1]
            and not body[opened.end() :].strip()
        )
        return True, (None if closes else fence)
    if opened:
        return True, (opened.group(1)[0], len(opened.group(1)))
    return False, None


def _front_matter_end(lines: list[str]) -> int | None:
    """Index of the line closing a YAML front-matter block the text starts with."""
    if not lines or lines[0].strip() != "---":
        return None
    return next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)


def _unclosed_html(body: str, rest: str) -> bool:
    for start, closer in _HTML_RUNS:
        match = start.match(body)
        if match:
            end = f"</{match.group(1).lower()}>" if closer is None else closer
            return end not in (body[match.end() :] + "\n" + rest).lower()
    return False


def team_markdown(text: str) -> tuple[str, bool]:
    """(the team's markdown nested under the card's heading, whether a front-matter block at
    its top was left out). Headings shift down so the shallowest is ``###`` (capped at
    ``######``), setext headings become ATX ones (an underline that cannot be one becomes a
    break of its own), ``<h1>``-``<h6>`` tags are escaped, and an unclosed code fence or
    comment-like HTML block is closed or escaped so ml-ci's sections after it stay sections.
    Code in fences is left as written."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff").split("\n")
    end = _front_matter_end(lines)
    dropped = end is not None
    if end is not None:
        lines = lines[end + 1 :]
    # pass 1: where the headings are (outside fences), for the shift
    kinds: dict[int, tuple[str, int]] = {}  # line -> ("atx" | "setext", level)
    fence: tuple[str, int] | None = None
    for i, line in enumerate(lines):
        _, body = _split(line)
        code, fence = _fence_step(body, fence)
        if code:
            continue
        if _ATX.match(body):
            kinds[i] = ("atx", len(body.lstrip(" ")) - len(body.lstrip(" ").lstrip("#")))
            continue
        under = _UNDERLINE.match(body)
        previous = lines[i - 1] if i else ""
        if under and previous.strip() and (i - 1) not in kinds:
            kinds[i] = ("setext", 1 if under.group(1)[0] == "=" else 2)
    shift = max(0, TEAM_TOP_LEVEL - min((level for _, level in kinds.values()), default=3))
    out: list[str] = []
    fence = None
    for i, line in enumerate(lines):
        prefix, body = _split(line)
        code, fence = _fence_step(body, fence)
        if code:
            out.append(line)
            continue
        kind = kinds.get(i)
        if kind is not None and kind[0] == "atx":
            atx = _ATX.match(body)
            assert atx is not None
            hashes = "#" * min(6, kind[1] + shift)
            out.append(prefix + atx.group(1) + hashes + body[atx.end() :])
            continue
        if kind is not None:  # a setext underline: the line above is the heading's text
            above_prefix, above_body = _split(out[-1] if out else "")
            single = i < 2 or not lines[i - 2].strip()
            if (
                not prefix
                and not above_prefix
                and single
                and not (
                    _BREAK.match(above_body)
                    or above_body.startswith(("<", "    ", "\t"))
                    or _FENCE.match(above_body)
                )
            ):
                out[-1] = "#" * min(6, kind[1] + shift) + " " + above_body.strip()
                continue
            # otherwise keep the text a paragraph: a blank (container) line before the line
            out.append(prefix.rstrip() if prefix.strip() else "")
            out.append(line)
            continue
        rest = "\n".join(lines[i + 1 :]).lower()
        if _unclosed_html(body, rest):
            body = body.replace("<", "&lt;", 1)
        out.append(prefix + _HTML_HEADING.sub(r"&lt;\1", body))
    if fence is not None:  # an unclosed fence would make the rest of the card code
        out.append(fence[0] * fence[1])
    return "\n".join(out).strip("\n"), dropped


def fairness_lines(record: EvaluationRecord) -> list[str]:
    """The card's fairness section: per grouping, each gate's gap for both models, the
    change, its one-sided bounds and verdict, then every group's rates for both models."""
    from ml_ci.report.view import fairness_views

    compare = record.compare
    views = fairness_views(compare)
    if compare is None or not views:
        return []
    level = f"{1 - (compare.alpha or 0.05):.0%}"
    lines = [
        "## Fairness by group",
        "",
        "Each gap is max minus min over the groups with at least `fairness.min_size` rows; "
        f"the bounds are one-sided simultaneous {level} paired bootstrap bounds of the change "
        "(candidate gap - baseline gap; absolute rule: of the candidate's gap).",
        "",
    ]
    for view in views:
        lines += [
            f"### By {md_text(view.groups)}",
            "",
            "| gap | rule | baseline gap | candidate gap | change | bounds | adj. p | verdict |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in view.gates:
            rule = (
                f"absolute (<= {f.max:g})" if f.rule == "absolute" else f"{f.rule} ({f.margin:g})"
            )
            bounds = f"[{_signed(f.lower)}, {_signed(f.upper)}]"
            lines.append(
                f"| {md_text(f.metric)} | {rule} | {_number(f.baseline)} | {_number(f.candidate)} "
                f"| {_signed(f.delta)} | {bounds} | {_p(f.adjusted_p_value)} | {f.verdict} |"
            )
        header = "".join(
            f" {md_text(r)} baseline | {md_text(r)} candidate |" for r in view.rate_names
        )
        lines += [
            "",
            f"| group | n | gated |{header}",
            "|---|---|---|" + "---|---|" * len(view.rate_names),
        ]
        for row in view.rows:
            rates = "".join(f" {_number(b)} | {_number(c)} |" for _, b, c in row.rates)
            gated = "yes" if row.gated else "no (below min_size)"
            lines.append(f"| {md_text(row.group)} | {row.n} | {gated} |{rates}")
        lines.append("")
    return lines


ENVIRONMENT_KEYS = ("python", "platform", "lockfile", "packages", "image", "dvc", "ml_ci")


def environment_lines(record: EvaluationRecord) -> list[str]:
    """The environment the values were computed in (``record.environment``): a release record's
    own scoring job, with the pull request's claim beside it, never in its place."""
    env = record.environment
    if env is None:
        return []
    who = "the release's own scoring job" if env.role == "release" else "the pull request's run"
    lines = ["## Environment", "", f"Computed in {who}.", ""]
    claimed = env.claimed if env.role == "release" else None
    if claimed is not None:
        lines += ["| key | value | claimed by the pull request |", "|---|---|---|"]
    else:
        lines += ["| key | value |", "|---|---|"]
    for key in ENVIRONMENT_KEYS:
        value = md_code(getattr(env, key) or "-")
        if claimed is not None:
            lines.append(f"| {key} | {value} | {md_code(getattr(claimed, key) or '-')} |")
        else:
            lines.append(f"| {key} | {value} |")
    if env.required:
        lines += ["", f"Checked against the merged commit: {', '.join(env.required)}."]
    return [*lines, ""]
