"""The adoption chapter (docs/adopt.md, in the README) is true: its commands, run exactly as
written, adopt ml-ci on fresh projects of the shape it describes.

Each walkthrough's ``sh`` blocks are run line by line in a fresh project that has never seen
ml-ci (tests/pack/projects.py: git + DVC, ``dvc add``, dvc.yaml stages, reproduced and
committed). Only ``pip install`` lines are left out: this test runs the ml-ci under test,
already installed in the venv that is first on PATH. Every command must exit 0, except
``ml-ci compare``, whose exit code is the verdict (0 pass, 1 a gate did not pass)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.pack.projects import DVC_YAML, KINDS, tool_env
from tests.pack.snapshot import PROJECT

CHAPTER = PROJECT / "docs" / "adopt.md"
SECTIONS = {"wine": "### A multiclass project", "diabetes": "### A regression project"}
TASKS = {"wine": "multiclass", "diabetes": "regression"}


def section(title: str) -> str:
    text = CHAPTER.read_text(encoding="utf-8")
    start = text.index(title)
    end = text.find("\n### ", start + len(title))
    return text[start : end if end > 0 else len(text)]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def commands(text: str) -> list[str]:
    lines = [line.strip() for block in blocks(text, "sh") for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "pip install"))]


def test_the_chapter_is_in_the_readme() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert "## Adopting ml-ci on your own project" in readme
    for title in SECTIONS.values():
        assert title in readme and commands(section(title))


def test_the_pipeline_shown_is_the_one_tested() -> None:
    (shown,) = blocks(section(SECTIONS["wine"]), "yaml")
    assert yaml.safe_load(shown) == yaml.safe_load(
        DVC_YAML.format(params=KINDS["wine"]["param_names"])
    )


@pytest.mark.parametrize("kind", ["wine", "diabetes"])
def test_adopt_with_the_readme_commands(
    own_project: Callable[[str], Path], tmp_path: Path, kind: str
) -> None:
    root = own_project(kind)
    env = {**tool_env(), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    steps = commands(section(SECTIONS[kind]))
    assert "ml-ci init" in steps and "ml-ci compare" in steps
    outputs = {}
    for line in steps:
        done = subprocess.run(line, shell=True, cwd=root, env=env, capture_output=True, text=True)
        allowed = (0, 1) if line == "ml-ci compare" else (0,)
        assert done.returncode in allowed, f"$ {line}\n{done.stdout}\n{done.stderr}"
        outputs[line] = done.stdout + done.stderr

    task = TASKS[kind]
    assert f"task    {task}: " in outputs["ml-ci init"]
    # the output the chapter shows is what init printed (the inferred task, the MDE warning)
    shown = [
        line for block in blocks(section(SECTIONS[kind]), "text") for line in block.splitlines()
    ]
    for line in shown:
        if line.strip() != "...":
            assert line in outputs["ml-ci init"].splitlines(), line
    assert f"valid ({task}" in outputs["ml-ci validate"]
    assert yaml.safe_load((root / "ml-ci.yaml").read_text())["task"] == task
    # the pre-commit hooks ran on the commit, and the commit went in
    assert "ml-ci config is valid" in outputs['git commit -m "Add ml-ci"']
    log = subprocess.run(["git", "log", "--format=%s"], cwd=root, capture_output=True, text=True)
    assert "Add ml-ci" in log.stdout.splitlines()
    record = json.loads((root / "ml-ci-record.json").read_text())
    gated = {gate["metric"] for gate in record["compare"]["gates"]}
    expected = {"wine": {"accuracy", "log_loss"}, "diabetes": {"rmse", "r2"}}[kind]
    assert gated == expected
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True
    )
    assert sorted(line[3:] for line in status.stdout.splitlines()) == ["dvc.lock", "params.yaml"]
