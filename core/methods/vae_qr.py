"""VAE-QR (CMS, arXiv:2412.03747): a variational autoencoder per jet, trained on a background-dominated
control region, whose loss is the anomaly score; quantile regression in m_jj (the shared
flat-efficiency machinery) then turns it into selections that do not sculpt the spectrum.

* Input: up to 100 highest-pT constituents (px, py, pz) of a jet, expressed in the jet's frame
  (rotated so the jet axis is the z axis) and divided by the jet momentum, then standardised.
* Encoder: a permutation-invariant Deep Sets network (per-particle MLP, masked mean pooling), latent
  dimension 12; decoder: an MLP to 100 points.
* Loss: masked Chamfer distance between input and reconstructed point clouds (permutation
  invariant) + β·KL, β = 0.01 by default. The jet score is that loss.
* Training set: events in the |Δη| sideband 1.3 < |Δη| < 2.5, jets resampled to match the jet-pT
  spectrum of the |Δη| < 1.3 region (at most 20k jets per model on the CPU). Event score: the minimum
  of the two jets' scores by default (both jets must look anomalous), or max / sum.
* Folds: 2 by default. The analysis region (|Δη| < 1.3) is never in a training set, so every event
  there is scored by a model that did not see it whatever the number of folds; the 2 folds keep the
  control-region events out of fold too, at a fifth of the 5-fold training cost (measured on the
  CPU: ≈ 75 ms per batch of 256 jets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from anomalyscope.core.errors import InputError
from anomalyscope.core.methods.base import Context, Method, MethodParams
from anomalyscope.core.methods.device import DEVICE
from anomalyscope.core.methods.events import Events
from anomalyscope.core.methods.training import fit_network
from anomalyscope.core.params import param

COMBINE = {"min": np.min, "max": np.max, "sum": np.sum}


def _jet_frame(cons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 100, 3) lab px, py, pz → (jet-frame coordinates / |p_jet|, mask of real constituents)."""
    mask = np.any(cons != 0, axis=2)
    p = cons.sum(axis=1)  # jet momentum from its constituents
    pmag = np.linalg.norm(p, axis=1, keepdims=True) + 1e-9
    z = p / pmag
    ref = np.where(np.abs(z[:, 2:3]) < 0.9, np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]]))
    x = np.cross(ref, z)
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-12
    y = np.cross(z, x)
    rot = np.stack([x, y, z], axis=1)  # rows: new axes
    local = np.einsum("nij,nkj->nki", rot, cons) / pmag[:, None, :]
    return (local * mask[:, :, None]).astype(np.float32), mask


class DeepSetsVAE(nn.Module):
    def __init__(self, n_points=100, latent=12, width=64):
        super().__init__()
        self.n_points = n_points
        self.phi = nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.rho = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 2 * latent))
        self.dec = nn.Sequential(
            nn.Linear(latent, 128), nn.ReLU(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, n_points * 3)
        )

    def forward(self, x, mask):
        h = self.phi(x) * mask.unsqueeze(-1)
        pooled = h.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        mu, logvar = self.rho(pooled).chunk(2, dim=-1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.dec(z).view(-1, self.n_points, 3), mu, logvar


def _chamfer(x, mask, y):
    """Masked Chamfer distance between point clouds x (real, masked) and y (reconstructed), per jet."""
    d = torch.cdist(x, y).pow(2)  # (b, n, m)
    big = torch.finfo(d.dtype).max / 4
    d_x = d.min(dim=2).values  # each real point to its nearest reconstruction
    d_y = torch.where(mask.unsqueeze(-1), d, torch.full_like(d, big)).min(dim=1).values
    n_real = mask.sum(1).clamp(min=1)
    return (d_x * mask).sum(1) / n_real + d_y.mean(1)


def _kl_div(mu, logvar):
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


@dataclass(frozen=True)
class VAEQRParams(MethodParams):
    latent: int = param(12, low=1)
    beta: float = param(0.01, low=0)  # weight of the KL term
    epochs: int = param(15, low=1)
    batch_size: int = param(256, low=1)
    lr: float = param(1e-3, low=0, low_open=True)
    combine: Literal["min", "max", "sum"] = "min"  # the two jets' scores into the event's
    max_train_jets: int = param(20000, low=1)
    patience: int = param(4, low=1)
    # the |Δη| control region: from the analysis region's edge (None: the search's |Δη| cut) to 2.5
    cr_deta: tuple[float | None, float] = (None, 2.5)

    def __post_init__(self):
        lo, hi = self.cr_deta
        if (lo is not None and not 0 <= lo < hi) or hi <= 0:
            raise ValueError(
                f"cr_deta must be [low, high] with 0 <= low < high (low may be null), got {list(self.cr_deta)}"
            )


class VAEQR(Method):
    name = "vae_qr"
    needs = ("constituents",)
    default_folds = 2
    Params = VAEQRParams

    # ---------------------------------------------------------------- training sample
    def _training_jets(self, train: Events, ctx: Context, rng) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.params.cr_deta
        lo = ctx.deta_max if lo is None else lo
        cr = (train.deta > lo) & (train.deta < hi)
        sr = train.deta < ctx.deta_max
        if cr.sum() < 50:
            raise InputError(f"vae_qr: only {int(cr.sum())} events in the |Δη| control region {lo}–{hi}")
        cons = train.subset(cr).constituents().reshape(-1, 100, 3)
        pt_cr = np.linalg.norm(cons.sum(axis=1)[:, :2], axis=1)
        sr_cons = train.subset(sr).constituents().reshape(-1, 100, 3)
        pt_sr = np.linalg.norm(sr_cons.sum(axis=1)[:, :2], axis=1)
        edges = np.quantile(np.concatenate([pt_cr, pt_sr]), np.linspace(0, 1, 21))
        h_cr, _ = np.histogram(pt_cr, edges)
        h_sr, _ = np.histogram(pt_sr, edges)
        ratio = np.divide(h_sr / max(h_sr.sum(), 1), h_cr / max(h_cr.sum(), 1), out=np.zeros(len(h_cr)), where=h_cr > 0)
        w = ratio[np.clip(np.searchsorted(edges, pt_cr, side="right") - 1, 0, len(ratio) - 1)]
        n = min(len(cons), self.params.max_train_jets)
        idx = rng.choice(len(cons), size=n, replace=True, p=w / w.sum())
        return _jet_frame(cons[idx])

    def _fit(self, train: Events, ctx: Context) -> "VAEQR":
        p = self.params
        rng = np.random.default_rng(ctx.seed)
        torch.manual_seed(ctx.seed)
        x, mask = self._training_jets(train, ctx, rng)
        real = x[mask]
        self.mean, self.std = real.mean(axis=0), real.std(axis=0) + 1e-6
        x = ((x - self.mean) / self.std) * mask[:, :, None]
        val = rng.random(len(x)) < 0.1
        xt, mt = torch.from_numpy(x[~val]).to(DEVICE), torch.from_numpy(mask[~val]).to(DEVICE)
        xv, mv = torch.from_numpy(x[val]).to(DEVICE), torch.from_numpy(mask[val]).to(DEVICE)
        net = self._network("net").to(DEVICE)
        beta = p.beta

        def batch_loss(i):
            rec, mu, logvar = net(xt[i], mt[i])
            return (_chamfer(xt[i], mt[i], rec) + beta * _kl_div(mu, logvar)).mean()

        self.net, self.history, _ = fit_network(
            net,
            torch.optim.Adam(net.parameters(), lr=p.lr),
            batch_loss,
            lambda: float(self._loss(net, xv, mv).mean()),
            len(xt),
            epochs=p.epochs,
            batch_size=p.batch_size,
            patience=p.patience,
            rng=rng,
        )
        return self

    def _network(self, attr: str) -> nn.Module:
        """The untrained VAE (also how a stored one is rebuilt)."""
        return DeepSetsVAE(latent=self.params.latent)

    def _loss(self, net, x, mask):
        with torch.no_grad():
            out = []
            for s in range(0, len(x), 2048):
                rec, mu, logvar = net(x[s : s + 2048], mask[s : s + 2048])
                out.append(_chamfer(x[s : s + 2048], mask[s : s + 2048], rec) + self.params.beta * _kl_div(mu, logvar))
            return torch.cat(out) if out else torch.zeros(0)

    def jet_scores(self, events: Events) -> np.ndarray:
        """(n, 2) VAE loss of each jet."""
        cons = events.constituents().reshape(-1, 100, 3)
        x, mask = _jet_frame(cons)
        x = ((x - self.mean) / self.std) * mask[:, :, None]
        loss = self._loss(self.net, torch.from_numpy(x).to(DEVICE), torch.from_numpy(mask).to(DEVICE))
        return loss.cpu().numpy().reshape(len(events), 2)

    def _score(self, events: Events) -> np.ndarray:
        return COMBINE[self.params.combine](self.jet_scores(events), axis=1)
