"""The detector model: resolutions, granularity, acceptance and thresholds with known values."""

from __future__ import annotations

import numpy as np

from anomalyscope.core.generate.detector import (
    CHARGED_HADRON,
    MUON,
    NEUTRAL_HADRON,
    PHOTON,
    DetectorModel,
    apply_detector,
    truth_particles,
)

DET = DetectorModel()


def _flat(rows):
    """rows of (pt, eta, phi, pid, charge) -> flat arrays for one event."""
    pt, eta, phi, pid, ch = (np.array(c, dtype=float) for c in zip(*rows))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2)
    return px, py, pz, e, pid.astype(int), ch


def _run(rows, n_copies=1, seed=0):
    px, py, pz, e, pid, ch = (np.tile(a, n_copies) for a in _flat(rows))
    counts = np.full(n_copies, len(rows))
    return apply_detector(DET, px, py, pz, e, pid, ch, counts, np.random.default_rng(seed))


def test_neutrinos_are_invisible_and_truth_mode_keeps_the_rest():
    rows = [(50, 0.1, 0.2, 12, 0), (50, 0.3, 0.1, 211, 1), (50, -0.3, 1.0, 22, 0)]
    out = _run(rows)
    assert len(out[0]) == 2
    px, py, pz, e, pid, ch = _flat(rows)
    truth = truth_particles(px, py, pz, e, pid, ch, np.array([3]))
    assert len(truth[0]) == 2 and sorted(truth[0].cls.tolist()) == [CHARGED_HADRON, PHOTON]
    assert np.isclose(truth[0].E[0], e[1])


def test_photon_energy_resolution_matches_the_ecal_formula():
    n = 20000
    out = _run([(100, 0.0, 0.3, 22, 0)], n_copies=n)
    e = np.array([ev.E[0] for ev in out[:n]])
    expected = np.sqrt((0.03 / 10) ** 2 + 0.005**2 + (0.2 / 100) ** 2)
    assert abs(np.std(e) / 100 - expected) / expected < 0.05
    assert abs(np.mean(e) - 100) < 0.2


def test_track_resolution_grows_with_pt():
    n = 20000
    lo = _run([(20, 0.5, 0.0, 211, 1)], n_copies=n)
    hi = _run([(1000, 0.5, 0.0, 211, 1)], n_copies=n)
    pt_lo = np.hypot(np.asarray(lo.px[:, 0]), np.asarray(lo.py[:, 0]))
    pt_hi = np.hypot(np.asarray(hi.px[:, 0]), np.asarray(hi.py[:, 0]))
    assert abs(np.std(pt_lo) / 20 - np.hypot(0.005, 0.002)) < 0.001
    assert abs(np.std(pt_hi) / 1000 - np.hypot(0.005, 0.1)) < 0.005


def test_neutrals_in_one_cell_merge_into_one_tower_at_the_cell_centre():
    # two photons 0.005 apart in η (same 0.0174 ECAL cell) and a third far away
    rows = [(30, 0.101, 0.501, 22, 0), (20, 0.106, 0.503, 22, 0), (30, 1.0, -1.0, 22, 0)]
    out = _run(rows)[0]
    assert len(out) == 2
    merged = out[np.argmax(np.asarray(out.E))]
    eta = np.arcsinh(merged.pz / np.hypot(merged.px, merged.py))
    cell = DET.ecal_cell
    centre = -DET.calo_eta + (np.floor((0.101 + DET.calo_eta) / cell) + 0.5) * cell
    assert abs(eta - centre) < 1e-6


def test_charged_hadrons_outside_the_tracker_become_calorimeter_deposits_and_thresholds_apply():
    rows = [
        (50, 3.0, 0.0, 211, 1),
        (0.3, 0.0, 0.0, 211, 1),
        (0.5, 1.0, 1.0, 130, 0),
        (20, 0.0, 2.0, 13, -1),
        (50, 5.5, 0.0, 22, 0),
    ]
    out = _run(rows)[0]
    classes = sorted(out.cls.tolist())
    # the 0.3 GeV track, the 0.5 GeV neutral hadron and the photon beyond |η| = 4.9 are gone
    assert classes == sorted([NEUTRAL_HADRON, MUON])
