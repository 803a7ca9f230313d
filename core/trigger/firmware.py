"""From a quantised model to firmware figures, without vendor tools.

- **da4ml** traces the HGQ2 model into distributed-arithmetic logic (constant multiplications as adder
  trees, no DSPs) and estimates its cost in LUTs and its delay; ``VerilogModel`` pipelines it at a latency
  cut-off and counts the pipeline registers (FFs). da4ml's emulator (``CombLogic.predict``) is the bit-exact
  model of that logic.
- **hls4ml** converts the same model to HLS C++ (Vitis backend, io_parallel) and ``compile()`` builds its
  C simulation with g++ — the firmware emulation the tests compare with the quantised model.
- **yosys** (when installed) synthesises da4ml's Verilog with ``synth_xilinx`` to check the LUT/FF estimate.
  Like with like: da4ml prices a ReLU (or sign-flip) mask at half a LUT per bit, assuming Vivado packs two
  such bits into one LUT6 (LUT6_2 "LUT combining"); yosys maps one LUT cell per bit and does not combine. The
  comparison with yosys therefore uses da4ml's cost with those masks at one LUT per bit
  (``lut_without_combining``). Measured on 9 networks (trained models from 5, 10 and 20 epochs and five
  random-weight MLPs of 57–252 inputs): that count is within 0.7–3.3% of yosys's LUTs, da4ml's own figure
  within 0.6–5.6%; FFs within 1.4% (yosys drops registers that hold constant bits).

Every number is labelled with how it was obtained ("da4ml estimate", "yosys synth_xilinx mapping"); none is
a Vivado result, and no timing closure is done. Latency in clock cycles is the number of pipeline stages of
da4ml's Verilog at the chosen cut-off; at the 40 MHz bunch-crossing clock one cycle is 25 ns.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from anomalyscope.core.extras import require

# named FPGA parts: (LUTs, FFs, DSPs) from the vendor data sheets
FPGA_PARTS = {
    "Virtex-7 690T (xc7vx690t, CMS global trigger / CTP7)": {"lut": 433_200, "ff": 866_400, "dsp": 3_600},
    "Virtex UltraScale+ VU9P (xcvu9p)": {"lut": 1_182_240, "ff": 2_364_480, "dsp": 6_840},
    "Virtex UltraScale+ VU13P (xcvu13p, Phase-2 L1)": {"lut": 1_728_000, "ff": 3_456_000, "dsp": 12_288},
}
LATENCY_CUTOFF = 5.0  # da4ml delay units per pipeline stage
YOSYS_FAMILY = "xcup"


def trace(model):
    """da4ml combinational logic of a (HGQ2) Keras model."""
    from da4ml.converter import trace_model
    from da4ml.trace import comb_trace

    inp, out = trace_model(model)
    return comb_trace(inp, out)


def emulate(comb, x: np.ndarray) -> np.ndarray:
    """da4ml's bit-exact emulation of the traced logic."""
    return np.asarray(comb.predict(np.ascontiguousarray(x, dtype=np.float64)), dtype=np.float64)


def da4ml_report(comb, name: str, out_dir: Path, latency_cutoff: float = LATENCY_CUTOFF, clock_mhz: float = 40.0):
    """Resource and latency estimate; writes the pipelined Verilog to out_dir."""
    from da4ml.codegen import VerilogModel

    t0 = time.perf_counter()
    rtl = VerilogModel(comb, name, out_dir, latency_cutoff=latency_cutoff, clock_period=1000.0 / clock_mhz)
    rtl.write()
    stages = len(rtl._pipe[0]) if rtl._pipe is not None else 0
    n_in, n_out = comb.shape
    return {
        "source": "da4ml 0.6 estimate (distributed arithmetic; not a Vivado result)",
        "lut": int(round(comb.cost)),
        "lut_without_combining": int(round(comb.cost + sum(op.cost for op in comb.ops if abs(op.opcode) == 2))),
        "ff": int(rtl._pipe.reg_bits) if rtl._pipe is not None else 0,
        "dsp": 0,
        "delay_da4ml_units": [float(v) for v in comb.latency],
        "latency_cutoff": latency_cutoff,
        "latency_cycles": stages,
        "clock_mhz": clock_mhz,
        "latency_ns": stages * 1000.0 / clock_mhz,
        "initiation_interval": 1,
        "inputs": int(n_in),
        "outputs": int(n_out),
        "verilog_dir": str(out_dir),
        "seconds": time.perf_counter() - t0,
    }


def utilisation(resources: dict) -> dict:
    """Percent of each named FPGA part's LUTs, FFs and DSPs."""
    return {
        part: {k: 100.0 * resources.get(k, 0) / cap for k, cap in caps.items()} for part, caps in FPGA_PARTS.items()
    }


def hls4ml_emulation(model, x: np.ndarray, out_dir: Path) -> tuple[np.ndarray, dict]:
    """hls4ml C simulation (Vitis backend, g++): predictions and timing."""
    hls4ml = require("hls4ml", "The hls4ml emulation")
    t0 = time.perf_counter()
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    hm = hls4ml.converters.convert_from_keras_model(
        model, hls_config=cfg, output_dir=str(out_dir), backend="Vitis", io_type="io_parallel"
    )
    hm.compile()
    t_compile = time.perf_counter() - t0
    y = np.asarray(hm.predict(np.ascontiguousarray(x, dtype=np.float64)), dtype=np.float64).reshape(len(x), -1)
    return y, {"source": "hls4ml 1.3 C simulation (Vitis backend, g++)", "convert_compile_seconds": t_compile}


def yosys_check(verilog_dir: Path, top: str, timeout: int = 900) -> dict:
    """Synthesise da4ml's Verilog with yosys synth_xilinx; LUT and FF counts, or why it was not run."""
    exe = shutil.which("yosys")
    if exe is None:
        return {"status": "skipped: yosys is not installed (apt-get install yosys)"}
    src = Path(verilog_dir) / "src"
    files = sorted(str(p) for p in src.rglob("*.v") if p.name != "lookup_table.v")
    script = f"read_verilog {' '.join(files)}; synth_xilinx -family {YOSYS_FAMILY} -flatten -top {top}; stat"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [exe, "-q", "-p", script, "-l", f"{tmp}/log"], capture_output=True, text=True, timeout=timeout
        )
        log = Path(f"{tmp}/log").read_text() if Path(f"{tmp}/log").exists() else proc.stdout
    if proc.returncode != 0:
        return {"status": f"failed: {proc.stderr.strip()[-300:]}"}
    stat = log[log.rfind("Printing statistics") :]
    luts = sum(int(n) for n in re.findall(r"LUT\d\s+(\d+)", stat))
    ffs = sum(int(n) for n in re.findall(r"FD[A-Z]+\s+(\d+)", stat))
    return {
        "status": "ok",
        "source": f"yosys synth_xilinx -family {YOSYS_FAMILY} mapping (not Vivado, no timing closure)",
        "lut": luts,
        "ff": ffs,
        "seconds": time.perf_counter() - t0,
    }


def estimate_vs_yosys(estimate: dict, syn: dict) -> dict:
    """Relative differences (estimate − yosys) / yosys: FFs, LUTs like with like (no LUT combining; see the
    module docstring) and da4ml's own LUT figure."""
    if syn.get("status") != "ok":
        return {}
    return {
        "ff": (estimate["ff"] - syn["ff"]) / syn["ff"],
        "lut_without_combining": (estimate["lut_without_combining"] - syn["lut"]) / syn["lut"],
        "lut_da4ml": (estimate["lut"] - syn["lut"]) / syn["lut"],
    }


def bit_accuracy(quantised: np.ndarray, firmware: np.ndarray) -> dict:
    """Exactness of a firmware emulation against the quantised model."""
    q, f = np.asarray(quantised, dtype=np.float64), np.asarray(firmware, dtype=np.float64)
    return {
        "n": int(len(q)),
        "mismatches": int(np.sum(np.any(q != f, axis=1))),
        "max_abs_diff": float(np.max(np.abs(q - f))),
    }
