"""The one method interface and the out-of-fold machinery every method runs through.

A method is fitted on the training folds and scores the held-out fold, so no event is scored by a
model that saw it (k-fold, default 5). Auxiliary samples (a pure signal sample for the supervised
reference and for evaluation, an extra background sample for the idealised detector) are split into
the same number of folds, so they too are only ever scored out of fold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from anomalyscope.core.bumphunt.windows import own_window_score
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods.arrays import as_context, as_events
from anomalyscope.core.methods.context import Context
from anomalyscope.core.methods.events import Events
from anomalyscope.core.params import build, param


@dataclass(frozen=True)
class MethodParams:
    """What every method takes. A method's own parameters extend this (a frozen dataclass ``Params``)."""

    folds: int | None = param(None, low=2)  # None: the method's default_folds, else the Run's folds


class Method:
    """fit(train events, context) → self; score(events) → higher = more anomalous; save/load.

    ``self.params`` is the method's ``Params`` (frozen, checked when the method is made); what ``fit``
    learns lives in other attributes."""

    Params = MethodParams

    name = "method"
    needs: tuple = ()  # "signal", "background_extra", "constituents"
    windowed = False  # scores comparable only within one m_jj window
    reference = False  # a yardstick (no cut, a τ cut, or trained with truth/simulation), not a data-driven search
    default_folds: int | None = None  # a method may need fewer folds than the run (see VAE-QR)

    def __init__(self, **params):
        self.params = self.configure(params)

    @classmethod
    def configure(cls, raw: dict | None, where: str | None = None):
        """The method's parameters from what a user wrote, every name and value checked (one-line
        ``InputError`` naming ``where``, the field and the value)."""
        return build(cls.Params, raw, where or cls.name)

    @classmethod
    def check_config(cls, params, searched: set[str]) -> dict:
        """Check the (configured) parameters against the Run's inputs before any training, knowing which
        signal processes the Run searches for or evaluates; return what the manifest should record."""
        return {}

    def fit(self, data, ctx_or_mjj=None, /, **options) -> "Method":
        """Fit on the training events; two forms:

        - ``fit(events, ctx)``: ``Events`` and a ``Context`` (what a Run does, fold by fold);
        - ``fit(X, mjj, windows=..., deta=..., signal=..., background=..., seed=...)``: plain arrays, ``X`` a
          mapping jet-feature name → (n, 2) or an (n, 2, n_features) array with ``features=[...]``
          (``methods.arrays``). Windowed methods need ``windows`` ('lhco', 'cms', 'sliding' or
          (sideband_low, signal_region, sideband_high) in GeV).
        """
        if isinstance(data, Events):
            if options:
                raise InputError(f"{self.name}.fit(events, ctx): options {sorted(options)} are for the array form")
            events, ctx = data, ctx_or_mjj if ctx_or_mjj is not None else Context([])
            if not isinstance(ctx, Context):
                raise InputError(f"{self.name}.fit(events, ctx): ctx must be a Context, got {type(ctx).__name__}")
        else:
            if ctx_or_mjj is None:
                raise InputError(f"{self.name}.fit(X, mjj): the dijet masses mjj are needed to train")
            array_opts = {k: options.pop(k) for k in ("deta", "features", "constituents") if k in options}
            events = as_events(data, ctx_or_mjj, **array_opts)
            try:
                ctx = as_context(events, **options)
            except TypeError as exc:
                raise InputError(f"{self.name}.fit: {exc}") from None
        if self.windowed and not ctx.windows:
            raise InputError(f"{self.name} trains one classifier per m_jj window: give windows=")
        self.features_in = events.feature_names
        return self._fit(events, ctx)

    def score(self, data, mjj=None, /, **options) -> np.ndarray:
        """Higher = more anomalous, one value per event: ``score(events)`` or ``score(X[, mjj])`` with ``X`` as
        in ``fit`` (a windowed method trained in several windows needs ``mjj`` to pick each event's own)."""
        events = as_events(data, mjj, **options)
        fitted = getattr(self, "features_in", None)
        if fitted is not None and tuple(events.feature_names) != tuple(fitted):
            raise InputError(
                f"{self.name}.score: features {list(events.feature_names)} differ from those it was fitted on "
                f"{list(fitted)}"
            )
        return np.asarray(self._score(events))

    def _fit(self, train: Events, ctx: Context) -> "Method":
        raise NotImplementedError

    def _score(self, events: Events) -> np.ndarray:
        raise NotImplementedError

    def save(self, stem: Path) -> None:
        """The fitted method as ``stem``.json (parameters and state) and ``stem``.npz (arrays and network
        weights); see ``storage``."""
        from anomalyscope.core.methods import storage

        storage.save(self, stem)

    @classmethod
    def load(cls, stem: Path) -> "Method":
        from anomalyscope.core.methods import storage

        obj = storage.load(Path(stem).with_suffix(""))
        if not isinstance(obj, cls):
            raise InputError(f"{Path(stem).with_suffix('.json')}: holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj


@dataclass
class OutOfFold:
    name: str
    scores: np.ndarray  # per data event
    signal_scores: np.ndarray | None  # per event of the evaluation signal sample
    fit_seconds: float = 0.0
    models: list = field(default_factory=list)
    window_scores: dict = field(default_factory=dict)  # windowed methods: window name → score per data event
    signal_window_scores: dict = field(default_factory=dict)  # the same for the evaluation signal sample


def _fold_index(n: int, k: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, k, n)


def run_out_of_fold(
    method_cls, params: dict, data: Events, ctx: Context, folds: int, seed: int, signal_eval: Events | None = None
) -> OutOfFold:
    """Train one model per fold; each fold's events (and each fold of the auxiliary samples) are
    scored by the model that did not see them."""
    if folds < 2:
        raise InputError(f"folds must be at least 2, got {folds}")
    f_data = _fold_index(len(data), folds, seed)
    f_sig = _fold_index(len(ctx.signal), folds, seed + 1) if ctx.signal is not None else None
    f_bkg = _fold_index(len(ctx.background_extra), folds, seed + 2) if ctx.background_extra is not None else None
    # the same seed as ctx.signal: when the evaluation sample is the training signal sample, each of
    # its events is scored by the model that did not train on it
    f_eval = _fold_index(len(signal_eval), folds, seed + 1) if signal_eval is not None else None
    scores = np.full(len(data), np.nan)
    window_scores: dict[str, np.ndarray] = {}
    sig_window_scores: dict[str, np.ndarray] = {}
    sig_scores = np.full(len(signal_eval), np.nan) if signal_eval is not None else None
    models = []
    t0 = time.perf_counter()
    for k in tqdm(range(folds), desc=method_cls.name, disable=not ctx.progress, leave=False):
        sub = Context(
            ctx.windows,
            ctx.signal.subset(f_sig != k) if ctx.signal is not None else None,
            ctx.background_extra.subset(f_bkg != k) if ctx.background_extra is not None else None,
            seed=seed * 1000 + k,
            n_inner=ctx.n_inner,
            deta_max=ctx.deta_max,
            fit_range=ctx.fit_range,
        )
        model = method_cls(**params).fit(data.subset(f_data != k), sub)
        _score_fold(model, method_cls.windowed, ctx.windows, data, f_data == k, scores, window_scores)
        if signal_eval is not None:
            _score_fold(
                model, method_cls.windowed, ctx.windows, signal_eval, f_eval == k, sig_scores, sig_window_scores
            )
        models.append(model)
    return OutOfFold(
        method_cls.name, scores, sig_scores, time.perf_counter() - t0, models, window_scores, sig_window_scores
    )


def _score_fold(model, windowed: bool, windows, events: Events, rows: np.ndarray, out: np.ndarray, per_window: dict):
    """Score the held-out ``rows`` of ``events`` into ``out`` (and, for a windowed method, every window's
    score of them into ``per_window``: window name → scores of all events)."""
    held = events.subset(rows)
    if not windowed:
        out[rows] = model.score(held)
        return
    scores = model.score_windows(held)
    for name, s in scores.items():
        per_window.setdefault(name, np.full(len(events), np.nan))[rows] = s
    out[rows] = own_window_score(windows, scores, held.mjj)
