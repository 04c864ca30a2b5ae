"""Data quality checks on the current table, one pure function per check.

Each check returns the findings for one column (or the table) with the number of affected rows
and a verdict: ``fail`` makes the dataset verdict ``significant`` (a person looks before anything
retrains on broken data), ``warn`` is reported only, ``pass`` means within tolerance.
Checks that find nothing are recorded once as a ``pass`` row with ``column: null``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from ml_ci.record.drift import QualityFinding

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

CHECKS = (
    "schema",
    "missing_values",
    "out_of_range",
    "unseen_categories",
    "duplicate_ids",
    "constant",
    "identifier_like",
)


def schema(
    reference: Mapping[str, str], current: Mapping[str, str], current_rows: int
) -> list[QualityFinding]:
    """Columns missing from the current table (fail), extra columns (warn) and compatible dtype
    changes such as int64 -> float64 (warn). ``reference``/``current`` map column -> dtype name.
    Incompatible dtypes (numeric vs text) are input errors, raised by the engine."""

    def finding(name: str, verdict: Literal["warn", "fail"], detail: str) -> QualityFinding:
        return QualityFinding(
            check="schema", column=name, rows=current_rows, verdict=verdict, detail=detail
        )

    missing = [name for name in reference if name not in current]
    extra = [name for name in current if name not in reference]
    changed = [n for n in reference if n in current and reference[n] != current[n]]
    return (
        [finding(n, "fail", "column missing from the current table") for n in missing]
        + [finding(n, "warn", "column not in the reference table") for n in extra]
        + [
            finding(n, "warn", f"dtype {reference[n]} in the reference, {current[n]} now")
            for n in changed
        ]
    )


def missing_values(column: str, missing: int, rows: int, max_share: float) -> QualityFinding | None:
    """Missing values (NaN, None, ±inf) in the current column: fail above ``max_share``."""
    if missing == 0:
        return None
    share = missing / rows
    return QualityFinding(
        check="missing_values",
        column=column,
        rows=missing,
        verdict="fail" if share > max_share else "pass",
        detail=f"{share:.2%} missing (limit {max_share:.2%})",
    )


def new_extremes_p_value(below: int, above: int, current: int, reference: int) -> float:
    """How surprising ``below``/``above`` current values outside the reference's [min, max]
    are if both tables come from one continuous distribution.

    The number of m new values above the maximum of n is beta-binomial(m, 1, n) (the maximum's
    upper tail mass is Beta(1, n); the count given it is binomial): on average m/(n + 1), but
    with a long tail, because one low reference maximum lets many values past. Below the
    minimum likewise; the two one-sided p-values are combined by Bonferroni. Ties (discrete
    data) only make exceedances rarer, so the test stays conservative there.
    """
    from scipy.stats import betabinom

    sides = [float(betabinom.sf(k - 1, current, 1, reference)) for k in (below, above) if k > 0]
    return min(1.0, 2 * min(sides)) if sides else 1.0


def unseen_p_value(
    reference_counts: npt.NDArray[np.int64],
    current_counts: npt.NDArray[np.int64],
    *,
    permutations: int = 499,
    seed: int = 0,
) -> float:
    """How surprising the current rows in categories the reference lacks are, if both tables
    come from one distribution: a Monte Carlo permutation test.

    ``reference_counts``/``current_counts`` are aligned per category. Under "same distribution"
    the pooled rows are exchangeable, so given the pooled count of each category the
    reference's share is multivariate hypergeometric. The statistic is the number of current
    rows in categories with no reference row; p = (1 + #{permuted >= observed}) / (1 + B),
    valid at any sample size and any tail (a long tail meets new categories all the time).
    """
    import numpy as np

    observed = int(current_counts[reference_counts == 0].sum())
    if observed == 0:
        return 1.0
    pooled = reference_counts + current_counts
    drawn = int(reference_counts.sum())
    rng = np.random.default_rng(seed)
    at_least = 0
    block = max(1, min(permutations, 4_000_000 // max(len(pooled), 1)))  # bounded memory
    done = 0
    while done < permutations:
        size = min(block, permutations - done)
        reference = rng.multivariate_hypergeometric(pooled, drawn, size=size, method="marginals")
        unseen = ((pooled - reference) * (reference == 0)).sum(axis=1)
        at_least += int((unseen >= observed).sum())
        done += size
    return (1 + at_least) / (1 + permutations)


def out_of_range(
    column: str,
    below: int,
    above: int,
    present: int,
    low: str,
    high: str,
    *,
    reference_rows: int,
    max_share: float,
    alpha: float,
) -> QualityFinding | None:
    """Current values outside the reference's [min, max] (``low``/``high`` as displayed).

    Some are expected: with the same distribution a new value falls outside the range of n
    reference values with probability 2/(n + 1). The check fails only when the share is above
    ``max_share`` AND :func:`new_extremes_p_value` is below ``alpha``.
    """
    outside = below + above
    if outside == 0:
        return None
    share = outside / present
    # a p-value only where the share could fail: no test spent (Holm) on what cannot
    p_value = (
        new_extremes_p_value(below, above, present, reference_rows) if share > max_share else None
    )
    chance = 2 / (reference_rows + 1)
    return QualityFinding(
        check="out_of_range",
        column=column,
        rows=outside,
        verdict="fail" if p_value is not None and p_value < alpha else "pass",
        detail=f"{below} below {low}, {above} above {high} ({share:.2%}, limit "
        f"{max_share:.2%}; {chance:.2%} expected by chance)",
        p_value=p_value,
    )


def unseen_categories(
    column: str,
    examples: list[str],
    distinct: int,
    reference_counts: npt.NDArray[np.int64],
    current_counts: npt.NDArray[np.int64],
    *,
    max_share: float,
    alpha: float,
) -> QualityFinding | None:
    """Rows whose category never occurs in the reference (``distinct`` new categories, the
    first few named in ``examples``; counts aligned per category, the reference's zero for
    the new ones).

    A column with a long tail meets new categories by chance, so the check fails only when the
    share is above ``max_share`` AND :func:`unseen_p_value` is below ``alpha``.
    """
    rows = int(current_counts[reference_counts == 0].sum())
    if rows == 0:
        return None
    share = rows / int(current_counts.sum())
    p_value = unseen_p_value(reference_counts, current_counts) if share > max_share else None
    shown = ", ".join(repr(label) for label in examples)
    more = f" and {distinct - len(examples)} more" if distinct > len(examples) else ""
    return QualityFinding(
        check="unseen_categories",
        column=column,
        rows=rows,
        verdict="fail" if p_value is not None and p_value < alpha else "pass",
        detail=f"{distinct} new: {shown}{more} ({share:.2%}, limit {max_share:.2%})",
        p_value=p_value,
    )


def duplicate_ids(column: str, duplicated_rows: int) -> QualityFinding | None:
    """Rows whose id already occurred earlier in the current table: any is a fail."""
    if duplicated_rows == 0:
        return None
    return QualityFinding(
        check="duplicate_ids",
        column=column,
        rows=duplicated_rows,
        verdict="fail",
        detail=f"{duplicated_rows} rows repeat an earlier id",
    )


def constant(
    column: str, reference_distinct: int, current_distinct: int, present: int
) -> QualityFinding | None:
    """A column with one value in the current table. If it varied in the reference, an upstream
    step probably broke (fail); constant in both, it is useless as a feature (warn)."""
    if current_distinct != 1:
        return None
    varied = reference_distinct > 1
    return QualityFinding(
        check="constant",
        column=column,
        rows=present,
        verdict="fail" if varied else "warn",
        detail="one value now, varied in the reference" if varied else "one value in both tables",
    )


def with_passes(findings: Iterable[QualityFinding], checks: Iterable[str]) -> list[QualityFinding]:
    """The findings, plus one ``pass`` row for each check that ran and found nothing."""
    found = list(findings)
    seen = {finding.check for finding in found}
    passes = [
        QualityFinding(check=check, column=None, rows=0, verdict="pass")
        for check in checks
        if check not in seen
    ]
    return found + passes


def identifier_like(column: str, distinct: int, present: int, max_share: float) -> QualityFinding:
    """A text column with mostly distinct values in the reference (an id, an e-mail, free
    text): category frequencies say nothing about drift there, and every current value would
    be an unseen category, so the column is not compared (warn)."""
    return QualityFinding(
        check="identifier_like",
        column=column,
        rows=present,
        verdict="warn",
        detail=f"{distinct} distinct values in {present} reference rows "
        f"({distinct / present:.0%}, limit {max_share:.0%}): looks like an identifier or free "
        "text, not compared; exclude it, or name it in drift.methods to compare it",
    )
