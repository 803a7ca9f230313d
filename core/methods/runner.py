"""`python -m core run --config run.yaml`: train the configured methods on an EventSet and write a Run.

Everything that can be wrong with the configuration is checked before any training starts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from tqdm.auto import tqdm

from core import __version__
from core.data import EventSet, signal_processes
from core.errors import InputError
from core.methods import REGISTRY
from core.methods.base import Context, run_out_of_fold
from core.methods.complementarity import complementarity
from core.methods.device import DEVICE
from core.methods.evaluate import performance
from core.methods.events import Events
from core.methods.flat_cut import thresholds_out_of_fold
from core.methods.windows import assign, check_windows, make_windows
from core.results import Run, threshold_column, write_run

DEFAULT_EFFICIENCIES = (0.1, 0.01, 0.001)


@dataclass
class RunConfig:
    eventset: str
    out: str
    methods: dict  # name -> params
    signal: str | None = None
    background_extra: str | None = None
    windows: str = "cms"
    binning: str = "A"
    mjj_max: float | None = None  # drop windows reaching above (e.g. where too few events remain)
    folds: int = 5
    inner_folds: int = 4
    seed: int = 1
    efficiencies: tuple = DEFAULT_EFFICIENCIES
    sr_deta_max: float = 1.3
    min_window_events: int = 100
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict, where: str = "run config") -> "RunConfig":
        d = dict(d)
        known = set(cls.__dataclass_fields__) - {"extra"}
        unknown = set(d) - known
        if unknown:
            raise InputError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
        for req in ("eventset", "out", "methods"):
            if not d.get(req):
                raise InputError(f"{where}: field '{req}' is required")
        methods = {}
        for item in d["methods"]:
            name, params = next(iter(item.items())) if isinstance(item, dict) else (item, {})
            if name not in REGISTRY:
                raise InputError(f"{where}: unknown method '{name}'; known: {', '.join(REGISTRY)}")
            methods[name] = dict(params or {})
        d["methods"] = methods
        eff = tuple(float(e) for e in d.get("efficiencies", DEFAULT_EFFICIENCIES))
        if any(e <= 0 or e > 1 for e in eff):
            raise InputError(f"{where}: efficiencies must lie in (0, 1], got {list(eff)}")
        d["efficiencies"] = eff
        for k in ("folds", "inner_folds"):
            if int(d.get(k, 2)) < 2:
                raise InputError(f"{where}: {k} must be at least 2")
        return cls(**d)

    def to_dict(self) -> dict:
        return {
            "eventset": self.eventset,
            "out": self.out,
            "signal": self.signal,
            "background_extra": self.background_extra,
            "windows": self.windows,
            "binning": self.binning,
            "mjj_max": self.mjj_max,
            "folds": self.folds,
            "inner_folds": self.inner_folds,
            "seed": self.seed,
            "efficiencies": list(self.efficiencies),
            "sr_deta_max": self.sr_deta_max,
            "min_window_events": self.min_window_events,
            "methods": [{k: v} if v else k for k, v in self.methods.items()],
        }


def load_config(path: Path) -> RunConfig:
    path = Path(path)
    try:
        d = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such config file") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(d, dict):
        raise InputError(f"{path}: expected a mapping of settings")
    base = path.parent
    for k in ("eventset", "signal", "background_extra", "out"):
        if d.get(k):
            p = Path(d[k]).expanduser()
            d[k] = str(p if p.is_absolute() else base / p)
    return RunConfig.from_dict(d, str(path))


def _evaluation_window(windows, signal: Events):
    """The window whose SR holds the signal sample's median m_jj (where performance is quoted)."""
    idx = assign(windows, np.array([np.median(signal.mjj)]))[0]
    return windows[idx] if idx >= 0 else None


def execute(cfg: RunConfig, overwrite: bool = False, progress: bool = True) -> Run:
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
    method_info = {name: REGISTRY[name].check_config(params, searched) for name, params in cfg.methods.items()}
    if Path(cfg.out).exists() and not overwrite:
        raise InputError(f"{cfg.out}: already exists (pass --overwrite to replace it)")
    windows = make_windows(cfg.windows, es.mjj_fit_min, cfg.binning, cfg.mjj_max)
    data = Events.from_eventset(es)
    sr_mask = data.deta < cfg.sr_deta_max
    check_windows(windows, data.mjj[sr_mask], cfg.min_window_events, str(es.path))
    signal = Events.from_eventset(signal_es) if signal_es else None
    extra = Events.from_eventset(extra_es) if extra_es else None
    ctx = Context(windows, signal, extra, cfg.seed, cfg.inner_folds, cfg.sr_deta_max, progress)

    # ---------------------------------------------------------------- training, out of fold
    scores = {"event_id": data.event_id, "mjj": data.mjj, "deta": data.deta, "window": assign(windows, data.mjj)}
    sig_scores = {"event_id": signal.event_id, "mjj": signal.mjj, "deta": signal.deta} if signal else None
    thresholds = {"event_id": data.event_id}
    timings, models = {}, {}
    for name, params in tqdm(cfg.methods.items(), desc="methods", disable=not progress):
        params = dict(params)
        folds = int(params.pop("folds", REGISTRY[name].default_folds or cfg.folds))
        res = run_out_of_fold(REGISTRY[name], params, data, ctx, folds, cfg.seed, signal)
        scores[name] = res.scores
        if sig_scores is not None:
            sig_scores[name] = res.signal_scores
        timings[name] = res.fit_seconds
        models[name] = res.models
        s = np.where(sr_mask, res.scores, np.nan)
        groups = scores["window"] if REGISTRY[name].windowed else None
        thr = thresholds_out_of_fold(data.mjj, s, cfg.efficiencies, cfg.folds, cfg.seed, groups=groups)
        for j, e in enumerate(cfg.efficiencies):
            thresholds[threshold_column(name, e)] = thr[:, j]

    # ---------------------------------------------------------------- evaluation where truth exists
    evaluation = None
    truth = es.truth()
    if signal is not None and np.any(truth == 0):
        w = _evaluation_window(windows, signal)
        if w is not None:
            b_sel = (truth == 0) & sr_mask & w.in_sr(data.mjj)
            s_sel = (signal.deta < cfg.sr_deta_max) & w.in_sr(signal.mjj)
            evaluation = {
                "region": {"window": w.name, "sr_gev": list(w.sr), "deta_max": cfg.sr_deta_max},
                "methods": {},
            }
            for name in cfg.methods:
                try:
                    evaluation["methods"][name] = performance(sig_scores[name][s_sel], scores[name][b_sel]).to_dict()
                except ValueError as exc:
                    evaluation["methods"][name] = {"error": str(exc)}
            d_sel = sr_mask & w.in_sr(data.mjj)
            evaluation["complementarity"] = complementarity(
                {
                    "background": {n: scores[n][b_sel] for n in cfg.methods},
                    "signal": {n: sig_scores[n][s_sel] for n in cfg.methods},
                    "data": {n: scores[n][d_sel] for n in cfg.methods},
                }
            )

    manifest = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "anomalyscope": __version__,
        "eventset": {
            "path": str(es.path),
            "n_events": len(es),
            "created": es.schema.get("created"),
            "mjj_fit_min": es.mjj_fit_min,
            "injection": es.schema.get("injection"),
        },
        "signal": str(signal_es.path) if signal_es else None,
        "background_extra": str(extra_es.path) if extra_es else None,
        "methods": list(cfg.methods),
        "efficiencies": list(cfg.efficiencies),
        "windows": [{"name": w.name, "sr": list(w.sr), "sb_low": w.sb_low, "sb_high": w.sb_high} for w in windows],
        "folds": cfg.folds,
        "inner_folds": cfg.inner_folds,
        "seed": cfg.seed,
        "method_folds": {
            n: int(p.get("folds", REGISTRY[n].default_folds or cfg.folds)) for n, p in cfg.methods.items()
        },
        "method_info": {n: i for n, i in method_info.items() if i},
        "training_seconds": timings,
        "torch_device": str(DEVICE),
    }
    return write_run(
        Path(cfg.out), cfg.to_dict(), manifest, scores, thresholds, sig_scores, evaluation, models, overwrite=overwrite
    )
