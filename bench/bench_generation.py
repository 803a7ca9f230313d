"""Benchmark: events/s per core for generation, detector, clustering + features and end to end;
bytes per event on disk with and without constituents. Prints a table, writes bench/results/generation.json.

    python bench/bench_generation.py [--events 1000] [--workers 2]

All figures of one run come from the same machine and the same moment, so read them as ratios.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import awkward as ak

from anomalyscope.core.data import EventSet
from anomalyscope.core.generate import generate


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).glob("*.parquet"))


def bytes_without_constituents(es: EventSet, tmp: Path) -> int:
    arr = es.load(truth=True)
    slim = ak.zip(
        {f: arr[f] for f in arr.fields if f not in ("j1", "j2")}
        | {j: arr[j][[f for f in arr[j].fields if f not in ("constituents", "lund")]] for j in ("j1", "j2")},
        depth_limit=1,
    )
    ak.to_parquet(slim, tmp / "slim.parquet", compression="zstd")
    return (tmp / "slim.parquet").stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "generation.json")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-gen-"))
    rows = []
    try:
        for process in ("qcd", "wprime_xy"):
            es = generate(
                process,
                a.events,
                1,
                tmp / process,
                workers=1,
                chunk_size=a.events,
                calibration_events=0,
                progress=False,
            )
            t = es.info.timing
            n_gen = es.info.processes[process].n_generated
            wall0 = time.perf_counter()
            generate(
                process,
                a.events,
                2,
                tmp / f"{process}-par",
                workers=a.workers,
                chunk_size=max(1, a.events // (2 * a.workers)),
                calibration_events=0,
                progress=False,
            )
            wall = time.perf_counter() - wall0
            full, slim = dir_bytes(es.path), bytes_without_constituents(es, tmp)
            rows.append(
                {
                    "process": process,
                    "events_generated": n_gen,
                    "events_selected": len(es),
                    "pythia_ev_per_s_per_core": n_gen / t["generate"],
                    "detector_ev_per_s_per_core": n_gen / t["detector"],
                    "features_ev_per_s_per_core": n_gen / t["features"],
                    "features_over_generation_cost": t["features"] / t["generate"],
                    "end_to_end_ev_per_s_per_core": n_gen / t["total"],
                    f"end_to_end_ev_per_s_{a.workers}_workers_wall": a.events / wall,
                    "bytes_per_event_with_constituents": full / len(es),
                    "bytes_per_event_without_constituents": slim / len(es),
                }
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    keys = list(rows[0])
    width = max(len(k) for k in keys)
    print(f"{'':{width}}  " + "  ".join(f"{r['process']:>12}" for r in rows))
    for k in keys[1:]:
        print(f"{k:{width}}  " + "  ".join(f"{r[k]:12.3g}" for r in rows))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"rows": rows, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2))
    print(f"\nwritten {a.out}")


if __name__ == "__main__":
    main()
