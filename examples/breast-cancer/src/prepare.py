"""Split the raw table into a seeded, stratified train/test pair."""

from pathlib import Path

import pandas as pd
import yaml

params = yaml.safe_load(Path("params.yaml").read_text())
raw = pd.read_csv("data/raw.csv")
# stratified: the same share of each class goes to the test set (pandas only, no scikit-learn
# import, so the stage starts fast)
test = raw.groupby("malignant").sample(
    frac=params["prepare"]["test_size"], random_state=params["seed"]
)
train = raw.drop(test.index)
train.sort_values("id").to_csv("data/train.csv", index=False)
test.sort_values("id").to_csv("data/test.csv", index=False)
