"""Fit a seeded logistic regression; write the model and its test metrics."""

import json
import pickle
from pathlib import Path

import pandas as pd
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

params = yaml.safe_load(Path("params.yaml").read_text())
seed = params["seed"]
train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
features = [c for c in train.columns if c not in ("id", "malignant")]

model = make_pipeline(
    StandardScaler(),
    LogisticRegression(
        C=params["train"]["C"],
        max_iter=params["train"]["max_iter"],
        solver="saga",  # stochastic: the seed matters, so a time-based seed is caught
        tol=1e-6,
        random_state=seed,
    ),
)
model.fit(train[features], train["malignant"])

Path("models").mkdir(exist_ok=True)
# pickle protocol 4 and a fixed object graph: the same seed gives the same bytes
Path("models/model.pkl").write_bytes(pickle.dumps(model, protocol=4))

score = model.predict_proba(test[features])[:, 1]
metrics = {
    "accuracy": round(float(accuracy_score(test["malignant"], score >= 0.5)), 6),
    "roc_auc": round(float(roc_auc_score(test["malignant"], score)), 6),
}
Path("metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
