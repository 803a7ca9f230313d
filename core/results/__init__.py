"""Runs: per-event scores of every method, flat-efficiency thresholds, evaluation, models."""

from core.results.run import Run, threshold_column, write_run

__all__ = ["Run", "threshold_column", "write_run"]
