"""The one training loop every network here goes through (classifiers, the Tag N' Train autoencoder, the
VAE, the normalizing flows): shuffled minibatches, a validation loss after each epoch, early stopping
that keeps the best epoch's weights.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from anomalyscope.core.methods.device import DEVICE

BATCH = 65536  # rows a trained network evaluates at once (memory stays bounded, on a GPU too)


def batched(fn: Callable[[slice], torch.Tensor], n: int) -> torch.Tensor | None:
    """``fn(rows)`` over consecutive slices of ``n`` rows, concatenated, without gradients; None when n is 0."""
    with torch.no_grad():
        out = [fn(slice(s, s + BATCH)) for s in range(0, n, BATCH)]
    return torch.cat(out) if out else None


def class_weights(y: np.ndarray) -> tuple[float, float]:
    """(weight of a class-1 sample, of a class-0 sample) giving each class half the total weight: a classifier
    then learns the likelihood ratio whatever the classes' sizes (signal region against sidebands, say)."""
    pos = max(float(np.mean(y)), 1e-6)
    return 0.5 / pos, 0.5 / max(1 - pos, 1e-6)


class EarlyStopping:
    """Keeps the weights of the epoch with the lowest validation loss; says when ``patience`` epochs in
    a row failed to improve on it by more than ``min_delta``."""

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
        if self.state is not None:
            net.load_state_dict(self.state)
        return net.eval()


def fit_network(
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch_loss: Callable[[torch.Tensor], torch.Tensor],
    validation_loss: Callable[[], float | None],
    n_train: int,
    *,
    epochs: int,
    batch_size: int,
    patience: int,
    rng: np.random.Generator,
    min_delta: float = 1e-5,
    scheduler=None,
) -> tuple[nn.Module, list[float], float]:
    """Train ``net`` for at most ``epochs`` passes over ``n_train`` samples in shuffled batches.

    ``batch_loss(idx)`` is the mean loss of the training samples ``idx`` (a tensor of row numbers);
    ``validation_loss()`` the loss on held-out samples, or None where there are none (the last batch's
    loss then stands in). Returns the network with its best epoch's weights, in eval mode, the
    validation loss of each epoch and the best of them.
    """
    stop = EarlyStopping(patience, min_delta)
    history: list[float] = []
    last = None
    for _ in range(epochs):
        net.train()
        perm = torch.from_numpy(rng.permutation(n_train)).to(DEVICE)
        for start in range(0, n_train, batch_size):
            loss = batch_loss(perm[start : start + batch_size])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            last = loss.detach()
        if scheduler is not None:
            scheduler.step()
        net.eval()
        with torch.no_grad():
            v = validation_loss()
        v = float("nan" if last is None else last) if v is None else float(v)
        history.append(v)
        if stop.step(v, net):
            break
    return stop.restore(net), history, stop.best


def fit_density(
    net: nn.Module,
    event_nll: Callable[[torch.Tensor], torch.Tensor],
    n_events: int,
    *,
    lr: float,
    epochs: int,
    min_steps: int,
    batch_size: int,
    patience: int,
    val_fraction: float,
    rng: np.random.Generator,
    cosine: bool = False,
) -> tuple[nn.Module, list[float], float]:
    """Maximum likelihood of a density model: ``event_nll(rows)`` is −log p of those events. A random
    ``val_fraction`` of the events is held out for early stopping; small samples train for more epochs so that
    every model gets at least ``min_steps`` updates; Adam, with a cosine-annealed rate if ``cosine``."""
    val = rng.random(n_events) < val_fraction
    tr = torch.from_numpy(np.flatnonzero(~val)).to(DEVICE)
    va = torch.from_numpy(np.flatnonzero(val)).to(DEVICE)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    steps_per_epoch = max(1, -(-len(tr) // batch_size))
    epochs = max(epochs, -(-min_steps // steps_per_epoch))
    return fit_network(
        net,
        opt,
        lambda idx: event_nll(tr[idx]).mean(),
        lambda: float(event_nll(va).mean()) if len(va) else None,
        len(tr),
        epochs=epochs,
        batch_size=batch_size,
        patience=patience,
        rng=rng,
        min_delta=1e-4,
        scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if cosine else None,
    )
