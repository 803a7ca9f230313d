"""Normalizing-flow density estimation (zuko neural spline flows), with the bounded-feature preprocessing of CATHODE.

Features are mapped to the real line before the flow sees them, and mapped back exactly when
sampling:

    x → u = (x − lo) / (hi − lo)          (lo, hi: training range, widened by 1% on each side)
      → y = logit(α + (1 − 2α) u)           α = 1e-3
      → z = (y − mean(y)) / std(y)

Values outside the training range are clipped to it first, so a held-out event never reaches
an infinite logit. ``log_prob`` returns the density of the original features x (the flow's density
of z plus log|dz/dx|), so that flows with different preprocessing can be compared event by event,
as QUAK's likelihood ratio does. A context (e.g. m_jj) is standardised and conditions every transform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import zuko

from anomalyscope.core.methods.device import DEVICE
from anomalyscope.core.methods.scaling import LogitScaler
from anomalyscope.core.methods.training import batched, fit_density
from anomalyscope.core.params import param, prefixed


@dataclass(frozen=True)
class FlowConfig:
    kind: Literal["nsf", "maf"] = "nsf"  # neural spline flow; "maf" (affine) interpolated worse in m_jj (see tests)
    transforms: int = param(6, low=1)
    hidden: tuple[int, ...] = param((64, 64), low=1)
    epochs: int = param(60, low=1)  # cosine-annealed learning rate; the epoch of lowest validation loss is kept
    min_steps: int = param(
        2500, low=0
    )  # small samples train for more epochs, so that every flow gets this many updates
    batch_size: int = param(256, low=1)
    lr: float = param(1e-4, low=0, low_open=True)  # 1e-3 and 3e-4 reached their best validation loss within a
    # few epochs and interpolated worse into the SR (classifier AUC 0.527 vs 0.513 for 1e-4 on the test background)
    patience: int = param(20, low=1)
    val_fraction: float = param(0.2, low=0, high=1, high_open=True)


# a flow's parameters as a method takes them, flat: flow_epochs, flow_transforms, ...
FlowParams = prefixed(FlowConfig, "flow_", "FlowParams")


class DensityFlow:
    """p(x | c) with a masked autoregressive flow; c may be absent (unconditional)."""

    def __init__(self, cfg: FlowConfig | None = None, seed: int = 0):
        self.cfg = cfg or FlowConfig()
        self.seed = seed
        self.history: list = []

    def _ctx(self, c):
        if c is None or self.c_mean is None:
            return None
        c = np.asarray(c, dtype=np.float64).reshape(len(c), -1)
        return torch.from_numpy(((c - self.c_mean) / self.c_std).astype(np.float32)).to(DEVICE)

    def fit(self, x: np.ndarray, c: np.ndarray | None = None) -> "DensityFlow":
        cfg = self.cfg
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.scaler = LogitScaler(x)
        if c is not None:
            c2 = np.asarray(c, dtype=np.float64).reshape(len(c), -1)
            self.c_mean, self.c_std = c2.mean(axis=0), c2.std(axis=0) + 1e-9
        else:
            self.c_mean = self.c_std = None
        z = torch.from_numpy(self.scaler.forward(x)).to(DEVICE)
        ct = self._ctx(c)
        flow = self._network("flow").to(DEVICE)
        self.flow, self.history, self.best_val_nll = fit_density(
            flow,
            lambda idx: -flow(None if ct is None else ct[idx]).log_prob(z[idx]),
            len(z),
            lr=cfg.lr,
            epochs=cfg.epochs,
            min_steps=cfg.min_steps,
            batch_size=cfg.batch_size,
            patience=cfg.patience,
            val_fraction=cfg.val_fraction,
            rng=rng,
            cosine=True,
        )
        return self

    def _network(self, attr: str) -> torch.nn.Module:
        """The untrained flow for the fitted scalers' dimensions (also how a stored flow is rebuilt)."""
        flow_cls = {"maf": zuko.flows.MAF, "nsf": zuko.flows.NSF}[self.cfg.kind]
        n_ctx = 0 if self.c_mean is None else len(self.c_mean)
        return flow_cls(len(self.scaler.lo), context=n_ctx, transforms=self.cfg.transforms,
                        hidden_features=tuple(self.cfg.hidden))  # fmt: skip

    def log_prob(self, x: np.ndarray, c: np.ndarray | None = None) -> np.ndarray:
        """log density of the features x, per event (see the module docstring)."""
        return self.log_prob_z(self.scaler.forward(x), c) + self.scaler.log_abs_det(x)

    def log_prob_z(self, z: np.ndarray, c: np.ndarray | None = None) -> np.ndarray:
        """log density in the preprocessed space (``scaler.forward(x)``), per event: where two densities share
        this flow's preprocessing, its Jacobian cancels between them (R-Anode's mixture)."""
        zt = torch.from_numpy(z).to(DEVICE)
        ct = self._ctx(c)
        out = batched(lambda rows: self.flow(None if ct is None else ct[rows]).log_prob(zt[rows]), len(zt))
        return np.zeros(0) if out is None else out.cpu().numpy().astype(np.float64)

    def sample(self, n: int | None = None, c: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
        """n samples (unconditional) or one sample per context row, in the original feature units."""
        torch.manual_seed(seed)
        with torch.no_grad():
            if c is None:
                z = self.flow(None).sample((n,))
            else:
                ct = self._ctx(c)
                z = batched(lambda rows: self.flow(ct[rows]).sample(), len(ct))
        return self.scaler.inverse(z.cpu().numpy())
