"""Tag N' Train (arXiv:2002.12376; as combined with CWoLa in the CMS search arXiv:2412.03747).

Both jets of a resonance A → B C are anomalous, so a weak tagger on one jet enriches signal in the
sample of its partner jet:

1. Tagger: a small autoencoder on the per-jet substructure features (the CWoLa set), trained on the
   training-fold jets of the analysis region across all windows — background-dominated, so its
   reconstruction error is high for unusual jets. Trained on data; no simulation enters.
2. In each m_jj window, a jet is used for training when its *partner* passes the tagger (above the
   80th percentile of partner tag scores in the window). Such jets from SR events are the
   signal-rich sample, those from sideband events the background-rich one, and a classifier (the
   shared CWoLa network) learns to tell them apart.
3. Event score: the product of the two jets' classifier outputs.

Choice made here: CMS takes the background-rich sample from sideband events whose partner is below
the 50th percentile. Then the two samples differ also in the partner's tag, and the classifier
learns the QCD correlation between the two jets of an event — discrimination with no signal at all.
Requiring the same partner tag in SR and SB keeps CWoLa's guarantee: without signal the two samples
differ only through m_jj, on which the features hardly depend. The cost is statistics (20% of the
sideband instead of 50%).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from anomalyscope.core.methods.base import Context
from anomalyscope.core.methods.device import DEVICE
from anomalyscope.core.methods.events import Events
from anomalyscope.core.methods.scaling import Standardizer
from anomalyscope.core.methods.training import fit_network
from anomalyscope.core.methods.windowed import ClassifierParams, WindowedClassifier
from anomalyscope.core.params import param


class JetAutoencoder:
    """Dense autoencoder on standardised per-jet features; score = mean squared reconstruction error."""

    def __init__(self, bottleneck: int = 2, hidden: int = 16, epochs: int = 30, batch_size: int = 256, seed: int = 0):
        self.bottleneck, self.hidden, self.epochs, self.batch_size, self.seed = (
            bottleneck,
            hidden,
            epochs,
            batch_size,
            seed,
        )

    def fit(self, x: np.ndarray) -> "JetAutoencoder":
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.scaler = Standardizer(x)
        self.net = self._network("net").to(DEVICE)
        xt = torch.from_numpy(self.scaler(x)).to(DEVICE)
        val = torch.from_numpy(rng.random(len(xt)) < 0.2).to(DEVICE)
        xtr, xva = xt[~val], xt[val]

        def mse(x_):
            return ((self.net(x_) - x_) ** 2).mean()

        self.net, _, _ = fit_network(
            self.net,
            torch.optim.Adam(self.net.parameters(), lr=1e-3),
            lambda idx: mse(xtr[idx]),
            lambda: float(mse(xva)),
            len(xtr),
            epochs=self.epochs,
            batch_size=self.batch_size,
            patience=4,
            rng=rng,
        )
        return self

    def _network(self, attr: str) -> nn.Module:
        """The untrained autoencoder for the fitted scaler's inputs (also how a stored one is rebuilt)."""
        d, h = len(self.scaler.mean), self.hidden
        return nn.Sequential(
            nn.Linear(d, h), nn.ReLU(), nn.Linear(h, self.bottleneck), nn.ReLU(), nn.Linear(self.bottleneck, h),
            nn.ReLU(), nn.Linear(h, d),
        )  # fmt: skip

    def score(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            xt = torch.from_numpy(self.scaler(x)).to(DEVICE)
            return ((self.net(xt) - xt) ** 2).mean(dim=1).cpu().numpy()


@dataclass(frozen=True)
class TagNTrainParams(ClassifierParams):
    tag_quantile: float = param(0.8, low=0, high=1, low_open=True, high_open=True)  # partner-tag cut
    ae_bottleneck: int = param(2, low=1)  # the tagger autoencoder's latent size
    ae_epochs: int = param(30, low=1)


class TagNTrain(WindowedClassifier):
    name = "tnt"
    Params = TagNTrainParams

    def _fit(self, train: Events, ctx: Context):
        lo = min(w.lo for w in ctx.windows)
        hi = max(w.hi for w in ctx.windows)
        region = (train.deta < ctx.deta_max) & (train.mjj >= lo) & (train.mjj < hi)
        jets = train.subset(region).classifier_inputs()
        self.tagger = JetAutoencoder(self.params.ae_bottleneck, epochs=self.params.ae_epochs, seed=ctx.seed).fit(
            jets.reshape(-1, jets.shape[2])
        )
        return super()._fit(train, ctx)

    def partner_tags(self, events: Events) -> np.ndarray:
        """(n, 2): for each jet, the tagger score of the *other* jet of its event."""
        x = events.classifier_inputs()
        tag = self.tagger.score(x.reshape(-1, x.shape[2])).reshape(len(events), 2)
        return tag[:, ::-1]

    def training_set(self, window, train, ctx):
        sel = train.deta < ctx.deta_max
        sr = window.in_sr(train.mjj) & sel
        sb = window.in_sb(train.mjj) & sel
        partner = self.partner_tags(train)
        cut = np.quantile(partner[sr | sb], self.params.tag_quantile)
        x_all = train.classifier_inputs()
        rows_sr = x_all[sr][partner[sr] > cut]
        rows_sb = x_all[sb][partner[sb] > cut]
        x = np.concatenate([rows_sr, rows_sb])
        y = np.concatenate([np.ones(len(rows_sr)), np.zeros(len(rows_sb))])
        return x, y

    def features(self, events):
        x = events.classifier_inputs()
        return x.reshape(-1, x.shape[2])

    def combine(self, per_row, n_events):
        return per_row.reshape(n_events, 2).prod(axis=1)
