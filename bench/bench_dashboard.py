"""Benchmark: the dashboard on a Run of about 1M events.

    python bench/bench_dashboard.py [--factor 11] [--sessions 10]

1. Builds the 1M-event Run by resampling the demo Run: its data EventSet and per-event scores and
   thresholds are repeated ``--factor`` times with fresh event ids (same distributions, 11 x 94.5k ≈ 1.04M;
   the demo before version 7 had 58k events).
2. Server-side callback times (what a method or cut change recomputes): the stored spectra, fits and scans read, the
   feature histograms and the event table, cold (first time per method) and warm; the event display.
3. ``panel serve app.py`` on that Run, driven by headless Chromium: first paint (cold, then with the Run
   cached), then ``--sessions`` concurrent sessions, each with its own method and cut in the URL: server
   memory per extra session, the time a method change takes to show up with all sessions open, and a
   check that no session's choice leaks into another.

Prints tables, writes bench/results/dashboard.json. Times are medians of several repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import awkward as ak
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from anomalyscope.core.data import EventSet, write_eventset
from anomalyscope.core.results import Run
from anomalyscope.core.workflows.demo import default_demo_dir

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"


# ---------------------------------------------------------------------- the 1M Run
def build_big_run(demo_run: Path, factor: int, out: Path) -> Path:
    run = Run.open(demo_run)
    es = EventSet.open(run.input_path("eventset"))
    arr = es.load(truth=True)
    ids = ak.to_numpy(arr.event_id)
    span = int(ids.max()) + 1

    def tiles():
        for k in range(factor):
            yield ak.with_field(arr, ids + k * span, "event_id")

    meta = {k: v for k, v in es.schema.items() if k not in ("n_events", "files", "counts", "labels", "created")}
    meta["name"] = "data_1m"
    meta["derived_from"] = {"path": str(es.path), "selection": f"repeated {factor} times (benchmark resampling)"}
    big = write_eventset(out / "data_1m", tiles(), meta, overwrite=True)

    run_dir = out / "run_1m"
    shutil.copytree(demo_run, run_dir, dirs_exist_ok=False)
    for name in ("scores.parquet",):  # thresholds.json holds curves in m_jj, valid for the copies too
        t = pq.read_table(demo_run / name)
        cols = {}
        for c in t.column_names:
            v = t[c].to_numpy()
            cols[c] = np.concatenate([v + k * span for k in range(factor)]) if c == "event_id" else np.tile(v, factor)
        pq.write_table(pa.table(cols), run_dir / name, compression="zstd")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["eventset"] = {**manifest["eventset"], "path": str(Path(big.path).resolve()), "n_events": len(big)}
    manifest.get("paths_from_run", {}).pop("eventset", None)
    from anomalyscope.core.data.integrity import digests

    # the resampled scores are a new file: the Run records its checksum as a writer would
    manifest["checksums"] = {**(manifest.get("checksums") or {}), **digests(run_dir, ["scores.parquet"])}
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    from anomalyscope.core.cli import main as cli

    cli(["search", str(run_dir), "--toys", "100", "--quiet"])  # the stored spectra the views draw, of the 1M events
    return run_dir


# ---------------------------------------------------------------------- server-side callbacks
def callback_times(run_dir: Path, repeats: int) -> dict:
    from anomalyscope.dashboard.data import event_display, feature_distributions, load_run, stored_spectra, top_events

    t0 = time.perf_counter()
    rd = load_run(str(run_dir))
    load_s = time.perf_counter() - t0
    effs = tuple(rd.efficiencies)
    window = (3000.0, 4000.0)
    methods = [m for m in rd.methods if m != "inclusive"]
    cold, warm, feats, tables = [], [], [], []
    for m in methods:
        t0 = time.perf_counter()
        stored_spectra(rd, m, effs)
        cold.append(time.perf_counter() - t0)
        for _ in range(repeats):
            t0 = time.perf_counter()
            stored_spectra(rd, m, effs)
            warm.append(time.perf_counter() - t0)
        for eff in effs:
            t0 = time.perf_counter()
            feature_distributions(rd, m, "msoftdrop", window, eff=eff)
            feats.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        top_events(rd, m, window)
        tables.append(time.perf_counter() - t0)
    rows = [int(r) for r in np.linspace(0, len(rd.scores["mjj"]) - 1, 5)]
    displays = []
    for r in rows:
        t0 = time.perf_counter()
        event_display(rd.eventset, r)
        displays.append(time.perf_counter() - t0)
    change_cold = [c + f + t for c, f, t in zip(cold, feats[:: len(effs)], tables)]
    # a second pass (the Run's data loaded, every method's selections read once)
    change = []
    for m in methods:
        t0 = time.perf_counter()
        stored_spectra(rd, m, effs)
        feature_distributions(rd, m, "msoftdrop", window, eff=effs[-1])
        top_events(rd, m, window)
        change.append(time.perf_counter() - t0)
    render = view_render_times(run_dir, rd, methods)
    return {
        "render_ms": render,
        "n_events": int(len(rd.scores["mjj"])),
        "load_run_s": load_s,
        "read_all_methods_s": sum(cold),
        "method_change_ms": 1e3 * statistics.median(change),
        "method_change_cold_ms": 1e3 * statistics.median(change_cold),
        "spectra_read_first_ms": 1e3 * statistics.median(cold),
        "spectra_read_again_ms": 1e3 * statistics.median(warm),
        "feature_histograms_ms": 1e3 * statistics.median(feats),
        "event_table_ms": 1e3 * statistics.median(tables),
        "event_display_ms": 1e3 * statistics.median(displays),
        "cut_change_ms": 1e3 * statistics.median([w + f for w, f in zip(warm, feats)]),
        "methods": methods,
    }


def view_render_times(run_dir: Path, rd, methods: list[str]) -> dict:
    """Server-side time of a method change per view, with the fits cached: each view is rendered to Bokeh
    models once (as for a session showing it), then the method is changed and the view updates its models
    (the spectra's DynamicMaps in place; the other views rebuild theirs) — all the server does before
    sending the change to the browser."""
    import holoviews as hv
    import panel as pn

    from anomalyscope.dashboard.events import EventsView
    from anomalyscope.dashboard.features import FeatureView
    from anomalyscope.dashboard.spectra import SpectraView
    from anomalyscope.dashboard.state import SessionState

    hv.extension("bokeh")
    out = {}
    for name, cls in (("spectra", SpectraView), ("features", FeatureView), ("event table", EventsView)):
        state = SessionState(run_path=str(run_dir))
        state.param.method.objects = rd.methods
        state.param.efficiency.objects = rd.efficiencies
        state.method = methods[0]
        pn.panel(cls(state=state)).get_root()
        times = []
        for m in methods[1:] + methods[:1]:
            t0 = time.perf_counter()
            state.method = m
            times.append(time.perf_counter() - t0)
        out[name] = 1e3 * statistics.median(times)
    return out


# ---------------------------------------------------------------------- the served app
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    import psutil

    p = psutil.Process(pid)
    return sum(c.memory_info().rss for c in [p, *p.children(recursive=True)]) / 2**20


def served(run_dir: Path, n_sessions: int, methods: list[str]) -> dict:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}/app"
    env = {**os.environ, "ANOMALYSCOPE_RUN": str(run_dir), "ANOMALYSCOPE_RUN_DIRS": str(run_dir.parent)}
    log = open(run_dir.parent / "panel.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", "app.py", "--port", str(port),
         "--allow-websocket-origin", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out: dict = {}
    try:
        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])

            def first_paint(page_url):
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                t0 = time.perf_counter()
                page.goto(page_url, timeout=300_000)
                page.wait_for_selector("text=Per process", timeout=300_000)
                return page, time.perf_counter() - t0

            rss0 = _rss_mb(proc.pid)
            page, out["first_paint_cold_s"] = first_paint(url)
            page.close()
            paints = []
            for _ in range(3):
                page, t = first_paint(url)
                paints.append(t)
                page.close()
            out["first_paint_cached_s"] = statistics.median(paints)
            out["server_rss_mb_before_sessions"] = _rss_mb(proc.pid)
            out["server_rss_mb_idle"] = rss0

            # concurrent sessions, each with its own method / cut
            pages, rss = [], [_rss_mb(proc.pid)]
            effs = ["0.1", "0.01", "0.001"]
            for k in range(n_sessions):
                m, e = methods[k % len(methods)], effs[k % len(effs)]
                page, _ = first_paint(f"{url}?method={m}&efficiency={e}")
                page.get_by_text("Spectra", exact=True).first.click()
                page.wait_for_selector(f"text={m}: m_jj after flat-efficiency cuts", timeout=300_000)
                pages.append((page, m, e))
                rss.append(_rss_mb(proc.pid))
            out["server_rss_mb_per_session"] = rss
            out["mb_per_extra_session"] = (rss[-1] - rss[1]) / max(1, n_sessions - 1)

            # a method change in one session, timed to the new title on screen, with every session open
            changes = []
            page0, m0, _ = pages[0]
            for m in [x for x in methods if x != m0][:4]:
                t0 = time.perf_counter()
                page0.locator("select", has=page0.locator("option", has_text=m)).first.select_option(m)
                page0.wait_for_selector(f"text={m}: m_jj after flat-efficiency cuts", timeout=120_000)
                changes.append(time.perf_counter() - t0)
            out["method_change_in_browser_s"] = statistics.median(changes)
            leaks = []
            for page, m, e in pages[1:]:
                q = page.evaluate("() => window.location.search")
                if f"method={m}" not in q or f"efficiency={e}" not in q:
                    leaks.append(f"session wanted {m}/{e}, URL now {q}")
                if not page.get_by_text(f"{m}: m_jj after flat-efficiency cuts").first.is_visible():
                    leaks.append(f"session {m}/{e} no longer shows its own method")
            out["state_leaks"] = leaks
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", type=Path, default=None)
    ap.add_argument("--factor", type=int, default=11)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None, help="build the 1M Run here and keep it")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "dashboard.json")
    a = ap.parse_args()
    demo = a.demo or default_demo_dir()
    tmp = a.keep or Path(tempfile.mkdtemp(prefix="bench-dash-"))
    result: dict = {"cpu_count": os.cpu_count(), "factor": a.factor}
    try:
        run_dir = tmp / "run_1m"
        if not run_dir.exists():
            t0 = time.perf_counter()
            run_dir = build_big_run(demo / "run", a.factor, tmp)
            result["build_s"] = time.perf_counter() - t0
        cb = callback_times(run_dir, a.repeats)
        result["callbacks"] = cb
        print(f"Run of {cb['n_events']:,} events; server-side callback times (median):")
        for key, label in (
            ("load_run_s", "load the Run (once per server process) [s]"),
            ("read_all_methods_s", "read every method's stored spectra once [s]"),
            ("method_change_ms", "method change, second pass: spectra + features + table [ms]"),
            ("method_change_cold_ms", "method change, first pass [ms]"),
            ("spectra_read_first_ms", "  stored spectra, fits and scans at 4 cuts, one method, first read [ms]"),
            ("feature_histograms_ms", "  feature histograms [ms]"),
            ("event_table_ms", "  event table [ms]"),
            ("cut_change_ms", "cut change: stored spectra + features [ms]"),
            ("event_display_ms", "event display (one row group read) [ms]"),
        ):
            print(f"  {label:62s} {cb[key]:10.1f}")
        for view, ms in cb["render_ms"].items():
            print(f"  method change, {view} view updated on a rendered page [ms]".ljust(64) + f"{ms:10.1f}")
        sv = served(run_dir, a.sessions, cb["methods"])
        result["served"] = sv
        cold, cached = sv["first_paint_cold_s"], sv["first_paint_cached_s"]
        print(f"\nfirst paint in Chromium: cold {cold:.1f} s, Run cached {cached:.1f} s")
        print(
            f"{a.sessions} sessions: server RSS {sv['server_rss_mb_per_session'][0]:.0f} → "
            f"{sv['server_rss_mb_per_session'][-1]:.0f} MB, {sv['mb_per_extra_session']:.0f} MB per extra session"
        )
        print(f"method change seen in the browser with all sessions open: {sv['method_change_in_browser_s']:.2f} s")
        print(f"state leaks between sessions: {sv['state_leaks'] or 'none'}")
    finally:
        if a.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten {a.out}")


if __name__ == "__main__":
    main()
