"""``ml-ci.yaml``: the one config file, validated on load.

:func:`load_config` is the only loader. Every problem is a :class:`~ml_ci.errors.ConfigError`
with one line naming the file, the key path and what is allowed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from ml_ci.config.base import Section
from ml_ci.config.canary import CanaryConfig
from ml_ci.config.compare import (
    CompareConfig,
    FairnessConfig,
    Gate,
    LatencyConfig,
    SlicesConfig,
    fairness_metric_names,
    is_fairness_metric,
)
from ml_ci.config.drift import DriftConfig
from ml_ci.config.governance import GovernanceConfig
from ml_ci.config.logs import LogsConfig
from ml_ci.config.monitor import MonitorConfig
from ml_ci.config.pipeline import (
    BaselineConfig,
    DataConfig,
    ModelConfig,
    PredictConfig,
    PredictionsConfig,
    ReproConfig,
    Task,
)
from ml_ci.config.release import ReleaseConfig
from ml_ci.config.report import ReportConfig
from ml_ci.errors import ConfigError

CONFIG_FILE = "ml-ci.yaml"

# Metrics by task: the names gates may use. Latency metrics are valid for every task.
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "binary": (
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "average_precision",
        "log_loss",
        "brier",
    ),
    "multiclass": ("accuracy", "f1_macro", "f1_weighted", "log_loss"),
    "regression": ("mae", "rmse", "r2"),
}
LATENCY_METRICS = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")


class Config(Section):
    """The whole of ``ml-ci.yaml``. Every section is optional; defaults make a minimal file work."""

    version: int = Field(1, ge=1, le=1, description="Config format version.")
    task: Task = Field("binary", description="binary | multiclass | regression")
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    predictions: PredictionsConfig = Field(default_factory=PredictionsConfig)
    repro: ReproConfig = Field(default_factory=ReproConfig)
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)
    predict: PredictConfig = Field(default_factory=PredictConfig)
    compare: CompareConfig = Field(default_factory=CompareConfig)
    gates: list[Gate] = Field(
        default_factory=list, description="Gates; default: roc_auc/accuracy/r2 non-inferior."
    )
    slices: SlicesConfig = Field(default_factory=SlicesConfig)
    fairness: FairnessConfig = Field(default_factory=FairnessConfig)
    latency: LatencyConfig = Field(default_factory=LatencyConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)
    release: ReleaseConfig = Field(default_factory=ReleaseConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    canary: CanaryConfig = Field(default_factory=CanaryConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)

    @model_validator(mode="after")
    def _gate_metrics_fit_task(self) -> Config:
        allowed = TASK_METRICS[self.task] + LATENCY_METRICS
        fair = fairness_metric_names() if self.task == "binary" else ()
        for index, gate in enumerate(self.gates):
            if is_fairness_metric(gate.metric):
                if self.task != "binary":
                    raise ValueError(
                        f"gates[{index}].metric: {gate.metric} is a fairness metric of binary "
                        f"tasks; this task is {self.task}"
                    )
                if not self.fairness.groups:
                    raise ValueError(
                        f"gates[{index}].metric: {gate.metric} needs fairness.groups (the "
                        "group columns, e.g. fairness: {groups: [sex]})"
                    )
                continue
            if gate.metric not in allowed:
                raise ValueError(
                    f"gates[{index}].metric: {gate.metric!r} is not a {self.task} metric; "
                    f"allowed: {', '.join(allowed + fair)}"
                )
        return self


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``ml-ci.yaml`` (for editors: yaml-language-server, VS Code)."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ml-ci.yaml"
    return schema


def find_config(start: Path) -> Path:
    """``ml-ci.yaml`` in ``start`` or the nearest parent folder that has one."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"{CONFIG_FILE} not found in {start} or its parents; create one (ml-ci init) "
        "or pass --config PATH"
    )


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config:
    """Load and validate ``path`` (or the ``ml-ci.yaml`` found from ``start``)."""
    from ml_ci.config.yamlload import load_yaml  # local: keeps `ml-ci --help` fast

    if path is None:
        path = find_config(start or Path.cwd())
    if not path.is_file():
        raise ConfigError(f"{path}: no such file; create it (ml-ci init) or pass --config PATH")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    data = load_yaml(text, str(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of sections (task, model, gates, ...), "
            f"not a {type(data).__name__}"
        )
    return validate_config(data, source=str(path))


def validate_config(data: dict[str, Any], *, source: str = CONFIG_FILE) -> Config:
    """Validate an already-parsed mapping; errors name ``source`` and the key path."""
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{source}: {describe_validation_error(error, Config)}") from None


def describe_validation_error(error: ValidationError, model: type[BaseModel]) -> str:
    """One line for the first problem: the key path, what is wrong, and what is allowed."""
    problems = error.errors(include_url=False)
    first = problems[0]
    location = [part for part in first["loc"] if part not in ("function-after",)]
    path = _format_location(location)
    kind = first["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, location[:-1])
        message = f"{path}: unknown key; allowed keys here: {', '.join(allowed)}"
    elif kind == "value_error":
        # our own validators already phrase the problem (and sometimes the path)
        text = str(first["msg"]).removeprefix("Value error, ")
        message = text if not path else f"{path}: {text}"
    else:
        got = first.get("input")
        shown = json.dumps(got, default=str) if not isinstance(got, dict) else "a mapping"
        message = f"{path or '(top level)'}: {first['msg']} (got {shown})"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return message


def _format_location(location: list[Any]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _allowed_keys(model: type[BaseModel], location: list[Any]) -> list[str]:
    """Field names of the sub-model at ``location`` (list indexes skipped)."""
    current: Any = model
    for part in location:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            return []
        current = _section_type(field.annotation)
    return sorted(current.model_fields) if hasattr(current, "model_fields") else []


def _section_type(annotation: Any) -> Any:
    """The Section class inside ``X``, ``X | None`` or ``list[X]``."""
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _section_type(arg)
        if found is not None:
            return found
    return None


def default_gates(task: str) -> list[Gate]:
    """Gates used when ``gates`` is empty: the task's headline metric must not get worse."""
    metric = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}[task]
    return [Gate(metric=metric, rule="non_inferior", margin=0.01)]


__all__ = [
    "CONFIG_FILE",
    "LATENCY_METRICS",
    "TASK_METRICS",
    "Config",
    "Gate",
    "config_json_schema",
    "default_gates",
    "describe_validation_error",
    "find_config",
    "load_config",
    "validate_config",
]


def load_config_at(root: Path, commit: str, relative: str) -> Config | None:
    """The config file ``relative`` as committed at ``commit``, through :func:`load_config`
    (None when the file does not exist there); errors name ``<commit>:<relative>``."""
    import tempfile

    from ml_ci.gitutil import show_file

    blob = show_file(root, commit, relative)
    if blob is None:
        return None
    with tempfile.TemporaryDirectory(prefix="ml-ci-config-") as temp:
        path = Path(temp) / Path(relative).name
        path.write_bytes(blob)
        try:
            return load_config(path)
        except ConfigError as error:
            shown = str(error).replace(str(path), f"{commit[:12]}:{relative}")
            raise ConfigError(shown) from None
