"""Generation jobs: chunks of events made on a Dask cluster (or in this process), featurised, and stored as an
EventSet.

Each chunk has its own Pythia seed derived from (seed, process, chunk) (``pythia.chunk_seed``), so the output
does not depend on the number of workers or on which worker ran what; Pythia itself is driven by ``pythia``,
the generator partons stored as truth come from ``partons``. Chunks run on the job engine
(``core.data.jobs``): finished chunks are kept in a hidden ``.NAME.partial`` directory next to the output, an
interrupted job resumes from them when re-run with the same configuration, and the EventSet directory itself
only appears (by rename) once everything is written.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import awkward as ak
import numpy as np

from anomalyscope.core.data.atomic import check_writable_dir, output_lock, write_json_atomic
from anomalyscope.core.data.eventset import ROW_GROUP_ROWS, EventSet, finalize_schema, publish_job_dir
from anomalyscope.core.data.jobs import check_workers, open_job_dir, read_stats, run_chunks, stats_file
from anomalyscope.core.errors import InputError
from anomalyscope.core.extras import require
from anomalyscope.core.features.btag import hadron_flavour_of_pid
from anomalyscope.core.features.jets import Selection, event_record, leading_dijets, tau_axes_name
from anomalyscope.core.generate import pythia
from anomalyscope.core.generate.detector import DetectorModel, apply_detector, truth_particles
from anomalyscope.core.generate.partons import resonance_quarks
from anomalyscope.core.generate.processes import (
    Model,
    get_model,
    native_settings,
    new_particle_settings,
    production_settings,
    tune_settings,
)
from anomalyscope.core.generate.turn_on import measure_edge

# calibration sample thresholds, as fractions of the sample's generator thresholds
CALIBRATION_FRACTION = {"pthat_min": 0.6, "mhat_min": 0.8}


@dataclass
class ChunkTask:
    process: str
    params: dict
    n_events: int
    seed: int
    index: int
    kind: str  # "events" or "calibration"
    job_dir: str
    detector: dict | None
    selection: dict
    thresholds: dict | None = None  # lowered generator thresholds for calibration chunks
    shower: tuple = ()  # extra Pythia settings for the shower / hadronisation

    @property
    def tag(self) -> str:
        return f"{self.kind}-{self.index:05d}"

    @property
    def size(self) -> int:
        return self.n_events

    def where(self) -> str:
        return f"{self.process} {self.kind} chunk {self.index} (Pythia seed {self.seed})"


@dataclass
class JobConfig:
    process: str
    n_events: int
    seed: int
    params: dict
    detector: dict | None
    selection: dict
    chunk_size: int
    calibration_events: int
    versions: dict = field(default_factory=dict)
    shower: list = field(default_factory=list)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def _versions() -> dict:
    from anomalyscope.core import __version__

    fastjet = require("fastjet", "Event generation")
    pythia8mc = require("pythia8mc", "Event generation")

    return {
        "anomalyscope": __version__,
        "pythia8mc": getattr(pythia8mc, "__version__", "8.317"),
        "fastjet": fastjet.__version__,
        "awkward": ak.__version__,
    }


# ---------------------------------------------------------------------- one chunk (in a worker)
def run_chunk(task: ChunkTask) -> dict:
    """Generate, simulate, cluster and featurise one chunk; write its parquet part and stats."""
    t0 = time.perf_counter()
    model = get_model(task.process)
    m = model.masses(task.params)
    rng = np.random.default_rng(task.seed)
    batch, sigma, sigma_err, is_lhef = pythia.generate_batch(
        model, m, task.n_events, task.seed, rng, task.job_dir, task.thresholds, task.shower
    )
    t_gen = time.perf_counter() - t0

    prt = batch.prt
    n = len(prt)
    args, pid, charge, counts = pythia.final_state(batch)
    if task.detector is not None:
        particles = apply_detector(
            DetectorModel(**{k: v for k, v in task.detector.items() if k != "kind"}), *args, pid, charge, counts, rng
        )
    else:
        particles = truth_particles(*args, pid, charge, counts)

    heavy = prt[ak.unflatten(hadron_flavour_of_pid(ak.to_numpy(ak.flatten(prt.id))) > 0, ak.num(prt))]
    hpt = np.hypot(heavy.p.px, heavy.p.py)
    hadrons = ak.zip(
        {
            "pt": hpt,
            "eta": np.arcsinh(heavy.p.pz / np.maximum(hpt, 1e-9)),
            "phi": np.arctan2(heavy.p.py, heavy.p.px),
            "flavour": ak.unflatten(hadron_flavour_of_pid(ak.to_numpy(ak.flatten(heavy.id))), ak.num(heavy)),
        }
    )
    pthat = np.full(n, np.nan) if is_lhef else np.sqrt(ak.to_numpy(batch.info.pT2Hat))
    mhat = np.full(n, np.nan) if is_lhef else ak.to_numpy(batch.info.mHat)
    t_detector = time.perf_counter() - t0 - t_gen

    sel = Selection(**task.selection)
    stats = {
        "index": task.index,
        "kind": task.kind,
        "seed": task.seed,
        "n_generated": int(n),
        "sigma_pb": float(sigma),
        "sigma_err_pb": float(sigma_err),
        "t_generate_s": t_gen,
    }
    job_dir = Path(task.job_dir)
    if task.kind == "calibration":
        cal_sel = Selection(**{**task.selection, "mjj_min": 0.0})
        keep, _, _, mjj, deta = leading_dijets(particles, cal_sel)
        region = keep & (deta < sel.deta_max)
        stats["calibration"] = {
            "mjj": mjj[region].round(2).tolist(),
            "pthat": pthat[region].round(2).tolist(),
            "mhat": mhat[region].round(2).tolist(),
        }
    else:
        keep, jets, cons, mjj, deta = leading_dijets(particles, sel)
        k = int(keep.sum())
        extra = {
            "event_id": np.zeros(k, dtype=np.int64),  # assigned when the EventSet is published
            "weight": np.ones(k, dtype=np.float32),
            "label": np.full(k, 1 if model.label_signal else 0, dtype=np.int8),
            "process": np.array([task.process] * k, dtype=object).astype(str),
            "pthat": pthat[keep].astype(np.float32),
            "partons": resonance_quarks(prt)[keep],
        }
        if k:
            events = event_record(jets, cons, mjj[keep], deta[keep], extra, sel, hadrons[keep], rng)
            tmp = job_dir / f".part-{task.index:05d}.parquet.tmp"
            ak.to_parquet(events, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS)
            os.replace(tmp, job_dir / f"part-{task.index:05d}.parquet")
        stats["n_selected"] = k
    stats["t_total_s"] = time.perf_counter() - t0
    stats["t_detector_s"] = t_detector
    stats["t_features_s"] = stats["t_total_s"] - t_gen - t_detector
    write_json_atomic(stats_file(job_dir, task.tag), stats)
    return stats


# ---------------------------------------------------------------------- the job
def generate(
    process: str,
    n_events: int,
    seed: int,
    out: str | Path,
    params: dict | None = None,
    workers: int | None = None,
    scheduler: str | None = "local",
    chunk_size: int = 500,
    detector: DetectorModel | None = DetectorModel(),
    selection: Selection = Selection(),
    calibration_events: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    tune: str | list | None = None,
) -> EventSet:
    """Generate ``n_events`` of ``process`` and store the events passing the preselection at ``out``.

    For QCD with generator thresholds, a calibration sample with lowered thresholds (pTHat > 0.6·pthat_min,
    mHat > 0.8·mhat_min) measures where they stop sculpting m_jj; the EventSet records that edge as
    ``mjj_fit_min``. ``tune`` changes the shower / hadronisation (a name from ``TUNES`` or Pythia settings).
    ``scheduler`` and ``workers`` choose where the chunks run (``core.data.jobs.run_chunks``): a LocalCluster
    of ``workers`` processes (default all cores), this process (``None``) or a Dask cluster's address.
    """
    require("pythia8mc", "Event generation")  # here, not in a worker: a missing stack is one line, not a chunk failure
    require("fastjet", "Event generation")
    out = Path(out)
    model = get_model(process)
    params = dict(params or {})
    m = model.masses(params)
    shower = tune_settings(tune)
    pythia.check_settings(shower)
    if not isinstance(n_events, int) or n_events <= 0:
        raise InputError(f"--events must be a positive integer, got {n_events!r}")
    if not isinstance(seed, int) or seed < 0:
        raise InputError(f"--seed must be a non-negative integer, got {seed!r}")
    if chunk_size <= 0:
        raise InputError(f"chunk size must be positive, got {chunk_size}")
    check_workers(workers)
    check_writable_dir(out)
    with output_lock(out):  # a second writer of the same output stops here, not at the end
        if out.exists() and not overwrite:
            raise InputError(f"{out}: already exists (pass --overwrite to replace it)")
        has_threshold = model.name == "qcd" and (m["pthat_min"] > 0 or m["mhat_min"] > 0)
        if calibration_events is None:
            calibration_events = max(1000, n_events // 20) if has_threshold else 0
        if not has_threshold:
            calibration_events = 0

        cfg = JobConfig(
            process,
            n_events,
            seed,
            params,
            detector.to_dict() if detector else None,
            selection.to_dict(),
            chunk_size,
            calibration_events,
            _versions(),
            shower,
        )
        job_dir = open_job_dir(out, cfg.digest(), {"config": asdict(cfg)})
        tasks = _tasks(cfg, str(job_dir), m)
        run_chunks(
            run_chunk,
            tasks,
            job_dir,
            scheduler=scheduler,
            workers=workers,
            desc=f"generate {process}",
            progress=progress,
        )
        return _publish(cfg, model, m, tasks, job_dir, out, overwrite)


def generate_or_reuse(
    process: str,
    n_events: int,
    seed: int,
    out: str | Path,
    params: dict | None = None,
    tune: str | list | None = None,
    workers: int | None = None,
    scheduler: str | None = "local",
    progress: bool = True,
) -> EventSet:
    """The EventSet at ``out`` if it was generated with the same process, parameters, event count, seed and tune
    (and holds the generator quarks); otherwise generate it there (resuming an interrupted job)."""
    try:
        es = EventSet.open(out)
        info = (es.info.processes or {}).get(process)
        same = info is not None and info.n_generated == n_events and info.seed == seed
        same = same and info.params == get_model(process).masses(params or {})
        if same and (info.shower_settings or []) == tune_settings(tune) and "partons" in es.fields:
            return es
    except InputError:
        pass
    return generate(
        process,
        n_events,
        seed,
        out,
        params=params,
        workers=workers,
        scheduler=scheduler,
        overwrite=True,
        progress=progress,
        tune=tune,
    )


def _tasks(cfg: JobConfig, job_dir: str, m: dict) -> list[ChunkTask]:
    tasks = []
    for kind, total in (("calibration", cfg.calibration_events), ("events", cfg.n_events)):
        for i in range(math.ceil(total / cfg.chunk_size)):
            n = min(cfg.chunk_size, total - i * cfg.chunk_size)
            tasks.append(
                ChunkTask(
                    cfg.process,
                    cfg.params,
                    n,
                    pythia.chunk_seed(cfg.seed, cfg.process, kind, i),
                    i,
                    kind,
                    job_dir,
                    cfg.detector,
                    cfg.selection,
                    thresholds={k: f * m[k] for k, f in CALIBRATION_FRACTION.items()}
                    if kind == "calibration"
                    else None,
                    shower=tuple(cfg.shower),
                )
            )
    return tasks


def _publish(cfg: JobConfig, model: Model, m: dict, tasks, job_dir: Path, out: Path, overwrite: bool) -> EventSet:
    stats = read_stats(job_dir, tasks)
    ev_stats = [s for s in stats if s["kind"] == "events"]
    cal_stats = [s for s in stats if s["kind"] == "calibration"]
    # assign event ids in chunk order, write the final parts next to schema.json
    next_id = 0
    files = []
    for s in sorted(ev_stats, key=lambda s: s["index"]):
        part = job_dir / f"part-{s['index']:05d}.parquet"
        if s["n_selected"] == 0:
            continue
        arr = ak.from_parquet(part)
        arr = ak.with_field(arr, np.arange(next_id, next_id + len(arr), dtype=np.int64), "event_id")
        next_id += len(arr)
        tmp = part.with_name(f".{part.name}.tmp")
        ak.to_parquet(arr, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS)
        os.replace(tmp, part)
        files.append(part.name)
    n_gen = sum(s["n_generated"] for s in ev_stats)
    n_sel = sum(s["n_selected"] for s in ev_stats)
    sig = np.array([s["sigma_pb"] for s in ev_stats])
    sig_w = np.array([s["n_generated"] for s in ev_stats], dtype=float)
    sigma = float(np.average(sig, weights=sig_w)) if sig_w.sum() else 0.0
    sel = Selection(**cfg.selection)
    meta = {
        "name": out.name,
        "source": {"kind": "generated", "generator": "Pythia 8 + FastJet", "config_digest": cfg.digest()},
        "tau_axes": tau_axes_name(sel),
        "processes": {
            cfg.process: {
                "description": model.description,
                "params": m,
                "pythia_settings": (
                    native_settings(model, m)
                    if model.cascade is None
                    else production_settings(model, m) + new_particle_settings(model, m)
                ),
                "shower_settings": list(cfg.shower),
                "route": "pythia native"
                if model.cascade is None
                else "pythia production + anomalyscope cascade (LHEF) + pythia shower",
                "seed": cfg.seed,
                "chunk_seeds": {str(s["index"]): s["seed"] for s in ev_stats},
                "n_generated": n_gen,
                "n_selected": n_sel,
                "sigma_pb": sigma,
                "luminosity_pb-1": (n_gen / sigma) if sigma > 0 else None,
                "label": 1 if model.label_signal else 0,
            }
        },
        "selection": cfg.selection,
        "detector": cfg.detector,
        "versions": cfg.versions,
        "timing": {key: sum(s[f"t_{key}_s"] for s in stats) for key in ("total", "generate", "detector", "features")},
    }
    if cal_stats:
        mjj = np.concatenate([np.array(s["calibration"]["mjj"]) for s in cal_stats])
        pthat = np.concatenate([np.array(s["calibration"]["pthat"]) for s in cal_stats])
        mhat = np.concatenate(
            [np.array(s["calibration"].get("mhat", [0.0] * len(s["calibration"]["pthat"]))) for s in cal_stats]
        )
        thresholds = {k: m[k] for k in CALIBRATION_FRACTION}
        meta["turn_on"] = measure_edge(mjj, pthat, mhat, thresholds, sel.mjj_min)
        meta["mjj_fit_min"] = meta["turn_on"]["mjj_fit_min"]
    elif model.name == "qcd" and (m["pthat_min"] > 0 or m["mhat_min"] > 0):
        estimate = max(2.0 * m["pthat_min"] * math.cosh(sel.deta_max / 2.0), m["mhat_min"])
        meta["turn_on"] = {
            "method": "parton-level bound max(2·pthat_min·cosh(deta_max/2), mhat_min), not "
            "measured (calibration_events = 0)",
            "edge_gev": estimate,
        }
        meta["mjj_fit_min"] = max(estimate, sel.mjj_min)
    else:
        meta["mjj_fit_min"] = sel.mjj_min
    label = "1" if model.label_signal else "0"
    schema = finalize_schema(
        meta,
        n_events=n_sel,
        files=files,
        counts={cfg.process: n_sel} if n_sel else {},
        labels={label: n_sel} if n_sel else {},
    )
    return publish_job_dir(job_dir, out, schema, overwrite=overwrite)
