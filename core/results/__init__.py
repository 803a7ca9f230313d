"""Runs: per-event scores of every method, selection thresholds, the search's result, evaluation, models."""

from anomalyscope.core.results.run import Run, write_run

__all__ = ["Run", "write_run"]
