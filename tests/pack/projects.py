"""A team's own project, as a new user of ml-ci would have it before adopting ml-ci.

:func:`build_project` writes a small real pipeline (scikit-learn's bundled data sets, no
network) into ``root``: ``git init`` + ``dvc init``, the raw table tracked with ``dvc add``, a
``dvc.yaml`` with prepare -> train -> predict stages, ``dvc repro``, a local DVC remote with the
data pushed, and one commit on ``main``.

* ``wine``: multiclass (3 cultivars), seeded logistic regression; predictions
  ``id, y_true, y_pred, y_score_0, y_score_1, y_score_2``.
* ``diabetes``: regression (disease progression), ridge regression; ``id, y_true, y_pred``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PREPARE = """\
import pandas as pd
import yaml
from sklearn.model_selection import train_test_split

params = yaml.safe_load(open("params.yaml"))
raw = pd.read_csv("data/raw.csv")
train, test = train_test_split(raw, test_size=params["test_size"], random_state=params["seed"])
train.to_csv("data/train.csv", index=False)
test.to_csv("data/test.csv", index=False)
"""

TRAIN = """\
import pickle
from pathlib import Path

import pandas as pd
import yaml
from sklearn.linear_model import {estimator}
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

params = yaml.safe_load(open("params.yaml"))
train = pd.read_csv("data/train.csv")
features = [c for c in train.columns if c not in ("id", "target")]
model = make_pipeline(StandardScaler(), {estimator}({arguments}))
model.fit(train[features], train["target"])
Path("models").mkdir(exist_ok=True)
Path("models/model.pkl").write_bytes(pickle.dumps(model, protocol=4))
"""

PREDICT_CLASSES = """\
import argparse
import pickle
from pathlib import Path

import pandas as pd

parser = argparse.ArgumentParser()
parser.add_argument("--model")
parser.add_argument("--data")
parser.add_argument("--output")
args = parser.parse_args()
model = pickle.loads(Path(args.model).read_bytes())
data = pd.read_csv(args.data)
features = list(model.feature_names_in_)
proba = model.predict_proba(data[features])
out = pd.DataFrame({"id": data["id"], "y_true": data["target"],
                    "y_pred": model.classes_[proba.argmax(axis=1)]})
for index, label in enumerate(model.classes_):
    out[f"y_score_{label}"] = proba[:, index]
out.to_csv(args.output, index=False)
"""

PREDICT_VALUES = """\
import argparse
import pickle
from pathlib import Path

import pandas as pd

parser = argparse.ArgumentParser()
parser.add_argument("--model")
parser.add_argument("--data")
parser.add_argument("--output")
args = parser.parse_args()
model = pickle.loads(Path(args.model).read_bytes())
data = pd.read_csv(args.data)
features = list(model.feature_names_in_)
out = pd.DataFrame({"id": data["id"], "y_true": data["target"],
                    "y_pred": model.predict(data[features])})
out.to_csv(args.output, index=False)
"""

DVC_YAML = """\
stages:
  prepare:
    cmd: python src/prepare.py
    deps: [src/prepare.py, data/raw.csv]
    params: [seed, test_size]
    outs: [data/train.csv, data/test.csv]
  train:
    cmd: python src/train.py
    deps: [src/train.py, data/train.csv]
    params: [{params}]
    outs: [models/model.pkl]
  predict:
    cmd: python src/predict.py --model models/model.pkl --data data/test.csv --output predictions.csv
    deps: [src/predict.py, models/model.pkl, data/test.csv]
    outs: [predictions.csv]
"""

KINDS = {
    "wine": {
        "loader": "load_wine",
        "estimator": "LogisticRegression",
        "arguments": 'C=params["C"], max_iter=1000, random_state=params["seed"]',
        "params": "seed: 0\ntest_size: 0.4\nC: 1.0\n",
        "param_names": "seed, C",
        "predict": PREDICT_CLASSES,
    },
    "diabetes": {
        "loader": "load_diabetes",
        "estimator": "Ridge",
        "arguments": 'alpha=params["alpha"], random_state=params["seed"]',
        "params": "seed: 0\ntest_size: 0.4\nalpha: 1.0\n",
        "param_names": "seed, alpha",
        "predict": PREDICT_VALUES,
    },
}


def tool_env() -> dict[str, str]:
    """The environment with this venv's python, dvc and ml-ci first on PATH (as after
    ``pip install ml-ci`` in an activated venv)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


def sh(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one shell command line as a user would type it; fail loudly when it fails."""
    done = subprocess.run(
        command, shell=True, cwd=cwd, env=tool_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, f"$ {command}\n{done.stdout}\n{done.stderr}"
    return done


def write_raw(root: Path, loader: str) -> None:
    """data/raw.csv from a scikit-learn bundled data set (id, the features, target)."""
    import sklearn.datasets

    frame = getattr(sklearn.datasets, loader)(as_frame=True).frame
    frame.insert(0, "id", range(len(frame)))
    (root / "data").mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "data" / "raw.csv", index=False)


def build_project(root: Path, kind: str) -> Path:
    """Write, run and commit the ``kind`` project in ``root`` (see the module docstring)."""
    spec = KINDS[kind]
    root.mkdir(parents=True, exist_ok=True)
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "prepare.py").write_text(PREPARE)
    (root / "src" / "train.py").write_text(
        TRAIN.format(estimator=spec["estimator"], arguments=spec["arguments"])
    )
    (root / "src" / "predict.py").write_text(spec["predict"])
    (root / "params.yaml").write_text(spec["params"])
    (root / "dvc.yaml").write_text(DVC_YAML.format(params=spec["param_names"]))
    write_raw(root, spec["loader"])
    remote = root.parent / f"{root.name}-dvc-remote"
    for command in (
        "git init -q -b main",
        "dvc init -q",
        "dvc config core.analytics false",
        f"dvc remote add -d local {remote}",
        "dvc add -q data/raw.csv",
        "dvc repro -q",
        "dvc push -q",
        "git add -A",
        f"git commit -q -m '{kind} pipeline'",
    ):
        sh(command, root)
    return root
