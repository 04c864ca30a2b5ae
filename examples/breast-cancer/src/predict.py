"""Score a model on a table and write the predictions table ml-ci compares.

Usage: python src/predict.py --model MODEL.pkl --data TABLE.csv --output PREDICTIONS.csv

Columns written: id, y_true, y_pred, y_score (probability of malignant), segment
(tumour size: small / medium / large by mean_area, fixed cut points).
"""

import argparse
import pickle
from pathlib import Path

import pandas as pd

# Fixed cut points (roughly the tertiles of mean_area in the full data set), so a row's
# segment never depends on which other rows are scored.
SIZE_CUTS = [0.0, 460.0, 670.0, float("inf")]

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", required=True)
parser.add_argument("--data", required=True)
parser.add_argument("--output", required=True)
args = parser.parse_args()

model = pickle.loads(Path(args.model).read_bytes())
data = pd.read_csv(args.data)
features = list(model.feature_names_in_)
score = model.predict_proba(data[features])[:, 1]
out = pd.DataFrame(
    {
        "id": data["id"],
        "y_true": data["malignant"],
        "y_pred": (score >= 0.5).astype(int),
        "y_score": score.round(8),
        "segment": pd.cut(
            data["mean_area"], SIZE_CUTS, labels=["small", "medium", "large"], right=False
        ).astype(str),
    }
)
Path(args.output).parent.mkdir(parents=True, exist_ok=True)
out.to_csv(args.output, index=False)
