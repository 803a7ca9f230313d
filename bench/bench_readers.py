"""Benchmark: reading real formats. Events/s read + featurised in one process vs a 2-worker Dask
LocalCluster on the same files in the same run, for LHCO HDF5 and NanoAOD-like ROOT; and peak memory
while reading LHCO files of growing size with a fixed chunk (chunking must keep it flat).

    python bench/bench_readers.py [--events 20000] [--files 4] [--big-rows 50000 200000]

Inputs are made from the demo's data EventSet (``python -m anomalyscope demo`` first): its events exported in
the LHCO layout and as NanoAOD-like ROOT. The LHCO rows hold the jets' stored constituents (≤ 200
hadrons per event; the published files have up to 700), so the reading cost per event is lower than
on the published files. Prints a table, writes bench/results/readers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from anomalyscope.core.data import EventSet, select
from anomalyscope.core.data.ingest import ingest
from anomalyscope.core.data.lhco import LHCOFormat, eventset_hadrons, write_lhco_table
from anomalyscope.core.data.nanoaod import NanoAODFormat, export_root
from anomalyscope.core.features import Selection
from anomalyscope.core.workflows.demo import default_demo_dir


def make_inputs(src: EventSet, n_events: int, n_files: int, tmp: Path) -> tuple[list[Path], list[Path]]:
    lhco, root = [], []
    edges = np.linspace(0, min(n_events, len(src)), n_files + 1).astype(int)
    for i in range(n_files):
        mask = np.zeros(len(src), dtype=bool)
        mask[edges[i] : edges[i + 1]] = True
        part = select(src, mask, tmp / f"part{i}", note="bench slice")
        had, labels = eventset_hadrons(part)
        lhco.append(write_lhco_table(tmp / f"lhco_{i}.h5", had, labels))
        root.append(export_root(part, tmp / f"nano_{i}.root"))
    return lhco, root


def timed_read(files, fmt, out: Path, scheduler, chunk) -> tuple[float, int]:
    t0 = time.perf_counter()
    es = ingest(files, fmt, out, chunk_size=chunk, scheduler=scheduler, workers=2, overwrite=True, progress=False)
    return time.perf_counter() - t0, len(es)


MEMORY_PROBE = """
import sys
from pathlib import Path
from anomalyscope.core.data.ingest import ingest
from anomalyscope.core.data.lhco import LHCOFormat
from anomalyscope.core.features import Selection
mode, path, out, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if mode == "chunked":
    ingest([path], LHCOFormat(selection=Selection()), out, chunk_size=chunk, scheduler=None, overwrite=True,
           progress=False)
else:
    import pandas as pd
    pd.read_hdf(path).to_numpy()
# VmHWM: this process's own peak RSS (ru_maxrss would carry the forking parent's peak across exec)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def peak_rss_mb(mode: str, path: Path, out: Path, chunk: int) -> float:
    res = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, mode, str(path), str(out), str(chunk)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(res.stdout.strip().splitlines()[-1]) / 1024.0  # VmHWM is in KiB


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", type=Path, default=None, help="demo directory (default: the dashboard's demo)")
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--chunk", type=int, default=2500, help="entries per chunk in the throughput runs")
    ap.add_argument("--big-rows", type=int, nargs="+", default=[50000, 200000])
    ap.add_argument("--memory-chunk", type=int, default=10000)
    ap.add_argument("--only", choices=["throughput", "memory"], default=None, help="run one part")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "readers.json")
    a = ap.parse_args()
    demo = a.demo or default_demo_dir()
    src = EventSet.open(demo / "data")
    tmp = Path(tempfile.mkdtemp(prefix="bench-read-"))
    result: dict = {"cpu_count": os.cpu_count(), "events": a.events, "files": a.files, "chunk": a.chunk}
    try:
        if a.only != "memory":
            result["throughput"] = throughput(src, a, tmp)
        if a.only != "throughput":
            result["memory"] = memory(src, a, tmp)
        result["self_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.only and a.out.exists():  # keep the other part's figures from an earlier run
        result = {**json.loads(a.out.read_text()), **result}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten {a.out}")


def throughput(src: EventSet, a, tmp: Path) -> list[dict]:
    lhco, root = make_inputs(src, a.events, a.files, tmp)
    rows = []
    for name, files, fmt in (
        ("LHCO HDF5", lhco, LHCOFormat(selection=Selection())),
        ("NanoAOD ROOT (PF candidates)", root, NanoAODFormat()),
    ):
        t1, n1 = timed_read(files, fmt, tmp / "one", None, a.chunk)
        t2, n2 = timed_read(files, fmt, tmp / "two", "local", a.chunk)
        assert n1 == n2
        rows.append(
            {
                "format": name,
                "events": n1,
                "one_process_ev_s": n1 / t1,
                "local_cluster_2w_ev_s": n2 / t2,
                "speedup": t1 / t2,
                "one_process_s": t1,
                "local_cluster_s": t2,
            }
        )
    print(f"{'format':30s} {'events':>7s} {'1 process ev/s':>15s} {'2 workers ev/s':>15s} {'speed-up':>9s}")
    for r in rows:
        print(
            f"{r['format']:30s} {r['events']:7d} {r['one_process_ev_s']:15.0f} "
            f"{r['local_cluster_2w_ev_s']:15.0f} {r['speedup']:9.2f}"
        )
    print("(the 2-worker figure includes starting the LocalCluster, about 3-5 s)")
    return rows


def memory(src: EventSet, a, tmp: Path) -> dict:
    # memory: one LHCO file per size, rows tiled from the demo events
    had, labels = eventset_hadrons(src)
    mem = []
    for rows_n in a.big_rows:
        idx = np.arange(rows_n) % len(had)
        path = write_lhco_table(tmp / f"big_{rows_n}.h5", had[idx], labels[idx] if labels is not None else None)
        raw_mb = rows_n * (3 * 700 + (labels is not None)) * 8 / 2**20
        entry = {
            "rows": rows_n,
            "raw_mb": raw_mb,
            "file_mb": path.stat().st_size / 2**20,
            "chunked_peak_rss_mb": peak_rss_mb("chunked", path, tmp / "mem_out", a.memory_chunk),
        }
        if rows_n == min(a.big_rows):
            entry["load_at_once_peak_rss_mb"] = peak_rss_mb("whole", path, tmp / "mem_out", 0)
        mem.append(entry)
        path.unlink()
    print(f"\npeak memory reading one LHCO file, chunks of {a.memory_chunk} rows (one process):")
    print(f"{'rows':>8s} {'raw table MB':>13s} {'peak RSS MB (chunked)':>22s} {'peak RSS MB (whole file)':>25s}")
    for e in mem:
        whole = e.get("load_at_once_peak_rss_mb")
        print(
            f"{e['rows']:8d} {e['raw_mb']:13.0f} {e['chunked_peak_rss_mb']:22.0f} "
            f"{(f'{whole:.0f}' if whole else '-'):>25s}"
        )
    return {"chunk_rows": a.memory_chunk, "files": mem}


if __name__ == "__main__":
    main()
