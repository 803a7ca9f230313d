"""m_jj histograms with the CMS dijet binning (bins follow the dijet mass resolution), via ``hist``."""

from __future__ import annotations

from dataclasses import dataclass

import hist
import numpy as np

from anomalyscope.core.errors import InputError

# Bin edges [GeV] of the CMS dijet resonance searches: widths track the dijet mass resolution (≈ 4% of m).
CMS_DIJET_EDGES = np.array(
    [
        1,
        3,
        6,
        10,
        16,
        23,
        31,
        40,
        50,
        61,
        74,
        88,
        103,
        119,
        137,
        156,
        176,
        197,
        220,
        244,
        270,
        296,
        325,
        354,
        386,
        419,
        453,
        489,
        526,
        565,
        606,
        649,
        693,
        740,
        788,
        838,
        890,
        944,
        1000,
        1058,
        1118,
        1181,
        1246,
        1313,
        1383,
        1455,
        1530,
        1607,
        1687,
        1770,
        1856,
        1945,
        2037,
        2132,
        2231,
        2332,
        2438,
        2546,
        2659,
        2775,
        2895,
        3019,
        3147,
        3279,
        3416,
        3558,
        3704,
        3854,
        4010,
        4171,
        4337,
        4509,
        4686,
        4869,
        5058,
        5253,
        5455,
        5663,
        5877,
        6099,
        6328,
        6564,
        6808,
        7060,
        7320,
        7589,
        7866,
        8152,
        8447,
        8752,
        9067,
        9391,
        9726,
        10072,
        10430,
        10798,
        11179,
        11571,
        11977,
        12395,
        12827,
        13272,
        13732,
        14000,
    ],
    dtype=float,
)


@dataclass(frozen=True)
class Spectrum:
    """A binned m_jj spectrum: counts per bin and the bin edges in GeV (what every fit takes)."""

    counts: np.ndarray
    edges: np.ndarray
    variances: np.ndarray | None = None  # sum of w² per bin for weighted fills

    def __post_init__(self):
        c, e = np.asarray(self.counts, dtype=float), np.asarray(self.edges, dtype=float)
        if e.ndim != 1 or len(e) != len(c) + 1:
            raise InputError(f"spectrum: {len(c)} counts need {len(c) + 1} bin edges, got {len(e)}")
        if np.any(np.diff(e) <= 0):
            raise InputError("spectrum: bin edges must increase")
        if np.any(~np.isfinite(c)) or np.any(c < 0):
            raise InputError("spectrum: counts must be finite and non-negative")
        object.__setattr__(self, "counts", c)
        object.__setattr__(self, "edges", e)

    @property
    def centers(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def widths(self) -> np.ndarray:
        return np.diff(self.edges)

    @property
    def total(self) -> float:
        return float(self.counts.sum())

    def restrict(self, lo: float, hi: float) -> "Spectrum":
        """The bins lying fully inside [lo, hi]."""
        keep = (self.edges[:-1] >= lo - 1e-9) & (self.edges[1:] <= hi + 1e-9)
        if keep.sum() == 0:
            raise InputError(f"spectrum: no bin lies inside the fit range {lo:g}–{hi:g} GeV")
        idx = np.flatnonzero(keep)
        var = None if self.variances is None else self.variances[idx]
        return Spectrum(self.counts[idx], self.edges[idx[0] : idx[-1] + 2], var)

    @classmethod
    def from_hist(cls, h) -> "Spectrum":
        """A one-axis ``hist.Hist`` of m_jj in GeV (any storage; weighted fills keep their variances)."""
        if len(h.axes) != 1:
            raise InputError(f"spectrum: a histogram of m_jj has one axis, this one has {len(h.axes)}")
        view = h.view()
        weighted = getattr(view.dtype, "names", None) and "variance" in view.dtype.names
        counts = view.value if weighted else view
        return cls(
            np.array(counts, dtype=float), np.array(h.axes[0].edges), np.array(view.variance) if weighted else None
        )

    def to_hist(self) -> hist.Hist:
        h = hist.Hist(hist.axis.Variable(self.edges, name="mjj", label="m_jj [GeV]"), storage=hist.storage.Weight())
        h.view().value = self.counts
        h.view().variance = self.counts if self.variances is None else self.variances
        return h


def cms_edges(lo: float, hi: float) -> np.ndarray:
    """CMS dijet bin edges covering [lo, hi]: the edge at or below lo to the edge at or above hi."""
    i0 = max(np.searchsorted(CMS_DIJET_EDGES, lo, side="right") - 1, 0)
    i1 = min(np.searchsorted(CMS_DIJET_EDGES, hi, side="left"), len(CMS_DIJET_EDGES) - 1)
    return CMS_DIJET_EDGES[i0 : i1 + 1]


def mjj_spectrum(
    mjj: np.ndarray, lo: float, hi: float, binning: str | float = "cms", weights: np.ndarray | None = None
) -> Spectrum:
    """Histogram m_jj [GeV] with hist: binning "cms" (resolution-following) or a fixed width in GeV.

    With "cms", the first bin starts at the first CMS edge at or above ``lo`` so no bin straddles the
    fully-efficient threshold.
    """
    mjj = np.asarray(mjj, dtype=float)
    if binning == "cms":
        edges = CMS_DIJET_EDGES[(CMS_DIJET_EDGES >= lo - 1e-9) & (CMS_DIJET_EDGES <= hi + 1e-9)]
        if len(edges) < 2:
            raise InputError(f"spectrum: no CMS bin fits inside {lo:g}–{hi:g} GeV")
    else:
        width = float(binning)
        if width <= 0:
            raise InputError(f"spectrum: bin width must be positive, got {width}")
        edges = np.arange(lo, hi + 0.5 * width, width)
    h = hist.Hist(hist.axis.Variable(edges, name="mjj", label="m_jj [GeV]"), storage=hist.storage.Weight())
    h.fill(mjj=mjj, weight=weights if weights is not None else np.ones_like(mjj))
    view = h.view()
    return Spectrum(view.value.copy(), edges, None if weights is None else view.variance.copy())


ONE_SIGMA = 0.682689492137086  # the coverage of ±1σ of a Gaussian


def poisson_interval(n, cl: float = ONE_SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """Garwood (exact) central Poisson interval for observed counts: (lower, upper) bounds.

    These are the asymmetric error bars of CMS spectra; for n = 0 the interval is [0, 1.84] at 68%, never 0 ± 0.
    The bounds are χ² quantiles, χ²_{(1−cl)/2}(2n)/2 and χ²_{(1+cl)/2}(2n+2)/2, computed as scipy.stats does
    (the regularised incomplete gamma function's inverse) but without importing scipy.stats (0.5 s of a
    dashboard's first page); the tests hold them to ``hist.intervals.poisson_interval``.
    """
    from scipy.special import gammaincinv

    k = np.atleast_1d(np.asarray(n, dtype=float))
    lo = np.where(k > 0, gammaincinv(np.maximum(k, 1e-300), (1 - cl) / 2), 0.0)
    hi = gammaincinv(k + 1, (1 + cl) / 2)
    if np.ndim(n) == 0:
        return float(lo[0]), float(hi[0])
    return lo, hi


def upper_bound_95(k: int, n: int) -> float:
    """The one-sided 95% CL Clopper–Pearson upper bound on a fraction k/n (1 when nothing is known: n = 0 or
    k = n): what 0 of 200 toys, 0 of 50 pseudo-datasets or 0 lost of n calibration events still allow. (The
    Beta quantile as scipy.stats.beta.ppf computes it, without importing scipy.stats.)"""
    from scipy.special import betaincinv

    return float(betaincinv(k + 1, n - k, 0.95)) if 0 <= k < n else 1.0


def efficiency_interval(k, n, cl: float = ONE_SIGMA) -> tuple:
    """Clopper–Pearson (exact binomial) central interval of an efficiency k/n (``hist.intervals``): at
    k = 0 or k = n it still has a width — ε = 1 from 50 events is [0.964, 1], not 1 ± 0."""
    import hist.intervals

    k_, n_ = np.atleast_1d(np.asarray(k, dtype=float)), np.atleast_1d(np.asarray(n, dtype=float))
    if np.any(n_ <= 0) or np.any(k_ < 0) or np.any(k_ > n_):
        raise ValueError(f"an efficiency needs 0 <= k <= n and n > 0, got k = {k}, n = {n}")
    lo, hi = hist.intervals.clopper_pearson_interval(k_, n_, coverage=cl)
    if np.ndim(k) == 0 and np.ndim(n) == 0:
        return float(lo[0]), float(hi[0])
    return lo, hi
