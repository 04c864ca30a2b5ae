"""The approved-source catalog: parsing, each kind of violation, one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_ci.governance.catalog import (
    CatalogError,
    check_features,
    check_model_type,
    check_sources,
    parse_catalog,
)
from ml_ci.pack.hooks.catalog import check as hook_check
from tests.pack.snapshot import copy_tree_into_repo

EXAMPLES = Path(__file__).resolve().parents[1] / "hook_examples" / "ml-ci-catalog"
CATALOG = """\
sources: [https://data.example.com/*, git@github.com:acme/datasets.git]
remotes: [s3://acme-ml/*]
paths: [data/*, models/*]
features: [age, income]
model_types: [sklearn.linear_model.LogisticRegression]
model_type: {params: params.yaml, key: train.model}
"""


def _reader(files: dict[str, str]):
    return lambda path: files[path].encode() if path in files else None


def test_every_kind_of_unapproved_source_is_named() -> None:
    catalog = parse_catalog(CATALOG, "main:catalog.yaml")
    files = {
        ".dvc/config": "['remote \"other\"']\n    url = s3://someone-else/store\n",
        "data/a.csv.dvc": "deps:\n- path: https://evil.example/a.csv\nouts:\n- path: a.csv\n",
        "data/b.csv.dvc": (
            "deps:\n- path: b.csv\n  repo: {url: 'https://github.com/mallory/data'}\n"
            "outs:\n- path: b.csv\n"
        ),
        "secret/c.csv.dvc": "outs:\n- path: c.csv\n",
        "dvc.yaml": (
            "stages:\n  train:\n    cmd: x\n    deps: [s3://other-bucket/f.parquet, data/a.csv]\n"
            "    outs: [models/model.pkl, {out/extra.bin: {cache: false}}]\n"
        ),
        "params.yaml": "train:\n  model: xgboost.XGBClassifier\n",
    }
    read = _reader(files)
    dvc_files = ["data/a.csv.dvc", "data/b.csv.dvc", "secret/c.csv.dvc"]
    lines = [v.line(catalog) for v in check_sources(catalog, read, dvc_files)]
    lines += [v.line(catalog) for v in check_model_type(catalog, read)]
    lines += [v.line(catalog) for v in check_features(catalog, ["age", "zip"], "data/test.csv")]
    expected = [
        ".dvc/config: remote 'other' (s3://someone-else/store) is not approved (not in remotes",
        "data/a.csv.dvc: import source https://evil.example/a.csv is not approved (not in sources",
        "data/b.csv.dvc: import source https://github.com/mallory/data is not approved",
        "secret/c.csv.dvc: DVC-tracked path secret/c.csv is not approved (not in paths",
        "dvc.yaml: stage train's dependency s3://other-bucket/f.parquet is not approved",
        "dvc.yaml: stage train's output out/extra.bin is not approved (not in paths",
        "params.yaml: model type xgboost.XGBClassifier is not approved (not in model_types",
        "data/test.csv: feature column 'zip' is not approved (not in features",
    ]
    assert len(lines) == len(expected), lines
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), line
        assert "main:catalog.yaml" in line and "\n" not in line


def test_approved_sources_pass() -> None:
    catalog = parse_catalog(CATALOG, "catalog.yaml")
    files = {
        ".dvc/config": "['remote \"store\"']\n    url = s3://acme-ml/store\n",
        "data/a.csv.dvc": "deps:\n- path: https://data.example.com/a.csv\nouts:\n- path: a.csv\n",
        "params.yaml": "train:\n  model: sklearn.linear_model.LogisticRegression\n",
    }
    read = _reader(files)
    assert check_sources(catalog, read, ["data/a.csv.dvc"]) == []
    assert check_model_type(catalog, read) == []
    assert check_features(catalog, ["age", "income"], "d.csv") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: https://x\n", "sources must be a list"),
        ("approved: []\n", "unknown key 'approved'"),
        ("- a\n", "must be a mapping"),
        ("model_type: train.model\n", "model_type must be"),
        ("sources: [\n", "not valid YAML"),
    ],
)
def test_a_broken_catalog_is_one_line(text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message) as error:
        parse_catalog(text, "catalog.yaml")
    assert str(error.value).startswith("catalog.yaml: ") and "\n" not in str(error.value)


def test_model_types_without_a_declared_place_is_a_catalog_error() -> None:
    catalog = parse_catalog("model_types: [a.B]\n", "catalog.yaml")
    with pytest.raises(CatalogError, match="model_types needs model_type"):
        check_model_type(catalog, _reader({}))


@pytest.mark.parametrize("outcome", ["pass", "fail"])
def test_the_hook_on_its_examples(outcome: str, tmp_path: Path) -> None:
    repo = copy_tree_into_repo(EXAMPLES / outcome, tmp_path / outcome)
    findings = hook_check(repo)
    if outcome == "pass":
        assert findings == []
    else:
        assert [f.path for f in findings] == ["data/raw.csv.dvc"]
        assert "https://files.attacker.example/raw.csv" in findings[0].message
