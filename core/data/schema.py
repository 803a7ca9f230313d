"""An EventSet's ``schema.json`` as a typed record (``core.records``): what every reader of an EventSet's facts
uses (``EventSet.info``), checked field by field when the EventSet is opened, so a damaged or hand-edited file is
refused naming the field (``schema.json: field 'turn_on.thresholds.pthat_min' is 'x', expected a number``).

The writers (generation, ingestion, mixing, selection) build the mapping; the parts whose content depends on
where the events came from (a generator's detector and settings, a reader's format) stay mappings here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from anomalyscope.core.records import Record


@dataclass(frozen=True)
class TurnOn(Record):
    """Where the generator thresholds stop sculpting m_jj: measured with a calibration sample generated below them
    (``n_calibration_selected`` and the loss above the edge), or the parton-level bound."""

    method: str | None = None
    thresholds: dict[str, float] | None = None  # the sample's generator thresholds (pthat_min, mhat_min)
    tolerance: float | None = None
    edge_gev: float | None = None
    mjj_fit_min: float | None = None
    n_calibration_selected: int | None = None  # present: measured with a calibration sample
    n_above_edge: int | None = None
    lost_above_edge: int | None = None
    inefficiency_95cl_above_edge: float | None = None
    efficiency_curve: dict | None = None

    @property
    def measured(self) -> bool:
        return self.n_calibration_selected is not None

    @property
    def pthat_min(self) -> float:
        return float((self.thresholds or {}).get("pthat_min", 0.0))


@dataclass(frozen=True)
class Process(Record):
    """A generated process: its parameters (masses, thresholds) and the generator settings."""

    description: str | None = None
    params: dict | None = None  # numbers, or names (a decay mode) for some signals
    pythia_settings: list[str] | None = None
    shower_settings: list[str] | None = None
    seed: int | None = None
    n_generated: int | None = None
    n_selected: int | None = None  # passing the preselection (stored)
    sigma_pb: float | None = None  # the generator's cross section
    luminosity_pb: float | None = field(default=None, metadata={"key": "luminosity_pb-1"})  # n_generated / σ
    label: int | None = None  # 1: a signal process


@dataclass(frozen=True)
class Source(Record):
    """Where the events came from: ``generated``, ``mixed`` (a background and an injected signal), or a reader's
    kind (``lhco``, ``nanoaod`` ...) with its files."""

    kind: str
    generator: str | None = None
    background: str | None = None  # mixed: the two EventSets
    signal: str | None = None
    files: list[dict] | None = None  # read: one entry per input file


@dataclass(frozen=True)
class Injection(Record):
    signal_process: list[str]
    n_signal: int
    n_background: int
    seed: int


@dataclass(frozen=True)
class EventSetSchema(Record):
    schema_version: int
    n_events: int
    files: list[str]
    counts: dict[str, int]  # events per process
    name: str | None = None
    created: str | None = None
    labels: dict[str, int] | None = None
    source: Source | None = None
    tau_axes: str | None = None  # which N-subjettiness axes the τ ratios were computed with
    processes: dict[str, Process] | None = None
    selection: dict | None = None  # the preselection's parameters (``features.jets.Selection``)
    turn_on: TurnOn | None = None
    mjj_fit_min: float | None = None  # GeV: where the thresholds and preselection are fully efficient
    checksums: dict[str, str] | None = None
    injection: Injection | None = None
    demo: dict | None = None  # the demo's own facts (``workflows.demo``)
    chunks: list[dict] | None = None  # a reader's per-chunk record (``data.ingest``)
    timing: dict[str, float] | None = None

    def process_params(self, name: str) -> dict:
        """The parameters process ``name`` was generated with ({} when it was not generated here)."""
        proc = (self.processes or {}).get(name)
        return dict(proc.params or {}) if proc is not None else {}

    def selection_value(self, key: str, default):
        """One preselection parameter (``jet_r``, ``deta_max`` ...), or ``default`` where the file lacks it."""
        return (self.selection or {}).get(key, default)
