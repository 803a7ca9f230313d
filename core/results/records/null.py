"""A Run's retrained null (``null_calibration.json``): background-only pseudo-datasets put through the whole
chain the Run went through — every method retrained, selected, fitted and scanned — and what each found.

It calibrates the global significance: the toys of ``search.json`` never retrain, so a classifier that
sculpts a bump out of background (training and testing on the same data: arXiv:2512.13787) is invisible to
them; here it is part of the null. Z in σ, masses in GeV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from anomalyscope.core.bumphunt.histogram import upper_bound_95
from anomalyscope.core.records import Record


@dataclass(frozen=True)
class NullCalibration(Record):
    pool: str  # the background-only EventSet the pseudo-datasets are drawn from
    pool_events: int
    n_events: int  # events per pseudo-dataset (those of the Run's data)
    shared: str  # what the pseudo-datasets share and why that is valid
    max_z: list[float]  # per pseudo-dataset: the largest local Z over everything searched
    p_toys: list[float]  # per pseudo-dataset: the toy-only global p of that Z (as search.json computes it)
    method_max_z: dict[str, list[float]]  # per method: its largest local Z in each pseudo-dataset
    observed_max_z: float  # the Run's own largest local Z
    observed_p_toys: float  # and its toy-only global p
    seconds: float  # wall time of the pseudo-datasets' Runs, together
    schema_version: int = 0

    @property
    def n_pseudo(self) -> int:
        return len(self.max_z)

    def p_calibrated(self, z: float) -> tuple[float, float, bool]:
        """(p, its 95% CL upper bound, whether p is only a bound): the fraction of retrained null
        pseudo-datasets whose largest local Z reaches ``z``; with none reaching it, p is the Clopper–Pearson
        95% upper bound (a bound)."""
        k = int(np.sum(np.asarray(self.max_z, dtype=float) >= z))
        hi = upper_bound_95(k, self.n_pseudo)
        return (hi, hi, True) if k == 0 else (k / self.n_pseudo, hi, False)

    def text(self, z: float | None = None) -> str:
        """'calibrated global 1.2σ (p = 0.12: 6 of 50 retrained background-only pseudo-datasets reach 3.1σ)'."""
        z = self.observed_max_z if z is None else z
        p, _, bound = self.p_calibrated(z)
        k = int(np.sum(np.asarray(self.max_z, dtype=float) >= z))
        zg = max(float(-ndtri(p)), 0.0)
        rel = "<" if bound else "="
        return (
            f"calibrated global {'> ' if bound else ''}{zg:.1f}σ (p {rel} {p:.2g}: {k} of {self.n_pseudo} retrained "
            f"background-only pseudo-datasets reach local {z:.1f}σ)"
        )

    def toy_miscalibration(self) -> dict[str, float]:
        """How the toy-only global p fares on the retrained null, where it should be uniform: its KS p-value
        against uniform, and the fraction of pseudo-datasets with toy p below 5% and 1% (expected 0.05, 0.01)."""
        p = np.asarray(self.p_toys, dtype=float)
        p = p[np.isfinite(p)]
        if not len(p):
            return {}
        from scipy.stats import kstest

        return {
            "ks_pvalue_uniform": float(kstest(p, "uniform").pvalue),
            "fraction_below_0.05": float(np.mean(p < 0.05)),
            "fraction_below_0.01": float(np.mean(p < 0.01)),
        }
