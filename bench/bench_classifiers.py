"""A network or boosted decision trees as the weakly supervised classifier: max SIC of CWoLa, CATHODE and the
idealised detector (IAD) with each, at a few injected signal amounts and over draws, with training times; and
R-Anode (no classifier: its density ratio, trained once per point) beside them.

    python bench/bench_classifiers.py --background QCD --signal SIG [--extra QCD2]
        [--injections 0 75 150 300] [--draws 3] [--methods cwola cathode iad ranode] [--iad-features all|cms|lhco]
        [--sideband window|spectrum]
        [--work DIR] [--out FILE]

Each (injection, draw): ``inject`` puts n signal events (chosen with the draw's seed) into the background;
then one Run per classifier ("nn", "bdt") with the same methods, seeds and folds, searched in the LHC
Olympics window alone (signal region 3.3–3.7 TeV, sidebands 200 GeV each side), so only that window trains.
Max SIC comes from the Run's evaluation: the classifier's out-of-fold scores of background events in the
signal region against signal events that were never injected. The IAD needs ``--extra``, an independent
background sample (its "perfect simulation"); ``--iad-features cms`` trains it on CATHODE's features, the papers'
comparison of CATHODE with the IAD (give it a sample as large as the data); ``--sideband spectrum``
trains CATHODE's and R-Anode's flows on the whole fitted spectrum outside the signal region (the CATHODE paper's). Resumable: each finished point is kept in ``--work``/points.json.
Prints the median and spread of max SIC per method, classifier and injection, and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from anomalyscope.core.data import EventSet, inject
from anomalyscope.core.data.atomic import read_progress, write_text_atomic
from anomalyscope.core.methods.runner import execute, load_config

CLASSIFIERS = ("nn", "bdt")
CLASSIFIER_FREE = ("ranode",)  # trained once per point, in the first classifier's Run; reported as "—"
SR = (3300.0, 3700.0)
DETA_MAX = 1.3


def _sr_background(bkg: EventSet) -> int:
    m, d = bkg.column("mjj"), bkg.column("deta")
    return int(((m >= SR[0]) & (m < SR[1]) & (d < DETA_MAX)).sum())


def _signal_sr_fraction(sig: EventSet) -> float:
    m, d = sig.column("mjj"), sig.column("deta")
    return float(((m >= SR[0]) & (m < SR[1]) & (d < DETA_MAX)).mean())


def run_point(a, n_inject: int, draw: int, classifier: str) -> dict:
    """One Run of the methods with one classifier on one injected dataset; max SIC, AUC and training time."""
    work = a.work / f"n{n_inject}-d{draw}"
    data = work / "data"
    if not (data / "schema.json").exists():
        inject(EventSet.open(a.background), EventSet.open(a.signal), n_inject, data, seed=1000 + draw,
               remainder=work / "signal", overwrite=True)  # fmt: skip

    def options(m):
        opts = {"folds": 2} if m.startswith("cathode") or m == "ranode" else {}
        return (
            opts
            | ({"features": a.iad_features} if m == "iad" else {})
            | ({"sideband": a.sideband} if m.startswith("cathode") or m == "ranode" else {})
            | ({} if m in CLASSIFIER_FREE else {"classifier": classifier})
        )

    methods = [{m: options(m)} for m in a.methods if m not in CLASSIFIER_FREE or classifier == CLASSIFIERS[0]]
    cfg = {
        "eventset": str(data),
        "signal": str(work / "signal"),
        "background_extra": str(a.extra) if a.extra else None,
        "out": str(work / f"run-{classifier}"),
        "search": {"windows": "lhco"},
        "folds": a.folds,
        "seed": draw,
        "methods": methods,
    }
    (work / f"run-{classifier}.yaml").write_text(yaml.safe_dump(cfg))
    shutil.rmtree(work / f"run-{classifier}", ignore_errors=True)
    run = execute(load_config(work / f"run-{classifier}.yaml"), progress=False)
    evaluated = run.evaluation().evaluated()
    n_events = len(EventSet.open(data))
    out = {
        m: {
            "max_sic": float(evaluated[m].max_sic),
            "auc": float(evaluated[m].auc),
            "train_seconds": float(run.manifest.training_seconds[m]),
            "n_events": n_events,
        }
        for m in a.methods
        if m in evaluated
    }
    shutil.rmtree(work / f"run-{classifier}", ignore_errors=True)  # the points keep what the bench needs
    return out


def summarise(points: dict, methods, injections, per_sr: dict) -> dict:
    table = {}
    for n in injections:
        for m in methods:
            for c in CLASSIFIERS[:1] if m in CLASSIFIER_FREE else CLASSIFIERS:
                sics = [p[c][m]["max_sic"] for k, p in points.items() if k.startswith(f"n{n}-") and m in p.get(c, {})]
                secs = [p[c][m]["train_seconds"] / p[c][m]["n_events"] * 1e4
                        for k, p in points.items() if k.startswith(f"n{n}-") and m in p.get(c, {})]  # fmt: skip
                label = "—" if m in CLASSIFIER_FREE else c
                if sics:
                    table[f"{m}/{label}/{n}"] = {
                        "method": m, "classifier": label, "injected": n, "s_over_b_sr": per_sr[n],
                        "draws": len(sics), "max_sic_median": float(np.median(sics)),
                        "max_sic_min": float(np.min(sics)), "max_sic_max": float(np.max(sics)),
                        "max_sic": sics, "train_seconds_per_10k_events": float(np.median(secs)),
                    }  # fmt: skip
    return table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--background", type=Path, required=True)
    ap.add_argument("--signal", type=Path, required=True)
    ap.add_argument("--extra", type=Path, default=None, help="independent background for the IAD")
    ap.add_argument("--injections", type=int, nargs="*", default=[0, 75, 150, 300])
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--methods", nargs="*", default=["cwola", "cathode", "iad", "ranode"])
    ap.add_argument("--iad-features", default="all", help="the IAD's inputs: all, or CATHODE's set (cms, lhco)")
    ap.add_argument("--sideband", default="window", help="where CATHODE's and R-Anode's flows learn: window, spectrum")
    ap.add_argument("--work", type=Path, default=Path(__file__).parent / "results" / "classifiers-work")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "classifiers.json")
    a = ap.parse_args()
    if "iad" in a.methods and a.extra is None:
        a.methods = [m for m in a.methods if m != "iad"]
        print("no --extra background: the IAD is left out")
    a.work.mkdir(parents=True, exist_ok=True)
    progress = a.work / "points.json"
    points = read_progress(progress)
    b_sr, s_frac = _sr_background(EventSet.open(a.background)), _signal_sr_fraction(EventSet.open(a.signal))
    per_sr = {n: n * s_frac / b_sr for n in a.injections}
    t0 = time.perf_counter()
    for draw in range(a.draws):
        for n in a.injections:
            key = f"n{n}-d{draw}"
            for c in CLASSIFIERS:
                if c in points.get(key, {}) or all(m in CLASSIFIER_FREE for m in a.methods) and c != CLASSIFIERS[0]:
                    continue  # done, or nothing to train with this classifier (R-Anode alone trains once)
                t = time.perf_counter()
                points.setdefault(key, {})[c] = run_point(a, n, draw, c)
                write_text_atomic(progress, json.dumps(points, indent=1))
                sics = "  ".join(f"{m} {r['max_sic']:.2f}" for m, r in points[key][c].items())
                print(f"{key} {c}: {sics}  ({time.perf_counter() - t:.0f} s)", flush=True)
    table = summarise(points, a.methods, a.injections, per_sr)
    device = "cuda" if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads, {os.cpu_count()} cores)"
    print(f"\nbackground {a.background}: {b_sr} events in the SR (|Δη| < {DETA_MAX}); device {device}")
    print(f"{'method':9s} {'clf':4s} {'inj':>5s} {'S/B SR':>7s} {'draws':>5s} {'max SIC median [min, max]':>27s} "
          f"{'s / 10k ev':>10s}")  # fmt: skip
    for r in table.values():
        print(f"{r['method']:9s} {r['classifier']:4s} {r['injected']:5d} {100 * r['s_over_b_sr']:6.1f}% {r['draws']:5d} "
              f"{r['max_sic_median']:10.2f} [{r['max_sic_min']:5.2f}, {r['max_sic_max']:5.2f}] "
              f"{r['train_seconds_per_10k_events']:10.1f}")  # fmt: skip
    a.out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(a.out, json.dumps({
        "background": str(a.background), "signal": str(a.signal), "extra": str(a.extra) if a.extra else None,
        "signal_region_gev": SR, "n_background_in_sr": b_sr, "signal_fraction_in_sr": s_frac,
        "folds": a.folds, "iad_features": a.iad_features, "sideband": a.sideband, "device": device, "wall_seconds_this_call": time.perf_counter() - t0,
        "table": table, "points": points,
    }, indent=1))  # fmt: skip
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
