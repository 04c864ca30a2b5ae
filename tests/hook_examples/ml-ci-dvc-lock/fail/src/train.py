"""Stand-in training script of the ml-ci-dvc-lock example."""

import sys

print("training", sys.argv[1:])
