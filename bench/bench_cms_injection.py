"""The CMS injection benchmark (``python -m core benchmark cms-injection``) with its wall time and machine:
prints our table beside the published CMS values and writes bench/results/cms_injection.json.

    python bench/bench_cms_injection.py [--luminosity 26.8] [--signals ...] [--methods ...] [--draws 3]
                                        [--scheduler tcp://host:8786] [--work DIR]

The working directory (events, Runs) is kept so a second call resumes; timings of a resumed call count only
what it did.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from core.data.atomic import write_json_atomic
from core.data.jobs import parse_scheduler
from core.workflows.benchmark import ALL_METHODS, CMS_LUMINOSITY_FB, XSEC_FB, report, run_benchmark


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--luminosity", type=float, default=CMS_LUMINOSITY_FB)
    ap.add_argument("--signals", nargs="+", default=list(XSEC_FB))
    ap.add_argument("--methods", nargs="+", default=list(ALL_METHODS))
    ap.add_argument("--draws", type=int, default=1)
    ap.add_argument("--toys", type=int, default=100)
    ap.add_argument("--efficiency", type=float, default=0.01)
    ap.add_argument("--scheduler", default="local")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--work", type=Path, default=Path(__file__).parent / "results" / "cms-injection-work")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "cms_injection.json")
    a = ap.parse_args()
    t0 = time.perf_counter()
    result = run_benchmark(
        a.work,
        luminosity=a.luminosity,
        signals=a.signals,
        methods=a.methods,
        draws=a.draws,
        toys=a.toys,
        efficiency=a.efficiency,
        scheduler=parse_scheduler(a.scheduler),
        workers=a.workers,
    )
    wall = time.perf_counter() - t0
    print(report(result))
    print(f"wall time {wall / 60:.1f} min on {os.cpu_count()} cores ({platform.processor() or platform.machine()})")
    write_json_atomic(a.out, {**result, "wall_seconds": wall, "cores": os.cpu_count(), "scheduler": a.scheduler})


if __name__ == "__main__":
    main()
