"""The comparison engine against PUBLISHED worked examples (project rule: every statistical
method is checked against a worked example from the literature where one exists).

Every expected number below was read verbatim from the public source named in the test's
docstring, and is compared at the precision it was published with: a value printed with
k decimals is asserted to within half a unit in the k-th decimal.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from ml_ci.compare import paired
from ml_ci.compare.gates import holm

Z95 = float(norm.ppf(0.975))


def _within_rounding(value: float, published: float, decimals: int) -> bool:
    return abs(value - published) <= 0.5 * 10.0**-decimals + 1e-12


# --- Newcombe (1998) method 10 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "published_low", "published_high"),
    [
        ((36, 12, 2, 0), 0.0569, 0.3404),
        ((18, 12, 2, 18), 0.0562, 0.3290),
        ((53, 0, 0, 1), -0.0729, 0.0729),
        ((0, 30, 0, 0), 0.8395, 1.0),
    ],
    ids=["36-12-2-0", "18-12-2-18", "53-0-0-1", "0-30-0-0"],
)
def test_newcombe_1998_method_10_worked_examples(
    cells: tuple[int, int, int, int], published_low: float, published_high: float
) -> None:
    """Newcombe RG (1998), "Improved confidence intervals for the difference between binomial
    proportions based on paired data", Stat Med 17:2635-2650: the paper's worked examples,
    95% interval by method 10 (hybrid score with the phi correction), to 4 decimals.

    Numbers as transcribed from the paper in the R package propint (Martin Papenberg),
    GitHub m-Py/propint, tests/testthat/test_Two_Dependent_Props_CI.R, test
    "ci.two.dep.props produces the results reported in Newcombe1998" (the same four tables
    are listed as "Examples from Newcombe (1998)" in R/ci_two_dep_props.R). propint's cells
    are e (both events), f (first only), g (second only), h (neither) and its difference is
    (f - g) / n, so e, f, g, h map to both, cand_only, base_only, neither here.
    """
    both, first_only, second_only, neither = cells
    counts = paired.PairedCounts(both, first_only, second_only, neither)
    low, high = paired.newcombe_paired(counts, Z95)
    assert _within_rounding(low, published_low, 4), (low, published_low)
    assert _within_rounding(high, published_high, 4), (high, published_high)
    # The point estimate the interval is built around.
    delta = paired.accuracy_delta(counts)
    assert delta.value == pytest.approx((first_only - second_only) / sum(cells), abs=1e-15)
    assert (delta.lower(0.025), delta.upper(0.025)) == pytest.approx((low, high), abs=1e-12)


def test_newcombe_1998_is_antisymmetric_in_the_discordant_cells() -> None:
    """Swapping the two discordant cells of Newcombe's (1998) first example (36, 12, 2, 0;
    published 0.0569 to 0.3404, source as above) must mirror the interval: -0.3404 to
    -0.0569."""
    low, high = paired.newcombe_paired(paired.PairedCounts(36, 2, 12, 0), Z95)
    assert _within_rounding(low, -0.3404, 4)
    assert _within_rounding(high, -0.0569, 4)


# --- exact McNemar ----------------------------------------------------------------------------


def test_exact_mcnemar_armitage_berry_sputum_culture_example() -> None:
    """Armitage P & Berry G (1994), Statistical Methods in Medical Research, p. 127, as worked
    in the StatsDirect manual, "Matched pairs / McNemar" (statsdirect.com/help/chi_square_tests/
    mat.htm): 50 sputum specimens plated on two media, Medium A growth / Medium B growth 20,
    A growth / B no growth 12, A no growth / B growth 2, neither 16. The exact test "is a
    special case of the sign test" (b ~ Bin(b + c, 1/2)); StatsDirect reports
    "P (two sided) = 0.0129", 4 decimals.
    """
    counts = paired.PairedCounts(both=20, cand_only=12, base_only=2, neither=16)
    p = paired.mcnemar_exact_p(counts)
    assert _within_rounding(p, 0.0129, 4), p
    # The test is two-sided: relabelling which model is the candidate changes nothing.
    assert paired.mcnemar_exact_p(paired.PairedCounts(20, 2, 12, 16)) == p


# --- DeLong: Hanley & McNeil (1982) rating data -----------------------------------------------

# Hanley JA & McNeil BJ (1982), "The meaning and use of the area under a receiver operating
# characteristic (ROC) curve", Radiology 143:29-36, Table I: ratings 1 (definitely normal) to
# 5 (definitely abnormal) of 58 truly normal and 51 truly abnormal CT images. Also Stata's
# example dataset hanley.dta. Counts per rating as reproduced in public test code (a test
# module of the open-source "openecon" package citing "Hanley and McNeil (1982), Table I /
# Stata's hanley.dta", search-index file id 70304546413).
HM_NORMAL = [33, 6, 6, 11, 2]
HM_ABNORMAL = [3, 2, 2, 11, 33]


def _hanley_mcneil() -> tuple[np.ndarray, np.ndarray]:
    ratings = np.arange(1, 6, dtype=np.float64)
    score = np.r_[np.repeat(ratings, HM_NORMAL), np.repeat(ratings, HM_ABNORMAL)]
    y = np.r_[np.zeros(sum(HM_NORMAL)), np.ones(sum(HM_ABNORMAL))].astype(np.int64)
    return score, y


def test_delong_hanley_mcneil_1982_area() -> None:
    """Hanley & McNeil (1982), Radiology 143:29-36: the area under the empirical ROC curve of
    their Table I rating data (ties counted one half, i.e. the Wilcoxon statistic W) is
    published as 0.893 (3 decimals). Data as above.
    """
    score, y = _hanley_mcneil()
    auc, v10, v01 = paired.delong_components(score, y, np.argsort(score, kind="stable"))
    assert _within_rounding(auc, 0.893, 3), auc
    assert (len(v10), len(v01)) == (51, 58)


def test_delong_standard_error_matches_stata_roctab_on_hanley_data() -> None:
    """Stata [R] roctab manual, example on hanley.dta (the Hanley & McNeil 1982 Table I data
    above). roctab's default standard error is DeLong's; the manual's output is "Obs 109,
    ROC area 0.8932, Std. err. 0.0307, asymptotic normal 95% CI 0.83295 0.95339" -- numbers
    as transcribed from the manual in the openecon test module cited above
    (test_roc_reproduces_stata_roctab_and_hanley_mcneil_1982).

    Note: Hanley & McNeil's own SE of 0.032 for these data is THEIR estimator (Q1/Q2 moment
    formula), not DeLong's, so it is deliberately not asserted against the DeLong SE here.
    """
    score, y = _hanley_mcneil()
    components = paired.delong_components(score, y, np.argsort(score, kind="stable"))
    # The single-AUC DeLong moments are the candidate side of delong_moments.
    single = paired.delong_moments(components, components)
    se = math.sqrt(single.var_c)
    assert len(y) == 109
    assert _within_rounding(single.auc_c, 0.8932, 4), single.auc_c
    assert _within_rounding(se, 0.0307, 4), se
    z = 1.959963984540054
    assert _within_rounding(single.auc_c - z * se, 0.83295, 5)
    assert _within_rounding(single.auc_c + z * se, 0.95339, 5)
    # the gates use the logit-scale interval built on the same SE: skewed, inside [0, 1]
    _, own, _ = paired.delong_pair(components, components)
    low, high = own.interval(0.05)
    assert low < 0.83295 and high < 0.95339 and 0 < low < single.auc_c < high < 1


# --- Holm ---------------------------------------------------------------------------------------


def test_holm_adjusted_p_values_pingouin_documentation_example() -> None:
    """Holm S (1979), Scand J Stat 6:65-70, adjusted p-values as in the worked example of the
    pingouin documentation, pingouin.holm (found in the search "pages" corpus, a copy of the
    pingouin API page): pvals [.50, .003, .32, .054, .0003] -> pvals_corr
    [0.64, 0.012, 0.64, 0.162, 0.0015], reject [False, True, False, False, True] at
    alpha = .05. Published to the digits shown (all exact in decimal), asserted to 1e-12.

    Caveat: this is software documentation, not Holm's paper or a textbook; Holm (1979)
    states the sequentially rejective procedure, not adjusted p-values, and no textbook
    table of Holm-adjusted p-values was found in the sources searched.
    """
    adjusted = holm([0.50, 0.003, 0.32, 0.054, 0.0003])
    assert adjusted == pytest.approx([0.64, 0.012, 0.64, 0.162, 0.0015], abs=1e-12)
    assert [a < 0.05 for a in adjusted] == [False, True, False, False, True]


def test_holm_step_down_decisions_hdlsskst_documentation_example() -> None:
    """Holm's (1979) step-down procedure, worked example of the CRAN package HDLSSkST,
    function Holm (search.r-project.org/CRAN/refmans/HDLSSkST/html/Holm.html): p-values
    (0.50, 0.01, 0.001, 0.69, 0.02, 0.05, 0.0025) at alpha = 0.05 give the decisions
    "0 0 1 0 0 0 1". Holm rejects H_(i) while p_(i) < alpha / (m - i + 1), i.e. while the
    adjusted p-value is strictly below alpha (0.01 has adjusted value 5 x 0.01 = alpha and is
    published as not rejected).
    """
    adjusted = holm([0.50, 0.01, 0.001, 0.69, 0.02, 0.05, 0.0025])
    assert [int(a < 0.05) for a in adjusted] == [0, 0, 1, 0, 0, 0, 1]
