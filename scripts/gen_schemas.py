"""Regenerate the JSON Schemas shipped in the package (src/ml_ci/schemas/).

Run after changing a config or record model:  python scripts/gen_schemas.py
``--check`` exits 1 (naming the stale files) instead of writing; a test runs it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ml_ci.config import config_json_schema
from ml_ci.record import record_json_schema

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "src" / "ml_ci" / "schemas"
SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "config.schema.json": config_json_schema,
    "record.schema.json": record_json_schema,
}


def render(build: Callable[[], dict[str, Any]]) -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="Only check; exit 1 when stale.")
    args = parser.parse_args(argv)
    stale = []
    for name, build in SCHEMAS.items():
        path = SCHEMA_DIR / name
        text = render(build)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(
            f"stale: {', '.join(stale)} in {SCHEMA_DIR}; run: python scripts/gen_schemas.py",
            file=sys.stderr,
        )
        return 1
    print(f"{'wrote' if stale else 'up to date'}: {', '.join(stale) or 'all schemas'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
