"""Shared by the governance tests: the fake repository's names and one approve-status run."""

from __future__ import annotations

import json

import pytest

from ml_ci.cli import main

REPO = "acme/models"
HEAD = "c0ffee" + "1" * 34
OLD = "0ld" + "0" * 37
TOKEN = "ghs_test"


def approve_status(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    capsys.readouterr()
    code = main(["approve-status", "--repo", REPO, "--json", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err
