"""The one rule of which files need a governance approval when a change touches them (issue
15, items 2 and 4): the config, and the catalog and model-card files the BASE's config names.
Used by approve-status (the pull request's files from the API) and by the release (git diff
between the first parent and the merge)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_ci.config.governance import GovernanceConfig
from ml_ci.governance.rules import governed_changes, governed_files
from tests.fakegithub.server import FakeGitHub
from tests.governance.helpers import HEAD, REPO
from tests.governance.test_required import governance, record


def test_the_files_come_from_the_base_config() -> None:
    base = GovernanceConfig(catalog="./governance/catalog.yaml", model_card="x/../docs//use.md")
    assert governed_files("ml-ci.yaml", base) == [
        ("ml-ci.yaml", "the ml-ci config"),
        ("governance/catalog.yaml", "governance.catalog"),
        ("docs/use.md", "governance.model_card"),
    ]
    assert governed_files("ml-ci.yaml", GovernanceConfig()) == [("ml-ci.yaml", "the ml-ci config")]
    changed = ["src/train.py", "docs/use.md", "docs/other.md"]
    assert governed_changes("ml-ci.yaml", base, changed) == [
        ("docs/use.md", "governance.model_card")
    ]
    assert governed_changes("ml-ci.yaml", base, ["src/train.py"]) == []


@pytest.mark.parametrize(
    ("changed", "key"),
    [("governance/catalog.yaml", "governance.catalog"), ("docs/use.md", "governance.model_card")],
)
def test_approve_status_requires_approval_for_a_governed_file(
    gh: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], changed: str, key: str
) -> None:
    (tmp_path / "ml-ci.yaml").write_text(
        "governance:\n  approvers: [alice]\n  require: flagged\n"
        "  catalog: governance/catalog.yaml\n  model_card: docs/use.md\n",
        encoding="utf-8",
    )
    clean = record(tmp_path, "pass")
    gh.add_pull(REPO, 7, head_sha=HEAD, user="bob", files=["src/train.py", "README.md"])
    assert governance(capsys, "--record", str(clean))["governance"]["required"] is False
    gh.add_pull(REPO, 7, head_sha=HEAD, user="bob", files=["src/train.py", changed])
    result = governance(capsys, "--record", str(clean))
    assert result["governance"]["required"] is True and not result["governance"]["satisfied"]
    assert f"changes {changed} ({key})" in result["required_reason"]
    gh.add_comment(REPO, 7, f"/ml-ci approve {HEAD}", "alice")
    assert governance(capsys, "--record", str(clean))["governance"]["satisfied"] is True


def test_moving_a_governed_file_away_needs_approval(
    gh: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub lists a rename under the new name, with the old one as previous_filename."""
    (tmp_path / "ml-ci.yaml").write_text(
        "governance:\n  approvers: [alice]\n  require: flagged\n  model_card: docs/use.md\n",
        encoding="utf-8",
    )
    moved = ("docs/use.md", "docs/old-use.md")
    gh.add_pull(REPO, 7, head_sha=HEAD, user="bob", files=["src/train.py", moved])
    result = governance(capsys, "--record", str(record(tmp_path, "pass")))
    assert result["governance"]["required"] is True
    assert "changes docs/use.md (governance.model_card)" in result["required_reason"]
