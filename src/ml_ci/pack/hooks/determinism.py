"""Hook ``ml-ci-determinism``: training code that draws random numbers without a seed.

A static check over the ``ast`` of each Python file (nothing is imported or run). It reports:

* a scikit-learn estimator/splitter that takes ``random_state`` built without one (or with
  ``random_state=None``); ``KFold``-like splitters only when ``shuffle=True``;
* ``numpy.random.<sampler>()`` in a module that never calls ``numpy.random.seed(...)``, and
  ``numpy.random.default_rng()`` / ``RandomState()`` without a seed;
* ``random.<sampler>()`` in a module that never calls ``random.seed(...)``, and ``random.Random()``
  without a seed;
* a module importing ``torch`` that never calls ``torch.manual_seed`` (or a known seed-everything).

Names are resolved through the module's imports (``import numpy as np``, ``from sklearn.ensemble
import RandomForestClassifier as RF``). A finding is silenced by the comment
``# ml-ci: allow-random`` on any line of the flagged expression.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ml_ci.pack.hooks import Finding

OPT_OUT = "ml-ci: allow-random"

#: scikit-learn callables with a ``random_state`` parameter (checked against scikit-learn's
#: ``all_estimators()`` and ``sklearn.model_selection`` signatures in tests/pack).
SKLEARN_RANDOM_STATE = frozenset(
    [
        "AdaBoostClassifier",
        "AdaBoostRegressor",
        "AffinityPropagation",
        "BaggingClassifier",
        "BaggingRegressor",
        "BayesianGaussianMixture",
        "BernoulliRBM",
        "BisectingKMeans",
        "ClassifierChain",
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "DictionaryLearning",
        "DummyClassifier",
        "ElasticNet",
        "ElasticNetCV",
        "EllipticEnvelope",
        "ExtraTreeClassifier",
        "ExtraTreeRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "FactorAnalysis",
        "FastICA",
        "GaussianMixture",
        "GaussianProcessClassifier",
        "GaussianProcessRegressor",
        "GaussianRandomProjection",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
        "IsolationForest",
        "KBinsDiscretizer",
        "KMeans",
        "KernelPCA",
        "Lars",
        "Lasso",
        "LassoCV",
        "LassoLars",
        "LatentDirichletAllocation",
        "LinearSVC",
        "LinearSVR",
        "LocallyLinearEmbedding",
        "LogisticRegression",
        "LogisticRegressionCV",
        "MDS",
        "MLPClassifier",
        "MLPRegressor",
        "MinCovDet",
        "MiniBatchDictionaryLearning",
        "MiniBatchKMeans",
        "MiniBatchNMF",
        "MiniBatchSparsePCA",
        "MultiTaskElasticNet",
        "MultiTaskElasticNetCV",
        "MultiTaskLasso",
        "MultiTaskLassoCV",
        "NMF",
        "NeighborhoodComponentsAnalysis",
        "NuSVC",
        "Nystroem",
        "OutputCodeClassifier",
        "PCA",
        "PassiveAggressiveClassifier",
        "PassiveAggressiveRegressor",
        "PatchExtractor",
        "Perceptron",
        "PolynomialCountSketch",
        "QuantileTransformer",
        "RANSACRegressor",
        "RBFSampler",
        "RandomForestClassifier",
        "RandomForestRegressor",
        "RandomTreesEmbedding",
        "RandomizedSearchCV",
        "RegressorChain",
        "Ridge",
        "RidgeClassifier",
        "SGDClassifier",
        "SGDOneClassSVM",
        "SGDRegressor",
        "SVC",
        "SkewedChi2Sampler",
        "SparsePCA",
        "SparseRandomProjection",
        "SpectralBiclustering",
        "SpectralClustering",
        "SpectralCoclustering",
        "SpectralEmbedding",
        "TSNE",
        "TargetEncoder",
        "TheilSenRegressor",
        "TruncatedSVD",
        "TunedThresholdClassifierCV",
        "train_test_split",
        "ShuffleSplit",
        "StratifiedShuffleSplit",
        "GroupShuffleSplit",
        "RepeatedKFold",
        "RepeatedStratifiedKFold",
        "ParameterSampler",
        "permutation_test_score",
    ]
)
#: splitters that are random only with ``shuffle=True``.
SKLEARN_SHUFFLE_ONLY = frozenset({"KFold", "StratifiedKFold", "StratifiedGroupKFold"})

#: ``numpy.random`` names that are not samplers of the global state.
_NUMPY_NOT_SAMPLERS = frozenset(
    {"seed", "default_rng", "RandomState", "Generator", "SeedSequence", "BitGenerator",
     "PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64", "get_state", "set_state"}
)  # fmt: skip
_RANDOM_NOT_SAMPLERS = frozenset({"seed", "Random", "SystemRandom", "getstate", "setstate"})
_TORCH_SEEDS = frozenset(
    {"torch.manual_seed", "torch.random.manual_seed", "torch.cuda.manual_seed",
     "torch.cuda.manual_seed_all", "lightning.seed_everything", "lightning.pytorch.seed_everything",
     "pytorch_lightning.seed_everything", "transformers.set_seed", "accelerate.utils.set_seed"}
)  # fmt: skip


@dataclass
class _Module:
    """What one pass over a module collected: aliases, seeds seen, and suspect calls."""

    aliases: dict[str, str] = field(default_factory=dict)
    torch_import: ast.stmt | None = None
    seeded: set[str] = field(default_factory=set)  # "numpy", "random", "torch"
    suspects: list[tuple[str, ast.Call, str]] = field(default_factory=list)  # (needs, node, msg)


def qualified_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The dotted name a call target refers to, through the module's import aliases."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _collect_imports(tree: ast.Module, module: _Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    module.aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    module.aliases[top] = top
                if alias.name.split(".")[0] == "torch" and module.torch_import is None:
                    module.torch_import = node
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                module.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            if node.module.split(".")[0] == "torch" and module.torch_import is None:
                module.torch_import = node


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _unseeded_constructor(call: ast.Call) -> bool:
    """``f()`` / ``f(None)`` / ``f(seed=None)``: a generator built without a seed."""
    if any(kw.arg is None for kw in call.keywords):  # **kwargs: cannot tell
        return False
    if call.args:
        return _is_none(call.args[0])
    seed = _keyword(call, "seed")
    return seed is None or _is_none(seed)


def _visit_call(call: ast.Call, name: str, module: _Module) -> None:
    short = name.rsplit(".", 1)[-1]
    if name in _TORCH_SEEDS:
        module.seeded.add("torch")
    elif name.startswith("sklearn."):
        if any(kw.arg is None for kw in call.keywords):
            return
        state = _keyword(call, "random_state")
        random = short in SKLEARN_RANDOM_STATE or (
            short in SKLEARN_SHUFFLE_ONLY
            and isinstance(_keyword(call, "shuffle"), ast.Constant)
            and getattr(_keyword(call, "shuffle"), "value", False) is True
        )
        if random and (state is None or _is_none(state)):
            module.suspects.append(
                ("", call, f"{short}() without random_state: pass random_state=<seed>")
            )
    elif name.startswith("numpy.random."):
        if short == "seed" and call.args:
            module.seeded.add("numpy")
        elif short in ("default_rng", "RandomState") and _unseeded_constructor(call):
            module.suspects.append(("", call, f"numpy.random.{short}() without a seed: pass one"))
        elif short not in _NUMPY_NOT_SAMPLERS:
            module.suspects.append(
                ("numpy", call, f"numpy.random.{short}() without numpy.random.seed(...) in this "
                 "module: use numpy.random.default_rng(<seed>)")
            )  # fmt: skip
    elif name.startswith("random.") and name.count(".") == 1:
        if short == "seed" and call.args:
            module.seeded.add("random")
        elif short == "Random" and _unseeded_constructor(call):
            module.suspects.append(("", call, "random.Random() without a seed: pass one"))
        elif short not in _RANDOM_NOT_SAMPLERS:
            module.suspects.append(
                ("random", call, f"random.{short}() without random.seed(...) in this module")
            )


def _opted_out(node: ast.AST, lines: list[str]) -> bool:
    start = getattr(node, "lineno", 1)
    end = getattr(node, "end_lineno", None) or start
    return any(OPT_OUT in lines[index - 1] for index in range(start, min(end, len(lines)) + 1))


def check_source(source: str, path: str = "<string>") -> list[Finding]:
    """Findings for one module's source (empty if it does not parse: other hooks report that)."""
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError):
        return []
    module = _Module()
    _collect_imports(tree, module)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = qualified_name(node.func, module.aliases)
            if name:
                _visit_call(node, name, module)
    lines = source.splitlines()
    findings = [
        Finding(path, f"{message} (or add '# {OPT_OUT}')", node.lineno)
        for needs, node, message in module.suspects
        if (not needs or needs not in module.seeded) and not _opted_out(node, lines)
    ]
    if (
        module.torch_import is not None
        and "torch" not in module.seeded
        and not _opted_out(module.torch_import, lines)
    ):
        findings.append(
            Finding(
                path,
                f"imports torch but never calls torch.manual_seed(<seed>) (or add '# {OPT_OUT}')",
                module.torch_import.lineno,
            )
        )
    return sorted(findings, key=lambda finding: finding.line or 0)


def check(paths: Iterable[Path]) -> list[Finding]:
    """Findings for each Python file in ``paths``."""
    findings: list[Finding] = []
    for path in paths:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        findings.extend(check_source(source, str(path)))
    return findings
