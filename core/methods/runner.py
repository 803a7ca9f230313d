"""`python -m anomalyscope run --config run.yaml`: train the configured methods on an EventSet and write a Run.

Everything that can be wrong with the configuration is checked before any training starts.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_type_hints

import numpy as np
from tqdm.auto import tqdm

from anomalyscope.core import __version__
from anomalyscope.core.bumphunt.search import INCLUSIVE, ScoreTable, SearchDefinition
from anomalyscope.core.bumphunt.windows import assign
from anomalyscope.core.data import EventSet, signal_processes
from anomalyscope.core.data.atomic import output_lock
from anomalyscope.core.data.versioned import read_yaml_mapping
from anomalyscope.core.errors import FieldError, InputError
from anomalyscope.core.features.jets import combined_tau_axes
from anomalyscope.core.methods import REGISTRY
from anomalyscope.core.methods.base import Context, run_out_of_fold
from anomalyscope.core.methods.complementarity import complementarity
from anomalyscope.core.methods.device import DEVICE
from anomalyscope.core.methods.evaluate import performance
from anomalyscope.core.methods.events import Events
from anomalyscope.core.params import as_dict, check_value, param, unknown_names
from anomalyscope.core.provenance import provenance
from anomalyscope.core.results import Run, write_run

log = logging.getLogger(__name__)

MOVED_TO_SEARCH = {
    "windows": "windows",
    "binning": "binnings",
    "mjj_max": "fit_max",
    "efficiencies": "efficiencies",
    "sr_deta_max": "deta_max",
    "min_window_events": "min_window_events",
}


@dataclass
class RunConfig:
    eventset: str
    out: str
    methods: dict  # name -> the parameters as written (checked by the method's Params)
    signal: str | None = None
    background_extra: str | None = None
    search: SearchDefinition = field(default_factory=SearchDefinition)
    folds: int = param(5, low=2)
    inner_folds: int = param(4, low=2)
    seed: int = param(1, low=0)
    train_windows_at: float | None = param(
        None, low=0, low_open=True
    )  # search only the windows whose SR holds this m_jj
    extra: dict = field(default_factory=dict)

    @property
    def efficiencies(self) -> tuple:
        return self.search.efficiencies

    @classmethod
    def from_dict(cls, d: dict, where: str = "run config") -> "RunConfig":
        """The Run's configuration with every field, method and method parameter checked (a one-line
        ``FieldError`` naming the field and the value, dotted below the Run: ``search.fit_min``) — before any
        file is opened or anything trains."""
        if not isinstance(d, Mapping):
            raise FieldError(f"{where}: must be a mapping of settings, got {type(d).__name__}", where, None, d)
        d = dict(d)
        moved = sorted(set(d) & set(MOVED_TO_SEARCH))
        if moved:
            raise FieldError(
                f"{where}: {', '.join(moved)} belong to the search now: write them under 'search:' as "
                + ", ".join(MOVED_TO_SEARCH[k] for k in moved),
                where,
                moved[0],
                d[moved[0]],
            )
        known = set(cls.__dataclass_fields__) - {"extra"}
        unknown_names(d, known, where, what="field")
        for req in ("eventset", "out", "methods"):
            if d.get(req) in (None, "", [], {}):
                raise FieldError(f"{where}: field '{req}' is required", where, req, d.get(req, FieldError.MISSING))
        hints = get_type_hints(cls)
        for k in known - {"methods", "search"}:
            if k in d:
                d[k] = check_value(d[k], hints[k], k, where, cls.__dataclass_fields__[k].metadata)
        search = d.get("search")
        if search is not None and not isinstance(search, Mapping):
            raise FieldError(f"{where}: 'search' must be a mapping of search settings", where, "search", search)
        for part, make in (
            ("methods", lambda: _parse_methods(d["methods"], where)),
            ("search", lambda: SearchDefinition.from_dict(search, f"{where}: search")),
        ):
            try:
                d[part] = make()
            except FieldError as exc:  # named below the Run: methods.cwola.lr, search.fit_min
                inner = f"{part}.{exc.field}" if exc.field and not exc.field.startswith(part) else exc.field or part
                raise FieldError(str(exc), where, inner, exc.value) from None
        return cls(**d)

    def configured(self, name: str):
        """A method's checked parameters (its ``Params``)."""
        return REGISTRY[name].configure(self.methods[name], name)

    def method_folds(self, name: str) -> int:
        """The folds a method trains with: its own ``folds``, else its default, else the Run's."""
        return self.configured(name).folds or REGISTRY[name].default_folds or self.folds

    def to_dict(self) -> dict:
        return {
            "eventset": self.eventset,
            "out": self.out,
            "signal": self.signal,
            "background_extra": self.background_extra,
            "search": self.search.to_dict(),
            "folds": self.folds,
            "inner_folds": self.inner_folds,
            "seed": self.seed,
            "train_windows_at": self.train_windows_at,
            "methods": [{k: v} if v else k for k, v in self.methods.items()],
        }


def _parse_methods(items, where: str) -> dict:
    """``methods:`` as a list of names and ``{name: parameters}`` entries (or one mapping of them) →
    name → parameters, each method's parameters checked by its ``Params``."""
    if isinstance(items, str):
        raise FieldError(
            f"{where}: methods must be a list of method names, got the string '{items}' (write: methods: [{items}])",
            where,
            None,
            items,
        )
    if isinstance(items, Mapping):
        items = [{k: v} for k, v in items.items()]
    if not isinstance(items, (list, tuple)):
        raise FieldError(f"{where}: methods must be a list of method names, got {items!r}", where, None, items)
    methods = {}
    for item in items:
        if isinstance(item, Mapping) and len(item) == 1:
            name, params = next(iter(item.items()))
        elif isinstance(item, str):
            name, params = item, None
        else:
            raise FieldError(
                f"{where}: each entry of methods is a name or {{name: {{parameter: value}}}}, got {item!r}",
                where,
                None,
                item,
            )
        unknown_names([name], REGISTRY, f"{where}: methods", what="method")
        if name in methods:
            raise FieldError(f"{where}: method '{name}' is listed twice", where, name, name)
        params = {} if params is None else params
        try:
            REGISTRY[name].configure(params, f"{where}: methods: {name}")
        except FieldError as exc:
            raise FieldError(str(exc), exc.path, f"{name}.{exc.field}" if exc.field else name, exc.value) from None
        methods[name] = dict(params)
    return methods


def load_config(path: Path) -> RunConfig:
    path = Path(path)
    d = read_yaml_mapping(path)
    base = path.parent
    for k in ("eventset", "signal", "background_extra", "out"):
        if d.get(k) and isinstance(d[k], str):  # other types are refused by from_dict, with the field
            p = Path(d[k]).expanduser()
            d[k] = str(p if p.is_absolute() else base / p)
    return RunConfig.from_dict(d, str(path))


def _evaluation_window(windows, signal: Events):
    """The window whose SR holds the signal sample's median m_jj (where performance is quoted)."""
    idx = assign(windows, np.array([np.median(signal.mjj)]))[0]
    return windows[idx] if idx >= 0 else None


def execute(cfg: RunConfig, overwrite: bool = False, progress: bool = True) -> Run:
    """Train every method out of fold, search, evaluate and write the Run at ``cfg.out`` (atomically), holding
    the output's lock from the start: a second Run into the same ``out`` is refused before it trains."""
    with output_lock(cfg.out):
        return _execute(cfg, overwrite, progress)


def _execute(cfg: RunConfig, overwrite: bool, progress: bool) -> Run:
    # ---------------------------------------------------------------- checks before training
    es = EventSet.open(cfg.eventset)
    signal_es = EventSet.open(cfg.signal) if cfg.signal else None
    extra_es = EventSet.open(cfg.background_extra) if cfg.background_extra else None
    for name in cfg.methods:
        needs = REGISTRY[name].needs
        if "signal" in needs and signal_es is None:
            raise InputError(f"method {name} needs a labelled signal sample: set 'signal' in the run config")
        if "background_extra" in needs and extra_es is None:
            raise InputError(f"method {name} needs an extra background sample: set 'background_extra'")
    searched = set()
    for s_es in (es, signal_es):
        if s_es is not None:
            searched |= signal_processes(s_es)
    method_info = {name: REGISTRY[name].check_config(cfg.configured(name), searched) for name in cfg.methods}
    if Path(cfg.out).exists() and not overwrite:
        raise InputError(f"{cfg.out}: already exists (pass --overwrite to replace it)")
    data = Events.from_eventset(es)
    search = cfg.search.resolve(data.mjj, data.deta, es.mjj_fit_min, str(es.path), es.threshold_known)
    if es.edge_caveat and cfg.search.fit_min is None:
        search.warnings.append(es.edge_caveat)
    if cfg.train_windows_at is not None:
        m = float(cfg.train_windows_at)
        search.windows = [w for w in search.windows if w.sr[0] <= m < w.sr[1]]
        search.warnings.append(f"only the windows whose signal region holds {m:.0f} GeV are trained and searched")
    _, tau_note = combined_tau_axes({str(x.path): x.info.tau_axes for x in (es, signal_es, extra_es) if x is not None})
    if tau_note:
        search.warnings.append(tau_note)
    windows = search.windows
    log.info("%s: %d events, fit from %.0f GeV (%s), %d windows", es.path, len(data), search.fit_min,
             search.fit_min_how, len(windows))  # fmt: skip
    log.debug("run configuration: %s", cfg.to_dict())
    windowed = [n for n in cfg.methods if REGISTRY[n].windowed]
    if windowed and not windows:
        raise InputError(f"{es.path}: no usable m_jj window for {', '.join(windowed)} ({'; '.join(search.warnings)})")
    for w in search.warnings if progress else []:
        tqdm.write(f"warning: {w}")
    deta_max = cfg.search.deta_max
    in_region = data.deta < deta_max
    signal = Events.from_eventset(signal_es) if signal_es else None
    extra = Events.from_eventset(extra_es) if extra_es else None
    ctx = Context(
        windows,
        signal,
        extra,
        cfg.seed,
        cfg.inner_folds,
        deta_max,
        progress,
        (search.fit_min, search.definition.fit_max),
    )

    # ---------------------------------------------------------------- training, out of fold
    scores = {"event_id": data.event_id, "mjj": data.mjj, "deta": data.deta, "window": assign(windows, data.mjj)}
    sig_scores = {"event_id": signal.event_id, "mjj": signal.mjj, "deta": signal.deta} if signal else None
    table = ScoreTable(data.mjj, data.deta, {})
    timings, models, sig_window = {}, {}, {}
    for name, params in tqdm(cfg.methods.items(), desc="methods", disable=not progress):
        res = run_out_of_fold(REGISTRY[name], params, data, ctx, cfg.method_folds(name), cfg.seed, signal)
        log.info("%s: %d folds trained in %.1f s", name, cfg.method_folds(name), res.fit_seconds)
        scores[name] = table.scores[name] = res.scores
        if REGISTRY[name].windowed:
            table.window_scores[name] = res.window_scores
            scores.update({f"{name}|{w}": v for w, v in res.window_scores.items()})
        elif name != INCLUSIVE:
            search.selection_curves(table, name)  # fitted once here, kept in the Run
        if sig_scores is not None:
            sig_scores[name] = res.signal_scores
            sig_window[name] = res.signal_window_scores
        timings[name] = res.fit_seconds
        models[name] = res.models
    result = search.run(table, progress=progress)

    # ---------------------------------------------------------------- evaluation where truth exists
    evaluation = None
    truth = es.truth()
    if signal is not None and np.any(truth == 0):
        w = _evaluation_window(windows, signal) if windows else None
        if w is not None:
            b_sel = (truth == 0) & in_region & w.in_sr(data.mjj)
            s_sel = (signal.deta < deta_max) & w.in_sr(signal.mjj)
            evaluation = {
                "region": {"window": w.name, "sr_gev": list(w.sr), "deta_max": deta_max},
                "methods": {},
            }
            # a windowed method is judged with the evaluation window's own models
            at_w = {
                n: (table.window_scores[n][w.name], sig_window[n][w.name])
                if w.name in table.window_scores.get(n, {})
                else (scores[n], sig_scores[n])
                for n in cfg.methods
            }
            for name, (d_s, s_s) in at_w.items():
                try:
                    evaluation["methods"][name] = performance(s_s[s_sel], d_s[b_sel]).to_dict()
                except ValueError as exc:
                    evaluation["methods"][name] = {"error": str(exc)}
            d_sel = in_region & w.in_sr(data.mjj)
            evaluation["complementarity"] = complementarity(
                {
                    "background": {n: d_s[b_sel] for n, (d_s, _) in at_w.items()},
                    "signal": {n: s_s[s_sel] for n, (_, s_s) in at_w.items()},
                    "data": {n: d_s[d_sel] for n, (d_s, _) in at_w.items()},
                }
            )

    run_dir = Path(cfg.out).resolve()
    inputs = {"eventset": es, "signal": signal_es, "background_extra": extra_es}
    resolved = {k: Path(v.path).resolve() for k, v in inputs.items() if v is not None}
    manifest = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "anomalyscope": __version__,
        # inputs by resolved path, and relative to the Run (found again if the tree moves together)
        "paths_from_run": {k: os.path.relpath(p, run_dir) for k, p in resolved.items()},
        "eventset": {
            "path": str(resolved["eventset"]),
            "n_events": len(es),
            "created": es.info.created,
            "mjj_fit_min": es.mjj_fit_min,
            "injection": es.info.injection.to_dict() if es.info.injection else None,
        },
        "signal": str(resolved["signal"]) if signal_es else None,
        "background_extra": str(resolved["background_extra"]) if extra_es else None,
        "methods": list(cfg.methods),
        "windowed_methods": windowed,
        "efficiencies": list(cfg.efficiencies),
        "search": {
            "definition": cfg.search.to_dict(),
            "fit_min": search.fit_min,
            "fit_min_how": search.fit_min_how,
            "windows": windows,
            "warnings": search.warnings,
        },
        "folds": cfg.folds,
        "inner_folds": cfg.inner_folds,
        "seed": cfg.seed,
        "method_folds": {n: cfg.method_folds(n) for n in cfg.methods},
        "method_params": {n: as_dict(cfg.configured(n)) for n in cfg.methods},
        "method_info": {n: i for n, i in method_info.items() if i},
        "training_seconds": timings,
        "torch_device": str(DEVICE),
        "provenance": provenance(),
    }
    return write_run(
        Path(cfg.out),
        cfg.to_dict(),
        manifest,
        scores,
        {m: search.selection_curves(table, m) for m in cfg.methods if m not in windowed and m != INCLUSIVE},
        sig_scores,
        evaluation,
        models,
        overwrite=overwrite,
        search=result,
    )
