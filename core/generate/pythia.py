"""Pythia 8 (through ``pythia8mc``) for the generation jobs and the L1 samples: an initialised generator,
the check of user settings, one chunk's events (natively, or a cascade written as LHEF and showered), a
process's cross section and the final-state particles of a batch.

Seeds: a chunk's Pythia seed is derived from (seed, process, kind, chunk), so the events do not depend on
which worker made them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import awkward as ak
import numpy as np

from anomalyscope.core.errors import InputError
from anomalyscope.core.extras import require
from anomalyscope.core.generate.processes import (
    SQRT_S,
    Model,
    get_model,
    native_settings,
    new_particle_settings,
    production_settings,
)

SEED_MAX = 900_000_000  # Pythia's Random:seed range


def chunk_seed(seed: int, process: str, kind: str, index: int) -> int:
    h = hashlib.sha256(f"{seed}:{process}:{kind}:{index}".encode()).digest()
    return int.from_bytes(h[:8], "little") % SEED_MAX + 1


def start(settings: list[str], seed: int):
    """An initialised Pythia at √s with ``settings``; a setting it rejects is a RuntimeError naming it."""
    pythia8mc = require("pythia8mc", "Event generation")
    py = pythia8mc.Pythia("", False)
    for s in [
        "Print:quiet = on",
        "Next:numberCount = 0",
        f"Beams:eCM = {SQRT_S}",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        *settings,
    ]:
        if not py.readString(s):
            raise RuntimeError(f"Pythia rejected setting '{s}'")
    if not py.init():
        raise RuntimeError(f"Pythia failed to initialise with settings {settings}")
    return py


def check_settings(settings: list[str]) -> None:
    """Refuse, before any chunk runs, a setting Pythia does not accept (unknown key or unreadable value):
    otherwise every chunk fails with the same message."""
    if not settings:
        return
    pythia8mc = require("pythia8mc", "Event generation")
    py = pythia8mc.Pythia("", False)
    for s in settings:
        if not py.readString(s, False):  # False: Pythia prints no message of its own
            raise InputError(f"Pythia setting '{s}' is not accepted (an unknown key or a value it cannot read)")


def generate_batch(
    model: Model,
    masses: dict,
    n_events: int,
    seed: int,
    rng: np.random.Generator,
    work_dir: str | Path,
    thresholds: dict | None = None,
    shower: tuple | list = (),
):
    """``n_events`` of ``model``: (awkward batch, σ [pb], its error [pb], made through LHEF). A cascade model's
    decay chain is built here (``cascade``), written as an LHEF file in ``work_dir`` and showered by Pythia;
    ``thresholds`` lowers the generator cuts (calibration chunks); ``shower`` adds shower/hadronisation settings."""
    if model.cascade is None:
        py = start(native_settings(model, {**masses, **(thresholds or {})}) + list(shower), seed)
        batch = py.nextBatch(n_events, "skip")
        info = py.infoPython()
        return batch, info.sigmaGen() * 1e9, info.sigmaErr() * 1e9, False

    from anomalyscope.core.generate.cascade import CascadeBuilder, production_lines, write_lhef

    prod = start(production_settings(model, masses), seed)
    incoming, a_line, scale = production_lines(prod, n_events)
    sigma, sigma_err = prod.infoPython().sigmaGen() * 1e9, prod.infoPython().sigmaErr() * 1e9
    lines = CascadeBuilder(prod.particleData, masses, rng).build(incoming, a_line, model.cascade)
    lhe = Path(work_dir) / f"cascade-{seed}.lhe"
    write_lhef(lhe, lines, scale, sigma)
    try:
        py = start(["Beams:frameType = 4", f"Beams:LHEF = {lhe}", *new_particle_settings(model, masses), *shower], seed)
        batch = py.nextBatch(n_events, "skip")
    finally:
        lhe.unlink(missing_ok=True)
    return batch, sigma, sigma_err, True


def cross_section_pb(
    process: str, params: dict | None = None, n_events: int = 4000, seed: int = 1
) -> tuple[float, float]:
    """Pythia's cross-section estimate [pb] (and its error) for a process generated natively, from hard processes
    alone (no shower, no hadronisation: seconds): how many events a stated luminosity needs."""
    model = get_model(process)
    if model.cascade is not None:
        raise InputError(f"{process}: cross sections are estimated for Pythia-native processes (e.g. qcd) only")
    py = start(
        native_settings(model, model.masses(params or {})) + ["PartonLevel:all = off", "HadronLevel:all = off"], seed
    )
    for _ in range(n_events):
        py.next()
    info = py.infoPython()
    return info.sigmaGen() * 1e9, info.sigmaErr() * 1e9


def _charges(pid: np.ndarray) -> np.ndarray:
    """Electric charge of each particle (PDG id), from Pythia's particle data."""
    pythia8mc = require("pythia8mc", "Event generation")
    pd = pythia8mc.Pythia("", False).particleData
    uniq, inv = np.unique(pid, return_inverse=True)
    return np.array([pd.charge(int(u)) for u in uniq])[inv]


def final_state(batch) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """A batch's final-state particles, flat: ([px, py, pz, E], PDG id, charge, particles per event)."""
    prt = batch.prt
    final = prt[prt.status > 0]
    counts = ak.to_numpy(ak.num(final))
    flat = ak.flatten(final)
    pid = ak.to_numpy(flat.id)
    return [ak.to_numpy(flat.p[c]) for c in ("px", "py", "pz", "e")], pid, _charges(pid), counts
