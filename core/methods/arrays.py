"""Plain arrays in, ``Events`` and ``Context`` out: the methods on data that never was an EventSet.

A notebook user holds numpy arrays (read from the LHC Olympics file, a NanoAOD tree, anything) and wants
``method.fit(X, mjj)`` / ``method.score(X)`` as in sk_cathode. ``X`` is either a mapping from jet-feature
name to an ``(n, 2)`` array (leading jet first), or an ``(n, 2, n_features)`` array with ``features=`` naming
the last axis. Every shape and value is checked here, with one error naming the argument, so a method only
ever sees what an EventSet would have given it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from anomalyscope.core.bumphunt.windows import MODES, Window, make_windows
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods.context import Context
from anomalyscope.core.methods.events import JET_FEATURES, N_CONSTITUENTS, Events

SOURCE = "arrays"


def _vector(name: str, v, n: int) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    if a.ndim != 1:
        raise InputError(f"{name}: expected one value per event (shape (n,)), got shape {a.shape}")
    if len(a) != n:
        raise InputError(f"{name}: {len(a)} values for {n} events")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name}: {int((~np.isfinite(a)).sum())} values are NaN or infinite")
    return a


def _jets(X, features) -> tuple[np.ndarray, tuple]:
    if isinstance(X, Mapping):
        if features is not None:
            raise InputError("features: X is a mapping, its keys are the feature names")
        if not X:
            raise InputError("X: no jet features given")
        names = tuple(str(k) for k in X)
        cols = []
        for k, v in X.items():
            a = np.asarray(v, dtype=np.float32)
            if a.ndim != 2 or a.shape[1] != 2:
                raise InputError(f"X['{k}']: expected shape (n, 2) (leading, subleading jet), got {a.shape}")
            cols.append(a)
        if len({len(c) for c in cols}) != 1:
            raise InputError(f"X: the features have different lengths {[len(c) for c in cols]}")
        jets = np.stack(cols, axis=2)
    else:
        jets = np.asarray(X, dtype=np.float32)
        if jets.ndim != 3 or jets.shape[1] != 2:
            raise InputError(f"X: expected shape (n, 2, n_features) or a mapping name → (n, 2), got {jets.shape}")
        if features is None:
            raise InputError(f"X: name its {jets.shape[2]} features with features=[...] (e.g. {list(JET_FEATURES)})")
        names = tuple(str(f) for f in features)
        if len(names) != jets.shape[2]:
            raise InputError(f"features: {len(names)} names for {jets.shape[2]} features in X")
    if len(set(names)) != len(names):
        raise InputError(f"features: a name appears twice in {list(names)}")
    bad = ~np.isfinite(jets)
    if bad.any():
        i = int(np.flatnonzero(bad.any(axis=(0, 1)))[0])
        raise InputError(f"X['{names[i]}']: {int(bad[:, :, i].sum())} values are NaN or infinite")
    return jets, names


def as_events(X, mjj=None, *, deta=None, features=None, constituents=None) -> Events:
    """``Events`` from arrays. ``mjj`` in GeV (NaN when scoring without it); ``deta`` = |Δη| of the two jets
    (default 0: every event in the analysis region); ``constituents`` (n, 2, ≤100, 3) px, py, pz for the
    methods that read them (VAE-QR)."""
    if isinstance(X, Events):
        return X
    jets, names = _jets(X, features)
    n = len(jets)
    m = np.full(n, np.nan) if mjj is None else _vector("mjj", mjj, n)
    if mjj is not None and np.any(m <= 0):
        raise InputError(f"mjj: {int((m <= 0).sum())} values are not positive (m_jj in GeV)")
    d = np.zeros(n) if deta is None else np.abs(_vector("deta", deta, n))
    cons = None
    if constituents is not None:
        c = np.asarray(constituents, dtype=np.float32)
        if c.ndim != 4 or c.shape[:2] != (n, 2) or c.shape[3] != 3 or c.shape[2] > N_CONSTITUENTS:
            raise InputError(f"constituents: expected shape ({n}, 2, ≤{N_CONSTITUENTS}, 3) px, py, pz, got {c.shape}")
        cons = np.zeros((n, 2, N_CONSTITUENTS, 3), dtype=np.float32)
        cons[:, :, : c.shape[2]] = np.nan_to_num(c)
    return Events(np.arange(n), m, d, jets, names, SOURCE, cons)


def _window(w, i: int) -> Window:
    if isinstance(w, Window):
        return w
    try:
        sb_low, sr, sb_high = (None if b is None else (float(b[0]), float(b[1])) for b in w)
    except (TypeError, ValueError, IndexError):
        raise InputError(
            f"windows: entry {i} is not a Window or (sideband_low, signal_region, sideband_high) of (lo, hi) in GeV: "
            f"{w!r}"
        ) from None
    for lohi in (sb_low, sr, sb_high):
        if lohi is not None and not lohi[0] < lohi[1]:
            raise InputError(f"windows: entry {i} has a range {lohi} whose low edge is not below its high edge")
    return Window(f"W{i}", sr, sb_low, sb_high)


def _as_windows(windows, mjj: np.ndarray) -> list[Window]:
    """``None`` (no windows), a mode of ``bumphunt.windows`` ('lhco'; 'cms', both binnings, and 'sliding', the
    windows inside the data's m_jj range), one (sideband_low, signal_region, sideband_high) triple of (lo, hi) in GeV, or a list of them."""
    if windows is None:
        return []
    if isinstance(windows, str):
        if windows not in MODES:
            raise InputError(f"windows: a mode must be one of {MODES}, got '{windows}'")
        if windows == "lhco":  # the fixed LHC Olympics window, whatever the data's range
            return make_windows("lhco")
        m = mjj[np.isfinite(mjj)]  # windows whose sidebands reach past the data would be sculpted: dropped
        return make_windows(windows, float(np.floor(m.min())), ("A", "B"), mjj_max=float(np.ceil(m.max())))
    if isinstance(windows, Window):
        return [windows]
    if (
        isinstance(windows, Sequence)
        and len(windows) == 3
        and all(b is None or (isinstance(b, Sequence) and len(b) == 2 and np.isscalar(b[0])) for b in windows)
    ):
        return [_window(windows, 0)]
    return [_window(w, i) for i, w in enumerate(windows)]


def _sample(name: str, v) -> Events | None:
    """An auxiliary sample: Events, or (X, mjj) / (X, mjj, deta) with X as for ``as_events``."""
    if v is None or isinstance(v, Events):
        return v
    if not isinstance(v, tuple) or len(v) not in (2, 3):
        raise InputError(f"{name}: give (X, mjj) or (X, mjj, deta) arrays, or Events")
    try:
        return as_events(v[0], v[1], deta=v[2] if len(v) == 3 else None)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None


def as_context(
    events: Events,
    *,
    windows=None,
    signal=None,
    background=None,
    seed: int = 0,
    n_inner: int = 4,
    deta_max: float | None = None,
    progress: bool = False,
) -> Context:
    """The ``Context`` a method fits with: windows, the labelled ``signal`` sample (supervised), the extra
    simulated ``background`` sample (idealised detector, QUAK), seeds."""
    ctx = Context(
        _as_windows(windows, events.mjj),
        _sample("signal", signal),
        _sample("background", background),
        seed=int(seed),
        n_inner=int(n_inner),
        progress=progress,
    )
    if deta_max is not None:
        ctx.deta_max = float(deta_max)
    return ctx
