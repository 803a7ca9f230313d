"""Data the dashboard reads from disk, cached once per process and shared by all sessions, and the
pure functions each view draws from (tested without a browser)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import awkward as ak
import numpy as np
import pandas as pd
import panel as pn

import anomalyscope.core.results.attachments as attachments
from anomalyscope.core.bumphunt.result import Excess, ScanSummary, SearchSummary
from anomalyscope.core.bumphunt.search import INCLUSIVE, ScoreTable, Search
from anomalyscope.core.columns import Columns
from anomalyscope.core.data import EventSet
from anomalyscope.core.data.versioned import read_optional_json
from anomalyscope.core.errors import InputError, NothingSelected
from anomalyscope.core.methods.complementarity import informative, jaccard, score_correlations
from anomalyscope.core.methods.events import JET_FEATURES
from anomalyscope.core.results import Run
from anomalyscope.core.results.records.injection_scan import InjectionScan
from anomalyscope.core.workflows.demo import default_demo_dir

FEATURE_LABELS = {
    "msoftdrop": "m_SD [GeV]",
    "tau21": "τ21",
    "tau32": "τ32",
    "tau43": "τ43",
    "n_constituents": "n constituents",
    "lepton_fraction": "lepton energy fraction",
    "btag": "b-tag score",
}


def default_eventset_path() -> Path:
    """ANOMALYSCOPE_EVENTSET if set, else the demo's data EventSet."""
    env = os.environ.get("ANOMALYSCOPE_EVENTSET")
    return Path(env) if env else default_demo_dir() / "data"


def default_run_path() -> Path:
    """ANOMALYSCOPE_RUN if set, else the demo's Run (the quick demo's while only that one is built)."""
    env = os.environ.get("ANOMALYSCOPE_RUN")
    if env:
        return Path(env)
    full, quick = default_demo_dir() / "run", default_demo_dir() / "quick" / "run"
    return quick if not (full / "manifest.json").exists() and (quick / "manifest.json").exists() else full


RUN_SEARCH_DEPTH = 3


def run_roots() -> list[Path]:
    """The directories Runs may be opened from: ANOMALYSCOPE_RUN_DIRS (separated by ':'), else the
    demo's directory and the parent of ANOMALYSCOPE_RUN. The browser can only choose among the Runs
    found below these; no path typed into a URL is ever opened."""
    roots = [default_demo_dir()]
    if os.environ.get("ANOMALYSCOPE_RUN"):
        roots.append(default_run_path().parent)
    return _directories("ANOMALYSCOPE_RUN_DIRS", roots)


def _directories(variable: str, default: list[Path]) -> list[Path]:
    """The existing directories the environment ``variable`` lists (separated by ':'), else of ``default``."""
    env = os.environ.get(variable)
    roots = [Path(p).expanduser() for p in env.split(os.pathsep) if p] if env else default
    return [r.resolve() for r in roots if r.is_dir()]


def _scan_roots() -> list[Path]:
    """The directories whose bench results (a sensitivity bench's JSON: ``bench/bench_sensitivity.py``) the
    Sensitivity tab offers beside the Run's own scan: ANOMALYSCOPE_SCAN_DIRS (separated by ':'), else the
    checkout's ``bench/measured``, the scans measured for the docs. As for Runs, the browser only chooses among
    the files found there."""
    checkout = Path(__file__).resolve().parent.parent / "bench" / "measured"  # a checkout (or editable install)
    return _directories("ANOMALYSCOPE_SCAN_DIRS", [checkout])


def bench_scans() -> dict[str, Path]:
    """The bench results in ``_scan_roots`` that hold an injection scan (its Z per draw), by file name. Others
    there (an extrapolation, a table transcribed without its draws) are not offered."""
    found = {}
    for root in _scan_roots():
        for path in sorted(root.glob("*.json")):
            try:
                keys = json.loads(path.read_text())
            except (OSError, ValueError):
                keys = {"z": None, "injections": None}  # offered, so that choosing it says what is wrong
            if isinstance(keys, dict) and {"z", "injections"} <= keys.keys():
                found.setdefault(path.name, path)
    return found


def bench_scan(path: str) -> InjectionScan:
    """A bench result as the injection scan it holds, checked (an InputError names the file and field);
    re-read when the file changes."""
    return read_when_changed(Path(path), _read_bench_scan, path)


def _read_bench_scan(path: str) -> InjectionScan:
    data = read_optional_json(Path(path), "bench result")
    if data is None:
        raise InputError(f"{path}: missing (moved or deleted since the list was made)")
    return InjectionScan.from_dict(data, path)


def shown_paths(message: str) -> str:
    """A message for the browser with the server's directories left out: a Run root becomes its name (as in
    the Run menu; a bench results' directory too), the home directory ``~``. Alerts and notifications go through
    it."""
    for root in sorted([*run_roots(), *_scan_roots()], key=lambda r: len(str(r)), reverse=True):
        message = message.replace(str(root), root.name)
    home = str(Path.home())
    return message.replace(home + "/", "~/") if home != "/" else message


def available_runs(roots: list[Path] | None = None) -> dict[str, str]:
    """label → absolute path of every Run (a directory with manifest.json) below the roots, at most
    RUN_SEARCH_DEPTH levels down; links leading outside a root are ignored."""
    out = {}
    for root in run_roots() if roots is None else [Path(r).resolve() for r in roots]:
        for depth in range(RUN_SEARCH_DEPTH + 1):
            for manifest in sorted(root.glob("/".join(["*"] * depth + ["manifest.json"]))):
                run = manifest.parent.resolve()
                if not run.is_relative_to(root):
                    continue
                rel = run.relative_to(root).as_posix()
                label = root.name if rel == "." else f"{root.name}/{rel}"
                out.setdefault(label, str(run))
    return out


@pn.cache(max_items=8)
def open_eventset(path: str) -> EventSet:
    return EventSet.open(path)


@pn.cache(max_items=32)
def event_columns(path: str, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    es = open_eventset(path)
    return {c: es.column(c) for c in columns}


@dataclass
class RunData:
    """A Run with the EventSet columns the views need, aligned event by event, and its search. Opening one reads
    the search and checks the alignment; the per-event columns are read when a view first asks for them (the
    Overview needs none of them: a 1M-event Run's first page waits for none of its 35 score and 14 feature columns)."""

    run: Run
    eventset: EventSet
    scores: Columns  # event_id, mjj, deta, each method's score: read column by column, when first used
    search: Search
    search_result: SearchSummary | None  # search.json: every selection's scan and the look-elsewhere toys

    @cached_property
    def truth(self) -> np.ndarray | None:
        return self.eventset.truth() if "label" in self.eventset.fields else None

    @cached_property
    def features(self) -> dict[str, np.ndarray]:
        """ "j1.msoftdrop" → per-event array, for every stored jet feature the views show."""
        cols = [f"{j}.{f}" for j in ("j1", "j2") for f in JET_FEATURES]
        arr = self.eventset.load(cols)
        feats = {}
        for c in cols:
            j, f = c.split(".")
            if f in arr[j].fields:
                feats[c] = ak.to_numpy(arr[j][f]).astype(float)
        return feats

    @cached_property
    def signal_scores(self) -> Columns | None:
        return self.run.signal_scores()

    @cached_property
    def table(self) -> ScoreTable:
        return self.run.table(self.scores)

    @property
    def methods(self) -> list[str]:
        return self.run.methods

    @property
    def efficiencies(self) -> list[float]:
        """No cut, then the Run's flat efficiencies."""
        return [1.0] + sorted(self.run.efficiencies, reverse=True)

    @property
    def analysis_region(self) -> np.ndarray:
        """The analysis region (|Δη| cut of the search; a window's signal region is ``Window.sr``)."""
        return self.scores["deta"] < self.search.definition.deta_max

    def selection(self, method: str, eff: float) -> np.ndarray:
        """The events a method selects at ε, each judged by the window whose signal region holds it."""
        if eff < 1.0 and eff not in self.run.efficiencies:
            raise InputError(f"this Run has no ε = {eff:g} cut (it has {self.run.efficiencies})")
        return self.search.event_selection(self.table, method, eff)

    def global_text(self, z_local: float) -> str | None:
        """'global 1.2σ', or 'global > 2.7σ' where it is a bound: a local Z's global significance over everything
        the Run's search looked at."""
        g = self.search_result.global_significance if self.search_result is not None else None
        found = g.at(z_local) if g is not None and np.isfinite(z_local) else None
        return None if found is None else found.short()

    def best_excesses(self) -> dict[str, Excess]:
        """Per method, the largest local excess of the Run's search (local/global Z, mass, window, ε)."""
        return self.search_result.best_excesses() if self.search_result is not None else {}

    def best_anomaly(self) -> tuple[str, Excess] | None:
        """The data-driven method with the largest local excess, and that excess (``best_data_driven``)."""
        from anomalyscope.core.methods import best_data_driven

        return best_data_driven(self.best_excesses())

    def best_window(self, method: str) -> str | None:
        """The window where the Run's search found the method's largest local Z (None: inclusive)."""
        found = self.search_result.best_window(method) if self.search_result is not None else None
        if found is None:
            return self.search.windows[0].name if self.search.windows and method != INCLUSIVE else None
        return found

    def window_at(self, lo: float, hi: float, prefer: str | None = None) -> str | None:
        """The window whose signal region matches the m_jj range best, every binning considered
        (``windows.matching_window``)."""
        from anomalyscope.core.bumphunt.windows import matching_window

        w = matching_window(self.search.windows, lo, hi, prefer)
        return w.name if w is not None else None


def read_when_changed(marker: Path, load, arg: str):
    """``load(arg)``, cached until the file ``marker`` changes — a report written while the server runs is
    picked up — and None while it is absent. ``load`` is a module-level function (it is part of the cache key)."""
    return _load_cached(load, arg, marker.stat().st_mtime_ns if marker.exists() else 0)


def run_attachment(run_path: str, name: str) -> dict | None:
    """A Run's attachment (``core.results.attachments``: trigger, pileup, injection_scan, ...), checked,
    re-read when its file changes; None while the Run has none."""
    return read_when_changed(attachments.locate(Path(run_path), name), _read_attachment, f"{name}\n{run_path}")


def _read_attachment(key: str) -> dict | None:
    name, run_path = key.split("\n", 1)
    return attachments.read(attachments.locate(Path(run_path), name), name)


@pn.cache(max_items=32)
def _load_cached(load, arg: str, mtime: int):
    return load(arg) if mtime else None


@pn.cache(max_items=4)
def load_run(path: str) -> RunData:
    run = Run.open(path)
    search = run.search()
    es = EventSet.open(run.input_path("eventset"))
    scores = run.scores()
    missing = [c for c in ("event_id", "mjj", "deta", *run.methods) if c not in scores]
    if missing:
        raise InputError(f"{run.path / 'scores.parquet'}: no column for {', '.join(missing)}; the Run is damaged")
    if not np.array_equal(es.column("event_id"), scores["event_id"]):
        raise InputError(f"{path}: its scores do not line up with the events of {es.path}")
    return RunData(run, es, scores, search, run.search_result())


# ---------------------------------------------------------------------- view data
def stored_spectra(rd: RunData, method: str, efficiencies, window: str | None = None) -> list[ScanSummary]:
    """The Run's stored selections for one method and window (``Run.spectra``: nothing is refitted here); the
    spectrum, fit, pulls and scan each view draws. ``window`` None: where the method's excess is largest."""
    return rd.run.spectra(method, efficiencies, window or rd.best_window(method), result=rd.search_result)


def correlation_matrix(rd: RunData, sample: str = "data", kind: str = "pearson") -> pd.DataFrame:
    """Correlation between methods' scores in the analysis region, on data, background or signal."""
    if sample == "signal":
        if rd.signal_scores is None:
            raise InputError("this Run has no signal sample scores")
        s = rd.signal_scores
        keep = s["deta"] < rd.search.definition.deta_max
    else:
        s = rd.scores
        keep = rd.analysis_region.copy()
        if sample == "background":
            if rd.truth is None:
                raise InputError("no truth labels: background-only correlations need simulated data")
            keep &= rd.truth == 0
    return score_correlations({m: s[m][keep] for m in rd.methods}, kind)


def top_overlap(rd: RunData, eff: float = 0.01) -> pd.DataFrame:
    """Jaccard overlap of the events each pair of methods selects at efficiency ε."""
    return jaccard({m: rd.selection(m, eff) for m in informative({n: rd.scores[n] for n in rd.methods})})


KS_MAX_REST = 200_000


def feature_distributions(
    rd: RunData, method: str, feature: str, mjj_window=None, n_top: int = 200, bins: int = 30, eff: float | None = None
) -> dict:
    """Normalised histograms of a jet feature (both jets) of the anomalous events — those passing the
    flat-efficiency cut ε, or the n_top highest scores when no ε < 1 is given — against the rest, in the
    analysis region and the chosen m_jj window; with a KS p-value of the difference."""
    mask = rd.analysis_region & np.isfinite(rd.scores[method])
    if mjj_window is not None:
        mask &= (rd.scores["mjj"] >= mjj_window[0]) & (rd.scores["mjj"] < mjj_window[1])
    idx = np.flatnonzero(mask)
    if len(idx) < 2:
        raise NothingSelected("too few events in this m_jj window")
    if eff is not None and eff < 1.0:
        passed = rd.selection(method, eff)
        top, rest = idx[passed[idx]], idx[~passed[idx]]
        if len(top) == 0:
            raise NothingSelected(f"no event in this window passes the ε = {eff:g} cut of {method}")
    else:
        sc = rd.scores[method][idx]
        k = min(n_top, len(idx))
        is_top = np.zeros(len(idx), dtype=bool)
        is_top[np.argpartition(sc, len(sc) - k)[len(sc) - k :]] = True  # the n_top highest, without a full sort
        top, rest = idx[is_top], idx[~is_top]
    if not np.isfinite(rd.features.get(f"j1.{feature}", np.array([np.nan]))).any():
        source = rd.eventset.info.source.kind if rd.eventset.info.source else "?"
        raise InputError(f"'{feature}' is not available in EventSet {rd.eventset.name} (source: {source})")
    top_v = np.concatenate([rd.features[f"j1.{feature}"][top], rd.features[f"j2.{feature}"][top]])
    rest_v = np.concatenate([rd.features[f"j1.{feature}"][rest], rd.features[f"j2.{feature}"][rest]])
    top_v, rest_v = top_v[np.isfinite(top_v)], rest_v[np.isfinite(rest_v)]
    # the plot range and the KS test use every k-th of the rest (at most KS_MAX_REST values): with a million
    # events the rest's own fluctuation (1/√200k) is far below the selected events' (1/√n_top), and the test
    # costs 20 ms instead of 0.35 s
    rest_sub = rest_v[:: max(1, len(rest_v) // KS_MAX_REST)]
    both = np.concatenate([top_v, rest_sub])
    lo, hi = np.percentile(both, [0.5, 99.5]) if len(both) else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    from scipy.stats import ks_2samp  # here: scipy.stats takes 0.5 s to import, and the first page needs none

    p = ks_2samp(top_v, rest_sub).pvalue if len(rest_sub) and len(top_v) else np.nan
    return {
        "edges": edges,
        "top": _density(top_v, lo, hi, bins),
        "rest": _density(rest_v, lo, hi, bins),
        "n_top": len(top),
        "n_rest": len(rest),
        "ks_p": float(p),
    }


def _density(v: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Normalised histogram on equal bins over [lo, hi], values outside in the edge bins (3× faster than
    np.histogram on millions of values)."""
    k = np.clip(((v - lo) * (bins / (hi - lo))).astype(np.int64), 0, bins - 1)
    counts = np.bincount(k, minlength=bins).astype(float)
    return counts / (counts.sum() * (hi - lo) / bins) if counts.sum() else counts


def top_events(rd: RunData, method: str, mjj_window=None, n: int = 100) -> pd.DataFrame:
    """The n most anomalous events of a method in the analysis region (and m_jj window)."""
    mask = rd.analysis_region & np.isfinite(rd.scores[method])
    if mjj_window is not None:
        mask &= (rd.scores["mjj"] >= mjj_window[0]) & (rd.scores["mjj"] < mjj_window[1])
    idx = np.flatnonzero(mask)
    idx = idx[np.argsort(rd.scores[method][idx])[::-1][:n]]
    df = pd.DataFrame({"row": idx, "event_id": rd.scores["event_id"][idx], "mjj": rd.scores["mjj"][idx].round(0)})
    for m in rd.methods:
        df[m] = rd.scores[m][idx]
    for f in ("msoftdrop", "tau21"):
        for j in ("j1", "j2"):
            key = f"{j}.{f}"
            if key in rd.features:
                df[key] = rd.features[key][idx].round(3)
    if rd.truth is not None:
        df["label"] = rd.truth[idx]
    return df.reset_index(drop=True)


def event_display(es: EventSet, row: int) -> dict:
    """Constituents of both jets in (η, φ) with pT and class, jet axes, and their Lund-plane points."""
    arr = es.row(row, ["j1", "j2", "mjj", "event_id"])
    if "constituents" not in arr.j1.fields:
        source = es.info.source.kind if es.info.source else "?"
        raise InputError(f"EventSet {es.name} stores no jet constituents (source: {source}); no event display")
    jet_r = float(es.info.selection_value("jet_r", 0.8))
    out = {"event_id": int(arr.event_id), "mjj": float(arr.mjj), "jet_r": jet_r, "jets": []}
    for j in ("j1", "j2"):
        jet = arr[j]
        c = jet.constituents
        px, py, pz = (np.asarray(c[k], dtype=float) for k in ("px", "py", "pz"))
        pt = np.hypot(px, py)
        out["jets"].append(
            {
                "name": j,
                "pt": float(jet.pt),
                "eta": float(jet.eta),
                "phi": float(jet.phi),
                "msd": float(jet.msoftdrop) if "msoftdrop" in jet.fields else float("nan"),
                "tau21": float(jet.tau21) if "tau21" in jet.fields else float("nan"),
                "c_eta": np.arcsinh(pz / np.maximum(pt, 1e-9)),
                "c_phi": np.arctan2(py, px),
                "c_pt": pt,
                "c_cls": np.asarray(c["cls"], dtype=int),
                "lund_x": np.asarray(jet.lund.ln_inv_delta, dtype=float) if "lund" in jet.fields else np.zeros(0),
                "lund_y": np.asarray(jet.lund.ln_kt, dtype=float) if "lund" in jet.fields else np.zeros(0),
            }
        )
    return out
