"""What a predictions table says about the task, and whether ``ml-ci.yaml`` fits the table.

``ml-ci init`` infers the task from the table; ``ml-ci validate`` checks the config against it.

Task inference (:func:`infer_task`, pure), with ``s`` = ``predictions.y_score``:

* two or more ``{s}_<class>`` columns: **multiclass** (one probability per class);
* a ``{s}`` column: **binary** (the positive class's probability);
* no score column: the labels decide: numbers that are not all integers, or more than
  :data:`MAX_CLASSES` distinct values, are a **regression** target; two distinct labels are
  binary, 3..MAX_CLASSES multiclass (the score columns are then missing, which the table check
  reports).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ml_ci.config.pipeline import PredictionsConfig
from ml_ci.errors import ConfigError

if TYPE_CHECKING:
    from ml_ci.compare.inputs import Paired
    from ml_ci.config import Config

#: More distinct integer labels than this (and no score columns) reads as a regression target.
MAX_CLASSES = 20
#: Gates ``ml-ci init`` writes for each task: the headline metric and a probability-quality
#: (or scale) metric must not get worse by more than the margin.
TASK_GATES: dict[str, list[dict[str, object]]] = {
    "binary": [
        {"metric": "roc_auc", "rule": "non_inferior", "margin": 0.02},
        {"metric": "accuracy", "rule": "non_inferior", "margin": 0.02},
    ],
    "multiclass": [
        {"metric": "accuracy", "rule": "non_inferior", "margin": 0.02},
        {"metric": "log_loss", "rule": "non_inferior", "margin": 0.05},
    ],
    "regression": [
        # the target's unit is unknown: rmse's margin is a fraction of the baseline's rmse
        {"metric": "rmse", "rule": "non_inferior", "margin": 0.05, "relative": True},
        {"metric": "r2", "rule": "non_inferior", "margin": 0.02},
    ],
}


@dataclass(frozen=True)
class TaskGuess:
    """The task a table holds and the evidence, in words a user can check."""

    task: str
    reason: str
    classes: list[str] = field(default_factory=list)
    #: score columns (or a non-integer target) decided it; a guess from label counts alone
    #: (integer ratings can be a regression target) is only a default
    certain: bool = True


def _label_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _numbers(labels: Sequence[object]) -> list[float] | None:
    """The labels as floats, or None when one of them is not a number (bool counts as text)."""
    numbers = []
    for value in labels:
        if isinstance(value, bool):
            return None
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        if not math.isfinite(number):
            return None
        numbers.append(number)
    return numbers


def infer_task(
    columns: Sequence[str], labels: Sequence[object], cols: PredictionsConfig | None = None
) -> TaskGuess:
    """The task of a predictions table from its ``columns`` and distinct ``labels`` (y_true)."""
    cols = cols or PredictionsConfig()
    prefix = cols.y_score + "_"
    per_class = [c for c in columns if c.startswith(prefix) and len(c) > len(prefix)]
    shown = sorted({_label_text(v) for v in labels})
    listed = ", ".join(shown[:6]) + (", ..." if len(shown) > 6 else "")
    if len(per_class) >= 2 and not (cols.y_score in columns and len(shown) <= 2):
        classes = [c[len(prefix) :] for c in per_class]
        return TaskGuess(
            "multiclass",
            f"{len(per_class)} score columns {', '.join(per_class[:4])}"
            f"{', ...' if len(per_class) > 4 else ''} (one per class); "
            f"{cols.y_true} holds {len(shown)} classes",
            classes,
        )
    if cols.y_score in columns:
        return TaskGuess(
            "binary",
            f"one score column {cols.y_score!r}; {cols.y_true} holds {len(shown)} "
            f"value(s): {listed}",
            shown,
        )
    numbers = _numbers(labels)
    fractional = numbers is not None and any(not n.is_integer() for n in numbers)
    if numbers is not None and (fractional or len(numbers) > MAX_CLASSES):
        why = "not all integers" if fractional else "too many to be classes"
        return TaskGuess(
            "regression",
            f"no score column; {cols.y_true} holds {len(numbers)} distinct numbers ({why})",
            certain=fractional,
        )
    task = "binary" if len(shown) <= 2 else "multiclass"
    return TaskGuess(
        task,
        f"no score column; {cols.y_true} holds {len(shown)} classes: {listed}",
        shown,
        certain=False,
    )


def distinct_labels(path: Path, column: str) -> list[object]:
    """The distinct values of ``column`` (missing cells left out), as Python scalars."""
    from ml_ci.tables import read_table

    values = read_table(path, columns=[column])[column].dropna().unique()
    return [v.item() if hasattr(v, "item") else v for v in values]


def table_guess(path: Path, cols: PredictionsConfig) -> TaskGuess:
    """:func:`infer_task` on the table at ``path`` (its columns and its y_true labels)."""
    from ml_ci.compare.inputs import table_columns

    columns = table_columns(path)
    labels = distinct_labels(path, cols.y_true) if cols.y_true in columns else []
    return infer_task(columns, labels, cols)


@dataclass(frozen=True)
class PowerNote:
    """A non-inferiority gate whose margin is below the minimum detectable effect (MDE) at
    the evaluation set's size: a candidate as good as the baseline is mostly inconclusive."""

    metric: str
    margin: float
    mde: float
    rows: int
    baseline_value: float
    rows_needed: int

    @property
    def text(self) -> str:
        return (
            f"gate {self.metric} (non_inferior, margin {self.margin:g}): with {self.rows} rows "
            f"the minimum detectable effect is {self.mde:.3f}, above the margin (assuming the "
            f"models disagree on as many rows as the baseline gets wrong, "
            f"{1 - self.baseline_value:.1%}), so an unchanged model is mostly inconclusive; "
            f"evaluate on about {self.rows_needed} rows or widen the margin to {self.mde:.3f}"
        )


def power_notes(config: Config, paired: Paired) -> list[PowerNote]:
    """:class:`PowerNote` for each gate :func:`ml_ci.compare.power.planned_mde` can plan.

    Before a candidate exists the MDE assumes d = 1 - baseline value (see power.py); the
    baseline value is the current model's metric on the table. The MDE scales as 1/sqrt(n),
    so the rows needed for the margin are n * (MDE / margin)^2.
    """
    import numpy as np

    from ml_ci.compare.power import planned_mde, underpowered
    from ml_ci.config import default_gates

    n = paired.n
    values: dict[str, float] = {"accuracy": float(np.mean(paired.cand.pred == paired.y))}
    positives = None
    if config.task == "binary" and paired.cand.score is not None:
        positives = int(np.count_nonzero(paired.y == 1))
        if 0 < positives < n:
            from sklearn.metrics import roc_auc_score

            values["roc_auc"] = float(roc_auc_score(paired.y, paired.cand.score))
    notes = []
    for gate in list(config.gates) or default_gates(config.task):
        value = values.get(gate.metric)
        if gate.rule != "non_inferior" or value is None:
            continue
        margin = gate.margin * abs(value) if gate.relative else gate.margin
        mde = planned_mde(
            config.task,
            gate.metric,
            n,
            alpha=config.compare.alpha,
            baseline_value=value,
            positives=positives,
        )
        if mde is not None and underpowered(gate.rule, margin, mde):
            needed = math.ceil(n * (mde / margin) ** 2) if margin > 0 else 0
            notes.append(PowerNote(gate.metric, margin, mde, n, value, needed))
    return notes


@dataclass
class TableCheck:
    """``ml-ci validate``'s look at the real predictions table."""

    path: str
    present: bool
    rows: int = 0
    task: str | None = None
    reason: str | None = None
    classes: list[str] = field(default_factory=list)
    too_small: list[str] = field(default_factory=list)  # PowerNote.text of each gate


def check_table(config: Config, root: Path, source: str = "ml-ci.yaml") -> TableCheck:
    """Check ``config`` against its predictions table under ``root`` when the table exists.

    The task must be the one the table holds when the table shows it (score columns, a
    fractional target; else a :class:`ConfigError` naming both), then
    the table is read exactly as ``ml-ci compare`` reads it (columns, label values,
    probabilities), so every problem compare would find shows up here first; last, gates whose
    margin is below the MDE at the table's size are listed (:func:`power_notes`).
    """
    from ml_ci.compare.inputs import load_pair

    relative = config.predictions.path
    path = root / relative
    if not path.is_file():
        return TableCheck(relative, present=False)
    guess = table_guess(path, config.predictions)
    if guess.task != config.task and guess.certain:
        raise ConfigError(
            f"{source}: task is {config.task!r} but {relative} holds a {guess.task} table "
            f"({guess.reason}); set task: {guess.task}"
        )
    paired = load_pair(
        path,
        path,
        config.task,
        config.predictions,
        latency=config.predictions.latency or config.latency.column,
        slices=list(config.slices.columns),
    )
    return TableCheck(
        relative,
        True,
        paired.n,
        config.task,
        guess.reason,
        list(paired.classes) or guess.classes,
        [note.text for note in power_notes(config, paired)],
    )
