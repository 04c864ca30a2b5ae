"""docs/actions.md is generated from the action.yml files and must be current."""

from __future__ import annotations

import subprocess
import sys

from tests.pack.snapshot import PROJECT


def test_actions_reference_is_current() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/gen_action_docs.py", "--check"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_reference_lists_every_input_of_the_main_action() -> None:
    import yaml

    text = (PROJECT / "docs" / "actions.md").read_text(encoding="utf-8")
    action = yaml.safe_load((PROJECT / "action.yml").read_text(encoding="utf-8"))
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"| `{name}` |" in text, name
