"""Data quality checks on the current table, one pure function per check.

Each check returns the findings for one column (or the table) with the number of affected rows
and a verdict: ``fail`` makes the dataset verdict ``significant`` (a person looks before anything
retrains on broken data), ``warn`` is reported only, ``pass`` means within tolerance.
Checks that find nothing are recorded once as a ``pass`` row with ``column: null``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from ml_ci.record.drift import QualityFinding

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
    rows: int, present: int, singletons: int, doubletons: int, reference: int
) -> float:
    """How surprising ``rows`` current rows in categories the reference lacks are, if both
    tables come from one distribution.

    The share of rows in unseen categories is estimated by Good-Turing from the reference, as
    its singletons per row (N1/n), with Esty's (1983) variance (N1 + 2 N2 - N1^2/n) / n^2; the
    current share adds binomial noise. One-sided normal test of the difference.
    """
    from scipy.stats import norm

    expected = singletons / reference
    if rows / present <= expected:  # one-sided: no more than chance predicts
        return 1.0
    variance = (singletons + 2 * doubletons - singletons**2 / reference) / reference**2
    variance += expected * (1 - expected) / present
    if variance <= 0:  # no singletons: any new category is beyond chance
        return 0.0 if rows > 0 else 1.0
    z = (rows / present - expected) / math.sqrt(variance)
    return float(norm.sf(z))


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
    p_value = new_extremes_p_value(below, above, present, reference_rows)
    chance = 2 / (reference_rows + 1)
    return QualityFinding(
        check="out_of_range",
        column=column,
        rows=outside,
        verdict="fail" if share > max_share and p_value < alpha else "pass",
        detail=f"{below} below {low}, {above} above {high} ({share:.2%}, limit "
        f"{max_share:.2%}; {chance:.2%} expected by chance)",
        p_value=p_value,
    )


def unseen_categories(
    column: str,
    examples: list[str],
    distinct: int,
    rows: int,
    present: int,
    *,
    reference_counts: Sequence[int],
    max_share: float,
    alpha: float,
) -> QualityFinding | None:
    """Rows whose category never occurs in the reference (``distinct`` new categories, the
    first few named in ``examples``).

    A column with a long tail meets new categories by chance. The check fails only when the
    share is above ``max_share`` AND :func:`unseen_p_value` (from the reference's categories
    seen once and twice, ``reference_counts``) is below ``alpha``.
    """
    if rows == 0:
        return None
    share = rows / present
    singletons = sum(1 for count in reference_counts if count == 1)
    doubletons = sum(1 for count in reference_counts if count == 2)
    reference = sum(reference_counts)
    p_value = unseen_p_value(rows, present, singletons, doubletons, reference)
    shown = ", ".join(repr(label) for label in examples)
    more = f" and {distinct - len(examples)} more" if distinct > len(examples) else ""
    return QualityFinding(
        check="unseen_categories",
        column=column,
        rows=rows,
        verdict="fail" if share > max_share and p_value < alpha else "pass",
        detail=f"{distinct} new: {shown}{more} ({share:.2%}, limit {max_share:.2%}; "
        f"{singletons / reference:.2%} expected by chance)",
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
