"""A documented parametric b-tagger for generated events (no detector simulation of tracks).

Jet flavour: b if a b-hadron with pT > 5 GeV lies within ΔR < R of the jet axis, else c for a
c-hadron, else light (the hadron-flavour definition used by CMS). The tag discriminant is drawn
per jet from a unit Gaussian whose mean depends on the flavour, and the score is its logistic
transform in (0, 1). The means put the working point score > 0.5 at ε_b = 70%, ε_c = 15% and
ε_light = 1%, close to the CMS DeepJet medium working point.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
from scipy.special import ndtri  # the normal quantile (scipy.stats would cost every importer 0.5 s)

from anomalyscope.core.features.kinematics import delta_r

WORKING_POINT = 0.5
EFFICIENCY_AT_WP = {5: 0.70, 4: 0.15, 0: 0.01}
MEANS = {f: float(ndtri(eff)) for f, eff in EFFICIENCY_AT_WP.items()}
HADRON_PT_MIN = 5.0


def hadron_flavour_of_pid(pid: np.ndarray) -> np.ndarray:
    """5 for b-hadrons, 4 for c-hadrons, 0 otherwise (PDG numbering scheme)."""
    apid = np.abs(pid)
    meson_q = (apid // 100) % 10
    baryon_q = (apid // 1000) % 10
    flav = np.zeros(len(apid), dtype=np.int8)
    is_hadron = apid > 100
    flav[is_hadron & ((meson_q == 4) | (baryon_q == 4))] = 4
    flav[is_hadron & ((meson_q == 5) | (baryon_q == 5))] = 5
    return flav


def jet_flavour(jet_eta: np.ndarray, jet_phi: np.ndarray, hadrons: ak.Array, radius: float) -> np.ndarray:
    """hadrons: one list per jet of heavy-flavour hadrons {eta, phi, pt, flavour}."""
    near = (delta_r(hadrons.eta, hadrons.phi, jet_eta, jet_phi) < radius) & (hadrons.pt > HADRON_PT_MIN)
    best = ak.max(ak.where(near, hadrons.flavour, 0), axis=1)
    return ak.to_numpy(ak.fill_none(best, 0)).astype(np.int8)


def btag_score(flavour: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    mean = np.select([flavour == 5, flavour == 4], [MEANS[5], MEANS[4]], default=MEANS[0])
    d = mean + rng.standard_normal(len(flavour))
    return (1.0 / (1.0 + np.exp(-d))).astype(np.float32)
