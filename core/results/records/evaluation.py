"""A Run's evaluation (``evaluation.json``: where truth exists, how well each method separates the signal in
the evaluation window) as a typed record (see ``records``); read by the Performance and Correlation views,
``plot`` and ``run``'s summary."""

from __future__ import annotations

from dataclasses import dataclass

from anomalyscope.core.records import Record


@dataclass(frozen=True)
class Region(Record):
    window: str
    sr_gev: list[float]  # the window's signal region [GeV]
    deta_max: float


@dataclass(frozen=True)
class MethodPerformance(Record):
    """ROC (up to 200 points), AUC, max SIC above the background-efficiency floor (≥ 20 background events),
    background rejection 1/ε_B at fixed signal efficiencies (``"0.2"`` → rejection)."""

    auc: float
    max_sic: float
    eps_b_floor: float
    rejection_at: dict[str, float]
    n_signal: int
    n_background: int
    eps_s: list[float]
    eps_b: list[float]


@dataclass(frozen=True)
class NotEvaluated(Record):
    error: str  # why this method has no performance (e.g. no signal event in the window)


@dataclass(frozen=True)
class Correlations(Record):
    """Score correlations over one sample: matrices indexed like ``methods``."""

    n_events: int
    methods: list[str]
    pearson: list[list[float]]
    spearman: list[list[float]]
    jaccard_top: list[list[float]]  # overlap of each pair's top ``top_fraction`` of events


@dataclass(frozen=True)
class Complementarity(Record):
    top_fraction: float
    background: Correlations | None = None  # a sample with fewer than two informative scores is left out
    signal: Correlations | None = None
    data: Correlations | None = None


@dataclass(frozen=True)
class Evaluation(Record):
    region: Region
    methods: dict[str, MethodPerformance | NotEvaluated]
    complementarity: Complementarity | None = None
    schema_version: int = 0

    def evaluated(self) -> dict[str, MethodPerformance]:
        """The methods that have a performance, in the Run's order."""
        return {m: p for m, p in self.methods.items() if isinstance(p, MethodPerformance)}
