"""Kinematics shared by the jet, b-tag, Lund and trigger code: (pT, η, φ) of momenta and ΔR. A module of its
own so that the jet features and the b-tag model, which both need it, do not import each other."""

from __future__ import annotations

import numpy as np


def pt_eta_phi(v):
    """(pT, η, φ) of records with px, py, pz (numpy or awkward); η finite for pT = 0."""
    pt = np.hypot(v.px, v.py)
    return pt, np.arcsinh(v.pz / np.maximum(pt, 1e-9)), np.arctan2(v.py, v.px)


def delta_r(eta1, phi1, eta2, phi2):
    """ΔR with Δφ wrapped into [−π, π)."""
    dphi = np.mod(phi1 - phi2 + np.pi, 2 * np.pi) - np.pi
    return np.hypot(eta1 - eta2, dphi)
