"""One engine for every chunked job: generating events, reading files, making L1 trigger samples.

A job is a list of chunks, each a picklable task with a ``tag`` (unique in the job), a ``size`` (events, for
the progress bar) and ``where()`` (how to name it in an error). A chunk's function writes its output into the
job's hidden ``.NAME.partial`` directory next to the final output and, last, ``stats-TAG.json``: that file
marks the chunk as done, so a re-run of the same job (same digest) does only the chunks without one.

Chunks run in this process (``scheduler=None``), on a Dask ``LocalCluster`` of single-threaded worker
processes (``"local"``, the default when more than one worker is asked for) or on any running Dask cluster
(``"tcp://host:port"``; its workers must see the output's parent directory). A chunk's result depends only on
the chunk (its seed, its entry range), never on where or when it ran, so every scheduler gives the same
output. A chunk that fails is named in the error with its own message; the other chunks are kept. When a
Dask worker dies, the scheduler re-runs its chunks on the others.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Protocol, Sequence

from tqdm.auto import tqdm

from anomalyscope.core.data.atomic import write_json_atomic
from anomalyscope.core.errors import ChunkFailures, DiskFull, InputError, is_disk_full, short_message

log = logging.getLogger(__name__)

SCHEDULER_HELP = "'local' (a Dask LocalCluster, the default), 'none' (this process) or tcp://host:port of a cluster"


class Chunk(Protocol):
    tag: str
    size: int

    def where(self) -> str: ...


class _DiskGuard:
    """A chunk function whose full-disk failure leaves the worker as a ``DiskFull`` naming the job directory
    (the underlying error, chained, does not survive the trip back from a Dask worker)."""

    def __init__(self, fn, job_dir: Path):
        self.fn, self.job_dir = fn, job_dir

    def __call__(self, chunk):
        try:
            return self.fn(chunk)
        except Exception as exc:
            if is_disk_full(exc):
                raise DiskFull(self.job_dir, chunk.where()) from None
            raise


def parse_scheduler(value: str | None) -> str | None:
    """The CLI's --scheduler: 'local', 'none' or a Dask address; anything else is refused in one line."""
    if value is None or value == "none":
        return None
    if value == "local" or value.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
        return value
    raise InputError(f"--scheduler: expected 'local', 'none' or a Dask address like tcp://host:8786, got {value!r}")


def open_job_dir(out: Path, digest: str, record: dict | None = None) -> Path:
    """The job directory ``.NAME.partial`` next to ``out``: kept (to resume) when it holds the same job, emptied
    when it holds another one (different inputs or settings)."""
    out = Path(out)
    job_dir = out.parent / f".{out.name}.partial"
    if job_dir.exists():
        try:
            same = json.loads((job_dir / "job.json").read_text()).get("digest") == digest
        except (OSError, json.JSONDecodeError):
            same = False
        if not same:
            shutil.rmtree(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(job_dir / "job.json", {"digest": digest, **(record or {})})
    return job_dir


def stats_file(job_dir: Path, tag: str) -> Path:
    return Path(job_dir) / f"stats-{tag}.json"


def is_done(job_dir: Path, chunk: Chunk) -> bool:
    return stats_file(job_dir, chunk.tag).exists()


def read_stats(job_dir: Path, chunks: Sequence[Chunk]) -> list[dict]:
    """The stats of the finished chunks, in the chunks' order."""
    return [json.loads(stats_file(job_dir, c.tag).read_text()) for c in chunks if is_done(job_dir, c)]


def check_workers(workers: int | None) -> None:
    """``--workers``: None (all cores) or a positive count; 0 or less is refused, not silently taken as all."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"--workers must be a positive number of processes, got {workers!r}")


def run_chunks(
    fn: Callable[[Chunk], object],
    chunks: Sequence[Chunk],
    job_dir: Path,
    *,
    scheduler: str | None = "local",
    workers: int | None = None,
    desc: str = "chunks",
    unit: str = "ev",
    progress: bool = True,
    raise_on_failure: bool = True,
) -> list[str]:
    """Run ``fn`` on every chunk not yet done; return one message per failed chunk (or raise ChunkFailures).

    ``workers`` is the LocalCluster's size (default: all cores); one worker, or a single chunk to do, runs in
    this process without a cluster.
    """
    check_workers(workers)
    todo = [c for c in chunks if not is_done(job_dir, c)]
    total = sum(c.size for c in chunks)
    log.info("%s: %d of %d chunks to run (%d already done, kept in %s); scheduler %s", desc, len(todo),
             len(chunks), len(chunks) - len(todo), job_dir, scheduler or "this process")  # fmt: skip
    bar = tqdm(
        total=total,
        initial=total - sum(c.size for c in todo),
        unit=unit,
        desc=desc,
        disable=not progress,
        dynamic_ncols=True,
    )
    failures: list[str] = []
    disk_full = False
    fn = _DiskGuard(fn, Path(job_dir))

    def failed(c: Chunk, exc: BaseException) -> None:
        # a reader's InputError names its file and field already, a DiskFull its chunk and directory; anything
        # else gets the chunk's name
        nonlocal disk_full
        disk_full = disk_full or isinstance(exc, DiskFull)
        known = isinstance(exc, (InputError, DiskFull))
        failures.append(str(exc) if known else f"{c.where()}: {type(exc).__name__}: {short_message(exc)}")

    try:
        n_workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
        if todo and scheduler == "local" and n_workers == 1:
            scheduler = None
        if todo and scheduler is None:
            for c in todo:
                try:
                    fn(c)
                except Exception as exc:  # one bad chunk must not stop the others
                    failed(c, exc)
                bar.update(c.size)
        elif todo:
            _run_on_dask(fn, todo, scheduler, n_workers, bar, failed, progress)
    finally:
        bar.close()
    if failures and raise_on_failure:
        raise ChunkFailures(failures, Path(job_dir), disk_full)
    return failures


def _run_on_dask(fn, todo, scheduler: str, n_workers: int, bar, failed, progress: bool) -> None:
    import logging
    import warnings

    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler == "local":
        logging.getLogger("distributed").setLevel(logging.ERROR)
        with warnings.catch_warnings():  # another job's cluster holds the default port: any free one does
            warnings.filterwarnings("ignore", message=".*already in use", category=UserWarning)
            cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0" if progress else None,
                silence_logs=logging.ERROR,
            )
    try:
        with Client(cluster if cluster is not None else scheduler, timeout="30s") as client:
            if progress and client.dashboard_link:
                bar.write(f"Dask dashboard (watch the job): {client.dashboard_link}", file=sys.stderr)
            # in the order given (a higher priority runs first): a job stopped part-way has done its first chunks
            futures = {
                client.submit(fn, c, pure=False, key=f"{c.tag}-{id(c)}", priority=len(todo) - i): c
                for i, c in enumerate(todo)
            }
            for fut in as_completed(futures):
                c = futures[fut]
                try:
                    fut.result()
                except Exception as exc:
                    failed(c, exc)
                bar.update(c.size)
    except OSError as exc:
        raise InputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({short_message(exc)})") from None
    finally:
        if cluster is not None:
            cluster.close()


__all__ = [
    "SCHEDULER_HELP",
    "Chunk",
    "ChunkFailures",
    "is_done",
    "open_job_dir",
    "parse_scheduler",
    "read_stats",
    "run_chunks",
    "stats_file",
]
