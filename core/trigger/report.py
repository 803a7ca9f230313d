"""The trigger report: train the L1 models, take them to firmware, check bit-exactness, and compute rates
and efficiencies. Written to a directory (``RUN/trigger`` when added to a Run) atomically:

- ``report.json``: per model its architecture and precisions, resources (da4ml estimate; yosys mapping
  where installed), utilisation of named FPGA parts, latency, bit-accuracy (hls4ml C simulation and da4ml
  emulation against the quantised model on ≥ 10k events; the float model's max |Δ| and trigger-decision
  agreement at the threshold), the threshold for the target rate, rate vs threshold, each signal's
  efficiency at that rate and efficiency vs rate; the published AXOL1TL/CICADA figures beside them;
- ``plots.html``: rate against threshold and efficiency against rate per model (standalone bokeh);
- ``models/``: the trained Keras models; ``firmware/<model>/``: da4ml's Verilog and hls4ml's project.

The zero-bias sample is split in halves: the models train on the first, rates are measured on the second.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from anomalyscope.core.data.atomic import publish_dir, staging_dir
from anomalyscope.core.errors import InputError
from anomalyscope.core.extras import require
from anomalyscope.core.results.attachments import read as read_attachment
from anomalyscope.core.results.attachments import write as write_attachment
from anomalyscope.core.results.records.trigger import TriggerReport
from anomalyscope.core.trigger import firmware
from anomalyscope.core.trigger.plots import write_plots
from anomalyscope.core.trigger.rates import efficiency_at, efficiency_vs_rate, rate_curve, trigger_threshold
from anomalyscope.core.trigger.samples import L1Sample

TRIGGER_DIR = "trigger"
REPORT = "report.json"
MIN_CHECK_EVENTS = 10_000

PUBLISHED = {
    "source": "published (CMS-DP-2023-079 AXOL1TL, CMS-DP-2023-086 CICADA); not measured here",
    "models": {
        "AXOL1TL v5": {
            "architecture": "57 → 28 → 15 → 8 (VAE encoder; score from the latent μ)",
            "precision": "inputs ap_fixed<14,6>, weights ap_fixed<6,3>",
            "device": "Virtex-7 690T (CMS global trigger)",
            "clock": "40 MHz",
            "latency_budget": "50 ns (global-trigger budget)",
        },
        "CICADA v1/v2": {
            "architecture": "student 252 → 16 → 1 (v2 adds a 4-filter 2×2 convolution); teacher: conv autoencoder",
            "precision": "quantised student (hls4ml)",
            "device": "Virtex-7 690T on CTP7 (calorimeter layer-1)",
            "clock": "160 MHz, reuse factor 2",
            "latency_budget": "calorimeter layer-1 timing",
        },
    },
}


def _firmware_checks(model, name: str, x_check: np.ndarray, q_check: np.ndarray, out_dir: Path, use_yosys: bool):
    comb = firmware.trace(model)
    res = firmware.da4ml_report(comb, name, out_dir / name / "verilog")
    da_out = firmware.emulate(comb, x_check)
    hls_out, hls_info = firmware.hls4ml_emulation(model, x_check, out_dir / name / "hls4ml")
    syn = firmware.yosys_check(out_dir / name / "verilog", name) if use_yosys else {"status": "skipped: not requested"}
    return {
        "resources": res,
        "utilisation_percent": firmware.utilisation(res),
        "yosys": {**syn, "estimate_minus_yosys_relative": firmware.estimate_vs_yosys(res, syn)},
        "bit_accuracy": {
            "hls4ml_csim_vs_quantised": {**firmware.bit_accuracy(q_check, hls_out), **hls_info},
            "da4ml_emulation_vs_quantised": firmware.bit_accuracy(q_check, da_out),
        },
    }


def _physics(score_fn, bg_eval, signals, rate_hz: float, float_fn=None) -> dict:
    bg = score_fn(bg_eval)
    thr = trigger_threshold(bg, rate_hz)
    out = {
        "threshold": thr,
        "rate_curve": rate_curve(bg),
        "signals": {},
    }
    sig_scores = [score_fn(s["x"]) for s in signals]
    for s, ss in zip(signals, sig_scores):
        out["signals"][s["name"]] = {
            "at_target_rate": efficiency_at(ss, thr["threshold"], thr.get("threshold_uncertainty", 0.0)),
            "efficiency_vs_rate": efficiency_vs_rate(bg, ss),
            "n_events": int(len(ss)),
        }
    if float_fn is not None:
        bg_f = float_fn(bg_eval)
        qf = np.concatenate([bg, *sig_scores])
        ff = np.concatenate([bg_f] + [float_fn(s["x"]) for s in signals])
        thr_f = trigger_threshold(bg_f, rate_hz, n_boot=0)["threshold"]
        out["float_model"] = {
            "source": "float twin (same weights, no quantisation) vs the quantised model",
            "max_abs_score_diff": float(np.max(np.abs(qf - ff))),
            "decision_agreement_at_threshold": float(np.mean((qf > thr["threshold"]) == (ff > thr_f))),
            "n_events": int(len(qf)),
        }
    return out


def build_trigger_report(
    out: str | Path,
    background: L1Sample,
    signals: list[L1Sample],
    epochs: int = 20,
    rate_hz: float = 1000.0,
    use_yosys: bool = True,
    seed: int = 0,
    overwrite: bool = True,
    progress: bool = True,
) -> Path:
    from tqdm.auto import tqdm

    from anomalyscope.core.trigger import models

    out = Path(out)
    n = len(background.inputs)
    if n < MIN_CHECK_EVENTS:
        raise InputError(
            f"{background.path}: {n} zero-bias events; the report needs at least {MIN_CHECK_EVENTS} "
            "(bit-exactness is checked on every event)"
        )
    if background.meta.get("label", 0) != 0:
        raise InputError(f"{background.path}: the background must be a zero-bias sample (label 0)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    train, evaluate = order[: n // 2], order[n // 2 :]
    steps = tqdm(total=6, desc="trigger report", disable=not progress)
    t0 = time.perf_counter()
    report = {"background": str(background.path), "rate_target_hz": rate_hz, "bunch_crossing_hz": 40e6}
    report["background_pileup"] = float(background.meta.get("pileup", 0.0))
    report["samples"] = {s.name: {"path": str(s.path), "events": len(s.inputs)} for s in [background, *signals]}
    with staging_dir(out) as tmp:
        # ------------------------------------------------------------ AXOL1TL-like
        enc, hist = models.train_axol1tl(background.inputs[train], epochs=epochs, seed=seed)
        steps.update()
        twin = models.float_twin(enc)
        check_x = np.concatenate([background.inputs] + [s.inputs for s in signals])
        q_check = models.predict(enc, check_x)
        axo = {
            "architecture": f"{background.inputs.shape[1]} → {' → '.join(map(str, models.ENCODER_UNITS))} → "
            f"{models.LATENT} (μ); score Σμ²",
            "precision": {"weights": models.WEIGHT_BITS, "inputs": models.INPUT_BITS, "activations": models.DATA_BITS},
            "training": hist,
            **_firmware_checks(enc, "axol1tl", check_x, q_check, tmp / "firmware", use_yosys),
        }
        steps.update()
        sigs = [{"name": s.name, "x": s.inputs} for s in signals]
        axo["physics"] = _physics(
            lambda x: models.axol1tl_score(models.predict(enc, x)),
            background.inputs[evaluate],
            sigs,
            rate_hz,
            lambda x: models.axol1tl_score(models.predict(twin, x)),
        )
        steps.update()
        # ------------------------------------------------------------ CICADA-like
        flat = models.student_inputs(background.image)
        teacher, student, teacher_score, c_hist = models.train_cicada(background.image[train], epochs=epochs, seed=seed)
        steps.update()
        check_img = np.concatenate([flat] + [models.student_inputs(s.image) for s in signals])
        cic = {
            "architecture": f"student {flat.shape[1]} → {' → '.join(map(str, models.STUDENT_UNITS))} → 1; "
            "teacher: conv autoencoder 14×18 (float)",
            "precision": {
                "weights": models.WEIGHT_BITS,
                "inputs": models.IMAGE_INPUT_BITS,
                "activations": models.DATA_BITS,
            },
            "training": c_hist,
            **_firmware_checks(
                student, "cicada", check_img, models.predict(student, check_img), tmp / "firmware", use_yosys
            ),
        }
        steps.update()
        img_sigs = [{"name": s.name, "x": models.student_inputs(s.image)} for s in signals]
        s_twin = models.float_twin(student)
        cic["physics"] = _physics(
            lambda x: models.predict(student, x)[:, 0],
            flat[evaluate],
            img_sigs,
            rate_hz,
            lambda x: models.predict(s_twin, x)[:, 0],
        )
        cic["physics"]["teacher"] = _physics(
            lambda x: teacher_score(x.reshape(len(x), *background.image.shape[1:]) * models.IMAGE_SCALE),
            flat[evaluate],
            img_sigs,
            rate_hz,
        )
        steps.update()
        steps.close()
        (tmp / "models").mkdir()
        enc.save(tmp / "models" / "axol1tl_encoder.keras")
        student.save(tmp / "models" / "cicada_student.keras")
        import torch

        torch.save(teacher.state_dict(), tmp / "models" / "cicada_teacher.pt")
        report["models"] = {"axol1tl": axo, "cicada": cic}
        report["published"] = PUBLISHED
        report["seconds"] = time.perf_counter() - t0
        write_plots(write_attachment(tmp / REPORT, "trigger", report), tmp / "plots.html")
        publish_dir(tmp, out, overwrite=overwrite)
    return out


def load_report(path: str | Path) -> TriggerReport | None:
    return read_attachment(Path(path) / REPORT, "trigger")


def import_vendor_report(trigger_dir: str | Path, model: str, hls_dir: str | Path) -> dict:
    """Add a real Vivado/Vitis HLS report to a trigger report: ``hls_dir`` is an hls4ml project (such as
    ``firmware/<model>/hls4ml`` after ``hls4ml build`` on a machine with the vendor tools), parsed with
    hls4ml's report reader. The stored entry is labelled as user-supplied vendor output."""
    import contextlib
    import io

    require("hls4ml", "Reading a vendor HLS report")
    from hls4ml.report import parse_vivado_report

    trigger_dir, hls_dir = Path(trigger_dir), Path(hls_dir)
    report = load_report(trigger_dir)
    if report is None:
        raise InputError(f"{trigger_dir}: no {REPORT}; make the trigger report first (python -m anomalyscope trigger)")
    if model not in report.models:
        raise InputError(f"{trigger_dir / REPORT}: no model '{model}' (have {sorted(report.models)})")
    if not (hls_dir / "project.tcl").is_file():
        raise InputError(f"{hls_dir}: not an hls4ml project (no project.tcl)")
    with contextlib.redirect_stdout(io.StringIO()) as said:
        parsed = parse_vivado_report(str(hls_dir))
    if not parsed or "CSynthesisReport" not in parsed:
        why = said.getvalue().strip().splitlines()[-1:] or ["no synthesis report"]
        raise InputError(f"{hls_dir}: no Vivado/Vitis C-synthesis report found ({why[0]})")
    csynth = parsed["CSynthesisReport"]
    entry = {
        "source": "Vivado/Vitis HLS report (user-supplied), parsed with hls4ml's report reader",
        "path": str(hls_dir),
        "csynth": csynth,
        "vivado_synth": parsed.get("VivadoSynthReport"),
    }
    data = report.to_dict()
    data["models"][model]["vendor"] = entry
    write_attachment(trigger_dir / REPORT, "trigger", data)
    return entry
