"""Signal-region / sideband windows in m_jj, which the search definition chooses and the windowed
methods train in.

* ``cms``: the two staggered CMS binnings A and B (arXiv:2412.03747); a window's signal region is one
  bin, its sidebands the neighbouring bins. With both, a resonance at a bin edge of one binning sits
  mid-bin in the other.
* ``sliding``: windows for any dataset, over the m_jj range the data supports: signal regions of width
  ±1.5σ(m) around their centre (σ/m the dijet mass resolution), centres one half-width apart in ln m so
  every mass lies in the central half of some signal region; sidebands one signal-region width on each
  side. Binning name "S".
* ``lhco``: one window, SR 3.3–3.7 TeV with sidebands 3.1–3.3 and 3.7–3.9 TeV (arXiv:2101.08320).

Windows whose sidebands reach below the fit start are dropped: a sculpted sideband would teach a
classifier the threshold, not an anomaly. Windows holding too few events are skipped with a warning.

No silent blind spots: a mass is tested by the windowed methods only inside the signal region of a window
with both sidebands. ``coverage_gaps`` finds the masses of the fit range that no such window holds; the
search fills them with sliding windows where their sidebands fit (``gap_fillers``: with the CMS binnings
and a fit start above 1.45 TeV, the masses between the start and the first usable CMS signal region — a
resonance there sits in that window's low sideband, where CWoLa and CATHODE learn it as background) and
reports what is left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anomalyscope.core.bumphunt.signal import RESOLUTION
from anomalyscope.core.errors import InputError
from anomalyscope.core.records import Record

CMS_BINNINGS = {
    "A": (1450, 1650, 2017, 2465, 3013, 3682, 4500, 5500, 8000),
    "B": (1492, 1824, 2230, 2725, 3331, 4071, 4975, 6081, 8000),
}
LHCO_WINDOW = ((3100.0, 3300.0), (3300.0, 3700.0), (3700.0, 3900.0))
MODES = ("cms", "sliding", "lhco")
SLIDING_HALF_WIDTH = 1.5  # signal-region half-width in units of the mass resolution σ(m)


@dataclass(frozen=True)
class Window(Record):
    """An m_jj window: its signal region and the sidebands below and above (GeV; None where the fit range ends),
    stored as such in the Run's manifest."""

    name: str
    sr: tuple[float, float]
    sb_low: tuple[float, float] | None = None
    sb_high: tuple[float, float] | None = None

    def in_sr(self, mjj: np.ndarray) -> np.ndarray:
        return (mjj >= self.sr[0]) & (mjj < self.sr[1])

    def in_sb(self, mjj: np.ndarray) -> np.ndarray:
        return self.in_sb_low(mjj) | self.in_sb_high(mjj)

    def in_sb_low(self, mjj: np.ndarray) -> np.ndarray:
        b = self.sb_low
        return (mjj >= b[0]) & (mjj < b[1]) if b is not None else np.zeros(len(mjj), dtype=bool)

    def in_sb_high(self, mjj: np.ndarray) -> np.ndarray:
        b = self.sb_high
        return (mjj >= b[0]) & (mjj < b[1]) if b is not None else np.zeros(len(mjj), dtype=bool)

    @property
    def binning(self) -> str:
        """The staggered binning the window belongs to (its name without the index)."""
        return self.name.rstrip("0123456789") or self.name

    @property
    def lo(self) -> float:
        return (self.sb_low or self.sr)[0]

    @property
    def hi(self) -> float:
        return (self.sb_high or self.sr)[1]


def _from_edges(name: str, e) -> list[Window]:
    return [
        Window(
            f"{name}{i}",
            (float(e[i]), float(e[i + 1])),
            (float(e[i - 1]), float(e[i])) if i > 0 else None,
            (float(e[i + 1]), float(e[i + 2])) if i + 2 < len(e) else None,
        )
        for i in range(len(e) - 1)
    ]


def _sliding_windows(mjj_min: float, mjj_max: float, resolution: float = RESOLUTION) -> list[Window]:
    """Overlapping windows (see the module text) whose sidebands lie inside [mjj_min, mjj_max]."""
    if not 0 < resolution < 0.5:
        raise InputError(f"windows: the mass resolution must lie in (0, 0.5), got {resolution}")
    half = SLIDING_HALF_WIDTH * resolution  # in ln m
    out, k = [], 0
    c = np.log(mjj_min) + 3 * half  # low sideband (2·half wide) starts at mjj_min
    while c + 3 * half <= np.log(mjj_max) + 1e-12:
        e = np.round(np.exp([c - 3 * half, c - half, c + half, c + 3 * half]))  # whole GeV
        out.append(Window(f"S{k}", (float(e[1]), float(e[2])), (float(e[0]), float(e[1])), (float(e[2]), float(e[3]))))
        c += half
        k += 1
    return out


def make_windows(
    mode: str,
    mjj_min: float = 0.0,
    binnings=("A",),
    mjj_max: float | None = None,
    resolution: float = RESOLUTION,
) -> list[Window]:
    """Windows of ``mode`` lying fully inside [mjj_min, mjj_max] (sidebands included)."""
    hi = np.inf if mjj_max is None else mjj_max
    if isinstance(binnings, str):
        binnings = (binnings,)
    if mode == "lhco":
        (lo, sr, hi_sb) = LHCO_WINDOW
        windows = [Window("lhco", sr, lo, hi_sb)]
    elif mode == "cms":
        windows = []
        for b in binnings:
            if b not in CMS_BINNINGS:
                raise InputError(f"windows: binning must be one of {sorted(CMS_BINNINGS)}, got '{b}'")
            windows += _from_edges(b, CMS_BINNINGS[b])
    elif mode == "sliding":
        if not np.isfinite(hi):
            raise InputError("windows: sliding windows need the upper end of the m_jj range")
        windows = _sliding_windows(max(mjj_min, 1.0), hi, resolution)
    else:
        raise InputError(f"windows: mode must be one of {MODES}, got '{mode}'")
    return [w for w in windows if w.lo >= mjj_min - 1e-9 and w.hi <= hi + 1e-9 and (w.sb_low or w.sb_high)]


def coverage_gaps(windows: list[Window], lo: float, hi: float) -> list[tuple[float, float]]:
    """The intervals of [lo, hi) that lie in no signal region of a window with both sidebands."""
    covered = sorted((w.sr[0], w.sr[1]) for w in windows if w.sb_low is not None and w.sb_high is not None)
    gaps, at = [], lo
    for a, b in covered:
        if a > at and a > lo:
            gaps.append((at, min(a, hi)))
        at = max(at, b)
        if at >= hi:
            break
    if at < hi:
        gaps.append((at, hi))
    return [(float(a), float(b)) for a, b in gaps if b - a > 1e-6]


def gap_fillers(
    windows: list[Window], lo: float, hi: float, mjj_min: float, resolution: float = RESOLUTION
) -> list[Window]:
    """Sliding windows (sidebands inside [mjj_min, hi]) whose signal region reaches into a gap of
    ``windows``' coverage of [lo, hi); named after the sliding set ("S3")."""
    gaps = coverage_gaps(windows, lo, hi)
    return [
        w
        for w in _sliding_windows(max(mjj_min, 1.0), hi, resolution)
        if any(w.sr[0] < b and w.sr[1] > a for a, b in gaps)
    ]


def matching_window(windows: list[Window], lo: float, hi: float, prefer: str | None = None) -> Window | None:
    """The window whose signal region matches the m_jj range [lo, hi] best, every binning considered: the
    largest intersection over union (``prefer`` wins a tie); None when no signal region overlaps it. A view set
    to a window's signal region (the Overview's answer) opens that window, not another binning's holding the
    range's centre."""

    def iou(w):
        inter = max(0.0, min(hi, w.sr[1]) - max(lo, w.sr[0]))
        return inter / (max(hi, w.sr[1]) - min(lo, w.sr[0]))

    scored = [(iou(w), w.name == prefer, k) for k, w in enumerate(windows)]
    best = max(scored, default=(0.0, False, -1))
    return windows[best[2]] if best[0] > 0 else None


def assign(windows: list[Window], mjj: np.ndarray) -> np.ndarray:
    """Index of the first window whose signal region holds each event (-1 for none): an event's own
    window, taken from the first binning listed that has one there."""
    out = np.full(len(mjj), -1, dtype=np.int32)
    for i, w in reversed(list(enumerate(windows))):
        out[w.in_sr(mjj)] = i
    return out


def usable_windows(windows: list[Window], mjj: np.ndarray, min_events: int):
    """The windows with at least ``min_events`` analysis-region events in SR and in the sidebands, and
    a warning for each one skipped."""
    kept, warnings = [], []
    for w in windows:
        n_sr, n_sb = int(w.in_sr(mjj).sum()), int(w.in_sb(mjj).sum())
        if n_sr < min_events or n_sb < min_events:
            warnings.append(
                f"window {w.name} {w.sr[0]:.0f}–{w.sr[1]:.0f} GeV skipped: {n_sr} SR and {n_sb} SB events, "
                f"at least {min_events} each are needed"
            )
        else:
            kept.append(w)
    return kept, warnings


def own_window_score(windows, window_scores: dict, mjj: np.ndarray) -> np.ndarray:
    """Each event's score from its own window (``own_windows``); NaN where no trained window holds it."""
    trained = [w for w in windows if w.name in window_scores]
    own = assign(trained, mjj)
    out = np.full(len(mjj), np.nan)
    for i, w in enumerate(trained):
        out[own == i] = window_scores[w.name][own == i]
    return out
