"""Hook ``ml-ci-catalog``: DVC sources, remotes, tracked paths and the model type are approved.

Reads the catalog named by ``governance.catalog`` in ``ml-ci.yaml`` (or ``--catalog``) from the
working tree, and the repository's ``.dvc/config``, ``*.dvc`` files, ``dvc.yaml`` and params
file. Feature columns need the data, so only the pull-request check checks them. The
pull-request check reads the catalog from the base branch instead: this hook is early
feedback, not the gate.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ml_ci.pack.hooks import Finding


def check(root: Path, catalog_path: Path | None = None) -> list[Finding]:
    from ml_ci.config import CONFIG_FILE, load_config
    from ml_ci.governance.catalog import (
        CatalogError,
        check_model_type,
        check_sources,
        parse_catalog,
    )

    if catalog_path is None:
        config_file = root / CONFIG_FILE
        if not config_file.is_file():
            return [Finding(CONFIG_FILE, "not found; run the hook at the repository root")]
        named = load_config(config_file).governance.catalog
        if named is None:
            return [Finding(CONFIG_FILE, "governance.catalog is not set: name the catalog file")]
        catalog_path = root / named
    try:
        text = catalog_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [Finding(str(catalog_path), f"cannot read the catalog ({error.__class__.__name__})")]
    try:
        catalog = parse_catalog(
            text,
            str(
                catalog_path.relative_to(root)
                if catalog_path.is_relative_to(root)
                else catalog_path
            ),
        )
    except CatalogError as error:
        return [Finding(str(catalog_path), str(error).split(": ", 1)[-1])]

    def read(path: str) -> bytes | None:
        file = root / path
        return file.read_bytes() if file.is_file() else None

    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z", "--", "*.dvc"],
        cwd=root, capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    dvc_files = [name for name in listed.split("\0") if name]
    try:
        violations = check_sources(catalog, read, dvc_files) + check_model_type(catalog, read)
    except CatalogError as error:
        return [Finding(str(catalog_path), str(error).split(": ", 1)[-1])]
    return [Finding(v.file, v.line(catalog).split(": ", 1)[1]) for v in violations]
