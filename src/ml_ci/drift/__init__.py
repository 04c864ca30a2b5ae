"""Data drift and data quality: methods, quality checks, the engine behind ``ml-ci drift``,
and the decision logic behind ``ml-ci watch``."""
