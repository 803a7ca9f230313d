"""Reference selections, so every number has a scale: inclusive, cut-based, supervised, idealised.

* ``inclusive``: no substructure cut (a constant score: every efficiency keeps everything).
* ``cut_tau21`` / ``cut_tau32``: the traditional 2- and 3-prong selections, τ21 < x (τ32 < x) on both
  jets, as a score −max(τ_j1, τ_j2) so that the cut "score > −x" is exactly the selection.
* ``supervised``: a classifier between the labelled signal sample and background (the upper bound),
  trained in the m_jj range the windows span. The background is the data's training folds: simulated
  data is background up to the injected signal (below a percent), the approximation the weak-supervision
  papers make for this reference too.
* ``iad``: the idealised anomaly detector — a classifier between SR data and a perfectly modelled
  background sample in the same SR (extra simulated events), per window. On both jets' classifier inputs, or
  (``features: cms`` / ``lhco``) on CATHODE's feature set: the bound the CATHODE papers compare CATHODE with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from anomalyscope.core.bumphunt.search import INCLUSIVE
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods.base import Context, Method
from anomalyscope.core.methods.cathode import FEATURE_SETS, cathode_features
from anomalyscope.core.methods.classifier import predict_ensemble, train_ensemble
from anomalyscope.core.methods.events import Events
from anomalyscope.core.methods.windowed import ClassifierParams, WindowedClassifier

MIN_PER_CLASS = 20


@dataclass(frozen=True)
class SupervisedParams(ClassifierParams):
    region: Literal["windows", "all"] = "windows"  # train within the windows' m_jj span, or on every m_jj


def _event_features(ev: Events) -> np.ndarray:
    """Both jets' classifier inputs side by side: (n, 2 × n_features)."""
    return ev.classifier_inputs().reshape(len(ev), -1)


class Inclusive(Method):
    name = INCLUSIVE
    reference = True

    def _fit(self, train, ctx):
        return self

    def _score(self, events):
        return np.zeros(len(events))


class CutTau21(Method):
    name = "cut_tau21"
    reference = True

    def _fit(self, train, ctx):
        return self

    def _score(self, events):
        return -np.max(events.feature("tau21"), axis=1)


class CutTau32(Method):
    name = "cut_tau32"
    reference = True

    def _fit(self, train, ctx):
        return self

    def _score(self, events):
        return -np.max(events.feature("tau32"), axis=1)


class Supervised(Method):
    name = "supervised"
    reference = True
    needs = ("signal",)
    Params = SupervisedParams

    def _fit(self, train: Events, ctx: Context):
        if ctx.signal is None:
            raise InputError("supervised: needs a labelled signal sample ('signal' in the run config)")
        region_kind = self.params.region
        lo = min((w.lo for w in ctx.windows), default=-np.inf) if region_kind == "windows" else -np.inf
        hi = max((w.hi for w in ctx.windows), default=np.inf) if region_kind == "windows" else np.inf

        def region(ev):
            return ev.subset((ev.deta < ctx.deta_max) & (ev.mjj >= lo) & (ev.mjj < hi))

        bkg, sig = region(train), region(ctx.signal)
        if len(bkg) < MIN_PER_CLASS or len(sig) < MIN_PER_CLASS:
            raise InputError(
                f"supervised: {len(bkg)} background and {len(sig)} signal events in "
                f"{lo:.0f}–{hi:.0f} GeV; at least {MIN_PER_CLASS} of each are needed (region: 'all' uses every m_jj)"
            )
        x = np.concatenate([_event_features(bkg), _event_features(sig)])
        y = np.concatenate([np.zeros(len(bkg)), np.ones(len(sig))])
        self.models = train_ensemble(x, y, ctx.n_inner, self.params, ctx.seed)
        return self

    def _score(self, events):
        return predict_ensemble(self.models, _event_features(events))


@dataclass(frozen=True)
class IADParams(ClassifierParams):
    features: Literal["all", *FEATURE_SETS] = "all"  # "all": both jets' classifier inputs; else CATHODE's set


class IAD(WindowedClassifier):
    name = "iad"
    reference = True
    needs = ("background_extra",)
    Params = IADParams

    def training_set(self, window, train, ctx):
        if ctx.background_extra is None:
            raise InputError("iad: needs an extra background sample ('background_extra' in the run config)")
        data = train.subset(window.in_sr(train.mjj) & (train.deta < ctx.deta_max))
        extra = ctx.background_extra
        bkg = extra.subset(window.in_sr(extra.mjj) & (extra.deta < ctx.deta_max))
        x = np.concatenate([self.features(data), self.features(bkg)])
        y = np.concatenate([np.ones(len(data)), np.zeros(len(bkg))])
        return x, y

    def features(self, events):
        f = self.params.features
        return _event_features(events) if f == "all" else cathode_features(events, f)
