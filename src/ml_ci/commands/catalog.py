"""``ml-ci catalog``: the pull request's data sources, features and model type are approved."""

from __future__ import annotations

from pathlib import Path

import click

from ml_ci.commands._common import config_option
from ml_ci.console import Console, json_option


@click.command("catalog")
@config_option
@click.option(
    "--record",
    "record_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("ml-ci-record.json"),
    show_default=True,
    help="Evaluation record to add the catalog section to.",
)
@json_option
def command(config_path: Path | None, record_path: Path, json_mode: bool) -> None:
    """Check DVC remotes, imports, tracked paths, the model type and the evaluation data's
    feature columns against governance.catalog, read from the base branch (exit 1 on a
    violation; exit 0 with nothing to do when the base branch configures no catalog)."""
    from ml_ci.config import find_config, load_config
    from ml_ci.errors import ConfigError, GateFailed
    from ml_ci.gitutil import repo_root
    from ml_ci.governance.catalog import CatalogError, check_pull_request, feature_columns
    from ml_ci.record import load_record, save_record
    from ml_ci.record.catalog import CatalogSection
    from ml_ci.tables import column_names

    console = Console(json_mode=json_mode)
    path = (config_path or find_config(Path.cwd())).resolve()
    config = load_config(path)
    root = repo_root(path.parent)
    columns = None
    data = config.predict.data
    if data and (root / data).is_file():
        excluded = [config.predictions.id, config.drift.id_column or "", *config.drift.exclude]
        columns = feature_columns(column_names(root / data), excluded)
    try:
        found = check_pull_request(
            root, config, str(path.relative_to(root)), columns=columns, data_file=data or "-"
        )
    except CatalogError as error:
        raise ConfigError(str(error)) from None
    section = CatalogSection(
        verdict=found.verdict,
        origin=found.catalog.origin if found.catalog else None,
        violations=found.lines(),
        changed=found.changed,
    )
    target = record_path if record_path.is_absolute() else root / record_path
    record = load_record(target, missing_ok=True)
    record.catalog = section
    save_record(target, record)
    if found.catalog is None:
        text = "catalog: none configured on the base branch (governance.catalog)"
    elif found.violations:
        text = "\n".join(section.violations)
    else:
        text = f"catalog: every source, path and model type is approved ({section.origin})"
    if found.changed:
        text += "\ncatalog: this pull request changes the catalog; that needs a governance approval"
    console.result(text, section.model_dump())
    if found.violations:
        raise GateFailed(f"catalog: {len(found.violations)} violation(s) of {section.origin}")
