"""Split the raw table into a seeded, stratified train/test pair."""

from pathlib import Path

import pandas as pd
import yaml
from sklearn.model_selection import train_test_split

params = yaml.safe_load(Path("params.yaml").read_text())
raw = pd.read_csv("data/raw.csv")
train, test = train_test_split(
    raw,
    test_size=params["prepare"]["test_size"],
    random_state=params["seed"],
    stratify=raw["malignant"],
)
train.sort_values("id").to_csv("data/train.csv", index=False)
test.sort_values("id").to_csv("data/test.csv", index=False)
