"""Hook ``ml-ci-no-large-data``: data and model files belong in DVC, not in git.

A staged file is reported when it has a data/model extension and is larger than
``max_data_kb``, or when any file is larger than ``max_kb`` whatever its extension. Small data
files (test fixtures, a few-row sample) stay allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ml_ci.pack.hooks import Finding

DATA_EXTENSIONS = frozenset(
    {
        # tables and arrays
        ".csv", ".tsv", ".parquet", ".feather", ".arrow", ".orc", ".avro", ".jsonl",
        ".npy", ".npz", ".h5", ".hdf5", ".tfrecord", ".xlsx",
    }
)  # fmt: skip
MODEL_EXTENSIONS = frozenset(
    {
        ".pkl", ".pickle", ".joblib", ".onnx", ".pt", ".pth", ".ckpt", ".safetensors",
        ".keras", ".pb", ".tflite", ".gguf", ".bin", ".cbm", ".ubj",
    }
)  # fmt: skip
DEFAULT_MAX_DATA_KB = 100
DEFAULT_MAX_KB = 5 * 1024


def _human(size: int) -> str:
    """Bytes as B/KB/MB with one decimal (1 KB = 1024 bytes, like git's own messages)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def check(
    paths: Iterable[Path],
    *,
    max_data_kb: int = DEFAULT_MAX_DATA_KB,
    max_kb: int = DEFAULT_MAX_KB,
) -> list[Finding]:
    """Report each file that is a data/model file over ``max_data_kb`` or any file over ``max_kb``."""
    findings: list[Finding] = []
    for path in paths:
        try:
            size = path.stat().st_size
        except OSError:
            continue  # deleted in this commit: nothing to add
        suffix = path.suffix.lower()
        kind = (
            "model" if suffix in MODEL_EXTENSIONS else "data" if suffix in DATA_EXTENSIONS else None
        )
        if (kind and size > max_data_kb * 1024) or size > max_kb * 1024:
            what = f"{kind} file" if kind else "file"
            findings.append(
                Finding(
                    str(path),
                    f"{_human(size)} {what} committed to git; track it with DVC instead: "
                    f"git rm --cached {path} && dvc add {path}",
                )
            )
    return findings
