"""The lineage picture: the DVC pipeline as a graph, changed nodes highlighted (issue 15.3).

Nodes are the stages, the tracked files (data, code, outputs) and each stage's parameters;
edges run dependency -> stage -> output, as in ``dvc dag --full --outs``. What changed comes
from :func:`ml_ci.lineage.lineage_changes` (paths) and ``lineage.params_diff`` (parameters):
the same diff the report's lineage table shows, never a second one.

Two drawings of one :class:`LineageGraph`:

* :func:`mermaid_lineage`: a ``flowchart TD`` in the shape ``dvc dag --mermaid`` prints, for
  the markdown report (GitHub renders it). Labels are untrusted: every character outside
  ``[A-Za-z0-9 _./-(),+]`` becomes a mermaid entity code (``#34;``), so a label cannot end its
  quotes, open a line of its own (``click``, ``style``, ``classDef``) or carry HTML; ids,
  shapes and classes are ours.
* :func:`svg_lineage`: inline SVG for the HTML report, a layered layout (each node one layer
  below its deepest predecessor, ordered within a layer by its predecessors' mean position).
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, field
from html import escape

from ml_ci.record import Lineage
from ml_ci.report.safe import plain

MAX_NODES = 150  # beyond this a picture stops helping (and mermaid's text limit nears)
MAX_KEYS = 6
SAFE_CHARS = frozenset(string.ascii_letters + string.digits + " _./-(),+")
ARROW = "\u2192"


@dataclass(frozen=True)
class Node:
    """One node; ``label`` and ``detail`` are untrusted text (escape where drawn)."""

    id: str
    kind: str  # "stage", "data", "code", "output" or "params"
    label: str
    detail: str = ""  # short hash(es) or parameter keys
    changed: bool = False
    status: str | None = None  # added / modified / removed for a changed path


@dataclass
class LineageGraph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> list[Node]:
        return [n for n in self.nodes if n.changed]


def _short(value: str | None) -> str:
    return value[:8] if value else "\u2013"


def lineage_graph(lineage: Lineage) -> LineageGraph | None:
    """The graph of a recorded lineage (``None`` when empty or larger than MAX_NODES)."""
    from ml_ci.lineage import lineage_changes, path_role

    changes = {c.path: c for c in lineage_changes(lineage)}
    entries = [*lineage.deps, *lineage.outs, *lineage.removed]
    if not entries:
        return None
    kinds: dict[str, set[str]] = {}
    hashes: dict[str, str | None] = {}
    for entry in entries:
        kinds.setdefault(entry.path, set()).add(entry.kind)
        hashes.setdefault(entry.path, entry.hash)
    stages = sorted({e.stage for e in entries if e.stage} | set(lineage.stage_params))
    changed_params = {(c.file, c.key) for c in lineage.params_diff}
    graph = LineageGraph()
    ids: dict[tuple[str, str], str] = {}

    def add(key: tuple[str, str], node: Node) -> None:
        ids[key] = node.id
        graph.nodes.append(node)

    for name in stages:
        add(("stage", name), Node(id=f"node{len(graph.nodes) + 1}", kind="stage", label=name))
    for path in sorted(kinds):
        change = changes.get(path)
        if change is not None:
            detail = f"{_short(change.base_hash)} {ARROW} {_short(change.head_hash)}"
            node = Node(
                id=f"node{len(graph.nodes) + 1}",
                kind=change.role,
                label=path,
                detail=detail,
                changed=True,
                status=change.status,
            )
        else:
            node = Node(
                id=f"node{len(graph.nodes) + 1}",
                kind=path_role(path, kinds[path]),
                label=path,
                detail=_short(hashes[path]),
            )
        add(("path", path), node)
    for name, files in sorted(lineage.stage_params.items()):
        for file, keys in sorted(files.items()):
            hot = [k for k in keys if (file, k) in changed_params]
            shown = hot + [k for k in keys if k not in hot]
            more = f" +{len(shown) - MAX_KEYS}" if len(shown) > MAX_KEYS else ""
            node = Node(
                id=f"node{len(graph.nodes) + 1}",
                kind="params",
                label=file,
                detail=", ".join(shown[:MAX_KEYS]) + more,
                changed=bool(hot),
                status="modified" if hot else None,
            )
            add((f"params:{name}", file), node)
            graph.edges.append((node.id, ids[("stage", name)]))
    if len(graph.nodes) > MAX_NODES:
        return None
    seen: set[tuple[str, str]] = set(graph.edges)
    for entry in entries:
        if not entry.stage:
            continue
        path, stage = ids[("path", entry.path)], ids[("stage", entry.stage)]
        edge = (stage, path) if entry.kind == "out" else (path, stage)
        if edge not in seen:
            seen.add(edge)
            graph.edges.append(edge)
    return graph


# ---------------------------------------------------------------------- mermaid
def mermaid_escape(value: object) -> str:
    """Text for inside a quoted mermaid label: letters, digits and `` _./-(),+`` as they are,
    every other character as its entity code ``#<decimal>;`` (mermaid renders it as text)."""
    return "".join(c if c in SAFE_CHARS else f"#{ord(c)};" for c in plain(value))


SHAPES = {  # (open, close) around the quoted label
    "stage": ("[", "]"),
    "data": ("[(", ")]"),
    "output": ("[(", ")]"),
    "code": ("[/", "/]"),
    "params": ("{{", "}}"),
}


def mermaid_lineage(graph: LineageGraph) -> str:
    """``flowchart TD`` with a node per stage, file and parameter set; class ``changed`` on
    what differs from the base."""
    lines = ["flowchart TD"]
    for node in graph.nodes:
        opening, closing = SHAPES[node.kind]
        text = mermaid_escape(node.label)
        if node.detail:
            text += "<br/>" + mermaid_escape(node.detail)
        if node.status:
            text += "<br/>" + mermaid_escape(f"({node.status})")
        lines.append(f'\t{node.id}{opening}"{text}"{closing}')
    for source, target in graph.edges:
        lines.append(f"\t{source}-->{target}")
    lines.append("\tclassDef changed fill:#fff8c5,stroke:#9a6700,stroke-width:3px")
    lines.append("\tclassDef stage fill:#ddf4ff,stroke:#0969da")
    stages = [n.id for n in graph.nodes if n.kind == "stage" and not n.changed]
    if stages:
        lines.append(f"\tclass {','.join(stages)} stage")
    if graph.changed:
        lines.append(f"\tclass {','.join(n.id for n in graph.changed)} changed")
    return "\n".join(lines)


# ---------------------------------------------------------------------- layout + SVG
def layers(graph: LineageGraph) -> list[list[str]]:
    """Node ids by layer: a node sits one layer below its deepest predecessor, a source one
    layer above its first successor; within a layer, ordered by the mean position of its predecessors (fewer crossings),
    then by id order. Cycles cannot occur in a DVC pipeline; an edge closing one is ignored."""
    order = {n.id: i for i, n in enumerate(graph.nodes)}
    preds: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for source, target in graph.edges:
        preds[target].append(source)
    depth: dict[str, int] = {}

    def level(node: str, visiting: frozenset[str] = frozenset()) -> int:
        if node not in depth:
            ups = [p for p in preds[node] if p not in visiting]
            depth[node] = 1 + max((level(p, visiting | {node}) for p in ups), default=-1)
        return depth[node]

    for each in graph.nodes:
        level(each.id)
    # a source (a file no stage makes, a stage's params) sits just above its first user,
    # not on the top row: short edges, fewer crossings
    succs: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for source, target in graph.edges:
        succs[source].append(target)
    for each in graph.nodes:
        if not preds[each.id] and succs[each.id]:
            depth[each.id] = max(0, min(depth[s] for s in succs[each.id]) - 1)
    rows: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    position: dict[str, float] = {}
    for index in range(len(rows)):
        members = [n.id for n in graph.nodes if depth[n.id] == index]

        def key(node: str) -> tuple[float, int]:
            placed = [position[p] for p in preds[node] if p in position]
            return (sum(placed) / len(placed) if placed else -1.0, order[node])

        rows[index] = sorted(members, key=key)
        for slot, member in enumerate(rows[index]):
            position[member] = slot - (len(rows[index]) - 1) / 2
    return rows


FILLS = {"stage": "#ddf4ff", "changed": "#fff8c5", "other": "#f6f8fa"}
STROKES = {"stage": "#0969da", "changed": "#9a6700", "other": "#8c959f"}
CHAR_W, BOX_H, GAP_X, GAP_Y = 7.2, 40, 24, 56


def _box_width(node: Node) -> float:
    longest = max(len(plain(node.label)), len(plain(node.detail)))
    return max(90.0, min(longest, 48) * CHAR_W + 20)


def _clip(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _arrowhead(x1: float, y1: float, x2: float, y2: float, size: float = 7.0) -> str:
    """A triangle pointing at (x2, y2) along the edge (drawn, not a marker: no ``url()``)."""
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bx, by = x2 - ux * size, y2 - uy * size
    px, py = -uy * size / 2, ux * size / 2
    return f"{x2:.1f},{y2:.1f} {bx + px:.1f},{by + py:.1f} {bx - px:.1f},{by - py:.1f}"


def svg_lineage(graph: LineageGraph) -> str:
    """The graph as inline SVG: boxes in layers, arrows downwards, changed boxes yellow."""
    rows = layers(graph)
    nodes = {n.id: n for n in graph.nodes}
    widths = {n.id: _box_width(n) for n in graph.nodes}
    row_widths = [sum(widths[i] for i in row) + GAP_X * (len(row) - 1) for row in rows]
    width = max(row_widths, default=0) + 2 * GAP_X
    height = len(rows) * (BOX_H + GAP_Y) - GAP_Y + 2 * 20
    centre: dict[str, tuple[float, float]] = {}
    for index, row in enumerate(rows):
        x = (width - row_widths[index]) / 2
        y = 20 + index * (BOX_H + GAP_Y)
        for member in row:
            centre[member] = (x + widths[member] / 2, y + BOX_H / 2)
            x += widths[member] + GAP_X
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="lineage" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'font-family="sans-serif" font-size="12">',
        "<title>DVC pipeline: stages, their inputs and outputs; changed against the base "
        "in yellow</title>",
    ]
    for source, target in graph.edges:
        (x1, y1), (x2, y2) = centre[source], centre[target]
        y1, y2 = y1 + BOX_H / 2, y2 - BOX_H / 2
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            'stroke="#57606a" stroke-width="1.2"/>'
        )
        parts.append(f'<polygon points="{_arrowhead(x1, y1, x2, y2)}" fill="#57606a"/>')
    for node_id, (cx, cy) in centre.items():
        node = nodes[node_id]
        style = "changed" if node.changed else "stage" if node.kind == "stage" else "other"
        w = widths[node_id]
        radius = 2 if node.kind == "stage" else 10
        status = f" ({node.status})" if node.status else ""
        tooltip = f"{node.kind} {plain(node.label)}: {plain(node.detail)}{status}"
        parts.append(
            f'<g class="node {node.kind}{" changed" if node.changed else ""}" '
            f'data-id="{node_id}"><title>{escape(tooltip)}</title>'
            f'<rect x="{cx - w / 2:.1f}" y="{cy - BOX_H / 2:.1f}" width="{w:.1f}" '
            f'height="{BOX_H}" rx="{radius}" fill="{FILLS[style]}" stroke="{STROKES[style]}" '
            f'stroke-width="{3 if node.changed else 1.2}"/>'
        )
        label = escape(_clip(plain(node.label)))
        weight = ' font-weight="600"' if node.kind == "stage" else ""
        if node.detail:
            parts.append(
                f'<text x="{cx:.1f}" y="{cy - 3:.1f}" text-anchor="middle"{weight}>{label}</text>'
                f'<text x="{cx:.1f}" y="{cy + 12:.1f}" text-anchor="middle" fill="#57606a" '
                f'font-family="monospace" font-size="11">'
                f"{escape(_clip(plain(node.detail)))}</text></g>"
            )
        else:
            parts.append(
                f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle"{weight}>{label}</text>'
                "</g>"
            )
    parts.append("</svg>")
    return "\n".join(parts)
