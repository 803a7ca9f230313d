"""The shared dense classifier: a small torch MLP with input standardisation, early stopping on a
validation split and ensembling over inner folds. Used by CWoLa, the supervised and idealised references.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from anomalyscope.core.methods.device import DEVICE


def mlp(n_in: int, hidden=(64, 32, 16, 4), n_out: int = 1) -> nn.Sequential:
    layers, d = [], n_in
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


@dataclass
class TrainConfig:
    hidden: tuple = (64, 32, 16, 4)
    epochs: int = 40
    batch_size: int = 256
    lr: float = 1e-3
    patience: int = 6
    weight_decay: float = 0.0


CLIP_SIGMA = 5.0


class Standardizer:
    """Zero mean, unit variance, clipped at ±5σ: far-out inputs (a 500 GeV jet among QCD jets) reach
    the network at the edge of what it was trained on, not extrapolated to where its output is
    arbitrary."""

    def __init__(self, x: np.ndarray):
        self.mean = x.mean(axis=0)
        self.std = x.std(axis=0) + 1e-6

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.mean) / self.std, -CLIP_SIGMA, CLIP_SIGMA).astype(np.float32)


class EarlyStopping:
    """Keeps the weights of the epoch with the lowest validation loss; says when ``patience`` epochs in
    a row failed to improve on it by more than ``min_delta``. Shared by every network trained here."""

    def __init__(self, patience: int, min_delta: float = 1e-5):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.state, self.bad = np.inf, None, 0

    def step(self, value: float, net: nn.Module) -> bool:
        """Record one epoch's validation loss; True when training should stop."""
        if value < self.best - self.min_delta:
            self.best, self.bad = value, 0
            self.state = {k: t.detach().clone() for k, t in net.state_dict().items()}
            return False
        self.bad += 1
        return self.bad >= self.patience

    def restore(self, net: nn.Module) -> nn.Module:
        net.load_state_dict(self.state)
        return net.eval()


class Classifier:
    """Binary classifier returning probabilities; trained with class-balanced BCE and early stopping."""

    def __init__(self, cfg: TrainConfig | None = None, seed: int = 0):
        self.cfg = cfg or TrainConfig()
        self.seed = seed
        self.net: nn.Module | None = None
        self.scaler: Standardizer | None = None
        self.history: list = []

    def fit(self, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray) -> "Classifier":
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.scaler = Standardizer(x)
        xt = torch.from_numpy(self.scaler(x)).to(DEVICE)
        yt = torch.from_numpy(y.astype(np.float32)).to(DEVICE)
        xv = torch.from_numpy(self.scaler(x_val)).to(DEVICE)
        yv = torch.from_numpy(y_val.astype(np.float32)).to(DEVICE)
        pos = max(float(y.mean()), 1e-6)
        w_pos, w_neg = 0.5 / pos, 0.5 / max(1 - pos, 1e-6)  # balance the classes
        net = mlp(x.shape[1], self.cfg.hidden).to(DEVICE)
        opt = torch.optim.Adam(net.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        loss_fn = nn.BCEWithLogitsLoss(reduction="none")

        def val_loss():
            with torch.no_grad():
                lv = loss_fn(net(xv).squeeze(1), yv)
                wv = torch.where(yv > 0.5, w_pos, w_neg)
                return float((lv * wv).sum() / wv.sum())

        stop = EarlyStopping(self.cfg.patience)
        n = len(xt)
        for epoch in range(self.cfg.epochs):
            net.train()
            perm = torch.from_numpy(rng.permutation(n)).to(DEVICE)
            for start in range(0, n, self.cfg.batch_size):
                idx = perm[start : start + self.cfg.batch_size]
                logits = net(xt[idx]).squeeze(1)
                w = torch.where(yt[idx] > 0.5, w_pos, w_neg)
                loss = (loss_fn(logits, yt[idx]) * w).sum() / w.sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
            net.eval()
            v = val_loss()
            self.history.append(v)
            if stop.step(v, net):
                break
        self.net = stop.restore(net)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            xt = torch.from_numpy(self.scaler(x)).to(DEVICE)
            out = [torch.sigmoid(self.net(xt[i : i + 65536]).squeeze(1)) for i in range(0, len(xt), 65536)]
        return torch.cat(out).cpu().numpy() if out else np.zeros(0, dtype=np.float32)


def train_ensemble(x: np.ndarray, y: np.ndarray, n_inner: int, cfg: TrainConfig, seed: int) -> list[Classifier]:
    """Nested folds: n_inner classifiers, each validated (early stopping) on one inner fold."""
    rng = np.random.default_rng(seed)
    fold = rng.integers(0, n_inner, len(x))
    models = []
    for k in range(n_inner):
        tr, va = fold != k, fold == k
        if va.sum() == 0 or tr.sum() == 0:
            continue
        models.append(Classifier(cfg, seed=seed * 100 + k).fit(x[tr], y[tr], x[va], y[va]))
    return models


def predict_ensemble(models: list[Classifier], x: np.ndarray) -> np.ndarray:
    return np.mean([m.predict(x) for m in models], axis=0)
