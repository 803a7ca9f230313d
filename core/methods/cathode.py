"""CATHODE (arXiv:2109.00546) and CATHODE-b, as in the CMS search (arXiv:2412.03747).

In each m_jj window:

1. a conditional normalizing flow p(x | m_jj) (``core.methods.flow``: a neural spline flow with logit
   preprocessing; it interpolated in m_jj better than an affine MAF: SR AUC 0.508 vs 0.537 on the
   synthetic test background)
   learns the background feature density in the sidebands: the window's own (``sideband: window``, as CMS's
   neighbouring bins) or every event of the fitted spectrum outside the signal region (``sideband: spectrum``,
   the CATHODE paper's choice: the flow sees many times the events, and interpolates across the SR in m_jj);
2. it is interpolated into the signal region: m_jj values are drawn from a Gaussian KDE of the SR
   events' m_jj and one feature vector is sampled per value, ``oversample`` times as many samples
   as SR events;
3. a classifier (the shared network, or boosted trees with ``classifier: bdt``; an ensemble over inner folds)
   learns SR data against those samples. Where the flow models the background well, it can only learn the
   signal.

The classifier works in the flow's preprocessed (logit, standardised) space, where the features are
unbounded and roughly Gaussian. Features, jets ordered by soft-drop mass (J1 the lighter):

* ``cms`` (default): m_J1, Δm = m_J2 − m_J1, τ41 of J1 and J2 (τ41 = τ21 τ32 τ43);
* ``lhco``: m_J1, Δm, τ21 of J1 and J2 — the LHC Olympics R&D set of the CATHODE paper, so results
  can be set beside its published numbers;
* CATHODE-b (``cathode_b``): the ``cms`` set plus the b-tag scores of J1 and J2.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import gaussian_kde

from anomalyscope.core.errors import InputError
from anomalyscope.core.methods.events import Events
from anomalyscope.core.methods.flow import DensityFlow, FlowConfig, FlowParams
from anomalyscope.core.methods.windowed import ClassifierParams, WindowedClassifier
from anomalyscope.core.params import param, unprefixed

FEATURE_SETS = ("cms", "lhco")  # see the module text
SIDEBANDS = ("window", "spectrum")  # see the module text
MIN_SIDEBAND = 200  # sideband events a flow needs
# the sideband flows trained last in this process, by what they were trained on: R-Anode learns the same background
# density as CATHODE (the same features, folds, window and seed), so a Run trains it once (≈ 150 s of a demo-size Run)
_FLOWS: OrderedDict[str, DensityFlow] = OrderedDict()
_FLOWS_KEPT = 16


def mass_ordered(ev: Events, name: str) -> np.ndarray:
    """(n, 2) values of a jet feature with the lighter (soft-drop mass) jet first."""
    msd = ev.feature("msoftdrop")
    swap = msd[:, 0] > msd[:, 1]
    if name == "tau41":
        v = ev.feature("tau21") * ev.feature("tau32") * ev.feature("tau43")
    else:
        v = ev.feature(name)
    return np.where(swap[:, None], v[:, ::-1], v)


def cathode_features(ev: Events, feature_set: str, btag: bool = False) -> np.ndarray:
    m = mass_ordered(ev, "msoftdrop")
    tau = mass_ordered(ev, "tau41" if feature_set == "cms" else "tau21")
    cols = [m[:, 0], m[:, 1] - m[:, 0], tau[:, 0], tau[:, 1]]
    if btag:
        b = mass_ordered(ev, "btag")
        cols += [b[:, 0], b[:, 1]]
    return np.column_stack(cols).astype(np.float64)


def _draw_in_range(kde: gaussian_kde, n: int, bounds: tuple, seed: int) -> np.ndarray:
    """n draws from a 1-D KDE, redrawing those outside [lo, hi) (the SR edges are hard)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(0)
    while len(out) < n:
        d = kde.resample(2 * (n - len(out)) + 10, seed=rng)[0]
        out = np.concatenate([out, d[(d >= bounds[0]) & (d < bounds[1])]])
    return out[:n]


def sideband_events(window, mjj: np.ndarray, in_region: np.ndarray, ctx, how: str) -> np.ndarray:
    """The events a window's background flow learns from: its sidebands, or the fitted spectrum outside its SR."""
    if how == "window":
        return window.in_sb(mjj) & in_region
    lo, hi = ctx.fit_range
    return ~window.in_sr(mjj) & (mjj >= lo) & (mjj < hi) & in_region


def window_seed(ctx, window) -> int:
    """The seed of a window's sideband flow: the same for every method that learns it."""
    return ctx.seed * 31 + [w.name for w in ctx.windows].index(window.name)


def sideband_flow(x: np.ndarray, mjj: np.ndarray, sb: np.ndarray, params, seed: int) -> DensityFlow | None:
    """The background density p(x | m_jj) learned from a window's sideband events ``sb`` (None with fewer than
    MIN_SIDEBAND of them); ``params``: a method's parameters holding ``flow_*`` (``FlowParams``). A flow this
    process already trained on the same events, configuration and seed is reused (``_FLOWS``)."""
    if sb.sum() < MIN_SIDEBAND:
        return None
    cfg = unprefixed(params, FlowConfig, "flow_")
    h = hashlib.sha1(repr((cfg, seed, x.shape[1])).encode())
    h.update(np.ascontiguousarray(x[sb]).tobytes())
    h.update(np.ascontiguousarray(mjj[sb]).tobytes())
    key = h.hexdigest()
    if key not in _FLOWS:
        _FLOWS[key] = DensityFlow(cfg, seed=seed).fit(x[sb], mjj[sb] / 1000.0)
        while len(_FLOWS) > _FLOWS_KEPT:
            _FLOWS.popitem(last=False)
    _FLOWS.move_to_end(key)
    return _FLOWS[key]


@dataclass(frozen=True)
class CathodeParams(ClassifierParams, FlowParams):
    features: Literal[FEATURE_SETS] = "cms"
    oversample: float = param(4.0, low=0, low_open=True)  # flow samples per SR event
    sideband: Literal[SIDEBANDS] = "window"  # where the background flow learns (module text)


class Cathode(WindowedClassifier):
    name = "cathode"
    btag = False
    Params = CathodeParams

    def features(self, events):
        return cathode_features(events, self.params.features, self.btag)

    def _fit(self, train, ctx):
        self.flows = {}  # window name → the flow trained on its sidebands
        return super()._fit(train, ctx)

    def training_set(self, window, train, ctx):
        sel = train.deta < ctx.deta_max
        sr, sb = window.in_sr(train.mjj) & sel, sideband_events(window, train.mjj, sel, ctx, self.params.sideband)
        if sb.sum() < MIN_SIDEBAND or sr.sum() < 20:
            return np.zeros((0, 4)), np.zeros(0)
        x = self.features(train)
        seed = window_seed(ctx, window)
        flow = sideband_flow(x, train.mjj, sb, self.params, seed)
        m_sr = train.mjj[sr]
        n_samples = int(round(self.params.oversample * len(m_sr)))
        m_draw = _draw_in_range(gaussian_kde(m_sr), n_samples, window.sr, seed)
        samples = flow.sample(c=m_draw / 1000.0, seed=seed)
        self.flows[window.name] = flow
        z = flow.scaler.forward
        xs = np.concatenate([z(x[sr]), z(samples)])
        y = np.concatenate([np.ones(sr.sum()), np.zeros(len(samples))])
        return xs, y

    def window_features(self, events, i):
        return self.flows[self.windows[i].name].scaler.forward(self.features(events))


class CathodeB(Cathode):
    name = "cathode_b"
    btag = True

    def features(self, events):
        if "btag" not in events.feature_names:
            raise InputError(f"cathode_b: {events.source} has no b-tag scores")
        return super().features(events)
