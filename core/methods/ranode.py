"""R-Anode (Das, Kasieczka, Shih, arXiv:2312.11629): the signal's density fitted directly in the signal region,
with the background's density known from the sidebands.

In each m_jj window:

1. as in CATHODE, a conditional normalizing flow p_bg(x | m_jj) learns the background feature density in the
   sidebands and is interpolated into the signal region (``cathode.sideband_flow``; CATHODE's feature sets:
   a Run that trains both learns each window's flow once);
2. in the signal region a second, small, unconditional flow p_sig(x) and the signal fraction w are fitted by
   maximising the likelihood of the SR events under the mixture (1 − w)·p_bg(x | m) + w·p_sig(x), with p_bg
   frozen: the signal density is given only what the background model cannot explain (ANODE fitted p_data and
   took the ratio of two learned densities; R-Anode's paper finds the constrained fit better at S/B below a
   few per cent, where ANODE's and CATHODE's classifier have little to learn from);
3. an event's score is log p_sig(x) − log p_bg(x | m), the likelihood ratio of signal against background.

Both flows work in the background flow's preprocessed space (logit, standardised); the Jacobian of that map is
common to both densities and cancels in the mixture's fit and in the ratio. Events outside a window are scored
with m_jj clipped into the window (its sidebands' outer edges), so the background flow never extrapolates in
m_jj: the search cuts each window's score over the whole spectrum. The signal flow of each window is trained
out of fold like every method here (the held-out fold's events never enter either flow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import zuko
from torch import nn

from anomalyscope.core.methods.base import MethodParams
from anomalyscope.core.methods.cathode import (
    FEATURE_SETS,
    SIDEBANDS,
    cathode_features,
    sideband_events,
    sideband_flow,
    window_seed,
)
from anomalyscope.core.methods.device import DEVICE
from anomalyscope.core.methods.flow import FlowParams
from anomalyscope.core.methods.training import batched, fit_density
from anomalyscope.core.methods.windowed import WindowedClassifier
from anomalyscope.core.params import param

MIN_SR = 100  # signal-region training events a window's signal fit needs


@dataclass(frozen=True)
class RAnodeParams(MethodParams, FlowParams):
    features: Literal[FEATURE_SETS] = "cms"
    sideband: Literal[SIDEBANDS] = "window"  # where the background flow learns, as CATHODE's (whose flows it reuses)
    signal_transforms: int = param(2, low=1)  # the signal flow is small: it learns from tens to hundreds of events
    signal_hidden: tuple[int, ...] = param((32, 32), low=1)
    # the mixture's likelihood improves slowly at first (w·p_sig is small), so early stopping with a short patience
    # stopped before the signal was learned (synthetic test: 25 epochs, w unchanged, AUC ≈ 0); the epoch of
    # lowest validation loss out of all of them is kept (AUC 0.996 at 100 epochs, lr 3e-3)
    signal_epochs: int = param(100, low=1)
    signal_min_steps: int = param(1500, low=0)  # small signal regions train for more epochs
    signal_lr: float = param(3e-3, low=0, low_open=True)
    signal_batch_size: int = param(256, low=1)
    signal_patience: int = param(100, low=1)
    w_init: float = param(0.05, low=0, high=1, low_open=True, high_open=True)  # starting signal fraction in the SR


class _Mixture(nn.Module):
    """p_sig (an unconditional spline flow) and the signal fraction w = sigmoid(w_logit): what is fitted."""

    def __init__(self, n_features: int, transforms: int, hidden: tuple[int, ...], w_init: float):
        super().__init__()
        self.flow = zuko.flows.NSF(n_features, context=0, transforms=transforms, hidden_features=tuple(hidden))
        self.w_logit = nn.Parameter(torch.tensor(float(np.log(w_init / (1 - w_init)))))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return self.flow(None).log_prob(z)

    def nll(self, z: torch.Tensor, lp_bg: torch.Tensor) -> torch.Tensor:
        """−log[(1 − w) p_bg + w p_sig] per event."""
        log_w = nn.functional.logsigmoid(self.w_logit)
        log_1mw = nn.functional.logsigmoid(-self.w_logit)
        return -torch.logaddexp(log_1mw + lp_bg, log_w + self.log_prob(z))


class SignalFit:
    """One window's fitted signal density and fraction (rebuilt from weights by ``_network``, as storage does)."""

    def __init__(self, params: RAnodeParams, n_features: int, seed: int):
        self.params, self.n_features, self.seed = params, n_features, seed

    def _network(self, attr: str) -> nn.Module:
        p = self.params
        return _Mixture(self.n_features, p.signal_transforms, p.signal_hidden, p.w_init)

    def fit(self, z: np.ndarray, lp_bg: np.ndarray) -> SignalFit:
        """Maximum likelihood of the SR events ``z`` (preprocessed) whose background log density is ``lp_bg``."""
        p = self.params
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        zt = torch.from_numpy(z.astype(np.float32)).to(DEVICE)
        bt = torch.from_numpy(lp_bg.astype(np.float32)).to(DEVICE)
        model = self._network("model").to(DEVICE)
        self.model, self.history, self.best_val_nll = fit_density(
            model,
            lambda idx: model.nll(zt[idx], bt[idx]),
            len(zt),
            lr=p.signal_lr,
            epochs=p.signal_epochs,
            min_steps=p.signal_min_steps,
            batch_size=p.signal_batch_size,
            patience=p.signal_patience,
            val_fraction=0.2,
            rng=rng,
        )
        self.w = float(torch.sigmoid(self.model.w_logit).detach().cpu())
        return self

    def log_prob(self, z: np.ndarray) -> np.ndarray:
        zt = torch.from_numpy(z.astype(np.float32)).to(DEVICE)
        out = batched(lambda rows: self.model.log_prob(zt[rows]), len(zt))
        return np.zeros(0) if out is None else out.cpu().numpy().astype(np.float64)


class RAnode(WindowedClassifier):
    name = "ranode"
    Params = RAnodeParams

    def features(self, events):
        return cathode_features(events, self.params.features)

    def _fit(self, train, ctx):
        self.windows = ctx.windows
        self.flows, self.signals = {}, {}  # window name → the sideband flow, the signal fit
        x = self.features(train)
        for w in ctx.windows:
            sel = train.deta < ctx.deta_max
            sr = w.in_sr(train.mjj) & sel
            if sr.sum() < MIN_SR:
                continue
            seed = window_seed(ctx, w)
            flow = sideband_flow(
                x, train.mjj, sideband_events(w, train.mjj, sel, ctx, self.params.sideband), self.params, seed
            )
            if flow is None:
                continue
            z, lp_bg = self._background(flow, w, x[sr], train.mjj[sr])
            self.flows[w.name] = flow
            self.signals[w.name] = SignalFit(self.params, x.shape[1], seed + 1).fit(z, lp_bg)
        return self

    @staticmethod
    def _background(flow, window, x: np.ndarray, mjj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Events in the background flow's preprocessed space and their background log density there, at m_jj
        clipped into the window (module text)."""
        z = flow.scaler.forward(x)
        return z, flow.log_prob_z(z, np.clip(mjj, window.lo, window.hi) / 1000.0)

    def score_windows(self, events):
        x = self.features(events)
        out = {}
        for w in self.windows:
            if w.name in self.signals:
                z, lp_bg = self._background(self.flows[w.name], w, x, events.mjj)
                out[w.name] = self.signals[w.name].log_prob(z) - lp_bg
        return out
