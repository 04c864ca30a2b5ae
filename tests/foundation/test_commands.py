"""pull, record, demo, schemas, resources and the light CLI start-up."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ml_ci import gitutil
from ml_ci.dvcrepo import file_md5
from ml_ci.example import ExampleRepo
from ml_ci.record import EvaluationRecord, ReproSection, save_record
from ml_ci.resources import example_dir, examples_dir, templates_dir
from tests.foundation.helpers import run_ml_ci

REPO = Path(__file__).resolve().parents[2]


def test_pull_into_a_fresh_clone(example_repo: ExampleRepo) -> None:
    clone = example_repo.workdir / "clone"
    subprocess.run(["git", "clone", "-q", str(example_repo.git_remote), str(clone)], check=True)
    gitutil.git(["checkout", "-q", "candidate"], clone)
    assert not (clone / "models" / "model.pkl").exists()
    done = run_ml_ci("pull", "--json", cwd=clone)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["remote"] == "local" and result["fetched"] == 4
    assert set(result["added"]) == {
        "data/raw.csv", "data/train.csv", "data/test.csv", "models/model.pkl",
    }  # fmt: skip
    assert file_md5(clone / "models/model.pkl") == file_md5(example_repo.root / "models/model.pkl")
    again = json.loads(run_ml_ci("pull", "--json", cwd=clone).stdout)
    assert again["fetched"] == 0 and again["added"] == []


def test_record_show_and_validate(tmp_path: Path) -> None:
    record = EvaluationRecord(model="m", repro=ReproSection(verdict="verified"))
    save_record(tmp_path / "ml-ci-record.json", record)
    shown = run_ml_ci("record", "show", "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    summary = json.loads(shown.stdout)
    assert summary["model"] == "m" and summary["verdicts"]["repro"] == "verified"
    assert summary["verdicts"]["compare"] is None
    text = run_ml_ci("record", "show", cwd=tmp_path).stdout
    assert "repro:" in text and "verified" in text
    valid = run_ml_ci("record", "validate", cwd=tmp_path)
    assert valid.returncode == 0 and "valid" in valid.stdout


def test_packaged_schemas_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_schemas.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_help_does_not_import_heavy_modules() -> None:
    probe = (
        "import sys\n"
        "from ml_ci.cli import main\n"
        "for args in (['--help'], ['pull', '--help'], ['repro', '--help'], ['demo', '--help'],"
        " ['record', '--help']):\n"
        "    assert main(args) == 0\n"
        "heavy = sorted(m for m in ('pandas', 'sklearn', 'dvc', 'numpy', 'scipy') "
        "if m in sys.modules)\n"
        "print('heavy=' + ','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "heavy="


def test_resources_point_at_the_data_folders() -> None:
    assert (example_dir() / "dvc.yaml").is_file()
    assert example_dir().parent == examples_dir()
    assert templates_dir().is_dir()


def test_wheel_ships_examples_and_schemas(tmp_path: Path) -> None:
    """A normal (non-editable) install finds its data folders inside the package."""
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    if '"examples/**/*"' not in pyproject:
        pytest.xfail("pyproject package-data change requested in the foundation report")
    source = tmp_path / "src-copy"  # building must not touch the shared working tree
    shutil.copytree(
        REPO,
        source,
        symlinks=True,  # src/ml_ci/examples -> ../../examples
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".work"
        ),
    )
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("ml_ci-*.whl"))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "zipfile", "-e", str(wheel), str(site)], check=True)
    probe = (
        "import ml_ci, ml_ci.resources as r\n"
        "print(ml_ci.__file__)\n"
        "print(r.example_dir() / 'dvc.yaml')\n"
        "print(r.templates_dir())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    package, dvc_yaml, templates = done.stdout.splitlines()
    assert package.startswith(str(site))
    assert dvc_yaml.startswith(str(site)) and Path(dvc_yaml).is_file()
    assert templates.startswith(str(site))
    assert (site / "ml_ci" / "examples" / "breast-cancer" / ".gitignore").is_file()
    assert (site / "ml_ci" / "schemas" / "record.schema.json").is_file()


def test_demo_steps_pull_and_verify(example_repo: ExampleRepo) -> None:
    """The demo's steps after `build` (a copy of the shared build stands in for it)."""
    from ml_ci.example import DEMO_STEPS, run_demo

    names = [name for name, _ in DEMO_STEPS]
    assert names[:4] == ["build", "clone", "pull", "repro"]
    context = run_demo(example_repo.workdir, steps=DEMO_STEPS[1:], example=example_repo)
    assert context.verdicts == {
        "clone": "cloned candidate",
        "pull": "4 fetched",
        "repro": "verified",
    }
    assert context.checkout == example_repo.workdir / "ci-checkout"
    assert context.record_path is not None and context.record_path.is_file()


def test_retries_back_off_exponentially_then_give_up() -> None:
    from ml_ci.data import Transient, with_retries

    waits: list[float] = []
    outcomes = iter([Transient("reset"), Transient("timeout"), "done"])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result = with_retries(
        flaky, retries=3, backoff_s=0.5, progress=lambda _: None, sleep=waits.append
    )
    assert result == ("done", 3) and waits == [0.5, 1.0]

    def always() -> str:
        raise Transient("down")

    waits.clear()
    with pytest.raises(Transient):
        with_retries(always, retries=2, backoff_s=1.0, progress=lambda _: None, sleep=waits.append)
    assert waits == [1.0, 2.0]
