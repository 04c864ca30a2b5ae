"""The hook implementations, called directly (fast), plus dvc-lock against a real DVC repo."""

from __future__ import annotations

import hashlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ml_ci.pack.hooks import config, determinism, dvc_lock, large_data


# ------------------------------------------------------------------ determinism
def _lines(source: str) -> list[int | None]:
    return [finding.line for finding in determinism.check_source(source, "train.py")]


def test_sklearn_list_matches_scikit_learn() -> None:
    """Every name in the list really takes random_state (checked against scikit-learn)."""
    import sklearn.model_selection
    from sklearn.utils import all_estimators

    estimators = dict(all_estimators())
    for name in sorted(determinism.SKLEARN_RANDOM_STATE | determinism.SKLEARN_SHUFFLE_ONLY):
        target = estimators.get(name) or getattr(sklearn.model_selection, name)
        assert "random_state" in inspect.signature(target).parameters, name
    # and the list is complete for the estimators of this scikit-learn
    with_state = {
        name for name, cls in estimators.items()
        if "random_state" in inspect.signature(cls).parameters
    }  # fmt: skip
    assert with_state <= determinism.SKLEARN_RANDOM_STATE


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        (
            "from sklearn.ensemble import RandomForestClassifier\nm = RandomForestClassifier()\n",
            [2],
        ),
        ("from sklearn.ensemble import RandomForestClassifier as RF\nm = RF(random_state=0)\n", []),
        ("import sklearn.ensemble as e\nm = e.ExtraTreesRegressor(random_state=None)\n", [2]),
        ("from sklearn.model_selection import KFold\nk = KFold(5)\n", []),
        ("from sklearn.model_selection import KFold\nk = KFold(5, shuffle=True)\n", [2]),
        ("from sklearn.linear_model import LinearRegression\nm = LinearRegression()\n", []),
        ("from sklearn.svm import SVC\nm = SVC(**params)\n", []),
        ("import numpy as np\nx = np.random.rand(3)\n", [2]),
        ("import numpy as np\nnp.random.seed(1)\nx = np.random.rand(3)\n", []),
        ("import numpy as np\nrng = np.random.default_rng()\n", [2]),
        ("import numpy as np\nrng = np.random.default_rng(42)\n", []),
        ("from numpy.random import default_rng\nrng = default_rng(seed=None)\n", [2]),
        ("import random\nrandom.shuffle(items)\n", [2]),
        ("import random\nrandom.seed(3)\nrandom.shuffle(items)\n", []),
        ("import random\nr = random.Random()\n", [2]),
        ("import torch\nx = torch.rand(3)\n", [1]),
        ("import torch\ntorch.manual_seed(0)\n", []),
        ("import random\nrandom.shuffle(items)  # ml-ci: allow-random\n", []),
        ("import torch  # ml-ci: allow-random\n", []),
        ("def broken(:\n", []),
    ],
)
def test_determinism_findings(source: str, lines: list[int]) -> None:
    assert _lines(source) == lines


def test_opt_out_covers_a_multi_line_call() -> None:
    source = (
        "from sklearn.ensemble import RandomForestClassifier\n"
        "m = RandomForestClassifier(\n    n_estimators=3,  # ml-ci: allow-random\n)\n"
    )
    assert _lines(source) == []


# ------------------------------------------------------------------ no-large-data
def test_large_data_by_extension_and_size(tmp_path: Path) -> None:
    small_csv = tmp_path / "fixture.csv"
    small_csv.write_bytes(b"a,b\n" * 10)
    big_csv = tmp_path / "train.csv"
    big_csv.write_bytes(b"x" * 200 * 1024)
    big_text = tmp_path / "notes.md"
    big_text.write_bytes(b"x" * 200 * 1024)
    huge = tmp_path / "blob.txt"
    huge.write_bytes(b"x" * 6 * 1024 * 1024)
    model = tmp_path / "model.PKL"
    model.write_bytes(b"x" * 101 * 1024)
    found = large_data.check([small_csv, big_csv, big_text, huge, model, tmp_path / "gone.csv"])
    assert [Path(f.path).name for f in found] == ["train.csv", "blob.txt", "model.PKL"]
    assert "200.0 KB data file" in found[0].message and "dvc add" in found[0].message
    assert "model file" in found[2].message
    assert large_data.check([big_csv], max_data_kb=500) == []


# ------------------------------------------------------------------ config
def test_config_hook(tmp_path: Path) -> None:
    good = tmp_path / "ml-ci.yaml"
    good.write_text(
        "version: 1\ntask: regression\ngates:\n  - metric: rmse\n    rule: non_inferior\n"
    )
    bad = tmp_path / "sub" / "ml-ci.yaml"
    bad.parent.mkdir()
    bad.write_text("task: regression\nmodle: {}\n")
    assert config.check([good]) == []
    [finding] = config.check([good, bad])
    assert finding.path == str(bad) and "modle" in finding.message


# ------------------------------------------------------------------ dvc-lock
def _run(args: list[str], cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real git + DVC repo, reproduced by real `dvc repro`; its dep has CRLF line endings."""
    root = tmp_path_factory.mktemp("dvc-lock") / "repo"
    (root / "src").mkdir(parents=True)
    (root / "params.yaml").write_text("seed: 7\ntrain:\n  C: 0.5\n  layers: [8, 4]\n")
    (root / "dvc.yaml").write_text(
        "stages:\n"
        "  train:\n"
        "    cmd: python src/train.py ${train.C}\n"
        "    deps: [src/train.py]\n"
        "    params: [seed, train.C, train.layers]\n"
        "    outs: [model.pkl]\n"
        "    metrics:\n      - scores.json:\n          cache: false\n"
    )
    # CRLF on purpose: DVC 2 hashed text after dos2unix, DVC 3 hashes the raw bytes
    (root / "src" / "train.py").write_bytes(
        b"import json, sys\r\nopen('model.pkl', 'w').write(sys.argv[1])\r\n"
        b"json.dump({'x': 1}, open('scores.json', 'w'))\r\n"
    )
    _run(["git", "init", "-q", "-b", "main"], root)
    _run([sys.executable, "-m", "dvc", "init", "-q"], root)
    _run([sys.executable, "-m", "dvc", "repro", "-q"], root)
    _run(["git", "add", "-A"], root)
    _run(["git", "commit", "-qm", "pipeline"], root)
    return root


def test_dvc3_hashes_raw_bytes_without_dos2unix(dvc_repo: Path) -> None:
    lock = yaml.safe_load((dvc_repo / "dvc.lock").read_text())
    [dep] = lock["stages"]["train"]["deps"]
    raw = (dvc_repo / "src" / "train.py").read_bytes()
    assert b"\r\n" in raw
    assert (
        dep["md5"]
        == hashlib.md5(raw).hexdigest()
        == dvc_lock.file_md5(dvc_repo / "src" / "train.py")
    )
    assert dep["md5"] != hashlib.md5(raw.replace(b"\r\n", b"\n")).hexdigest()


def test_dvc_lock_consistent_after_real_repro(dvc_repo: Path) -> None:
    assert dvc_lock.check(dvc_repo) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("params.yaml", "seed: 7\ntrain:\n  C: 0.9\n  layers: [8, 4]\n"),
         "param train.C is 0.9 in params.yaml but 0.5 in dvc.lock"),
        (("params.yaml", "seed: 7\ntrain:\n  C: 0.5\n  layers: [8, 2]\n"),
         "param train.layers is [8, 2] in params.yaml but [8, 4] in dvc.lock"),
        (("src/train.py", "print('changed')\n"), "dep src/train.py changed"),
        (("dvc.yaml", None), "deps added params.yaml"),
        (("dvc.yaml", "stages:\n  other:\n    cmd: echo\n"), "stage 'other' is stale: not in dvc.lock"),
    ],
)  # fmt: skip
def test_dvc_lock_names_the_stale_stage(
    dvc_repo: Path, tmp_path: Path, change: tuple[str, str | None], expected: str
) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(dvc_repo, repo)
    name, text = change
    if text is None:  # add a dependency to the stage without reproducing
        pipeline = yaml.safe_load((repo / name).read_text())
        pipeline["stages"]["train"]["deps"].append("params.yaml")
        text = yaml.safe_dump(pipeline)
    (repo / name).write_text(text)
    findings = dvc_lock.check(repo)
    assert findings, "a stale dvc.lock must be reported"
    assert any(expected in finding.message for finding in findings), [str(f) for f in findings]
    assert all(finding.path == "dvc.lock" for finding in findings)


def test_dvc_lock_cli_exit_codes(dvc_repo: Path, tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "ml_ci", "hook", "dvc-lock"],
        cwd=dvc_repo,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(dvc_repo, repo)
    (repo / "params.yaml").write_text("seed: 8\ntrain:\n  C: 0.5\n  layers: [8, 4]\n")
    stale = subprocess.run(
        [sys.executable, "-m", "ml_ci", "hook", "dvc-lock", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert stale.returncode == 1
    assert "Traceback" not in stale.stderr
    assert "seed" in stale.stdout and '"ok": false' in stale.stdout


# ------------------------------------------------------------------ start-up cost
@pytest.mark.parametrize("hook", ["config", "dvc-lock", "no-large-data", "determinism"])
def test_hooks_import_no_heavy_library(hook: str, dvc_repo: Path) -> None:
    """The hooks stay fast: no pandas, numpy, scikit-learn, scipy or dvc on their path."""
    files = {"config": ["ml-ci.yaml"], "dvc-lock": [], "no-large-data": ["params.yaml"],
             "determinism": ["src/train.py"]}[hook]  # fmt: skip
    (dvc_repo / "ml-ci.yaml").write_text("version: 1\n")
    script = (
        "import sys\nfrom ml_ci.cli import main\n"
        f"code = main(['hook', {hook!r}, *{files!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pandas', 'numpy', 'sklearn', 'scipy', 'dvc', 'requests', 'jinja2'})\n"
        "print('HEAVY', heavy, 'CODE', code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=dvc_repo, capture_output=True, text=True
    )
    (dvc_repo / "ml-ci.yaml").unlink()
    assert "HEAVY [] CODE 0" in done.stdout, done.stdout + done.stderr
