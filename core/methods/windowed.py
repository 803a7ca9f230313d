"""The base of the methods that train one classifier per m_jj window (CWoLa, Tag N' Train, CATHODE,
the idealised detector), and the parameters of every method that trains the shared classifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from anomalyscope.core.bumphunt.windows import own_window_score
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods.base import Context, Method, MethodParams
from anomalyscope.core.methods.classifier import TrainConfig, predict_ensemble, train_ensemble
from anomalyscope.core.methods.events import Events

MIN_TRAIN = 50  # samples a windowed classifier needs in a window, both classes together


@dataclass(frozen=True)
class ClassifierParams(TrainConfig, MethodParams):
    """A method that trains the shared classifier takes its parameters (``TrainConfig``) as its own."""


@dataclass(frozen=True)
class WeakClassifierParams(ClassifierParams):
    """CWoLa learns a few hundred signal events among thousands, with a threshold from its sidebands: boosted
    trees by default. Measured (``bench/bench_classifiers.py``, docs/benchmark.md) on generated QCD and W′ events:
    at 240 injected events (S/B ≈ 8% in the signal region) median max SIC 3.0 with trees against 1.1 with the network,
    nothing learned from background alone; its sculpting test holds with either. CATHODE keeps the network by
    default: with trees it learned as much more, but on a background whose features drift with m_jj its
    sideband-calibrated 1% cut passed 0.3% of one signal region (tests/core/test_methods.py)."""

    classifier: Literal["nn", "bdt"] = "bdt"


class WindowedClassifier(Method):
    """A classifier per m_jj window. Each window's ensemble scores every event (``score_windows``): the
    search cuts a window's scores at a threshold taken from its sidebands and fits the whole selected
    spectrum. ``score`` gives each event the score of its own window (``windows.assign``; NaN outside
    every trained window), for views of the most anomalous events."""

    windowed = True
    Params = ClassifierParams

    def training_set(self, window, train: Events, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def features(self, events: Events) -> np.ndarray:
        raise NotImplementedError

    def window_features(self, events: Events, i: int) -> np.ndarray:
        """Features as window i's classifier takes them (a method may transform them per window)."""
        return self.features(events)

    def combine(self, per_row: np.ndarray, n_events: int) -> np.ndarray:
        return per_row

    def _fit(self, train: Events, ctx: Context):
        self.windows = ctx.windows
        self.models = {}
        for i, w in enumerate(ctx.windows):
            x, y = self.training_set(w, train, ctx)
            if len(y) < MIN_TRAIN or y.sum() < 10 or (1 - y).sum() < 10:
                continue
            self.models[i] = train_ensemble(x, y, ctx.n_inner, self.params, ctx.seed + 7919 * i)
        return self

    def score_windows(self, events: Events) -> dict[str, np.ndarray]:
        """Window name → that window's score of every event (only windows that could be trained)."""
        return {
            self.windows[i].name: self.combine(predict_ensemble(models, self.window_features(events, i)), len(events))
            for i, models in self.models.items()
        }

    def _score(self, events: Events) -> np.ndarray:
        scores = self.score_windows(events)
        if np.all(np.isnan(events.mjj)):  # scored from arrays without m_jj
            if len(scores) != 1:
                raise InputError(
                    f"{self.name}: trained in {len(scores)} windows; give mjj to score each event in its own window"
                )
            return next(iter(scores.values()))
        return own_window_score(self.windows, scores, events.mjj)
