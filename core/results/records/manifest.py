"""A Run's manifest (``manifest.json``: what it was made from and how) as a typed record (see ``records``);
read through ``Run`` (``run.manifest``) by the dashboard's Run summary, the command line and the workflows.

Fields with a ``None`` default were added after the first Runs were written, or are absent when they do not
apply (no signal sample: no ``signal``).
"""

from __future__ import annotations

from dataclasses import dataclass

from anomalyscope.core.bumphunt.windows import Window
from anomalyscope.core.records import Record


@dataclass(frozen=True)
class EventSetInput(Record):
    """The EventSet the Run was trained and searched on, as it was then."""

    path: str  # resolved when the Run was written (``Run.input_path`` finds a moved tree again)
    n_events: int | None = None
    created: str | None = None
    mjj_fit_min: float | None = None
    injection: dict | None = None  # what ``inject`` recorded, if the EventSet is a mixture


@dataclass(frozen=True)
class SearchRecord(Record):
    """The search as resolved on the Run's data (``Run.search()`` builds it back)."""

    definition: dict  # a SearchDefinition, checked by SearchDefinition.from_dict
    fit_min: float
    windows: list[Window]  # every window the search uses
    fit_min_how: str = ""
    warnings: list[str] | None = None


@dataclass(frozen=True)
class RunManifest(Record):
    run_version: int
    eventset: EventSetInput
    methods: list[str]
    efficiencies: list[float]
    created: str | None = None
    anomalyscope: str | None = None
    paths_from_run: dict[str, str] | None = None  # inputs relative to the Run directory
    signal: str | None = None
    background_extra: str | None = None
    windowed_methods: list[str] | None = None
    search: SearchRecord | None = None  # absent in Runs made before the search definition
    folds: int | None = None
    inner_folds: int | None = None
    seed: int | None = None
    method_folds: dict[str, int] | None = None
    method_params: dict[str, dict] | None = None
    method_info: dict[str, dict] | None = None  # e.g. QUAK's signal prior
    training_seconds: dict[str, float] | None = None
    torch_device: str | None = None
    provenance: dict | None = None  # library versions and git commit (``core.provenance``)
    checksums: dict[str, str] | None = None  # SHA-256 of the files a result is computed from
