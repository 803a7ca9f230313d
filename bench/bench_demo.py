"""The demo's story, measured: build time and peak memory, the inclusive search's local Z at the signal mass,
the best data-driven method's local and global Z, the background-only twin's largest global Z per method, and
the spread of the local Z at the signal over independent signal draws.

    python bench/bench_demo.py [--out DIR] [--force] [--draws 5]

``--out`` builds a fresh demo there (default: the user's demo, reused when complete); the twin is built
next to it. Peak memory is the resident memory of this process and every process it starts, summed, sampled
twice a second, with what the build was doing at the peak (the anomalyscope call stack). ``--draws N``: the
demo's own injection and N − 1 more, each with its own signal events (another seed, the same amount), each
through the demo's Run retrained in the windows that hold the signal (``train_windows_at``); every draw is
read the same way — each method's local Z at the signal's reconstructed peak (``z_at_signal_mass``) — and the
median with its spread is the demo's headline. Finished draws are reused (the command resumes). Prints a table
and writes bench/results/demo.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from anomalyscope.core.data import EventSet, inject
from anomalyscope.core.data.atomic import write_json_atomic
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods import best_data_driven
from anomalyscope.core.results import Run
from anomalyscope.core.workflows import demo as demo_mod
from anomalyscope.core.workflows.demo import build_demo, build_null_twin, default_demo_dir
from anomalyscope.core.workflows.injection import z_at_signal_mass


class PeakMemory:
    """The largest summed resident memory of this process and its descendants while in the ``with`` block,
    and what this process was running then (its anomalyscope frames, outermost first)."""

    def __init__(self, interval: float = 0.5):
        import psutil

        self.proc, self.interval = psutil.Process(), interval
        self.peak_gb, self.stack, self.children = 0.0, [], []
        self.by_stage: dict[str, float] = {}
        self._main = threading.main_thread().ident
        self._stop = threading.Event()

    def _sample(self) -> None:
        import psutil

        while not self._stop.wait(self.interval):
            procs = [self.proc, *self.proc.children(recursive=True)]
            rss = []
            for p in procs:
                try:
                    rss.append((p.memory_info().rss, p))
                except psutil.Error:
                    pass
            total = sum(r for r, _ in rss) / 1e9
            frame = sys._current_frames().get(self._main)
            stack = []
            while frame is not None:
                f = frame.f_code.co_filename
                if "anomalyscope" in f or "/core/" in f:
                    stack.append(f"{Path(f).parent.name}/{Path(f).name}:{frame.f_code.co_name}")
                frame = frame.f_back
            stack.reverse()
            stage = stack[1] if len(stack) > 1 else (stack[0] if stack else "?")
            self.by_stage[stage] = max(self.by_stage.get(stage, 0.0), total)
            if total > self.peak_gb:
                self.peak_gb, self.stack = total, stack
                self.children = sorted(
                    (
                        (round(r / 1e9, 2), " ".join(p.cmdline()[:3])[:80])
                        for r, p in rss
                        if p is not self.proc and r > 2e8
                    ),
                    reverse=True,
                )[:5]

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def report(self) -> dict:
        return {
            "peak_gb": round(self.peak_gb, 2),
            "at": self.stack,
            "children_at_peak_gb": self.children,
            "peak_gb_by_stage": {k: round(v, 2) for k, v in self.by_stage.items()},
        }


def z_at_signal(run: Run, peak: float) -> dict[str, dict[str, float]]:
    """Each method's local Z at the signal (every cut), read as the injection scan reads it."""
    search, table, result = run.search(), run.table(), run.search_result()
    out = {}
    for m in run.manifest.methods:
        effs = [1.0] if m == "inclusive" else list(search.definition.efficiencies)
        out[m] = {f"{e:g}": z_at_signal_mass(search, table, result, m, e, peak) for e in effs}
    return out


def signal_draws(out: Path, n_draws: int, peak: float) -> list[dict]:
    """The demo's own injection and n_draws − 1 more (module text); finished draws are reused."""
    from anomalyscope.core.methods.runner import execute

    own = EventSet.open(out / "data").info.demo
    draws = [{"draw": 0, "seed": demo_mod.SEED + 2, "z": z_at_signal(Run.open(out / "run"), peak)}]
    qcd, sig = EventSet.open(out / "qcd"), EventSet.open(out / "wprime_xy")
    for k in range(1, n_draws):
        d = out / "draws" / str(k)
        seed = demo_mod.SEED + 2 + 1000 * k
        try:
            run = Run.open(d / "run")
        except InputError:  # not run yet, or interrupted: made again
            inject(qcd, sig, own["n_injected"], d / "data", seed=seed, remainder=d / "signal", overwrite=True)
            cfg = demo_mod._run_config(out, d / "data", d / "run", 1.0)
            cfg.train_windows_at = peak
            cfg.signal = str(d / "signal")
            execute(cfg, overwrite=True, progress=True)
            run = Run.open(d / "run")
        draws.append({"draw": k, "seed": seed, "z": z_at_signal(run, peak)})
    return draws


def _spread(z) -> dict | None:
    z = np.asarray(z, dtype=float)
    z = z[np.isfinite(z)]
    if not len(z):
        return None
    q16, q50, q84 = np.percentile(z, [16, 50, 84])
    return {"median": round(float(q50), 2), "q16": round(float(q16), 2), "q84": round(float(q84), 2),
            "min": round(float(z.min()), 2), "max": round(float(z.max()), 2), "n": len(z)}  # fmt: skip


def summarize_draws(draws: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    """Per method and cut: the median local Z at the signal over the draws, its 16–84% spread, min and max; and
    under ``best data-driven`` the largest over the data-driven methods and their cuts, draw by draw."""
    from anomalyscope.core.methods import REFERENCES

    out: dict = {}
    for m in draws[0]["z"]:
        for e in draws[0]["z"][m]:
            s = _spread([d["z"].get(m, {}).get(e, np.nan) for d in draws])
            if s:
                out.setdefault(m, {})[e] = s
    best = [np.nanmax([z for m, per in d["z"].items() if m not in REFERENCES for z in per.values()]) for d in draws]
    out["best data-driven"] = {"any": _spread(best)}
    return out


def story(run: Run, peak: float | None) -> dict:
    res = run.search_result()
    best = res.best_excesses() if res is not None else {}
    out = {"methods": {m: e.to_dict() for m, e in best.items()}}
    out["inclusive_z_at_signal"] = run.search().inclusive_z_at(run.table(), peak)
    found = best_data_driven(best)
    if found:
        out["best_data_driven"] = {"method": found[0], **found[1].to_dict()}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--draws", type=int, default=1, help="signal draws, the demo's own included")
    ap.add_argument("--result", type=Path, default=Path(__file__).parent / "results" / "demo.json")
    a = ap.parse_args()
    out = a.out or default_demo_dir()
    t0 = time.perf_counter()
    with PeakMemory() as mem:
        paths = build_demo(out, force=a.force)
    t_demo = time.perf_counter() - t0
    print(f"demo built in {t_demo / 60:.1f} min, peak memory {mem.peak_gb:.2f} GB at {' > '.join(mem.stack[-4:])}")
    t1 = time.perf_counter()
    twin = out / "null" / "run"
    reuse = not a.force and (twin / "manifest.json").exists()  # the twin of this demo (`demo --null-twin`)
    if not reuse:
        twin = build_null_twin(out)
    t_twin = time.perf_counter() - t1 if not reuse else None
    sig = EventSet.open(paths["signal"])
    region = sig.column("deta") < Run.open(paths["run"]).search().definition.deta_max
    peak = float(np.median(sig.column("mjj")[region]))
    demo, null = story(Run.open(paths["run"]), peak), story(Run.open(twin), peak)
    schema = EventSet.open(paths["data"]).info.demo
    draws = signal_draws(out, a.draws, peak) if a.draws > 1 else []
    spread = summarize_draws(draws) if draws else {}
    twin_time = "reused" if t_twin is None else f"{t_twin / 60:.1f} min"
    print(f"demo in {out}: built in {t_demo / 60:.1f} min, null twin {twin_time} ({os.cpu_count()} cores)")
    print(
        f"  injected {schema['n_injected']} signal events (S/√B = {schema['target_s_over_sqrt_b_in_sr']} in "
        f"{schema['signal_region_gev']} GeV); signal peak {peak:.0f} GeV"
    )
    print(
        f"  inclusive local Z at the signal peak: {demo['inclusive_z_at_signal']:.2f} "
        f"(null twin there: {null['inclusive_z_at_signal']:.2f})"
    )
    b = demo.get("best_data_driven")
    if b:
        print(
            f"  best data-driven: {b['method']} local {b['z_local']:.2f}σ at {b['mass']:.0f} GeV "
            f"({b['window']}, ε = {b['eff']:g}), global {b['z_global']:.2f}σ"
        )
    print(f"  {'method':11s} {'demo local/global':>18s} {'null twin local/global':>23s}")
    for m in demo["methods"]:
        d, n = demo["methods"][m], null["methods"].get(m, {})
        f = lambda e: f"{e.get('z_local', np.nan):5.2f} / {e.get('z_global', np.nan):4.2f}"  # noqa: E731
        print(f"  {m:11s} {f(d):>18s} {f(n):>23s}")
    print(f"  peak memory {mem.peak_gb:.2f} GB; by stage: {mem.report()['peak_gb_by_stage']}")
    if spread:
        print(f"  local Z at the signal over {len(draws)} signal draws (median [16–84%] min–max):")
        for m, per in spread.items():
            cells = "  ".join(f"ε={e}: {v['median']:.2f} [{v['q16']:.2f}, {v['q84']:.2f}] {v['min']:.2f}–{v['max']:.2f}"
                              for e, v in per.items())  # fmt: skip
            print(f"    {m:11s} {cells}")
    write_json_atomic(
        a.result,
        {
            "demo": demo,
            "null_twin": null,
            "injection": schema,
            "signal_peak_gev": peak,
            "build_seconds": t_demo,
            "memory": mem.report(),
            "draws": draws,
            "draws_summary": spread,
            "twin_seconds": t_twin,
            "cores": os.cpu_count(),
            "out": str(out),
        },
    )


if __name__ == "__main__":
    main()
