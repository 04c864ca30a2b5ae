"""The lineage picture (issue 15, item 3): the DVC pipeline as mermaid (checked by the real
mermaid parser) and as inline SVG, changed nodes highlighted, labels escaped."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import html5lib

from ml_ci.dvcrepo import run_dvc
from ml_ci.example import ExampleRepo
from ml_ci.record import EvaluationRecord, Lineage, LineageEntry, ParamChange
from ml_ci.report.graph import lineage_graph, mermaid_lineage
from ml_ci.report.render import render
from tests.report import mermaid
from tests.report.test_lineage_changes import lineage_of

NODE = re.compile(r'^\t(node\d+)(\[|\[\(|\[/|\{\{)"([^"]*)"(\]|\)\]|/\]|\}\})$')
EDGE = re.compile(r"^\t(node\d+)-->(node\d+)$")


SVG = "{http://www.w3.org/2000/svg}"


def lineage_svg(doc: ElementTree.Element) -> ElementTree.Element:
    return next(s for s in doc.iter(SVG + "svg") if "lineage" in (s.get("class") or ""))


def mermaid_block(markdown: str) -> str:
    found = re.search(r"```mermaid\n(flowchart TD\n.*?)\n```", markdown, re.S)
    assert found, "no lineage flowchart in the report"
    return found.group(1)


def parse_flowchart(text: str) -> tuple[dict[str, str], set[tuple[str, str]], set[str]]:
    """(id -> label, edges, ids of class changed), insisting every line is one we write."""
    labels: dict[str, str] = {}
    edges: set[tuple[str, str]] = set()
    changed: set[str] = set()
    lines = text.split("\n")
    assert lines[0] == "flowchart TD"
    for line in lines[1:]:
        if node := NODE.match(line):
            labels[node.group(1)] = node.group(3)
        elif edge := EDGE.match(line):
            edges.add((edge.group(1), edge.group(2)))
        elif line.startswith("\tclass ") and line.endswith(" changed"):
            changed |= set(line.removeprefix("\tclass ").removesuffix(" changed").split(","))
        else:
            assert re.fullmatch(r"\tclassDef \w+ [\w:#,.-]+|\tclass [\w,]+ stage", line), line
    return labels, edges, changed


def test_example_graph_marks_raw_csv_changed(example_repo: ExampleRepo, tmp_path: Path) -> None:
    lineage = lineage_of(example_repo)
    record = EvaluationRecord(model="m", lineage=lineage)
    text = mermaid_block(render(record))
    assert mermaid.parse([text], tmp_path)[0] == {"ok": True, "type": "flowchart-v2"}

    labels, edges, changed = parse_flowchart(text)
    by_name = {label.split("<br/>")[0]: node for node, label in labels.items()}
    raw = by_name["data/raw.csv"]
    assert raw in changed
    raw_entry = next(e for e in lineage.deps if e.path == "data/raw.csv")
    assert raw_entry.base_hash and raw_entry.hash
    assert f"{raw_entry.base_hash[:8]} #8594; {raw_entry.hash[:8]}" in labels[raw]
    # what did not change is not highlighted: the code of every stage is the base's
    assert by_name["src/train.py"] not in changed and by_name["train"] not in changed

    # the stage-to-stage edges are the ones `dvc dag` prints (a stage feeds another when one
    # of its outputs is the other's dependency)
    stages = {"prepare", "train", "predict"}
    ours = {
        (labels[a], labels[c])
        for a, b in edges
        for b2, c in edges
        if b == b2 and labels[a] in stages and labels[c] in stages
    }
    dag = run_dvc(["dag", "--mermaid"], example_repo.root).stdout
    names = dict(re.findall(r'(node\d+)\["([^"]+)"\]', dag))
    theirs = {
        (names[a], names[b])
        for a, b in re.findall(r"(node\d+)-->(node\d+)", dag)
        if names[a] in stages and names[b] in stages
    }
    assert ours == theirs and theirs

    # the HTML report draws the same nodes, the same ones highlighted
    html = html5lib.parse(render(record, "html"), namespaceHTMLElements=False)
    svg = lineage_svg(html)
    groups = [g for g in svg.iter(SVG + "g") if "node" in (g.get("class") or "").split()]
    drawn = {g.get("data-id"): "changed" in (g.get("class") or "").split() for g in groups}
    assert drawn == {node: node in changed for node in labels}


def test_changed_params_are_highlighted_on_their_stage(tmp_path: Path) -> None:
    lineage = Lineage(
        deps=[LineageEntry(path="d.csv", hash="a" * 32, stage="fit", changed=False)],
        outs=[LineageEntry(path="m.pkl", hash="b" * 32, stage="fit", kind="out", changed=False)],
        params_diff=[ParamChange(file="params.yaml", key="fit.C", base=1.0, head=0.5)],
        stage_params={"fit": {"params.yaml": ["fit.C", "seed"]}},
        base_sha="c" * 40,
    )
    graph = lineage_graph(lineage)
    assert graph is not None
    (hot,) = graph.changed
    assert (hot.kind, hot.label, hot.detail) == ("params", "params.yaml", "fit.C, seed")
    stage = next(n for n in graph.nodes if n.kind == "stage")
    assert (hot.id, stage.id) in graph.edges
    assert mermaid.parse([mermaid_lineage(graph)], tmp_path)[0]["ok"] is True


HOSTILE = [
    'evil"]\n\tclick node1 href "javascript:alert(1)"',
    "x<img src=x onerror=alert(1)>",
    "%%{init: {'securityLevel': 'loose'}}%%",
    "a;b]]-->node1\nstyle node1 fill:#f00",
    "#quot; & `code` {{ }} <br/>",
]


def test_untrusted_labels_stay_labels(tmp_path: Path) -> None:
    entries = [
        LineageEntry(path=name, hash=f"{i:032x}", stage=HOSTILE[-1 - i], changed=i % 2 == 0)
        for i, name in enumerate(HOSTILE)
    ]
    lineage = Lineage(deps=entries, base_sha="c" * 40)
    graph = lineage_graph(lineage)
    assert graph is not None
    text = mermaid_lineage(graph)
    labels, edges, changed = parse_flowchart(text)  # every line is one of ours
    assert len(labels) == len(graph.nodes) and len(edges) == len(HOSTILE)
    assert changed == {n.id for n in graph.changed} and len(changed) == 3
    (result,) = mermaid.parse([text], tmp_path, render=True)
    assert (result["ok"], result["type"]) == (True, "flowchart-v2"), result
    # as mermaid draws it: each label is text, nothing active
    drawn = html5lib.parse(str(result["svg"]), namespaceHTMLElements=False)
    tags = {e.tag.rsplit("}", 1)[-1] for e in drawn.iter()}
    assert not tags & {"img", "script", "a", "iframe"}, tags
    assert not [e for e in drawn.iter() if any(k.startswith("on") for k in e.attrib)]
    shown = " ".join(" ".join(e.itertext()) for e in drawn.iter() if e.tag.endswith("span"))
    assert "x<img src=x onerror=alert(1)>" in shown and 'evil"]' in shown

    record = EvaluationRecord(model="m", lineage=lineage)
    doc = html5lib.parse(render(record, "html"), namespaceHTMLElements=False)
    svg = lineage_svg(doc)
    tags = {e.tag.removeprefix(SVG) for e in svg.iter()}
    assert tags <= {"svg", "title", "polygon", "line", "g", "rect", "text"}, tags
    texts = {"".join(t.itertext()) for t in svg.iter(SVG + "text")}
    assert "x<img src=x onerror=alert(1)>" in texts  # shown as text, not markup
