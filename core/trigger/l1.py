"""Level-1-trigger-like inputs from generated events: the 57 object inputs of AXOL1TL and the 18 × 14
calorimeter-region image of CICADA.

Objects (as the CMS global trigger sees them, CMS-DP-2023-079): up to 10 jets (anti-kT R = 0.4 on the
visible non-muon particles, pT > 15 GeV, |η| < 4.7), 4 muons (pT > 3 GeV, |η| < 2.4), 4 e/γ (electrons and
photons, pT > 5 GeV, |η| < 2.5, isolated: other visible pT within ΔR < 0.3 below the candidate's) and the
missing transverse momentum of the calorimeter (visible non-muon particles, |η| < 5). Each object is
(pT, η, φ) — the MET's η slot is 0 — ordered MET, e/γ, μ, jets; empty slots are zeros. 19 × 3 = 57 inputs.

Resolution and quantisation: jet pT smeared by 100%/√pT ⊕ 10%, e/γ by 5%, muons by 10% (L1-like, coarse);
then every number is quantised to a power-of-two step close to the L1 granularity, so that the inputs are
exact fixed-point numbers for the firmware: pT in 0.5 GeV steps (as L1), η in 1/64 (L1: 0.011–0.087),
φ in 2π/128 (L1 towers: 2π/72, global-trigger LSB 2π/144–2π/576). The network sees pT/256 GeV, η/4, φ/π.

Calorimeter regions (CICADA, CMS-DP-2023-086): 18 in φ (2π/18) × 14 in η (|η| < 3, equal widths),
each the ET sum of the visible non-muon particles in it, quantised to 0.5 GeV steps and saturated at 511.5 GeV.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from anomalyscope.core.extras import require
from anomalyscope.core.features.kinematics import delta_r, pt_eta_phi

N_JETS, N_MUONS, N_EGAMMA = 10, 4, 4
N_OBJECTS = 1 + N_EGAMMA + N_MUONS + N_JETS
N_INPUTS = 3 * N_OBJECTS  # 57
PT_STEP, ETA_STEP, PHI_STEP = 0.5, 1.0 / 64, 2 * np.pi / 128
SCALE = {"pt": 256.0, "eta": 4.0, "phi": np.pi}  # network input = value / scale
IMAGE_ETA, IMAGE_PHI, IMAGE_ETA_MAX = 14, 18, 3.0
REGION_STEP, REGION_MAX = 0.5, 511.5
JET = {"r": 0.4, "pt_min": 15.0, "eta_max": 4.7}
MUON = {"pt_min": 3.0, "eta_max": 2.4, "res": 0.10}
EGAMMA = {"pt_min": 5.0, "eta_max": 2.5, "res": 0.05, "iso_r": 0.3, "iso_frac": 1.0}
INPUT_NAMES = (
    ["met_pt", "met_eta", "met_phi"]
    + [f"eg{i}_{v}" for i in range(N_EGAMMA) for v in ("pt", "eta", "phi")]
    + [f"mu{i}_{v}" for i in range(N_MUONS) for v in ("pt", "eta", "phi")]
    + [f"jet{i}_{v}" for i in range(N_JETS) for v in ("pt", "eta", "phi")]
)


def quantise(x: np.ndarray, step: float) -> np.ndarray:
    return np.round(np.asarray(x) / step) * step


def _top(pt, eta, phi, mask, n: int) -> np.ndarray:
    """(n_events, n, 3) of the n highest-pT selected objects, zero-padded."""
    pt, eta, phi = pt[mask], eta[mask], phi[mask]
    order = ak.argsort(pt, axis=1, ascending=False)
    cols = []
    for a in (pt, eta, phi):
        a = ak.pad_none(a[order][:, :n], n, clip=True)
        cols.append(ak.to_numpy(ak.fill_none(a, 0.0)).astype(np.float64))
    return np.stack(cols, axis=-1)


def _quantise_objects(obj: np.ndarray) -> np.ndarray:
    out = obj.copy()
    out[..., 0] = quantise(np.clip(obj[..., 0], 0.0, None), PT_STEP)
    empty = out[..., 0] <= 0
    out[..., 1] = quantise(obj[..., 1], ETA_STEP)
    out[..., 2] = quantise(obj[..., 2], PHI_STEP)
    out[..., 2] = np.where(out[..., 2] >= np.pi, out[..., 2] - 2 * np.pi, out[..., 2])
    out[empty] = 0.0
    return out


def l1_objects(particles: ak.Array, rng: np.random.Generator) -> np.ndarray:
    """(n_events, 19, 3) physical (pT [GeV], η, φ) of MET, e/γ, μ, jets, smeared and quantised."""
    pt, eta, phi = pt_eta_phi(particles)
    cls = particles.cls
    is_mu = cls == 4
    calo = ~is_mu
    # e/γ: electrons and photons, isolated
    eg_cand = ((cls == 2) | (cls == 3)) & (pt > EGAMMA["pt_min"]) & (np.abs(eta) < EGAMMA["eta_max"])
    eg = _top(pt, eta, phi, eg_cand, N_EGAMMA)
    iso = _isolation(pt, eta, phi, eg)
    eg[iso > EGAMMA["iso_frac"] * eg[..., 0]] = 0.0
    eg = _resort(eg)
    eg[..., 0] *= 1 + EGAMMA["res"] * rng.standard_normal(eg.shape[:2])
    mu = _top(pt, eta, phi, is_mu & (pt > MUON["pt_min"]) & (np.abs(eta) < MUON["eta_max"]), N_MUONS)
    mu[..., 0] *= 1 + MUON["res"] * rng.standard_normal(mu.shape[:2])
    # jets on the calorimeter particles
    vec = ak.zip({k: particles[k] for k in ("px", "py", "pz", "E")})[calo & (np.abs(eta) < 5.0)]
    fastjet = require("fastjet", "L1 jet clustering")
    cs = fastjet.ClusterSequence(vec, fastjet.JetDefinition(fastjet.antikt_algorithm, JET["r"]))
    jets = cs.inclusive_jets(min_pt=JET["pt_min"] * 0.5)
    jpt, jeta, jphi = pt_eta_phi(jets)
    sigma = np.hypot(1.0 / np.sqrt(np.maximum(jpt, 1.0)), 0.10)
    jpt = jpt * (1 + sigma * ak.unflatten(rng.standard_normal(int(ak.sum(ak.num(jpt)))), ak.num(jpt)))
    jet = _top(jpt, jeta, jphi, (jpt > JET["pt_min"]) & (np.abs(jeta) < JET["eta_max"]), N_JETS)
    # calorimeter MET
    sel = calo & (np.abs(eta) < 5.0)
    mex = -ak.to_numpy(ak.sum(particles.px[sel], axis=1))
    mey = -ak.to_numpy(ak.sum(particles.py[sel], axis=1))
    met = np.stack([np.hypot(mex, mey), np.zeros_like(mex), np.arctan2(mey, mex)], axis=-1)[:, None, :]
    return _quantise_objects(np.concatenate([met, eg, mu, jet], axis=1))


def _isolation(pt, eta, phi, eg: np.ndarray) -> np.ndarray:
    """Σ pT of other visible particles within ΔR < iso_r of each e/γ candidate (the candidate itself excluded)."""
    out = np.zeros(eg.shape[:2])
    for k in range(eg.shape[1]):
        ceta, cphi = eg[:, k, 1], eg[:, k, 2]
        dr = delta_r(eta, phi, ceta, cphi)
        out[:, k] = ak.to_numpy(ak.sum(pt * (dr < EGAMMA["iso_r"]), axis=1)) - eg[:, k, 0]
    return np.where(eg[..., 0] > 0, out, 0.0)


def _resort(obj: np.ndarray) -> np.ndarray:
    order = np.argsort(-obj[..., 0], axis=1, kind="stable")
    return np.take_along_axis(obj, order[..., None], axis=1)


def network_inputs(objects: np.ndarray) -> np.ndarray:
    """(n, 57) inputs of the object model: pT/256 GeV, η/4, φ/π — exact fixed-point numbers."""
    scaled = objects / np.array([SCALE["pt"], SCALE["eta"], SCALE["phi"]])
    # within the firmware's input format (4 integer bits, 9 fractional: pT below 4 TeV)
    scaled = np.clip(scaled, -16.0, 16.0 - 2.0**-9)
    return scaled.reshape(len(objects), N_INPUTS).astype(np.float32)


def region_image(particles: ak.Array) -> np.ndarray:
    """(n, 14, 18) calorimeter-region ET [GeV] (η rows, φ columns), quantised and saturated."""
    pt, eta, phi = pt_eta_phi(particles)
    sel = (particles.cls != 4) & (np.abs(eta) < IMAGE_ETA_MAX)
    n = len(particles)
    ev = np.repeat(np.arange(n), ak.to_numpy(ak.num(pt[sel])))
    e = ak.to_numpy(ak.flatten(eta[sel]))
    f = ak.to_numpy(ak.flatten(phi[sel]))
    ie = np.clip(((e + IMAGE_ETA_MAX) / (2 * IMAGE_ETA_MAX) * IMAGE_ETA).astype(int), 0, IMAGE_ETA - 1)
    iphi = np.clip(((f + np.pi) / (2 * np.pi) * IMAGE_PHI).astype(int), 0, IMAGE_PHI - 1)
    flat = np.bincount(
        (ev * IMAGE_ETA + ie) * IMAGE_PHI + iphi,
        weights=ak.to_numpy(ak.flatten(pt[sel])),
        minlength=n * IMAGE_ETA * IMAGE_PHI,
    )
    img = flat.reshape(n, IMAGE_ETA, IMAGE_PHI)
    return np.minimum(quantise(img, REGION_STEP), REGION_MAX).astype(np.float32)
