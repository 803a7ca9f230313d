"""How the L1 anomaly triggers behave with pile-up: rate at a fixed threshold and efficiency at a fixed rate
against the mean number of overlaid interactions ⟨μ⟩.

The trained models of a trigger report (``RUN/trigger``) are applied to the same hard scatters — zero-bias
(minimum-bias) crossings and the report's signal processes, each generated once — overlaid with a Poisson(μ)
number of minimum-bias interactions drawn from one shared pool, for each μ in the scan (as pre-mixed pile-up
libraries do: a pool of ``pool_size`` interactions, drawn with replacement; with a pool much larger than μ the
reuse does not correlate events noticeably). Only the pile-up changes between the points of the scan, so the
differences are its effect and not the hard scatters' statistics.

Written to ``RUN/trigger/pileup.json`` (atomically); the dashboard's Trigger tab plots it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import awkward as ak
import numpy as np
from tqdm.auto import tqdm

from anomalyscope.core.errors import InputError
from anomalyscope.core.results.attachments import read as read_attachment
from anomalyscope.core.results.attachments import write as write_attachment
from anomalyscope.core.results.records.trigger import PileupStudy
from anomalyscope.core.trigger.l1 import l1_objects, network_inputs, region_image
from anomalyscope.core.trigger.rates import BX_RATE_HZ, efficiency_at, fraction_above, rate_interval, trigger_threshold
from anomalyscope.core.trigger.report import REPORT, load_report
from anomalyscope.core.trigger.samples import L1Chunk, overlay, particles_chunk

PILEUP_FILE = "pileup.json"
DEFAULT_PILEUPS = (0.0, 20.0, 40.0, 60.0)  # Run 3 runs at ⟨μ⟩ ≈ 50–60
# events overlaid and reduced to trigger inputs at a time: at ⟨μ⟩ = 60 an event carries thousands of particles,
# and the demo's 2000 zero-bias crossings overlaid at once made its build's peak memory (11.1 GB, l1_objects)
CHUNK = 250


def _generate(process: str, params: dict, n: int, seed: int, workers: int, where: Path, chunk: int = 1000) -> ak.Array:
    """Final-state particles of n events of a process, made in chunks on the job engine (``core.data.jobs``)
    in a job directory under ``where`` that is removed once the particles are read back."""
    import hashlib
    import shutil

    from anomalyscope.core.data.jobs import open_job_dir, run_chunks
    from anomalyscope.core.generate.pythia import chunk_seed

    tasks = [
        L1Chunk(process, params, min(chunk, n - i), chunk_seed(seed, process, "pileup", k), k, 0.0)
        for k, i in enumerate(range(0, n, chunk))
    ]
    digest = hashlib.sha256(json.dumps([t.__dict__ for t in tasks], sort_keys=True).encode()).hexdigest()[:16]
    job_dir = open_job_dir(where / f"pileup-{process}-{seed}", digest)
    for t in tasks:
        t.job_dir = str(job_dir)
    run_chunks(particles_chunk, tasks, job_dir, workers=workers, desc=f"pile-up {process}", progress=False)
    parts = ak.concatenate([ak.from_parquet(job_dir / f"particles-{t.tag}.parquet") for t in tasks])
    shutil.rmtree(job_dir, ignore_errors=True)
    return parts


def overlay_from_pool(parts: ak.Array, pool: ak.Array, mu: float, rng: np.random.Generator):
    """Each event plus Poisson(mu) interactions drawn with replacement from the pool; returns (events, n_pu)."""
    n_pu = rng.poisson(mu, len(parts)) if mu > 0 else np.zeros(len(parts), dtype=np.int64)
    if n_pu.sum() == 0:
        return parts, n_pu
    return overlay(parts, pool[rng.integers(0, len(pool), int(n_pu.sum()))], n_pu), n_pu


def trigger_inputs(parts: ak.Array, pool: ak.Array, mu: float, rng: np.random.Generator, chunk: int = CHUNK):
    """(network inputs, region images, pile-up counts) of every event with Poisson(mu) interactions overlaid,
    ``chunk`` events at a time: only the small per-event inputs are kept, never all overlaid particles at once."""
    x, img, n_pu = [], [], []
    for start in range(0, len(parts), chunk):
        events, n = overlay_from_pool(parts[start : start + chunk], pool, mu, rng)
        x.append(network_inputs(l1_objects(events, rng)))
        img.append(region_image(events))
        n_pu.append(n)
    return np.concatenate(x), np.concatenate(img), np.concatenate(n_pu)


def _scorers(trigger_dir: Path):
    from anomalyscope.core.trigger import models

    enc = models.load(trigger_dir / "models" / "axol1tl_encoder.keras")
    student = models.load(trigger_dir / "models" / "cicada_student.keras")
    return {
        "axol1tl": lambda x, img: models.axol1tl_score(models.predict(enc, x)),
        "cicada": lambda x, img: models.predict(student, models.student_inputs(img))[:, 0],
    }


def pileup_study(
    trigger_dir: str | Path,
    pileups=DEFAULT_PILEUPS,
    n_events: int = 4000,
    n_signal: int = 1000,
    pool_size: int = 20_000,
    seed: int = 7,
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Scan ⟨μ⟩ with the report's models; writes and returns ``trigger_dir/pileup.json``."""
    trigger_dir = Path(trigger_dir)
    report = load_report(trigger_dir)
    if report is None:
        raise InputError(f"{trigger_dir}: no trigger report ({REPORT}); run `python -m anomalyscope trigger` first")
    pileups = sorted(float(m) for m in pileups)
    if not pileups or pileups[0] < 0:
        raise InputError(f"pile-up values must be >= 0, got {pileups}")
    if n_events < 1000 or n_signal < 10 or pool_size < 10 * max(1.0, pileups[-1]):
        raise InputError(
            f"too few events: {n_events} zero-bias (>= 1000), {n_signal} signal (>= 10), pool {pool_size} "
            f"(>= 10 × the largest μ, {pileups[-1]:g})"
        )
    signals = {}
    for name, s in report.samples.items():
        if Path(s.path) == Path(report.background):
            continue
        meta_path = Path(s.path) / "meta.json"
        if not meta_path.exists():
            raise InputError(f"{meta_path}: the report's signal sample is gone; its process cannot be regenerated")
        meta = json.loads(meta_path.read_text())
        signals[name] = (meta["process"], meta.get("params", {}))
    workers = max(1, workers or os.cpu_count() or 1)
    t0 = time.perf_counter()
    steps = tqdm(total=3 + len(signals) + len(pileups), desc="pile-up study", disable=not progress)
    pool = _generate("minbias", {}, pool_size, seed, workers, trigger_dir)
    steps.update()
    hard = {"zero_bias": _generate("minbias", {}, n_events, seed + 1, workers, trigger_dir)}
    steps.update()
    for k, (name, (process, params)) in enumerate(signals.items()):
        hard[name] = _generate(process, params, n_signal, seed + 2 + k, workers, trigger_dir)
        steps.update()
    scorers = _scorers(trigger_dir)
    steps.update()
    rng = np.random.default_rng(seed)
    out = {
        "pileup": pileups,
        "zero_bias_events": n_events,
        "signal_events": n_signal,
        "pool_interactions": pool_size,
        "report_background_pileup": report.background_pileup,
        "target_rate_hz": report.rate_target_hz,
        "mean_region_et_gev": [],
        "mean_overlaid": [],
        "models": {
            m: {
                "nominal_threshold": report.models[m].physics.threshold.threshold,
                "rate_at_nominal_hz": [],
                "rate_at_nominal_uncertainty_hz": [],
                "rate_at_nominal_interval_hz": [],  # Garwood 68%
                "threshold_for_target": [],
                "threshold_for_target_uncertainty": [],
                "median_zero_bias_score": [],
                "signals": {s: {"efficiency_at_nominal": [], "efficiency_at_target_rate": []} for s in signals},
            }
            for m in scorers
        },
    }
    for mu in pileups:
        inputs = {}
        for name, parts in hard.items():
            x, img, n_pu = trigger_inputs(parts, pool, mu, rng)
            inputs[name] = (x, img)
            if name == "zero_bias":
                out["mean_region_et_gev"].append(float(inputs[name][1].sum(axis=(1, 2)).mean()))
                out["mean_overlaid"].append(float(n_pu.mean()))
        for m, score in scorers.items():
            res = out["models"][m]
            bg = score(*inputs["zero_bias"])
            fired = int(np.sum(bg > res["nominal_threshold"]))
            res["rate_at_nominal_hz"].append(fired / len(bg) * BX_RATE_HZ)
            rate = rate_interval(fired, len(bg))
            res["rate_at_nominal_uncertainty_hz"].append(rate["rate_uncertainty_hz"])
            res["rate_at_nominal_interval_hz"].append(rate["rate_interval_hz"])
            thr = trigger_threshold(bg, out["target_rate_hz"], n_boot=50)
            res["threshold_for_target"].append(thr["threshold"])
            res["threshold_for_target_uncertainty"].append(thr.get("threshold_uncertainty", 0.0))
            res["median_zero_bias_score"].append(float(np.median(bg)))
            for s in signals:
                ss = score(*inputs[s])
                res["signals"][s]["efficiency_at_nominal"].append(fraction_above(ss, res["nominal_threshold"]))
                res["signals"][s]["efficiency_at_target_rate"].append(
                    efficiency_at(ss, thr["threshold"], thr.get("threshold_uncertainty", 0.0))
                )
        steps.update()
    steps.close()
    out["seconds"] = time.perf_counter() - t0
    write_attachment(trigger_dir / PILEUP_FILE, "pileup", out)
    return trigger_dir / PILEUP_FILE


def load_pileup(trigger_dir: str | Path) -> PileupStudy | None:
    return read_attachment(Path(trigger_dir) / PILEUP_FILE, "pileup")
