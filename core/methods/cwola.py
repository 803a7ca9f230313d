"""CWoLa Hunting (arXiv:1805.02664, as in the CMS search arXiv:2412.03747).

For each m_jj window a classifier learns to tell signal-region events from sideband events using
per-jet substructure only (m_SD, τ21, τ32, τ43, n_constituents, lepton fraction, b-tag): if the SR
holds a resonance with anomalous jets, the classifier finds them; if not, it learns nothing, because
the features are (nearly) independent of m_jj. As in CMS, the classifier sees one jet at a time
(both jets of an event carry the event's SR/SB label) and the event score is the larger of its two
jets' scores. Each window trains an ensemble over inner folds (early stopping on each inner
validation fold) inside every outer fold; an event is scored by its own SR window's ensemble.
The classifier: boosted decision trees by default (``WeakClassifierParams``), or the CMS network 64-32-16-4
(``classifier: nn``).
"""

from __future__ import annotations

import numpy as np

from anomalyscope.core.methods.windowed import WeakClassifierParams, WindowedClassifier


class CWoLa(WindowedClassifier):
    name = "cwola"
    Params = WeakClassifierParams

    def training_set(self, window, train, ctx):
        sel = train.deta < ctx.deta_max
        sr = window.in_sr(train.mjj) & sel
        sb = window.in_sb(train.mjj) & sel
        x_all = train.classifier_inputs()
        jets_sr = x_all[sr].reshape(-1, x_all.shape[2])
        jets_sb = x_all[sb].reshape(-1, x_all.shape[2])
        x = np.concatenate([jets_sr, jets_sb])
        y = np.concatenate([np.ones(len(jets_sr)), np.zeros(len(jets_sb))])
        return x, y

    def features(self, events):
        x = events.classifier_inputs()
        return x.reshape(-1, x.shape[2])  # (2n, f): j1, j2 of each event in turn

    def combine(self, per_row, n_events):
        return per_row.reshape(n_events, 2).max(axis=1)
