"""How a method's improvement over the inclusive search grows with luminosity: from injection scans at two or more
background sizes to CMS's 26.8 fb⁻¹, as an extrapolation, labelled so.

The improvement factor f = N_5σ(inclusive) / N_5σ(method) is the ratio of injected signal events each needs for
a median 5σ. Where a classifier has learned all it can, f stops changing with luminosity (both searches then need
signal growing as √B); where it is still learning from more signal events, f grows. Between the measured sizes
log f is fitted linearly in log L (least squares; through both points with two), and read at the target. The
fit is capped by the supervised reference's factor at the largest size measured: a classifier trained on the
true signal model bounds what a weakly supervised one learns from the data (the cap applies when the reference
was scanned). A method with no improvement at any size stays at 1: the extrapolation invents none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anomalyscope.core.errors import FieldError

CMS_TARGET_FB = 26.8  # the CMS search's luminosity (arXiv:2412.03747)


@dataclass(frozen=True)
class Extrapolated:
    value: float  # the improvement factor at the target luminosity
    slope: float  # d log f / d log L between the measured sizes
    capped: bool  # the supervised reference's factor bounded it
    measured_fb: tuple[float, ...]  # the luminosities it was measured at


def improvement_at(
    points: dict[float, float], target_fb: float = CMS_TARGET_FB, cap: float | None = None
) -> Extrapolated:
    """``points``: luminosity [fb⁻¹] → measured improvement factor (at least two luminosities, factors > 0)."""
    if len(points) < 2:
        raise FieldError(f"an extrapolation needs factors at two luminosities or more, got {len(points)}", None,
                         "luminosity_fb", sorted(points))  # fmt: skip
    lumi, f = np.array(sorted(points), dtype=float), np.array([points[k] for k in sorted(points)], dtype=float)
    if np.any(lumi <= 0) or not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise FieldError(f"luminosities and improvement factors must be positive, got {points}", None, "points", points)
    slope, intercept = np.polyfit(np.log(lumi), np.log(f), 1)
    value = float(np.exp(intercept + slope * np.log(target_fb)))
    capped = cap is not None and value > cap
    return Extrapolated(float(cap) if capped else value, float(slope), bool(capped), tuple(lumi.tolist()))
