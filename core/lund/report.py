"""The Lund-plane reweighting of a Run: measured ratio, closure, and weights of the Run's signal events.

``add_to_run`` writes ``RUN/lund/`` (built in a staging directory, then renamed into place, so a failed
step leaves the Run as it was):

- ``ratio.json``: counts of data, simulation and alternative simulation (``core.lund.ratio.LundRatio``);
- ``closure.json``: the closure study on independent halves (``core.lund.closure``);
- ``signal_weights.parquet``: per signal event (by ``event_id``) the nominal weight, one column per
  variation and ``toy_0..toy_{n-1}``, so the dashboard computes corrected efficiencies at any cut;
- ``report.json``: provenance, timings, and the corrected efficiency of every method at the Run's flat
  background efficiencies.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from anomalyscope.core.data.atomic import publish_dir, staging_dir
from anomalyscope.core.data.eventset import EventSet
from anomalyscope.core.errors import InputError
from anomalyscope.core.lund.closure import closure_study
from anomalyscope.core.lund.control import ControlSelection, event_weights, fit_ratio
from anomalyscope.core.lund.ratio import LundBinning, LundRatio
from anomalyscope.core.lund.weights import N_TOYS, weighted_efficiency
from anomalyscope.core.results.attachments import read as read_attachment
from anomalyscope.core.results.attachments import write as write_attachment
from anomalyscope.core.results.records.lund import (
    Control,
    CorrectedEfficiency,
    LundClosure,
    LundReport,
    SubjetCounts,
)

LUND_DIR = "lund"


def add_to_run(
    run_path: str | Path,
    data: EventSet,
    sim: EventSet,
    sim_alt: EventSet | None = None,
    control: ControlSelection = ControlSelection(),
    binning: LundBinning = LundBinning(),
    signal_prongs: int | None = None,
    n_toys: int = N_TOYS,
) -> Path:
    """Measure the ratio, run the closure study and weigh the Run's signal events; write RUN/lund/."""
    from anomalyscope.core.results import Run

    run = Run.open(run_path)
    signal_path = run.config.get("signal")
    if not signal_path:
        raise InputError(f"{run.path}: the Run has no signal sample (config field 'signal') to reweight")
    signal = EventSet.open(signal_path)
    t0 = time.perf_counter()
    ratio = fit_ratio(data, sim, control, binning, sim_alt)
    t_ratio = time.perf_counter() - t0
    closure = closure_study(data, sim, control, binning, sim_alt, n_toys=n_toys)
    t_closure = time.perf_counter() - t0 - t_ratio
    weights, _ = event_weights(ratio, signal, n_prongs=signal_prongs)
    table = weights.table(n_toys)
    t_weights = time.perf_counter() - t0 - t_ratio - t_closure
    cols = {"event_id": signal.column("event_id")}
    cols.update({k: v.astype(np.float32) for k, v in table.items() if k != "toys"})
    cols.update({f"toy_{i}": table["toys"][:, i] for i in range(table["toys"].shape[1])})
    report = LundReport(
        signal=str(signal.path),
        signal_prongs=signal_prongs if signal_prongs is not None else "generator quarks in each jet",
        control=Control(**asdict(control)),
        binning={k: list(v) for k, v in asdict(binning).items()},
        n_toys=n_toys,
        subjets=SubjetCounts(
            n=weights.n_subjets, categories=weights.category_counts, beyond_pt_range=weights.n_subjets_beyond
        ),
        timing_s={"ratio": t_ratio, "closure": t_closure, "signal_weights": t_weights},
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    final = run.path / LUND_DIR
    with staging_dir(final) as tmp:
        ratio.save(tmp / "ratio.json")
        write_attachment(tmp / "closure.json", "lund_closure", closure)
        pq.write_table(pa.table(cols), tmp / "signal_weights.parquet", compression="zstd")
        write_attachment(tmp / "report.json", "lund", report)  # LundResult(tmp) reads it
        efficiencies = _method_efficiencies(run, LundResult(tmp))
        write_attachment(tmp / "report.json", "lund", replace(report, efficiencies=efficiencies))
        publish_dir(tmp, final, overwrite=True)
    return final


class LundResult:
    """The stored reweighting of a Run (what the dashboard reads)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.ratio = LundRatio.load(self.path / "ratio.json")
        self.closure: LundClosure = read_attachment(self.path / "closure.json", "lund_closure")
        self.report: LundReport = read_attachment(self.path / "report.json", "lund")
        t = pq.read_table(self.path / "signal_weights.parquet")
        cols = {c: t.column(c).to_numpy() for c in t.column_names}
        self.event_id = cols.pop("event_id")
        self.nominal = cols.pop("nominal").astype(float)
        toy_names = sorted((c for c in cols if c.startswith("toy_")), key=lambda c: int(c[4:]))
        self.toys = np.column_stack([cols.pop(c) for c in toy_names]).astype(float) if toy_names else None
        self.variations = {k: v.astype(float) for k, v in cols.items()}

    @classmethod
    def of_run(cls, run_path: str | Path) -> "LundResult | None":
        p = Path(run_path) / LUND_DIR
        return cls(p) if (p / "report.json").exists() else None

    def efficiency(self, event_id: np.ndarray, passed: np.ndarray) -> CorrectedEfficiency:
        """Corrected efficiency of a selection of signal events (given by event_id and pass flags)."""
        order = np.argsort(self.event_id)
        pos = np.searchsorted(self.event_id, event_id, sorter=order)
        pos = np.clip(pos, 0, len(order) - 1)
        rows = order[pos]
        if not np.array_equal(self.event_id[rows], event_id):
            raise InputError(f"{self.path}: signal events without Lund weights (the signal sample changed?)")
        toys = [self.toys[rows]] if self.toys is not None else []
        eff = weighted_efficiency(passed, self.nominal[rows], {k: v[rows] for k, v in self.variations.items()}, toys)
        return CorrectedEfficiency.from_writer(eff, "Lund-corrected efficiency")


def cut_efficiency(
    lund: "LundResult", scores: np.ndarray, signal: dict, method: str, eps_b: float
) -> CorrectedEfficiency:
    """Signal efficiency, before and after reweighting, of a cut on ``method``'s score at the (1 − ε_B)
    quantile of the Run's scores (``scores``: the Run's events; ``signal``: its signal_scores table)."""
    from anomalyscope.core.bumphunt.selection import select

    thr = float(np.nanquantile(scores, 1.0 - eps_b))
    passed = select(signal[method], thr)
    return lund.efficiency(signal["event_id"], passed)


def _method_efficiencies(run, lund: "LundResult") -> dict:
    """Per method (with a cut: not the inclusive baseline) and the Run's background efficiencies ε: the
    signal efficiency before and after reweighting, with uncertainties."""
    sig = run.signal_scores()
    if lund is None or sig is None:
        return {}
    scores = run.scores()
    return {
        method: {f"{eff:g}": cut_efficiency(lund, scores[method], sig, method, eff) for eff in run.efficiencies}
        for method in run.methods
        if np.nanstd(scores[method]) > 0
    }
