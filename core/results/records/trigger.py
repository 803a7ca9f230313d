"""The trigger report (``RUN/trigger/report.json``) and pile-up study (``RUN/trigger/pileup.json``) as typed
records (see ``records``): what ``anomalyscope trigger`` and ``trigger-pileup`` write, what the dashboard's
trigger tab, ``plot`` and the command line read.

Fields with a ``None`` default are absent from reports written before they existed (the readers then show
what those reports hold: a symmetric uncertainty instead of an interval, no LUT figure without combining).
Rates are in Hz, latencies in ns, resources in LUTs, flip-flops and DSP blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

from anomalyscope.core.records import Record


@dataclass(frozen=True)
class Efficiency(Record):
    """A signal efficiency at a threshold: Clopper–Pearson 68% ``interval`` (older reports: ± ``uncertainty``
    only) and the shift from the threshold's own uncertainty (threshold ± its uncertainty)."""

    efficiency: float
    uncertainty: float
    interval: list[float] | None = None
    events: int | None = None
    uncertainty_from_threshold: list[float] | None = None

    def text(self) -> str:
        """'0.998 [0.993, 1.000]' (Clopper–Pearson 68%); reports written before intervals: '0.998 ± 0.002'."""
        if self.interval is not None:
            return f"{self.efficiency:.3f} [{self.interval[0]:.3f}, {self.interval[1]:.3f}]"
        return f"{self.efficiency:.3f} ± {self.uncertainty:.3f}"

    def bounds(self) -> tuple[float, float]:
        """The 68% interval, or efficiency ∓ the symmetric uncertainty for reports without one."""
        if self.interval is not None:
            return self.interval[0], self.interval[1]
        return self.efficiency - self.uncertainty, self.efficiency + self.uncertainty


@dataclass(frozen=True)
class EfficiencyVsRate(Record):
    rate_hz: list[float]
    efficiency: list[float]
    extrapolated: list[bool] | None = None  # the rate's threshold came from the tail fit


@dataclass(frozen=True)
class SignalResult(Record):
    at_target_rate: Efficiency
    efficiency_vs_rate: EfficiencyVsRate
    n_events: int


@dataclass(frozen=True)
class TailFitResult(Record):
    """The generalised-Pareto tail fit behind an extrapolated threshold (``rates.TailFit``), or why none."""

    status: str  # "ok", or "not possible: ..."
    u: float | None = None
    k: int | None = None
    shape: float | None = None
    scale: float | None = None
    in_log_score: bool = False
    bootstraps: int | None = None


@dataclass(frozen=True)
class Threshold(Record):
    """The score threshold for the target rate (``rates.trigger_threshold``)."""

    threshold: float
    target_rate_hz: float
    target_fraction: float
    achieved_rate_hz: float
    rate_uncertainty_hz: float
    zero_bias_events: int
    zero_bias_events_above: int
    limited_by_statistics: bool
    method: str
    threshold_empirical: float
    rate_interval_hz: list[float] | None = None  # Garwood 68%
    threshold_uncertainty: float | None = None  # from bootstrap replicas of the tail fit
    threshold_interval_68: list[float] | None = None
    tail_fit: TailFitResult | None = None


@dataclass(frozen=True)
class RateCurve(Record):
    threshold: list[float]
    rate_hz: list[float]
    rate_uncertainty_hz: list[float] | None = None
    rate_interval_hz: list[list[float]] | None = None  # [lower bounds, upper bounds], Garwood 68%


@dataclass(frozen=True)
class FloatModelCheck(Record):
    """The float twin (same weights, no quantisation) against the quantised model."""

    source: str
    max_abs_score_diff: float
    decision_agreement_at_threshold: float
    n_events: int


@dataclass(frozen=True)
class Physics(Record):
    """Threshold, rate curve and signal efficiencies of one score (the CICADA-like teacher's nested)."""

    threshold: Threshold
    rate_curve: RateCurve
    signals: dict[str, SignalResult]
    float_model: FloatModelCheck | None = None
    teacher: Physics | None = None


@dataclass(frozen=True)
class Resources(Record):
    """da4ml's resource and latency estimate (``firmware.da4ml_report``)."""

    source: str
    lut: int
    ff: int
    dsp: int
    latency_cycles: int
    clock_mhz: float
    latency_ns: float
    initiation_interval: int
    lut_without_combining: int | None = None  # ReLU masks at 1 LUT per bit, as yosys maps them
    delay_da4ml_units: list[float] | None = None
    latency_cutoff: float | None = None
    inputs: int | None = None
    outputs: int | None = None
    verilog_dir: str | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class YosysCheck(Record):
    """yosys synth_xilinx mapping of da4ml's Verilog, or why it was not run (``status``)."""

    status: str
    source: str | None = None
    lut: int | None = None
    ff: int | None = None
    seconds: float | None = None
    estimate_minus_yosys_relative: dict[str, float] | None = None  # (estimate − yosys) / yosys


@dataclass(frozen=True)
class BitCheck(Record):
    """A firmware emulation against the quantised model, event by event."""

    n: int
    mismatches: int
    max_abs_diff: float
    source: str | None = None
    convert_compile_seconds: float | None = None


@dataclass(frozen=True)
class VendorReport(Record):
    """A Vivado/Vitis HLS report a user imported (``trigger-import``); ``csynth`` is hls4ml's parse of it."""

    source: str
    path: str
    csynth: dict
    vivado_synth: dict | None = None


@dataclass(frozen=True)
class ModelReport(Record):
    architecture: str
    precision: dict[str, dict[str, int]]  # weights / inputs / activations → integer and fractional bits
    training: dict  # loss curves (the CICADA-like model: teacher's and student's)
    resources: Resources
    utilisation_percent: dict[str, dict[str, float]]  # FPGA part → lut / ff / dsp
    bit_accuracy: dict[str, BitCheck]
    physics: Physics
    yosys: YosysCheck | None = None
    vendor: VendorReport | None = None


@dataclass(frozen=True)
class Sample(Record):
    path: str
    events: int


@dataclass(frozen=True)
class Published(Record):
    source: str
    models: dict[str, dict[str, str]]


@dataclass(frozen=True)
class TriggerReport(Record):
    background: str
    rate_target_hz: float
    bunch_crossing_hz: float
    samples: dict[str, Sample]
    models: dict[str, ModelReport]
    published: Published
    background_pileup: float = 0.0  # ⟨μ⟩ of the zero-bias sample the models were trained on
    seconds: float | None = None
    schema_version: int = 0


@dataclass(frozen=True)
class PileupSignal(Record):
    efficiency_at_nominal: list[float]  # at the report's threshold, per ⟨μ⟩
    efficiency_at_target_rate: list[Efficiency]  # at each ⟨μ⟩'s own threshold for the target rate


@dataclass(frozen=True)
class PileupModel(Record):
    nominal_threshold: float
    rate_at_nominal_hz: list[float]
    rate_at_nominal_uncertainty_hz: list[float]
    threshold_for_target: list[float]
    threshold_for_target_uncertainty: list[float]
    median_zero_bias_score: list[float]
    signals: dict[str, PileupSignal]
    rate_at_nominal_interval_hz: list[list[float]] | None = None  # Garwood 68% per ⟨μ⟩


@dataclass(frozen=True)
class PileupStudy(Record):
    pileup: list[float]
    zero_bias_events: int
    signal_events: int
    pool_interactions: int
    report_background_pileup: float
    target_rate_hz: float
    mean_region_et_gev: list[float]
    mean_overlaid: list[float]
    models: dict[str, PileupModel]
    seconds: float | None = None
    schema_version: int = 0
