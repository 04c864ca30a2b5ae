"""ml-ci.yaml sections this stage owns: model, data, predictions, repro, baseline, predict."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_ci.config import load_config, validate_config
from ml_ci.errors import ConfigError
from ml_ci.resources import example_dir


def test_example_config_is_valid() -> None:
    config = load_config(example_dir() / "ml-ci.yaml")
    assert config.task == "binary"
    assert config.model.name == "breast-cancer"
    assert config.model.path == "models/model.pkl"
    assert [gate.metric for gate in config.gates] == ["roc_auc", "accuracy", "log_loss"]
    assert config.predict.command is not None
    assert all(part in config.predict.command for part in ("{model}", "{data}", "{output}"))
    assert config.slices.columns == ["segment"]


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    path = tmp_path / "ml-ci.yaml"
    path.write_text("", encoding="utf-8")
    config = load_config(path)
    assert config.data.retries == 3
    assert config.data.targets == []
    assert config.predictions.path == "predictions.csv"
    assert (config.predictions.id, config.predictions.y_true) == ("id", "y_true")
    assert (config.predictions.y_pred, config.predictions.y_score) == ("y_pred", "y_score")
    assert config.repro.runs == 1 and config.repro.tolerance is None
    assert config.baseline.default_branch == "main" and config.baseline.ref is None


def test_tolerance_section() -> None:
    config = validate_config({"repro": {"tolerance": {"metrics": ["metrics.json"], "abs": 0.01}}})
    assert config.repro.tolerance is not None
    assert config.repro.tolerance.abs == 0.01 and config.repro.tolerance.rel == 0.0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"repro": {"tolerance": {"abs": 0.1}}}, "repro.tolerance.metrics"),
        ({"data": {"retries": 11}}, "data.retries"),
        ({"model": {"name": "Bad Name"}}, "model.name"),
        ({"repro": {"runs": 0}}, "repro.runs"),
        ({"predict": {"comand": "x"}}, "predict.comand: unknown key"),
    ],
)
def test_bad_values_name_the_key(data: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(data)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
