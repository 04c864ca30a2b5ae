"""Statistical comparison of a candidate model with its baseline on the same rows.

Modules, from the data in to the verdict out:

* :mod:`~ml_ci.compare.inputs`   load, validate and join the two predictions tables
* :mod:`~ml_ci.compare.metrics`  point metrics (equal to scikit-learn's)
* :mod:`~ml_ci.compare.paired`   McNemar / Newcombe / Wilson, DeLong, order statistics
* :mod:`~ml_ci.compare.bootstrap` the shared Poisson bootstrap
* :mod:`~ml_ci.compare.estimates` intervals and one-sided p-values that agree by construction
* :mod:`~ml_ci.compare.gates`    gate verdicts, margins, Holm, minimum detectable effect
* :mod:`~ml_ci.compare.power`    ``planned_mde``: the MDE before a candidate exists
* :mod:`~ml_ci.compare.curves`   ROC / PR curves from the engine's sort
* :mod:`~ml_ci.compare.latency`  latency quantiles (per-row column or timed predict runs)
* :mod:`~ml_ci.compare.engine`   ``execute`` / ``compare_tables``: everything above, in order
* :mod:`~ml_ci.compare.baseline` score the baseline model on the candidate's rows
"""
