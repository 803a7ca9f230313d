"""Discovery sensitivity of every method: the injection scan (core.workflows.injection) on the demo or
on any background / signal EventSets, with the injected signal for a median 3σ and 5σ and the
improvement over the inclusive search. Zero injection is always scanned: it is the background-only
test of the trained methods (every Run's observed Z at the signal mass, and the median).

    python bench/bench_sensitivity.py [--background QCD --signal SIG] [--injections 0 25 50 100 200 400]
                                      [--draws 5] [--methods ...] [--eff 0.1] [--lumi-fb 3.4] [--work DIR]
                                      [--workers N] [--out FILE] [--resume-from FILE]

Defaults: the demo's QCD and W' → X Y samples (generated if missing, without the demo's Run) and the demo Run's configuration (its
simulated background for the IAD, QUAK's prior, the search's fit start) with R-Anode added: every
data-driven method and the references, retrained per draw in the windows holding the signal. With
``--background`` alone (e.g. a larger QCD sample generated as the demo's) the demo's signal and Run
configuration are used on it; with ``--signal`` too, the fast methods (``FAST``) unless ``--methods``. The Runs'
look-elsewhere toys are cut to the minimum (the scan reads local Z at the signal). Prints a table with each
amount's S/B in the signal region (``--sr``, |Δη| < 1.3), writes bench/results/sensitivity.json (with the
events it was measured on and the wall time). Resumes: finished Runs in ``--work`` are reused, draw by draw,
so a stopped scan has every amount at the draws it finished; on another machine, ``--resume-from`` a bench file
(which keeps every Run's readings and the samples' digests: ``injection.seed_points``). ``--workers`` Runs train at once, one process and
one thread each (default: one per core). ``--summarise``: the table of the Runs finished so far, nothing trained.
The tables are printed as markdown too, as docs/benchmark.md shows them (``markdown_table``).

    python bench/bench_sensitivity.py --extrapolate SMALL.json LARGE.json [--eff 0.01] [--out ...]

reads two (or more) finished benches at different luminosities and extrapolates each method's 5σ improvement
to CMS's 26.8 fb⁻¹ (``core.workflows.luminosity``: a power law through the measured sizes, capped by the
supervised reference), beside CMS's published factors, at the benches' own cut or at another they read
(``--eff``); writes bench/results/sensitivity_luminosity[_eff<ε>].json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from anomalyscope.core.data import EventSet
from anomalyscope.core.data.atomic import write_json_atomic
from anomalyscope.core.workflows.injection import report, run_injection_scan, sample_digest, seed_points

FAST = ["inclusive", "cut_tau21", "cut_tau32", "supervised"]
SUPERVISED = "supervised"  # the reference whose factor bounds the extrapolation
LEE_TOYS = 10  # the fewest the search takes: the scan reads local Z, never the global one


def s_over_b(bkg: EventSet, sig: EventSet, injections, sr: tuple[float, float], deta_max: float) -> dict:
    """Per injected amount, the expected signal events in the signal region over the background's there."""

    def in_sr(es):
        m, d = es.column("mjj"), es.column("deta")
        return (m >= sr[0]) & (m < sr[1]) & (d < deta_max)

    b, frac = int(in_sr(bkg).sum()), float(in_sr(sig).mean())
    return {
        "background_in_sr": b,
        "signal_fraction_in_sr": frac,
        "s_over_b": {int(n): n * frac / b for n in injections},
    }


NAMES = {  # the docs' names; references marked
    "inclusive": "inclusive",
    "cut_tau21": "τ21 cut (reference)",
    "cut_tau32": "τ32 cut (reference)",
    "supervised": "supervised (reference)",
    "cwola": "CWoLa",
    "vae_qr": "VAE-QR",
    "tnt": "Tag N' Train",
    "cathode": "CATHODE",
    "cathode_b": "CATHODE-b",
    "iad": "IAD (reference)",
    "quak": "QUAK",
    "ranode": "R-Anode",
}


def markdown_table(scan, s_over_b: dict) -> str:
    """The scan at one cut as docs/benchmark.md shows it: per amount (its S/B in the signal region) the median
    expected Z over the draws [smallest, largest draw] (how many draws could be read there, where not all), the
    events for a median 3σ and 5σ ± the bootstrap over draws, and the 5σ improvement over the inclusive search."""
    sb = {int(k): v for k, v in s_over_b.items()}
    head = [f"{n} ({sb[n]:.1%})" if n in sb else str(n) for n in scan.injections]
    lines = [
        "| method | " + " | ".join(head) + " | 3σ at | 5σ at [events] | × inclusive (5σ) |",
        "|---" * (len(head) + 4) + "|",
    ]
    for m, per_amount in scan.z.items():
        cells = []
        for draws in per_amount:
            z = np.asarray(draws, float)
            z = z[np.isfinite(z)]
            part = f" ({z.size} of {len(draws)} read)" if 0 < z.size < len(draws) else ""  # no fit at the mass
            cells.append("—" if not z.size else f"{np.median(z):.1f} [{z.min():.1f}, {z.max():.1f}]{part}")
        s = scan.sensitivity[m]
        at = [("—" if v is None else f"{v:.0f} ± {e or 0:.0f}") for v, e in (s.events(3), s.events(5))]
        imp = s.improvement_5sigma
        lines.append(f"| {NAMES.get(m, m)} | " + " | ".join([*cells, *at, "—" if imp is None else f"{imp:.2f}"]) + " |")
    return "\n".join(lines)


def sensitivity_at(bench: dict, eff: float | None, where: Path) -> dict:
    """A bench's sensitivity per method at its own cut (``eff`` None) or at another it read (``by_efficiency``)."""
    if eff is None or eff == bench.get("efficiency"):
        return bench["sensitivity"]
    if str(eff) not in bench.get("by_efficiency", {}):
        raise SystemExit(f"{where}: not read at ε = {eff:g} (by_efficiency: {sorted(bench.get('by_efficiency', {}))})")
    return bench["by_efficiency"][str(eff)]["sensitivity"]


def extrapolate(paths: list[Path], out: Path, eff: float | None = None) -> None:
    """Each method's 5σ improvement at the benches' luminosities, and extrapolated to 26.8 fb⁻¹ (module text); at
    the benches' own cut, or at ``eff``."""
    from anomalyscope.core.workflows.benchmark import PUBLISHED
    from anomalyscope.core.workflows.luminosity import CMS_TARGET_FB, improvement_at

    read = sorted(((json.loads(p.read_text()), p) for p in paths), key=lambda bp: bp[0]["luminosity_fb"])
    benches = [{**b, "sensitivity": sensitivity_at(b, eff, p)} for b, p in read]
    lumis = [b["luminosity_fb"] for b in benches]
    if len(set(lumis)) < len(lumis) or len(lumis) < 2:
        raise SystemExit(f"--extrapolate needs benches at two luminosities or more, got {lumis}")
    cap = benches[-1]["sensitivity"].get(SUPERVISED, {}).get("improvement_5sigma")
    published = PUBLISHED["x_yyprime"]["improvement_5sigma"]
    head = " ".join(f"{f'{lu:.1f} fb⁻¹':>10s}" for lu in lumis)
    print(f"5σ improvement over the inclusive search\n{'method':12s} {head} {'slope':>6s} {'26.8 (extrap.)':>15s} "
          f"{'CMS published':>14s}")  # fmt: skip
    rows = []
    for m in benches[-1]["sensitivity"]:
        got = [b["sensitivity"].get(m, {}).get("improvement_5sigma") for b in benches]
        row = {"method": m, "measured": dict(zip(lumis, got, strict=True)), "published_26.8": published.get(m)}
        if all(g is not None for g in got) and m != "inclusive":
            e = improvement_at(dict(zip(lumis, got, strict=True)), CMS_TARGET_FB, None if m == SUPERVISED else cap)
            row |= {"slope": e.slope, "extrapolated": e.value, "capped": e.capped}
        rows.append(row)
        fmt = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
        ext = fmt(row.get("extrapolated")) + (" (cap)" if row.get("capped") else "")
        print(f"{m:12s} " + " ".join(f"{fmt(g):>10s}" for g in got)
              + f" {fmt(row.get('slope')):>6s} {ext:>15s} {fmt(published.get(m)):>14s}")  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"luminosities_fb": lumis, "efficiency": eff, "target_fb": CMS_TARGET_FB, "cap": cap,
                               "label": "extrapolated: a power law in luminosity through the measured sizes, "
                                        "capped by the supervised reference's factor; not measured at 26.8 fb⁻¹",
                               "benches": [str(p) for p in paths], "rows": rows}, indent=1))  # fmt: skip
    print(f"wrote {out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--background", type=Path, default=None)
    ap.add_argument("--signal", type=Path, default=None)
    ap.add_argument("--mass", type=float, default=None, help="default: the demo's 3700 GeV, else 3500")
    ap.add_argument("--injections", type=int, nargs="*", default=[0, 25, 50, 100, 200, 400])
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--eff", type=float, default=None, help="the cut read (default: 0.1; --extrapolate: each bench's)")
    ap.add_argument("--methods", nargs="*", default=None, help="default: the demo Run's methods and ranode")
    ap.add_argument("--sr", type=float, nargs=2, default=None, help="signal region for S/B [GeV] (default: the demo's)")
    ap.add_argument("--lumi-fb", type=float, default=None, help="luminosity of the background sample")
    ap.add_argument("--summarise", action="store_true", help="only summarise the Runs finished in --work")
    ap.add_argument("--extrapolate", type=Path, nargs="+", default=None, help="finished benches' JSON (module text)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Runs trained at once (default: cores)")
    ap.add_argument("--work", type=Path, default=Path(__file__).parent / "results" / "sensitivity-work")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "sensitivity.json")
    ap.add_argument("--resume-from", type=Path, default=None,
                    help="a bench JSON of this scan from another machine: its finished points are not retrained")  # fmt: skip
    a = ap.parse_args()
    if a.extrapolate:
        name = "sensitivity_luminosity.json" if a.eff is None else f"sensitivity_luminosity_eff{a.eff:g}.json"
        return extrapolate(a.extrapolate, a.out.with_name(name), a.eff)
    from anomalyscope.core.workflows import demo as demo_mod

    if a.signal is None:  # the demo's signal, searched with the demo Run's configuration, on any background
        demo_dir = demo_mod.default_demo_dir()  # its samples only: the scan trains Runs of its own
        demo_mod.build_samples(demo_dir, qcd=a.background is None)
        a.background, a.signal = a.background or demo_dir / "qcd", demo_dir / "wprime_xy"
        run = demo_mod.run_settings(demo_dir, background=a.background)
        run["methods"] = a.methods or [*run["methods"], {"ranode": {"folds": 2}}]  # two folds, as the demo's CATHODE
        mass = a.mass or demo_mod.SIGNAL_PARAMS["mA"]
    else:
        run = {"methods": a.methods or FAST, "folds": 5}
        mass = a.mass or 3500.0
    run["search"] = {**run.get("search", {}), "toys": LEE_TOYS}
    bkg, sig = EventSet.open(a.background), EventSet.open(a.signal)
    generated = (bkg.info.processes or {}).get("qcd")
    lumi = a.lumi_fb or (generated.luminosity_pb / 1000 if generated and generated.luminosity_pb else None)
    sr = tuple(a.sr) if a.sr else demo_mod.SR
    sb = s_over_b(bkg, sig, a.injections, sr, demo_mod.DETA_MAX)
    cfg = {
        "background": str(a.background),
        "signal": str(a.signal),
        "out": str(a.work),
        "injections": a.injections,
        "draws": a.draws,
        "efficiency": 0.1 if a.eff is None else a.eff,
        "mass": mass,
        "run": run,
        "workers": a.workers,
    }
    if lumi:
        cfg["luminosity_fb"] = lumi
    digests = {"background": sample_digest(bkg), "signal": sample_digest(sig)}
    scan = {k: cfg.get(k) for k in ("run", "efficiency", "mass", "luminosity_fb")}
    if a.resume_from:
        n = seed_points(a.resume_from, a.work, digests, scan)
        print(f"{n} finished points taken from {a.resume_from}")
    t0 = time.perf_counter()
    res = run_injection_scan(cfg, train=not a.summarise)
    wall = time.perf_counter() - t0
    print(report(res))
    print(f"\nmeasured on {len(bkg)} background events ({a.background}); {wall / 60:.1f} min")
    print(
        f"signal region {sr[0]:.0f}–{sr[1]:.0f} GeV, |Δη| < {demo_mod.DETA_MAX}: {sb['background_in_sr']} background "
        f"events, {sb['signal_fraction_in_sr']:.0%} of the signal; S/B there: "
        + ", ".join(f"{n} → {v:.1%}" for n, v in sb["s_over_b"].items())
    )
    rows = []
    print(f"\n{'method':12s} {'Z(0) median':>11s} {'3σ at':>12s} {'5σ at':>12s} {'×incl (5σ)':>10s}")
    for m, s in res.sensitivity.items():
        z0 = float(np.nanmedian(res.z_observed[m][0])) if res.injections[0] == 0 else float("nan")
        fmt = lambda v, e: "—" if v is None else f"{v:.0f}±{e or 0:.0f}"  # noqa: E731
        imp = s.improvement_5sigma
        print(
            f"{m:12s} {z0:11.2f} {fmt(*s.events(3)):>12s} {fmt(*s.events(5)):>12s} "
            f"{'—' if imp is None else f'{imp:.2f}':>10s}"
        )
        rows.append({"method": m, "median_z_no_signal": z0, **s.to_dict()})
    # the same Runs read at every other efficiency they searched (the improvement at a cut is roughly the SIC there,
    # ε_S/√ε_B ≤ 1/√ε: at ε = 10% a factor above ≈ 3 needs a tighter cut)
    by_eff = {}
    for e in res.efficiencies[1:]:
        other = res.at(e)
        by_eff[str(e)] = {
            "median_z": other.median_z,
            "sensitivity": {m: v.to_dict() for m, v in other.sensitivity.items()},
        }
    for e in res.efficiencies:  # every cut's table, as docs/benchmark.md shows them
        print(f"\nat ε = {e:g} (markdown):\n" + markdown_table(res.at(e), sb["s_over_b"]))
    if res.injections[0] == 0:  # the background-only reading: observed Z at the signal mass over every Run
        z0 = {m: np.asarray(v[0], float) for m, v in res.z_observed.items()}
        lo, hi = min(np.nanmin(v) for v in z0.values()), max(np.nanmax(v) for v in z0.values())
        print(f"\nno signal injected: observed Z from {lo:.2f} to {hi:.2f}; medians: "
              + ", ".join(f"{m} {np.nanmedian(v):.2f}" for m, v in z0.items()))  # fmt: skip
    finished = json.loads((a.work / "points.json").read_text())
    # training time per method: the median over the scan's Runs, per 10k events of the dataset (one thread each);
    # the Runs of a scan resumed from another machine's file are in that file
    by_run = json.loads(a.resume_from.read_text()).get("training_seconds_by_run", {}) if a.resume_from else {}
    for manifest in sorted(a.work.glob("run-*/manifest.json")):
        by_run[manifest.parent.name] = json.loads(manifest.read_text()).get("training_seconds") or {}
    secs: dict[str, list[float]] = {}
    for run_secs in by_run.values():
        for m, t in run_secs.items():
            secs.setdefault(m, []).append(t)
    per_10k = {m: float(np.median(v)) / (len(bkg) / 1e4) for m, v in secs.items()}
    print("\ntraining per Run (windows holding the signal only), median, per 10k events of the dataset:")
    print("  " + ", ".join(f"{m} {v:.1f} s" for m, v in per_10k.items()))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(  # atomic: the file a later --resume-from reads may be this one
        a.out,
        {
            "n_background": len(bkg),
            "background": str(a.background),
            "digests": digests,
            "scan": scan,
            "signal_region": list(sr),
            **sb,
            "runs_finished": len(finished),
            "training_seconds_per_10k_events": per_10k,
            "training_seconds_by_run": by_run,
            "wall_seconds": wall,
            "rows": rows,
            "by_efficiency": by_eff,
        }
        | res.to_dict()  # the injection scan itself, at every cut: what the dashboard's Sensitivity tab draws
        | {"points": finished},  # every Run's readings: what --resume-from takes on another machine
    )
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
