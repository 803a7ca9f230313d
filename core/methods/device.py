"""Where the methods train: the torch device, chosen once for the whole process (CUDA when present, else the
CPU), and on the CPU one thread per process.

Why one thread: the networks and trees here are small (tens to hundreds of units, batches of 256), so
splitting each operation over cores gains little alone, while processes that each take every core fight for
them. Measured on 2 cores (``bench/bench_threads.py``): alone, 1 thread trains as fast as 2 (the flow ≈ 10%
slower); two training processes side by side with 2 threads each ran 6–8× slower than alone, with 1 thread
each no slower. ``ANOMALYSCOPE_THREADS`` gives training more threads (torch and the trees' OpenMP alike).
"""

import os

import torch

from anomalyscope.core.errors import InputError

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _threads() -> int:
    raw = os.environ.get("ANOMALYSCOPE_THREADS", "1")
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise InputError(f"ANOMALYSCOPE_THREADS: must be a whole number ≥ 1, got {raw!r}")
    return n


THREADS = _threads()
torch.set_num_threads(THREADS)
