"""The CMS injection benchmark (``python -m anomalyscope benchmark cms-injection``) with its wall time and machine:
prints our table beside the published CMS values and writes bench/results/cms_injection.json.

    python bench/bench_cms_injection.py [the options of `python -m anomalyscope benchmark cms-injection`]

The working directory (``--out``, default bench/results/cms-injection-work: events, Runs) is kept so a second
call resumes; the wall time of a resumed call counts only what it did.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

from anomalyscope.core.cli import parser
from anomalyscope.core.cli.search import run_benchmark_from_args
from anomalyscope.core.data.atomic import write_json_atomic
from anomalyscope.core.workflows.benchmark import report

RESULTS = Path(__file__).parent / "results"


def main():
    args = sys.argv[1:]
    if "--out" not in args:
        args += ["--out", str(RESULTS / "cms-injection-work")]
    a = parser().parse_args(["benchmark", "cms-injection", *args])
    t0 = time.perf_counter()
    result = run_benchmark_from_args(a)
    wall = time.perf_counter() - t0
    print(report(result))
    print(f"wall time {wall / 60:.1f} min on {os.cpu_count()} cores ({platform.processor() or platform.machine()})")
    write_json_atomic(
        RESULTS / "cms_injection.json",
        {**result, "wall_seconds": wall, "cores": os.cpu_count(), "scheduler": a.scheduler},
    )


if __name__ == "__main__":
    main()
