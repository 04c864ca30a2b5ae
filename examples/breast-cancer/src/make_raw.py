"""Write data/raw.csv from scikit-learn's bundled breast cancer data (no network).

Usage: python src/make_raw.py [--shift COLUMN=DELTA]

--shift adds DELTA to one feature column (the example's candidate branch uses it to plant
a small drift). Column names are snake_case; the label is ``malignant`` (1 = malignant).
"""

import argparse
from pathlib import Path

from sklearn.datasets import load_breast_cancer

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--shift", default=None, help="COLUMN=DELTA")
parser.add_argument("--output", default="data/raw.csv")
args = parser.parse_args()

bunch = load_breast_cancer(as_frame=True)
frame = bunch.data.rename(columns=lambda name: name.replace(" ", "_"))
frame.insert(0, "id", range(1, len(frame) + 1))
frame["malignant"] = 1 - bunch.target  # sklearn codes benign as 1
if args.shift:
    column, delta = args.shift.split("=")
    frame[column] = (frame[column] + float(delta)).round(6)
Path(args.output).parent.mkdir(parents=True, exist_ok=True)
frame.to_csv(args.output, index=False)
