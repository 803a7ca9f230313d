"""Reading many files into one EventSet, chunk by chunk, in this process or on a Dask cluster.

Each input file is split into entry ranges (chunks), run on the job engine (``core.data.jobs``). A chunk is
read, selected and featurised by one task and written as one parquet partition into a hidden ``.NAME.partial``
directory next to the output (temp file, then rename). A chunk that fails is reported by file and entry range;
the others are kept,
so re-running the same command redoes only what failed. The EventSet appears (by rename) only when
every chunk is done, or, with ``skip_bad``, with the failures recorded in its schema.

Event ids are global entry numbers (the files' entries counted in the order given), so the result does
not depend on how chunks were scheduled: one process and a Dask cluster give identical EventSets.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Sequence

import awkward as ak
import numpy as np

import anomalyscope.core.data.sources as sources
from anomalyscope.core.data.atomic import check_writable_dir, output_lock, write_json_atomic
from anomalyscope.core.data.eventset import ROW_GROUP_ROWS, EventSet, finalize_schema, publish_job_dir
from anomalyscope.core.data.jobs import check_workers, is_done, open_job_dir, read_stats, run_chunks, stats_file
from anomalyscope.core.data.sources import Input
from anomalyscope.core.errors import InputError, InputWarning
from anomalyscope.core.features.jets import combined_tau_axes

DEFAULT_CHUNK = {"lhco": 20_000, "nanoaod": 100_000}


@dataclass(frozen=True)
class Chunk:
    file_index: int
    path: str
    start: int
    stop: int
    first_id: int  # event id of the file's entry 0
    info: dict

    @property
    def tag(self) -> str:
        return f"{self.file_index:04d}-{self.start:012d}"

    @property
    def size(self) -> int:
        return self.stop - self.start

    def where(self) -> str:
        return f"{self.path}: entries {self.start}-{self.stop}"


def expand_inputs(inputs: Sequence[str | Path]) -> list[Input]:
    """Paths, glob patterns and URLs (``core.data.sources``), in the order given (each glob sorted)."""
    return sources.expand(inputs)


def plan(files: list[Path], fmt, chunk_size: int) -> tuple[list[Chunk], list[dict], list[str], list[str]]:
    """Chunks to read, per-file facts, failures (files that cannot be read) and warnings."""
    chunks, facts, failures, notes = [], [], [], []
    offset = 0
    for fi, path in enumerate(files):
        try:
            info = fmt.inspect(str(path))
        except InputError as exc:
            failures.append(str(exc))
            facts.append({"path": str(path), "error": str(exc)})
            continue
        notes += info.pop("notes", [])
        n = info["n_entries"]
        facts.append(
            {
                "path": str(path),
                "n_entries": n,
                "has_truth": info["has_truth"],
                "first_id": offset,
                "tau_axes": fmt.tau_axes(info),
            }
        )
        if n == 0:
            notes.append(f"{path}: holds no events")
        for start in range(0, n, chunk_size):
            chunks.append(Chunk(fi, str(path), start, min(start + chunk_size, n), offset, info))
        offset += n
    return chunks, facts, failures, notes


def run_chunk(chunk: Chunk, fmt, job_dir: str) -> dict:
    """Read one chunk, write its partition (atomically) and its stats; runs in a worker."""
    t0 = time.perf_counter()
    events, notes = fmt.read_chunk(chunk.path, chunk.start, chunk.stop, chunk.first_id + chunk.start, chunk.info)
    job = Path(job_dir)
    n = 0 if events is None else len(events)
    counts: dict[str, int] = {}
    labels: dict[str, int] = {}
    if n:
        tmp = job / f".part-{chunk.tag}.parquet.tmp"
        ak.to_parquet(events, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS)
        os.replace(tmp, job / f"part-{chunk.tag}.parquet")
        for proc, c in zip(*np.unique(ak.to_numpy(events["process"]).astype(str), return_counts=True)):
            counts[str(proc)] = int(c)
        for lab, c in zip(*np.unique(ak.to_numpy(events["label"]), return_counts=True)):
            labels[str(int(lab))] = int(c)
    stats = {
        "file_index": chunk.file_index,
        "path": chunk.path,
        "start": chunk.start,
        "stop": chunk.stop,
        "n_selected": n,
        "counts": counts,
        "labels": labels,
        "warnings": notes,
        "seconds": time.perf_counter() - t0,
    }
    write_json_atomic(stats_file(job, chunk.tag), stats)
    return stats


def _digest(files: list[Input], fmt, chunk_size: int) -> str:
    ident = []
    for inp in files:
        try:
            if inp.remote:
                raise OSError
            p = Path(inp.location)
            st = p.stat()
            ident.append([str(p.resolve()), inp.tree, st.st_size, st.st_mtime_ns])
        except OSError:
            ident.append([str(inp), None, None])
    blob = {"files": ident, "format": fmt.to_dict(), "selection": fmt.selection.to_dict(), "chunk": chunk_size}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:16]


def ingest(
    inputs: Sequence[str | Path],
    fmt,
    out: str | Path,
    chunk_size: int | None = None,
    scheduler: str | None = "local",
    workers: int = 2,
    skip_bad: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> EventSet:
    """Read ``inputs`` (paths or globs) with ``fmt`` (LHCOFormat or NanoAODFormat) into the EventSet ``out``.

    scheduler: ``None`` runs every chunk in this process; ``"local"`` starts a Dask ``LocalCluster`` of
    ``workers`` single-threaded processes; ``"tcp://host:port"`` uses an existing Dask cluster (its
    workers must see the input files and the output's parent directory).
    """
    out = Path(out)
    files = expand_inputs(inputs)
    chunk_size = DEFAULT_CHUNK.get(fmt.kind, 50_000) if chunk_size is None else int(chunk_size)
    if chunk_size <= 0:  # 0 used to mean the default, silently
        raise InputError(f"chunk size must be positive, got {chunk_size}")
    check_workers(workers)
    check_writable_dir(out)
    with output_lock(out):  # a second writer of the same output stops here, not at the end
        if out.exists() and not overwrite:
            raise InputError(f"{out}: already exists (pass --overwrite to replace it)")

        chunks, facts, failures, notes = plan(files, fmt, chunk_size)
        if failures and not chunks:  # no input can be read at all: nothing to keep for a re-run
            raise InputError(
                failures[0]
                if len(failures) == 1
                else f"none of the {len(failures)} inputs can be read: " + "; ".join(failures)
            )
        digest = _digest(files, fmt, chunk_size)
        job_dir = open_job_dir(out, digest, {"files": [str(f) for f in files]})
        failures += run_chunks(
            partial(run_chunk, fmt=fmt, job_dir=str(job_dir)),
            chunks,
            job_dir,
            scheduler=scheduler,
            workers=workers,
            desc=f"read {fmt.kind}",
            progress=progress,
            raise_on_failure=False,
        )
        stats = read_stats(job_dir, chunks)
        for s in stats:
            notes += s["warnings"]
        tau_axes, tau_note = combined_tau_axes({f["path"]: f.get("tau_axes") for f in facts})
        notes += [tau_note] if tau_note else []
        by_file: dict[int, int] = {}
        for s in stats:
            by_file[s["file_index"]] = by_file.get(s["file_index"], 0) + s["n_selected"]
        complete = {c.file_index for c in chunks} - {c.file_index for c in chunks if not is_done(job_dir, c)}
        for fi in sorted(complete):
            if by_file.get(fi, 0) == 0 and facts[fi].get("n_entries"):
                notes.append(f"{files[fi]}: none of its {facts[fi]['n_entries']} events pass the selection")
        for msg in notes:
            warnings.warn(msg, InputWarning, stacklevel=2)

        if failures and not skip_bad:
            advice = (
                f"finished chunks are kept in {job_dir}; re-run to retry only the failed inputs, or pass --skip-bad "
                "to write the EventSet without them"
            )
            if len(failures) == 1:  # one line, whole
                raise InputError(f"{failures[0]}; {advice}")
            raise InputError(  # the first line stands alone; the files follow, one per line
                f"{len(failures)} inputs cannot be read ({advice}):\n  " + "\n  ".join(failures)
            )
        if sum(s["n_selected"] for s in stats) == 0:
            raise InputError(f"no event in {len(files)} file(s) passes the selection ({fmt.selection.to_dict()})")
        return _publish(out, fmt, files, facts, stats, failures, notes, digest, job_dir, overwrite, tau_axes)


def _publish(out, fmt, files, facts, stats, failures, notes, digest, job_dir: Path, overwrite, tau_axes) -> EventSet:
    stats = sorted(stats, key=lambda s: (s["file_index"], s["start"]))
    parts = [f"part-{s['file_index']:04d}-{s['start']:012d}.parquet" for s in stats if s["n_selected"]]
    counts: dict[str, int] = {}
    labels: dict[str, int] = {}
    for s in stats:
        for k, v in s["counts"].items():
            counts[k] = counts.get(k, 0) + v
        for k, v in s["labels"].items():
            labels[k] = labels.get(k, 0) + v
    sel = fmt.selection
    meta = {
        "name": out.name,
        "source": {**fmt.to_dict(), "files": facts, "config_digest": digest},
        "selection": sel.to_dict(),
        "mjj_fit_min": sel.mjj_min,
        "tau_axes": tau_axes,
        "chunks": [{k: s[k] for k in ("path", "start", "stop", "n_selected")} for s in stats],
        "warnings": notes,
        "skipped": failures,
        "timing": {"read_seconds": sum(s["seconds"] for s in stats)},
    }
    schema = finalize_schema(
        meta, n_events=sum(s["n_selected"] for s in stats), files=parts, counts=counts, labels=labels
    )
    return publish_job_dir(job_dir, out, schema, overwrite=overwrite)


def read_summary(es: EventSet) -> str:
    """One line per input file: entries read and events kept."""
    kept: dict[str, int] = {}
    for c in es.info.chunks or []:
        kept[c["path"]] = kept.get(c["path"], 0) + c["n_selected"]
    lines = []
    for f in (es.info.source.files if es.info.source else None) or []:
        if "error" in f:
            lines.append(f"  skipped {f['path']}: {f['error']}")
        else:
            lines.append(f"  {f['path']}: {kept.get(f['path'], 0)} of {f['n_entries']} events kept")
    return "\n".join(lines)


__all__ = ["Chunk", "expand_inputs", "ingest", "plan", "read_summary", "run_chunk"]
