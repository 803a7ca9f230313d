"""Benchmark: L1 trigger models — conversion and estimate times, emulation speed, and the models' figures.

    python bench/bench_trigger.py --background DIR --signal DIR [--signal DIR] [--epochs 10] [--yosys]

L1 samples come from ``python -m anomalyscope l1`` (e.g. 20k minbias, 2k h_aa_4b). For each model (AXOL1TL-like
encoder, CICADA-like student) the script trains it, then times in one run: the da4ml trace, da4ml's
Verilog with its estimate, hls4ml conversion + C-simulation build, and the throughput of three emulations
of the same logic (Keras, da4ml, hls4ml C simulation) on the same events — ratios between them are the
robust figures. With --yosys it also times yosys synth_xilinx. Prints a table, writes bench/results/trigger.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from anomalyscope.core.trigger import firmware, models
from anomalyscope.core.trigger.rates import efficiency_at, trigger_threshold
from anomalyscope.core.trigger.samples import L1Sample


def timed(fn, *a, **k):
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0


def bench_model(name, model, x, score, bg_eval, signals, tmp: Path, use_yosys: bool) -> dict:
    comb, t_trace = timed(firmware.trace, model)
    est, t_rtl = timed(firmware.da4ml_report, comb, name, tmp / name / "verilog")
    q, t_keras = timed(models.predict, model, x)
    d, t_da = timed(firmware.emulate, comb, x)
    (h, info), t_hls = timed(firmware.hls4ml_emulation, model, x, tmp / name / "hls4ml")
    row = {
        "lut_da4ml": est["lut"],
        "lut_da4ml_without_combining": est["lut_without_combining"],
        "ff_da4ml": est["ff"],
        "latency_cycles": est["latency_cycles"],
        "latency_ns_40MHz": est["latency_ns"],
        "seconds": {
            "da4ml_trace": t_trace,
            "da4ml_verilog_and_estimate": t_rtl,
            "hls4ml_convert_compile": info["convert_compile_seconds"],
        },
        "events_per_second": {
            "keras": len(x) / t_keras,
            "da4ml_emulation": len(x) / t_da,
            "hls4ml_csim": len(x) / max(t_hls - info["convert_compile_seconds"], 1e-9),
        },
        "mismatches": {
            "da4ml": firmware.bit_accuracy(q, d)["mismatches"],
            "hls4ml": firmware.bit_accuracy(q, h)["mismatches"],
        },
    }
    if use_yosys:
        y, t_y = timed(firmware.yosys_check, tmp / name / "verilog", name)
        row["yosys"] = {**y, "estimate_minus_yosys_relative": firmware.estimate_vs_yosys(est, y)}
        row["seconds"]["yosys_synth"] = t_y
    thr = trigger_threshold(score(bg_eval), 1000.0)
    row["threshold_1kHz"] = thr
    row["efficiency_1kHz"] = {n: efficiency_at(score(s), thr["threshold"])["efficiency"] for n, s in signals.items()}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--background", type=Path, required=True)
    ap.add_argument("--signal", type=Path, action="append", default=[])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--yosys", action="store_true")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "trigger.json")
    a = ap.parse_args()
    bg = L1Sample.open(a.background)
    sigs = [L1Sample.open(s) for s in a.signal]
    n = len(bg.inputs)
    half = n // 2
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        enc, t_train = timed(models.train_axol1tl, bg.inputs[:half], epochs=a.epochs)
        enc = enc[0]
        results["axol1tl"] = bench_model(
            "axol1tl",
            enc,
            bg.inputs,
            lambda x: models.axol1tl_score(models.predict(enc, x)),
            bg.inputs[half:],
            {s.name: s.inputs for s in sigs},
            tmp,
            a.yosys,
        )
        results["axol1tl"]["seconds"]["training"] = t_train
        flat = models.student_inputs(bg.image)
        (teacher, student, _, _), t_train = timed(models.train_cicada, bg.image[:half], epochs=a.epochs)
        results["cicada"] = bench_model(
            "cicada",
            student,
            flat,
            lambda x: models.predict(student, x)[:, 0],
            flat[half:],
            {s.name: models.student_inputs(s.image) for s in sigs},
            tmp,
            a.yosys,
        )
        results["cicada"]["seconds"]["training"] = t_train
    print(f"L1 trigger models on {n} zero-bias events ({half} for training, {n - half} for rates)")
    print(
        f"{'model':9s} {'LUT':>7s} {'FF':>7s} {'cycles':>6s} {'trace s':>8s} {'RTL s':>6s} {'hls4ml s':>9s} "
        f"{'keras ev/s':>11s} {'da4ml ev/s':>11s} {'csim ev/s':>10s} {'mism.':>6s}"
    )
    for name, r in results.items():
        s, e = r["seconds"], r["events_per_second"]
        print(
            f"{name:9s} {r['lut_da4ml']:7d} {r['ff_da4ml']:7d} {r['latency_cycles']:6d} {s['da4ml_trace']:8.2f} "
            f"{s['da4ml_verilog_and_estimate']:6.2f} {s['hls4ml_convert_compile']:9.2f} {e['keras']:11.0f} "
            f"{e['da4ml_emulation']:11.0f} {e['hls4ml_csim']:10.0f} {sum(r['mismatches'].values()):6d}"
        )
        if "yosys" in r and r["yosys"].get("status") == "ok":
            y, d = r["yosys"], r["yosys"]["estimate_minus_yosys_relative"]
            print(
                f"          yosys {y['lut']} LUT, {y['ff']} FF ({y['seconds']:.0f} s); estimate without LUT combining "
                f"{r['lut_da4ml_without_combining']} LUT: {100 * d['lut_without_combining']:+.1f}% "
                f"(da4ml's own {100 * d['lut_da4ml']:+.1f}%), FF {100 * d['ff']:+.1f}%"
            )
        print(
            f"          efficiency at ≤ 1 kHz: {r['efficiency_1kHz']} "
            f"(threshold {r['threshold_1kHz']['threshold']:.4g} from {r['threshold_1kHz']['zero_bias_events']} "
            f"zero-bias events: {r['threshold_1kHz']['method']})"
        )
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
