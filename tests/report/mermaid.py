"""Validate mermaid text with the real parser: mermaid from the npm registry (installed by
scripts/test into .work/npm) in Debian's headless Chromium, from a local file (no network).

``parse(texts, work)`` returns, per text, ``None`` when mermaid accepts it or its error
message, and the diagram type mermaid detected."""

from __future__ import annotations

import json
import os
import re
from html import unescape
from pathlib import Path

import pytest

from tests.pack.snapshot import PROJECT
from tests.report import chromium

MODULES = Path(os.environ.get("ML_CI_NPM_MODULES", PROJECT / ".work" / "npm" / "node_modules"))
BUNDLE = MODULES / "mermaid" / "dist" / "mermaid.min.js"
INSTALL = "npm install --prefix .work/npm mermaid@11.12.2 (scripts/test does)"

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="{bundle}"></script></head><body><pre id="out">pending</pre>
<script>
const texts = {texts};
mermaid.initialize({{startOnLoad: false, securityLevel: "strict"}});
(async () => {{
  const results = [];
  for (const text of texts) {{
    try {{
      const parsed = await mermaid.parse(text);
      const result = {{ok: true, type: parsed.diagramType}};
      if ({render}) {{
        const drawn = await mermaid.render("d" + results.length, text);
        result.svg = drawn.svg;
      }}
      results.push(result);
    }} catch (error) {{
      results.push({{ok: false, error: String(error && error.message || error)}});
    }}
  }}
  document.getElementById("out").textContent = JSON.stringify(results);
}})();
</script></body></html>
"""


def parse(texts: list[str], work: Path, *, render: bool = False) -> list[dict[str, object]]:
    """mermaid.parse() of each text: ``{"ok": True, "type": ...}`` or ``{"ok": False, ...}``;
    with ``render`` also ``"svg"``: what mermaid.render() draws (strict security level)."""
    if chromium.chromium() is None:
        pytest.fail("Debian's chromium is missing (scripts/test installs it)")
    if not BUNDLE.is_file():
        pytest.fail(f"mermaid is not installed: {INSTALL}")
    work.mkdir(parents=True, exist_ok=True)
    page = work / "mermaid-parse.html"
    # </script> cannot appear inside the JSON literal: escape "<" for the HTML parser
    literal = json.dumps(texts).replace("<", "\\u003c")
    page.write_text(
        PAGE.format(
            bundle=BUNDLE.resolve().as_uri(), texts=literal, render="true" if render else "false"
        ),
        "utf-8",
    )
    dom = chromium.run(
        page, work, "--allow-file-access-from-files", "--virtual-time-budget=20000", "--dump-dom"
    ).stdout
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert found and found.group(1) != "pending", f"mermaid did not finish: {dom[-500:]}"
    results = json.loads(unescape(found.group(1)))
    assert isinstance(results, list) and len(results) == len(texts)
    return results
