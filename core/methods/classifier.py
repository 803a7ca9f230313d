"""The shared classifier: a small torch MLP with input standardisation, early stopping on a validation split
and ensembling over inner folds, or (``classifier="bdt"``) boosted decision trees (``methods.trees``). Used by
CWoLa, Tag N' Train, CATHODE, CATHODE-b and the supervised and idealised references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from anomalyscope.core.methods.device import DEVICE
from anomalyscope.core.methods.scaling import Standardizer
from anomalyscope.core.methods.training import batched, class_weights, fit_network
from anomalyscope.core.methods.trees import TreeClassifier
from anomalyscope.core.params import param


def _mlp(n_in: int, hidden=(64, 32, 16, 4), n_out: int = 1) -> nn.Sequential:
    layers, d = [], n_in
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class TrainConfig:
    """The shared classifier's parameters; a method that trains it takes them as its own."""

    hidden: tuple[int, ...] = param((64, 32, 16, 4), low=1)
    epochs: int = param(40, low=1)
    batch_size: int = param(256, low=1)
    lr: float = param(1e-3, low=0, low_open=True)
    patience: int = param(6, low=1)
    weight_decay: float = param(0.0, low=0)
    classifier: Literal["nn", "bdt"] = "nn"  # the network above, or boosted decision trees (methods.trees)
    bdt_iterations: int = param(200, low=1)  # at most; early stopping after `patience` without improvement
    bdt_learning_rate: float = param(0.1, low=0, low_open=True)
    bdt_leaves: int = param(31, low=2)  # leaves per tree


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
        w_pos, w_neg = class_weights(y)
        net = self._network("net").to(DEVICE)
        opt = torch.optim.Adam(net.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        loss_fn = nn.BCEWithLogitsLoss(reduction="none")

        def weighted_loss(x_, y_):
            w = torch.where(y_ > 0.5, w_pos, w_neg)
            return (loss_fn(net(x_).squeeze(1), y_) * w).sum() / w.sum()

        self.net, self.history, _ = fit_network(
            net,
            opt,
            lambda idx: weighted_loss(xt[idx], yt[idx]),
            lambda: float(weighted_loss(xv, yv)),
            len(xt),
            epochs=self.cfg.epochs,
            batch_size=self.cfg.batch_size,
            patience=self.cfg.patience,
            rng=rng,
        )
        return self

    def _network(self, attr: str) -> nn.Module:
        """The untrained network for the fitted scaler's inputs (also how a stored model is rebuilt)."""
        return _mlp(len(self.scaler.mean), self.cfg.hidden)

    def predict(self, x: np.ndarray) -> np.ndarray:
        xt = torch.from_numpy(self.scaler(x)).to(DEVICE)
        out = batched(lambda rows: torch.sigmoid(self.net(xt[rows]).squeeze(1)), len(xt))
        return out.cpu().numpy() if out is not None else np.zeros(0, dtype=np.float32)


def train_ensemble(x: np.ndarray, y: np.ndarray, n_inner: int, cfg: TrainConfig, seed: int) -> list:
    """Nested folds: n_inner classifiers (networks or BDTs, as ``cfg.classifier``), each validated (early
    stopping) on one inner fold."""
    make = TreeClassifier if cfg.classifier == "bdt" else Classifier
    rng = np.random.default_rng(seed)
    fold = rng.integers(0, n_inner, len(x))
    models = []
    for k in range(n_inner):
        tr, va = fold != k, fold == k
        if va.sum() == 0 or tr.sum() == 0:
            continue
        models.append(make(cfg, seed=seed * 100 + k).fit(x[tr], y[tr], x[va], y[va]))
    return models


def predict_ensemble(models: list, x: np.ndarray) -> np.ndarray:
    return np.mean([m.predict(x) for m in models], axis=0)
