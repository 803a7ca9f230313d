"""A simple, documented detector model standing in for Delphes.

Stable visible particles become reconstructed "particle-flow candidates":

* **Classes**: charged hadron (0), neutral hadron (1), photon (2), electron (3), muon (4).
  Neutrinos are invisible and dropped. Charged hadrons outside the tracker become neutral-hadron
  (HCAL) deposits.
* **Tracks** (charged hadrons, electrons, muons with |η| < 2.5): pT smeared with
  σ(pT)/pT = 0.005 ⊕ 1e-4·pT/GeV (CMS-like tracker: ~1% at 100 GeV, ~10% at 1 TeV);
  muons σ/pT = 0.01 ⊕ 1e-4·pT/GeV. Electrons take the ECAL resolution below.
* **Calorimeter towers** (photons, neutral hadrons, |η| < 4.9): energies summed per cell of the
  η–φ grid (ECAL 0.0174 × 0.0174 for photons, HCAL 0.087 × 0.087 for neutral hadrons), the tower
  placed at the cell centre as a massless vector, its energy smeared with
  ECAL σ/E = 3%/√E ⊕ 0.5% ⊕ 0.2 GeV/E and HCAL σ/E = 100%/√E ⊕ 5%.
* **Thresholds**: tracks pT > 0.5 GeV; photons pT > 0.5 GeV; neutral hadrons pT > 1 GeV.

All randomness comes from the numpy Generator passed in, so a chunk is reproducible from its seed.
Passing ``detector=None`` to the generator switches the model off (truth-level visible particles).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import awkward as ak
import numpy as np

CHARGED_HADRON, NEUTRAL_HADRON, PHOTON, ELECTRON, MUON = range(5)
NEUTRINOS = (12, 14, 16)


@dataclass(frozen=True)
class DetectorModel:
    tracker_eta: float = 2.5
    calo_eta: float = 4.9
    track_pt_min: float = 0.5
    photon_pt_min: float = 0.5
    neutral_pt_min: float = 1.0
    track_res_const: float = 0.005
    track_res_slope: float = 1e-4
    muon_res_const: float = 0.01
    ecal_stochastic: float = 0.03
    ecal_constant: float = 0.005
    ecal_noise: float = 0.2
    hcal_stochastic: float = 1.0
    hcal_constant: float = 0.05
    ecal_cell: float = 0.0174
    hcal_cell: float = 0.087

    def to_dict(self) -> dict:
        return {"kind": "anomalyscope simple detector", **asdict(self)}


def _classify(pid: np.ndarray, charge: np.ndarray) -> np.ndarray:
    """Constituent class per particle from its PDG id and charge."""
    apid = np.abs(pid)
    cls = np.where(charge != 0, CHARGED_HADRON, NEUTRAL_HADRON).astype(np.int8)
    cls[apid == 22] = PHOTON
    cls[apid == 11] = ELECTRON
    cls[apid == 13] = MUON
    return cls


def _kinematics(px, py, pz):
    pt = np.hypot(px, py)
    eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0))
    phi = np.arctan2(py, px)
    return pt, eta, phi


def _four_vector(pt, eta, phi, mass):
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    return px, py, pz, e


def truth_particles(px, py, pz, e, pid, charge, counts) -> ak.Array:
    """Visible stable particles without detector effects (neutrinos removed)."""
    keep = ~np.isin(np.abs(pid), NEUTRINOS)
    cls = _classify(pid, charge)
    ev = np.repeat(np.arange(len(counts)), counts)[keep]
    return _assemble(px[keep], py[keep], pz[keep], e[keep], cls[keep], ev, len(counts))


def apply_detector(model: DetectorModel, px, py, pz, e, pid, charge, counts, rng: np.random.Generator) -> ak.Array:
    """Flat per-particle arrays (with per-event counts) -> jagged reconstructed candidates."""
    n_events = len(counts)
    event = np.repeat(np.arange(n_events), counts)
    visible = ~np.isin(np.abs(pid), NEUTRINOS)
    px, py, pz, e, pid, charge, event = (a[visible] for a in (px, py, pz, e, pid, charge, event))
    cls = _classify(pid, charge)
    pt, eta, phi = _kinematics(px, py, pz)
    mass2 = np.clip(e**2 - px**2 - py**2 - pz**2, 0.0, None)
    in_tracker = np.abs(eta) < model.tracker_eta
    cls = np.where((cls == CHARGED_HADRON) & ~in_tracker, NEUTRAL_HADRON, cls)

    # --- tracks: charged hadrons and muons in the tracker; electrons measured in the ECAL
    is_track = ((cls == CHARGED_HADRON) | (cls == MUON)) & in_tracker
    res = np.where(
        cls == MUON,
        np.hypot(model.muon_res_const, model.track_res_slope * pt),
        np.hypot(model.track_res_const, model.track_res_slope * pt),
    )
    is_ele = (cls == ELECTRON) & in_tracker
    e_res = _ecal_resolution(model, e)
    scale = np.where(is_ele, 1.0 + e_res * rng.standard_normal(len(pt)), 1.0 + res * rng.standard_normal(len(pt)))
    scale = np.clip(scale, 0.0, None)
    sel = is_track | is_ele
    tpt = pt[sel] * scale[sel]
    keep = tpt > model.track_pt_min
    tpx, tpy, tpz, te = _four_vector(tpt[keep], eta[sel][keep], phi[sel][keep], np.sqrt(mass2[sel][keep]))
    t_cls, t_ev = cls[sel][keep], event[sel][keep]

    # --- calorimeter towers for photons and neutral hadrons (and electrons outside the tracker)
    out = [(tpx, tpy, tpz, te, t_cls, t_ev)]
    for kind, cell, mask in (
        (PHOTON, model.ecal_cell, ((cls == PHOTON) | ((cls == ELECTRON) & ~in_tracker))),
        (NEUTRAL_HADRON, model.hcal_cell, cls == NEUTRAL_HADRON),
    ):
        mask = mask & (np.abs(eta) < model.calo_eta)
        out.append(_towers(model, kind, cell, e[mask], eta[mask], phi[mask], event[mask], rng))

    cat = [np.concatenate(x) for x in zip(*out)]
    return _assemble(*cat, n_events)


def _ecal_resolution(model: DetectorModel, energy):
    energy = np.maximum(energy, 1e-3)
    return np.sqrt(
        (model.ecal_stochastic / np.sqrt(energy)) ** 2 + model.ecal_constant**2 + (model.ecal_noise / energy) ** 2
    )


def _hcal_resolution(model: DetectorModel, energy):
    energy = np.maximum(energy, 1e-3)
    return np.sqrt((model.hcal_stochastic / np.sqrt(energy)) ** 2 + model.hcal_constant**2)


def _towers(model, kind, cell, energy, eta, phi, event, rng):
    """Sum energies per (event, η cell, φ cell); smear; place massless at the cell centre."""
    n_eta = int(np.ceil(2 * model.calo_eta / cell))
    n_phi = int(np.round(2 * np.pi / cell))
    ieta = np.clip(((eta + model.calo_eta) / cell).astype(np.int64), 0, n_eta - 1)
    iphi = np.clip(((phi + np.pi) / (2 * np.pi) * n_phi).astype(np.int64), 0, n_phi - 1)
    key = (event.astype(np.int64) * n_eta + ieta) * n_phi + iphi
    ukey, inv = np.unique(key, return_inverse=True)
    esum = np.bincount(inv, weights=energy, minlength=len(ukey))
    ev = ukey // (n_eta * n_phi)
    ceta = -model.calo_eta + ((ukey // n_phi) % n_eta + 0.5) * cell
    cphi = -np.pi + (ukey % n_phi + 0.5) * (2 * np.pi / n_phi)
    res = _ecal_resolution(model, esum) if kind == PHOTON else _hcal_resolution(model, esum)
    esm = np.clip(esum * (1.0 + res * rng.standard_normal(len(esum))), 0.0, None)
    pt = esm / np.cosh(ceta)
    keep = pt > (model.photon_pt_min if kind == PHOTON else model.neutral_pt_min)
    px, py, pz, e = _four_vector(pt[keep], ceta[keep], cphi[keep], 0.0)
    return px, py, pz, e, np.full(keep.sum(), kind, dtype=np.int8), ev[keep]


def _assemble(px, py, pz, e, cls, event, n_events) -> ak.Array:
    order = np.argsort(event, kind="stable")
    counts = np.bincount(event, minlength=n_events)
    flat = ak.zip(
        {
            "px": px[order].astype(np.float64),
            "py": py[order].astype(np.float64),
            "pz": pz[order].astype(np.float64),
            "E": e[order].astype(np.float64),
            "cls": cls[order].astype(np.int8),
        }
    )
    return ak.unflatten(flat, counts)
