"""Synthetic dijet events with known truth, for testing methods fast (no Pythia).

Background m_jj follows a dijet function; its jet features drift with m_jj (heavier, wider jets at
higher mass, as in QCD), which is what makes careless selections sculpt the spectrum. Signal is a
3.5 TeV resonance with 2-prong jets of 500 and 100 GeV.
"""

from __future__ import annotations

import numpy as np

from anomalyscope.core.bumphunt.functions import SQRT_S
from anomalyscope.core.methods.events import JET_FEATURES, Events


def sample_mjj(rng, n, lo=2600.0, hi=7000.0, p=(10.0, 5.0)):
    grid = np.linspace(lo, hi, 20001)
    x = grid / SQRT_S
    pdf = (1 - x) ** p[0] / x ** p[1]
    cdf = np.cumsum(pdf)
    cdf /= cdf[-1]
    return np.interp(rng.uniform(0, 1, n), cdf, grid)


def background_jets(rng, mjj, drift=True):
    n = len(mjj)
    drift = (mjj / 3000.0)[:, None] if drift else np.ones((n, 1))
    msd = rng.lognormal(np.log(40.0), 0.7, (n, 2)) * drift**0.5
    tau21 = rng.beta(6, 3, (n, 2)) - 0.05 * (drift - 1)
    tau32 = rng.beta(7, 2, (n, 2))
    tau43 = rng.beta(8, 2, (n, 2))
    ncons = rng.poisson(45 * drift**0.3, (n, 2)).astype(float)
    lep = np.where(rng.random((n, 2)) < 0.05, rng.uniform(0, 0.3, (n, 2)), 0.0)
    btag = rng.beta(1, 8, (n, 2))
    return np.stack([msd, tau21, tau32, tau43, ncons, lep, btag], axis=2).astype(np.float32)


def signal_jets(rng, n, masses=(500.0, 100.0)):
    heavy = rng.normal(masses[0], 0.06 * masses[0], n)
    light = rng.normal(masses[1], 0.08 * masses[1], n)
    flip = rng.random(n) < 0.5
    msd = np.column_stack([np.where(flip, heavy, light), np.where(flip, light, heavy)])
    tau21 = rng.beta(2, 6, (n, 2))
    tau32 = rng.beta(6, 3, (n, 2))
    tau43 = rng.beta(7, 2, (n, 2))
    ncons = rng.poisson(40, (n, 2)).astype(float)
    lep = np.where(rng.random((n, 2)) < 0.05, rng.uniform(0, 0.3, (n, 2)), 0.0)
    btag = rng.beta(1, 6, (n, 2))
    return np.stack([msd, tau21, tau32, tau43, ncons, lep, btag], axis=2).astype(np.float32)


def make_events(
    seed, n_bkg, n_sig=0, lo=2600.0, hi=7000.0, mass=3500.0, width=120.0, drift=True, jet_masses=(500.0, 100.0)
):
    """(events, truth labels); drift=False makes the background features independent of m_jj."""
    rng = np.random.default_rng(seed)
    mb = sample_mjj(rng, n_bkg, lo, hi)
    ms = rng.normal(mass, width, n_sig)
    mjj = np.concatenate([mb, ms])
    jets = np.concatenate([background_jets(rng, mb, drift), signal_jets(rng, n_sig, jet_masses)])
    deta = rng.uniform(0, 1.3, len(mjj))
    label = np.concatenate([np.zeros(n_bkg, dtype=np.int8), np.ones(n_sig, dtype=np.int8)])
    perm = rng.permutation(len(mjj))
    ev = Events(np.arange(len(mjj)), mjj[perm], deta[perm], jets[perm], JET_FEATURES, f"synthetic-{seed}")
    return ev, label[perm]


def write_synthetic_eventset(path, ev: Events, truth, process: str):
    """Store synthetic events as an EventSet (the fields methods read), e.g. a QUAK prior sample."""
    import awkward as ak

    from anomalyscope.core.data.eventset import write_eventset

    jets = {
        j: ak.zip({f: np.ascontiguousarray(ev.jets[:, k, i]) for i, f in enumerate(ev.feature_names)})
        for k, j in enumerate(("j1", "j2"))
    }
    arr = ak.zip(
        {
            "event_id": ev.event_id,
            "mjj": ev.mjj,
            "deta": ev.deta,
            "process": np.where(np.asarray(truth) == 1, process, "qcd"),
            "label": np.asarray(truth, dtype=np.int8),
            **jets,
        },
        depth_limit=1,
    )
    return write_eventset(path, [arr], {"name": process})


def attach_constituents(ev: Events, seed: int, n_max: int = 30) -> Events:
    """Give synthetic events (n, 2, 100, 3) constituent momenta for constituent-based methods: each
    jet's particles scatter around a random axis with an angular spread growing with its soft-drop
    mass over pT (pT = m_jj / 2), so the jets' shapes drift with m_jj like their features do. Events
    are also spread over |Δη| < 2.5 so that a |Δη| sideband exists."""
    rng = np.random.default_rng(seed)
    n = len(ev)
    pt = ev.mjj / 2.0
    cons = np.zeros((n, 2, 100, 3), dtype=np.float32)
    for j in range(2):
        m = np.clip(ev.jets[:, j, 0], 1.0, None)
        spread = np.clip(m / pt, 0.01, 0.8)[:, None]
        k = np.clip(ev.jets[:, j, 4].astype(int), 2, n_max)
        frac = rng.dirichlet(np.ones(n_max), n)
        frac[np.arange(n_max)[None, :] >= k[:, None]] = 0
        frac = -np.sort(-frac / frac.sum(axis=1, keepdims=True), axis=1)
        eta = rng.normal(0, 1, (n, n_max)) * spread
        phi0 = rng.uniform(-np.pi, np.pi, (n, 1))
        phi = phi0 + rng.normal(0, 1, (n, n_max)) * spread
        ppt = frac * pt[:, None]
        c = np.stack([ppt * np.cos(phi), ppt * np.sin(phi), ppt * np.sinh(eta)], axis=2)
        cons[:, j, :n_max] = c * (frac > 0)[:, :, None]
    deta = np.where(rng.random(n) < 0.4, rng.uniform(1.3, 2.5, n), ev.deta)
    return Events(ev.event_id, ev.mjj, deta, ev.jets, ev.feature_names, ev.source, cons)
