"""L1 samples: generated events reduced to the trigger's inputs (57 object inputs, 14 × 18 region image).

``generate_l1(process, n, seed, out)`` runs Pythia (the same processes and routes as ``core.generate``, plus
``minbias`` for the zero-bias background) in chunks on the job engine (``core.data.jobs``: a Dask
LocalCluster by default, resumable), optionally overlays pile-up (a Poisson
number of minimum-bias interactions per event, mean ``pileup``), computes the L1 objects and regions
(``core.trigger.l1``) and writes ``OUT/l1.parquet`` and ``OUT/meta.json`` atomically. Truth-level particles
(no detector model: the L1 resolution is applied to the objects). Chunk seeds follow ``core.generate``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import awkward as ak
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from anomalyscope.core.data.atomic import check_writable_dir, publish_dir, staging_dir, write_json_atomic
from anomalyscope.core.data.jobs import open_job_dir, read_stats, run_chunks, stats_file
from anomalyscope.core.errors import InputError
from anomalyscope.core.extras import require
from anomalyscope.core.trigger.l1 import (
    IMAGE_ETA,
    IMAGE_PHI,
    INPUT_NAMES,
    N_OBJECTS,
    l1_objects,
    network_inputs,
    region_image,
)

L1_FILE, META_FILE = "l1.parquet", "meta.json"


@dataclass
class L1Chunk:
    process: str
    params: dict
    n_events: int
    seed: int
    index: int
    pileup: float
    job_dir: str = ""

    @property
    def tag(self) -> str:
        return f"l1-{self.index:05d}"

    @property
    def size(self) -> int:
        return self.n_events

    def where(self) -> str:
        return f"{self.process} L1 chunk {self.index} (Pythia seed {self.seed})"


def _particles(batch) -> ak.Array:
    from anomalyscope.core.generate.detector import truth_particles
    from anomalyscope.core.generate.pythia import final_state

    p4, pid, charge, counts = final_state(batch)
    return truth_particles(*p4, pid, charge, counts)


def overlay(parts: ak.Array, pu: ak.Array, n_pu: np.ndarray) -> ak.Array:
    """Event i plus the next n_pu[i] interactions of ``pu`` (taken in order)."""
    per_pu_event = ak.to_numpy(ak.num(pu))
    owner = np.repeat(np.arange(len(parts)), n_pu)[: len(per_pu_event)]
    per_event = np.bincount(owner, weights=per_pu_event, minlength=len(parts)).astype(np.int64)
    return ak.concatenate([parts, ak.unflatten(ak.flatten(pu), per_event)], axis=1)


def _overlay(parts: ak.Array, pileup: float, seed: int, rng: np.random.Generator) -> ak.Array:
    """Add a Poisson(pileup) number of freshly generated minimum-bias interactions to every event."""
    from anomalyscope.core.generate.processes import get_model
    from anomalyscope.core.generate.pythia import SEED_MAX, generate_batch

    n_pu = rng.poisson(pileup, len(parts))
    total = int(n_pu.sum())
    if total == 0:
        return parts
    mb = get_model("minbias")
    pu = _particles(generate_batch(mb, mb.masses({}), total, seed % SEED_MAX + 1, rng, "")[0])[:total]
    return overlay(parts, pu, n_pu)


def _hard_scatter_particles(task: L1Chunk) -> tuple[ak.Array, float, np.random.Generator]:
    """Final-state particles of a chunk of generated events (no pile-up), the cross-section [pb] and the chunk's
    random generator (to go on drawing from)."""
    import tempfile

    from anomalyscope.core.generate.processes import get_model
    from anomalyscope.core.generate.pythia import generate_batch

    model = get_model(task.process)
    rng = np.random.default_rng(task.seed)
    with tempfile.TemporaryDirectory() as tmp:
        batch, sigma, _, _ = generate_batch(model, model.masses(task.params), task.n_events, task.seed, rng, tmp)
    return _particles(batch), sigma, rng


def particles_chunk(task: L1Chunk) -> dict:
    """One chunk's final-state particles (no pile-up), written as ``particles-TAG.parquet`` in the job directory."""
    parts, sigma, _ = _hard_scatter_particles(task)
    tmp = Path(task.job_dir) / f".particles-{task.tag}.parquet.tmp"
    ak.to_parquet(parts, tmp, compression="zstd")
    os.replace(tmp, Path(task.job_dir) / f"particles-{task.tag}.parquet")
    stats = {"index": task.index, "sigma_pb": sigma, "n": len(parts)}
    write_json_atomic(stats_file(Path(task.job_dir), task.tag), stats)
    return stats


def _run_l1_chunk(task: L1Chunk) -> dict:
    """One chunk's L1 objects and region image, written as ``chunk-TAG.npz`` in the job directory."""
    t0 = time.perf_counter()
    parts, sigma, rng = _hard_scatter_particles(task)
    if task.pileup > 0:
        parts = _overlay(parts, task.pileup, task.seed * 7 + 3, rng)
    objects = l1_objects(parts, rng)
    image = region_image(parts)
    job = Path(task.job_dir)
    tmp = job / f".chunk-{task.tag}.tmp.npz"
    np.savez(tmp, objects=objects, image=image)
    os.replace(tmp, job / f"chunk-{task.tag}.npz")
    stats = {"index": task.index, "sigma_pb": sigma, "n": len(parts), "seconds": time.perf_counter() - t0}
    write_json_atomic(stats_file(job, task.tag), stats)
    return stats


def generate_l1(
    process: str,
    n_events: int,
    seed: int,
    out: str | Path,
    params: dict | None = None,
    pileup: float = 0.0,
    workers: int | None = None,
    chunk_size: int = 2000,
    overwrite: bool = False,
    progress: bool = True,
    scheduler: str | None = "local",
) -> Path:
    from anomalyscope.core.generate.processes import get_model
    from anomalyscope.core.generate.pythia import chunk_seed

    require("pythia8mc", "L1 sample generation")
    require("fastjet", "L1 sample generation")
    out = Path(out)
    model = get_model(process)
    model.masses(params or {})
    if n_events <= 0 or chunk_size <= 0:
        raise InputError(f"events and chunk size must be positive, got {n_events}, {chunk_size}")
    if pileup < 0:
        raise InputError(f"pile-up must be >= 0, got {pileup}")
    check_writable_dir(out)
    if out.exists() and not overwrite:
        raise InputError(f"{out}: already exists (pass --overwrite to replace it)")
    tasks = [
        L1Chunk(
            process, dict(params or {}), min(chunk_size, n_events - i), chunk_seed(seed, process, "l1", k), k, pileup
        )
        for k, i in enumerate(range(0, n_events, chunk_size))
    ]
    from anomalyscope.core import __version__

    job = {"tasks": [asdict(t) for t in tasks], "version": __version__}
    digest = hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()[:16]
    job_dir = open_job_dir(out, digest, job)
    for t in tasks:
        t.job_dir = str(job_dir)
    t0 = time.perf_counter()
    run_chunks(
        _run_l1_chunk, tasks, job_dir, scheduler=scheduler, workers=workers, desc=f"L1 {process}", progress=progress
    )
    stats = read_stats(job_dir, tasks)
    chunks = [np.load(job_dir / f"chunk-{t.tag}.npz") for t in tasks]
    objects = np.concatenate([c["objects"] for c in chunks])
    image = np.concatenate([c["image"] for c in chunks])
    x = network_inputs(objects)
    table = {name: x[:, i] for i, name in enumerate(INPUT_NAMES)}
    table["image"] = pa.FixedSizeListArray.from_arrays(pa.array(image.reshape(-1)), IMAGE_ETA * IMAGE_PHI)
    label = 1 if model.label_signal else 0
    sigma = float(np.mean([s["sigma_pb"] for s in stats]))
    meta = {
        "process": process,
        "params": model.masses(params or {}),
        "n_events": int(len(x)),
        "seed": seed,
        "pileup": pileup,
        "label": label,
        "sigma_pb": sigma,
        "inputs": {"names": INPUT_NAMES, "objects": N_OBJECTS, "scale": "pT/256 GeV, eta/4, phi/pi"},
        "image": {"shape": [IMAGE_ETA, IMAGE_PHI], "units": "GeV"},
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": sum(s["seconds"] for s in stats),
    }
    with staging_dir(out) as tmp:
        pq.write_table(pa.table(table), tmp / L1_FILE, compression="zstd")
        write_json_atomic(tmp / META_FILE, meta)
        publish_dir(tmp, out, overwrite=overwrite)
    shutil.rmtree(job_dir, ignore_errors=True)
    return out


@dataclass
class L1Sample:
    path: Path
    meta: dict
    inputs: np.ndarray  # (n, 57)
    image: np.ndarray  # (n, 14, 18)

    @classmethod
    def open(cls, path: str | Path) -> "L1Sample":
        path = Path(path)
        try:
            meta = json.loads((path / META_FILE).read_text())
            t = pq.read_table(path / L1_FILE)
        except (OSError, json.JSONDecodeError, pa.ArrowInvalid) as e:
            raise InputError(f"{path}: not an L1 sample ({e})") from None
        missing = [n for n in INPUT_NAMES + ["image"] if n not in t.column_names]
        if missing:
            raise InputError(f"{path / L1_FILE}: missing column(s) {missing[:5]}")
        x = np.column_stack([t.column(n).to_numpy() for n in INPUT_NAMES]).astype(np.float32)
        img = t.column("image").combine_chunks().flatten().to_numpy().reshape(len(x), IMAGE_ETA, IMAGE_PHI)
        return cls(path, meta, x, img.astype(np.float32))

    @property
    def name(self) -> str:
        return self.meta.get("process", self.path.name)
