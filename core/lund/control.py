"""Measure the Lund-plane ratio in a control sample, and weigh the jets of any EventSet with it.

The control sample is an EventSet of data (here: pseudo-data, Pythia with other shower/hadronisation
settings — see ``core.generate.processes.TUNES``) and one of simulation, both selected the same way
(``ControlSelection``): the chosen jets, an optional soft-drop-mass window, reclustered into a fixed
number of prongs (2 for W-like jets, 3 for top-like). No generator information is used on the control
sample, so real data plugs in unchanged. Jets the correction is applied to are reclustered into as
many subjets as generator quarks fall inside them (or a fixed number when no quarks are stored).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import awkward as ak
import numpy as np

from anomalyscope.core.data.eventset import EventSet
from anomalyscope.core.errors import InputError
from anomalyscope.core.lund.ratio import LundBinning, LundCounts, LundRatio
from anomalyscope.core.lund.subjets import MAX_PRONGS, Subjets, eventset_jets, prongs_in_jets, recluster
from anomalyscope.core.lund.weights import LundWeights

MATCH_DR = 0.2  # quark–subjet matching radius


@dataclass(frozen=True)
class ControlSelection:
    """Which jets of the control EventSets enter the ratio, and into how many prongs they are split."""

    n_prongs: int = 2
    jets: tuple = ("j1", "j2")
    msd_min: float | None = None
    msd_max: float | None = None

    def __post_init__(self):
        if not 1 <= self.n_prongs <= MAX_PRONGS:
            raise InputError(f"control selection: n_prongs must be 1..{MAX_PRONGS}, got {self.n_prongs}")
        bad = [j for j in self.jets if j not in ("j1", "j2")]
        if bad or not self.jets:
            raise InputError(f"control selection: jets must be among j1, j2, got {list(self.jets)}")

    def passes(self, jets: dict) -> np.ndarray:
        """Jets (as from ``eventset_jets``) inside the soft-drop-mass window."""
        keep = np.ones(len(jets["pt"]), dtype=bool)
        if self.msd_min is not None:
            keep &= jets["msoftdrop"] >= self.msd_min
        if self.msd_max is not None:
            keep &= jets["msoftdrop"] < self.msd_max
        return keep


def _jet_radius(es: EventSet) -> float:
    return float(es.info.selection_value("jet_r", 0.8))


def _event_split(es: EventSet, part: str | None) -> np.ndarray | None:
    """Events with even / odd event_id (independent halves for closure tests); None for all."""
    if part is None:
        return None
    ids = es.column("event_id")
    if part not in ("even", "odd"):
        raise ValueError(f"part must be 'even', 'odd' or None, got {part!r}")
    return (ids % 2 == 0) if part == "even" else (ids % 2 == 1)


def control_subjets(es: EventSet, control: ControlSelection, part: str | None = None) -> tuple[Subjets, dict]:
    """Subjets of the control jets of one sample (no generator information used) and the jets themselves."""
    jets = eventset_jets(es, control.jets, _event_split(es, part))
    keep = control.passes(jets)
    if not keep.any():
        raise InputError(f"{es.path}: no jet passes the control selection {asdict(control)}")
    n = np.where(keep, control.n_prongs, 0)
    sub = recluster(jets["constituents"], n, _jet_radius(es))
    return sub, jets


def fit_ratio(
    data: EventSet,
    sim: EventSet,
    control: ControlSelection = ControlSelection(),
    binning: LundBinning = LundBinning(),
    sim_alt: EventSet | None = None,
    part: str | None = None,
) -> LundRatio:
    """Lund-plane ratio ρ_data/ρ_sim from the control sample (``part``: 'even'/'odd' events only)."""
    counts = {}
    for name, es in (("data", data), ("sim", sim), ("sim_alt", sim_alt)):
        if es is not None:
            counts[name] = LundCounts.of(control_subjets(es, control, part)[0], binning)
    prov = {
        "data": str(data.path),
        "sim": str(sim.path),
        "sim_alt": str(sim_alt.path) if sim_alt is not None else None,
        "control": asdict(control),
        "events": part or "all",
        "tunes": {
            name: _shower_settings(es) for name, es in (("data", data), ("sim", sim), ("sim_alt", sim_alt)) if es
        },
    }
    return LundRatio(binning, counts["data"], counts["sim"], counts.get("sim_alt"), prov)


def _shower_settings(es: EventSet) -> list:
    return sorted({s for p in (es.info.processes or {}).values() for s in p.shower_settings or []})


def _target_subjets(
    es: EventSet,
    jets: tuple = ("j1", "j2"),
    n_prongs: int | None = None,
    part: str | None = None,
    match_dr: float = MATCH_DR,
) -> tuple[Subjets, dict]:
    """Subjets of the jets a correction is applied to: N = generator quarks inside each jet (matched, so the
    unmatched/shared variations exist), or ``n_prongs`` for every jet when the EventSet stores no quarks."""
    info = eventset_jets(es, jets, _event_split(es, part))
    r = _jet_radius(es)
    quarks = None
    if info["partons"] is not None and n_prongs is None:
        quarks = prongs_in_jets(info["partons"], info["eta"], info["phi"], r)
        n = np.clip(ak.to_numpy(ak.num(quarks)), 0, MAX_PRONGS)
    elif n_prongs is not None:
        n = np.full(len(info["pt"]), int(n_prongs))
    else:
        raise InputError(
            f"{es.path}: no generator quarks stored (field 'partons'); give the number of prongs to recluster into"
        )
    sub = recluster(info["constituents"], n, r, quarks, match_dr)
    return sub, info


def event_weights(ratio: LundRatio, es: EventSet, n_prongs: int | None = None, part: str | None = None):
    """LundWeights with one row per event: the product of the weights of both jets."""
    sub, info = _target_subjets(es, ("j1", "j2"), n_prongs, part)
    return LundWeights(ratio, sub, rows=info["event"], n_rows=len(info["event"]) // 2), info
