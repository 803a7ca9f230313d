"""The data/simulation ratio of subjet Lund-plane densities, measured in a control sample.

ρ(pT, ln R/ΔR, ln kt) = (splittings in the bin) / (subjets in the pT bin): the average number of primary
emissions per subjet. The correction is ρ_data / ρ_sim per (subjet-pT, Lund) bin. Splittings outside the
Lund grid are counted in the edge bins (every splitting of a subjet gets a factor). Bins without
information (no data or no simulated splitting) get ratio 1; ratios are clipped to [RATIO_MIN, RATIO_MAX].

The statistical uncertainty is carried by Poisson toys of both samples' bin counts; the subjet-pT
dependence is fitted per Lund bin (ratio linear in ln pT, weighted by its statistical uncertainty) so
that subjets harder than the control sample reaches can be given the extrapolated ratio as a variation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from anomalyscope.core.data.atomic import write_json_atomic
from anomalyscope.core.errors import InputError
from anomalyscope.core.lund.subjets import Subjets

RATIO_MIN, RATIO_MAX = 0.1, 10.0
FORMAT = "anomalyscope.lund_ratio/1"


@dataclass(frozen=True)
class LundBinning:
    """Bins of subjet pT [GeV] (above the last edge: extrapolated), ln(R/ΔR) and ln(kt/GeV)."""

    subjet_pt: tuple = (0.0, 100.0, 200.0, 350.0, 550.0, 800.0)
    ln_r_delta: tuple = (0.0, 0.75, 1.5, 2.25, 3.0, 3.75, 4.5, 5.25, 6.5)
    ln_kt: tuple = (-4.0, -3.0, -2.0, -1.25, -0.5, 0.25, 1.0, 2.0, 3.5)

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.subjet_pt) - 1, len(self.ln_r_delta) - 1, len(self.ln_kt) - 1

    def pt_index(self, pt: np.ndarray) -> np.ndarray:
        """Subjet-pT bin (the last bin for subjets above the last edge)."""
        return np.clip(np.searchsorted(self.subjet_pt, pt, side="right") - 1, 0, self.shape[0] - 1)

    def lund_index(self, ln_r_delta: np.ndarray, ln_kt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lund bins, splittings outside the grid counted in the edge bins."""
        ix = np.clip(np.searchsorted(self.ln_r_delta, ln_r_delta, side="right") - 1, 0, self.shape[1] - 1)
        iy = np.clip(np.searchsorted(self.ln_kt, ln_kt, side="right") - 1, 0, self.shape[2] - 1)
        return ix, iy

    def splitting_bins(self, subjets: Subjets) -> tuple[np.ndarray, np.ndarray]:
        """(flat bin index of every splitting, index of its subjet)."""
        import awkward as ak

        n_split = ak.to_numpy(ak.num(subjets.ln_kt))
        owner = np.repeat(np.arange(len(subjets)), n_split)
        ix, iy = self.lund_index(ak.to_numpy(ak.flatten(subjets.ln_r_delta)), ak.to_numpy(ak.flatten(subjets.ln_kt)))
        ipt = self.pt_index(subjets.pt)[owner]
        return np.ravel_multi_index((ipt, ix, iy), self.shape), owner


@dataclass
class LundCounts:
    """Splitting counts per (pT, Lund) bin and subjet counts per pT bin of one sample."""

    splittings: np.ndarray  # shape binning.shape
    subjets: np.ndarray  # shape (n_pt,)

    @classmethod
    def of(cls, subjets: Subjets, binning: LundBinning) -> "LundCounts":
        flat, _ = binning.splitting_bins(subjets)
        n = np.bincount(flat, minlength=int(np.prod(binning.shape))).reshape(binning.shape).astype(float)
        s = np.bincount(binning.pt_index(subjets.pt), minlength=binning.shape[0]).astype(float)
        return cls(n, s)

    def density(self) -> np.ndarray:
        return np.divide(
            self.splittings,
            self.subjets[:, None, None],
            out=np.zeros_like(self.splittings),
            where=self.subjets[:, None, None] > 0,
        )


def _ratio_of(data: LundCounts, sim: LundCounts) -> np.ndarray:
    """ρ_data/ρ_sim, 1 where either has no splitting, clipped to [RATIO_MIN, RATIO_MAX]."""
    d, s = data.density(), sim.density()
    ok = (data.splittings > 0) & (sim.splittings > 0)
    r = np.divide(d, s, out=np.ones_like(d), where=ok)
    return np.clip(r, RATIO_MIN, RATIO_MAX)


@dataclass
class LundRatio:
    """A measured correction: counts of data and simulation (and an alternative simulation) in the control sample."""

    binning: LundBinning
    data: LundCounts
    sim: LundCounts
    sim_alt: LundCounts | None = None
    provenance: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ derived
    @property
    def ratio(self) -> np.ndarray:
        return _ratio_of(self.data, self.sim)

    @property
    def ratio_alt(self) -> np.ndarray | None:
        return None if self.sim_alt is None else _ratio_of(self.data, self.sim_alt)

    def stat_error(self) -> np.ndarray:
        """Relative statistical uncertainty of the ratio per bin (Poisson, both samples)."""
        with np.errstate(divide="ignore"):
            rel = np.sqrt(1.0 / self.data.splittings + 1.0 / self.sim.splittings)
        return np.where(np.isfinite(rel), rel, np.inf)

    def toys(self, n: int, seed: int = 0) -> np.ndarray:
        """n Poisson toy ratios (both samples' bin counts fluctuated), shape (n, *binning.shape)."""
        rng = np.random.default_rng(seed)
        out = np.empty((n, *self.binning.shape))
        for t in range(n):
            d = LundCounts(rng.poisson(self.data.splittings).astype(float), self.data.subjets)
            s = LundCounts(rng.poisson(self.sim.splittings).astype(float), self.sim.subjets)
            out[t] = _ratio_of(d, s)
        return out

    def pt_fit(self) -> tuple[np.ndarray, np.ndarray]:
        """Per Lund bin, the weighted straight-line fit ratio = a + b·ln(pT) over the subjet-pT bins.

        pT of a bin = its geometric centre (the first bin's lower edge taken as 10 GeV); weights 1/σ².
        Bins without data do not enter; a Lund bin with fewer than two measured pT bins gets b = 0.
        """
        edges = np.array(self.binning.subjet_pt, dtype=float)
        lo = np.maximum(edges[:-1], 10.0)
        x = np.log(np.sqrt(lo * edges[1:]))
        r = self.ratio
        sigma = r * self.stat_error()
        w = np.where(np.isfinite(sigma) & (sigma > 0), 1.0 / np.maximum(sigma, 1e-12) ** 2, 0.0)
        xx = x[:, None, None]
        sw, swx, swxx = w.sum(0), (w * xx).sum(0), (w * xx**2).sum(0)
        swy, swxy = (w * r).sum(0), (w * xx * r).sum(0)
        det = sw * swxx - swx**2
        enough = (np.count_nonzero(w, axis=0) >= 2) & (det > 0)
        b = np.where(enough, (sw * swxy - swx * swy) / np.where(enough, det, 1.0), 0.0)
        a = np.where(enough, (swy - b * swx) / np.where(sw > 0, sw, 1.0), r[-1])
        return a, b

    def extrapolated(self, pt: np.ndarray, lund_bin: np.ndarray) -> np.ndarray:
        """Fitted ratio at subjet pT ``pt`` in flat Lund bin ``lund_bin`` (index into the (ln R/ΔR, ln kt) grid)."""
        a, b = self.pt_fit()
        return np.clip(a.reshape(-1)[lund_bin] + b.reshape(-1)[lund_bin] * np.log(pt), RATIO_MIN, RATIO_MAX)

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict:
        def counts(c: LundCounts | None):
            return None if c is None else {"splittings": c.splittings.tolist(), "subjets": c.subjets.tolist()}

        return {
            "format": FORMAT,
            "binning": {k: list(v) for k, v in asdict(self.binning).items()},
            "data": counts(self.data),
            "sim": counts(self.sim),
            "sim_alt": counts(self.sim_alt),
            "provenance": self.provenance,
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        write_json_atomic(path, self.to_dict())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "LundRatio":
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise InputError(f"{path}: cannot read the Lund ratio ({e})") from None
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise InputError(
                f"{path}: field 'format' must be '{FORMAT}', got {d.get('format') if isinstance(d, dict) else d!r}"
            )
        binning = LundBinning(**{k: tuple(v) for k, v in d["binning"].items()})

        def counts(name):
            c = d.get(name)
            if c is None:
                return None
            out = LundCounts(np.array(c["splittings"], dtype=float), np.array(c["subjets"], dtype=float))
            if out.splittings.shape != binning.shape or out.subjets.shape != binning.shape[:1]:
                raise InputError(
                    f"{path}: field '{name}' has shape {out.splittings.shape}, binning says {binning.shape}"
                )
            return out

        return cls(binning, counts("data"), counts("sim"), counts("sim_alt"), d.get("provenance", {}))
