"""The Lund-plane reweighting of a Run (``RUN/lund/report.json`` and ``RUN/lund/closure.json``) as typed
records (see ``records``); read by the Lund view, ``lund``'s summary and the tests.

Efficiencies are fractions of signal (or control) jets' events; uncertainties are absolute, per source
(``stat``: the ratio's statistics through toys; ``model``: the alternative simulation; ``pt_extrapolation``,
``unmatched``, ``shared``: the subjets the ratio does not cover), ``total`` in quadrature.
"""

from __future__ import annotations

from dataclasses import dataclass

from anomalyscope.core.records import Record


@dataclass(frozen=True)
class CorrectedEfficiency(Record):
    """A selection's efficiency before (``uncorrected``) and after the Lund-plane correction."""

    uncorrected: float
    uncorrected_stat: float  # Clopper–Pearson half-width
    corrected: float
    corrected_stat: float  # the weighted sample's own statistics (not part of the correction's uncertainty)
    uncertainty: dict[str, float]
    total: float
    relative_total: float
    scale_factor: float  # corrected / uncorrected
    n_rows: int
    n_subjets: int | None = None  # for a selection of control jets (``LundWeights.efficiency``)
    subjet_categories: dict[str, int] | None = None
    n_subjets_beyond_pt_range: int | None = None

    def band(self) -> tuple[float, float]:
        """corrected ∓ total."""
        return self.corrected - self.total, self.corrected + self.total


@dataclass(frozen=True, kw_only=True)
class CutClosure(CorrectedEfficiency):
    """A cut on the simulation's odd half, reweighted, against the pseudo-data's odd half."""

    data: float
    data_stat: float
    non_closure: float  # corrected − data
    non_closure_in_sigma: float
    before_in_sigma: float


@dataclass(frozen=True)
class Means(Record):
    data: float
    sim: float
    reweighted: float


@dataclass(frozen=True)
class ObservableClosure(Record):
    """Histograms of one jet observable (``bins``: edges) and χ²/ndf before and after the correction."""

    label: str
    bins: list[float]
    data: list[float]
    sim: list[float]
    reweighted: list[float]
    reweighted_w2: list[float]
    band: list[float]  # the correction's per-bin uncertainty of the normalised reweighted histogram
    chi2_ndf_before: tuple[float, int]
    chi2_ndf_after: tuple[float, int]
    chi2_ndf_after_with_uncertainty: tuple[float, int]
    mean: Means


@dataclass(frozen=True)
class SelfClosure(Record):
    """Pseudo-data's even half reweighted to its odd half: weights should be 1 up to statistics."""

    mean_weight: float
    median_weight: float
    rms_ln_weight: float
    expected_rms_ln_weight_from_statistics: float
    max_abs_ln_ratio: float


@dataclass(frozen=True)
class LundClosure(Record):
    ratio_from: str
    evaluated_on: str
    n_jets: dict[str, int]
    observables: dict[str, ObservableClosure]
    cuts: dict[str, CutClosure]
    self_closure: SelfClosure
    schema_version: int = 0


@dataclass(frozen=True)
class SubjetCounts(Record):
    n: int
    categories: dict[str, int]  # matched / unmatched / shared / ...
    beyond_pt_range: int


@dataclass(frozen=True)
class Control(Record):
    """The control selection used (``lund.control.ControlSelection``): jets, prongs, m_SD range [GeV]."""

    n_prongs: int
    jets: list[str]
    msd_min: float | None
    msd_max: float | None


@dataclass(frozen=True)
class LundReport(Record):
    signal: str
    signal_prongs: int | str  # a fixed number, or "generator quarks in each jet"
    control: Control
    binning: dict[str, list[float]]
    n_toys: int
    subjets: SubjetCounts
    timing_s: dict[str, float]
    created: str
    efficiencies: dict[str, dict[str, CorrectedEfficiency]] | None = None  # method → ε_B → signal efficiency
    schema_version: int = 0
