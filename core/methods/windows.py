"""Signal-region / sideband windows in m_jj.

* ``cms``: sliding windows on the two staggered CMS binnings (arXiv:2412.03747); a window's signal
  region is one bin, its sidebands the neighbouring bins.
* ``lhco``: one window, SR 3.3–3.7 TeV with sidebands 3.1–3.3 and 3.7–3.9 TeV (arXiv:2101.08320).

Windows whose sidebands reach below the EventSet's fully-efficient edge are dropped: a sculpted
sideband would teach a classifier the threshold, not an anomaly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import InputError

CMS_BINNINGS = {
    "A": (1450, 1650, 2017, 2465, 3013, 3682, 4500, 5500, 8000),
    "B": (1492, 1824, 2230, 2725, 3331, 4071, 4975, 6081, 8000),
}
LHCO_WINDOW = ((3100.0, 3300.0), (3300.0, 3700.0), (3700.0, 3900.0))


@dataclass(frozen=True)
class Window:
    name: str
    sr: tuple  # (lo, hi) GeV
    sb_low: tuple | None
    sb_high: tuple | None

    def in_sr(self, mjj: np.ndarray) -> np.ndarray:
        return (mjj >= self.sr[0]) & (mjj < self.sr[1])

    def in_sb(self, mjj: np.ndarray) -> np.ndarray:
        out = np.zeros(len(mjj), dtype=bool)
        for band in (self.sb_low, self.sb_high):
            if band is not None:
                out |= (mjj >= band[0]) & (mjj < band[1])
        return out

    @property
    def lo(self) -> float:
        return (self.sb_low or self.sr)[0]

    @property
    def hi(self) -> float:
        return (self.sb_high or self.sr)[1]


def make_windows(mode: str, mjj_min: float = 0.0, binning: str = "A", mjj_max: float | None = None) -> list[Window]:
    """Windows of ``mode`` lying fully inside [mjj_min, mjj_max] (sidebands included)."""
    if mode == "lhco":
        (lo, sr, hi) = LHCO_WINDOW
        windows = [Window("lhco", sr, lo, hi)]
    elif mode == "cms":
        if binning not in CMS_BINNINGS:
            raise InputError(f"windows: binning must be one of {sorted(CMS_BINNINGS)}, got '{binning}'")
        e = CMS_BINNINGS[binning]
        windows = [
            Window(
                f"{binning}{i}",
                (e[i], e[i + 1]),
                (e[i - 1], e[i]) if i > 0 else None,
                (e[i + 1], e[i + 2]) if i + 2 < len(e) else None,
            )
            for i in range(len(e) - 1)
        ]
    else:
        raise InputError(f"windows: mode must be 'cms' or 'lhco', got '{mode}'")
    hi = np.inf if mjj_max is None else mjj_max
    return [w for w in windows if w.lo >= mjj_min - 1e-9 and w.hi <= hi + 1e-9 and (w.sb_low or w.sb_high)]


def assign(windows: list[Window], mjj: np.ndarray) -> np.ndarray:
    """Index of the window whose signal region holds each event (-1 for none)."""
    out = np.full(len(mjj), -1, dtype=np.int32)
    for i, w in enumerate(windows):
        out[w.in_sr(mjj)] = i
    return out


def check_windows(windows: list[Window], mjj: np.ndarray, min_events: int, where: str) -> None:
    """Fail before any training if a window lies outside the data or holds too few events."""
    if not windows:
        raise InputError(f"{where}: no m_jj window lies fully above the fully-efficient edge of the data")
    if len(mjj) and windows[-1].sr[0] > mjj.max():
        raise InputError(
            f"{where}: signal region {windows[-1].sr} lies outside the data (max m_jj {mjj.max():.0f} GeV)"
        )
    for w in windows:
        n_sr, n_sb = int(w.in_sr(mjj).sum()), int(w.in_sb(mjj).sum())
        if n_sr < min_events or n_sb < min_events:
            raise InputError(
                f"{where}: window {w.name} {w.sr[0]:.0f}–{w.sr[1]:.0f} GeV has {n_sr} SR and {n_sb} "
                f"SB events; at least {min_events} each are needed"
            )
