"""A bump hunt's statistical model, handed to the combination tools: ROOT histograms + a Combine datacard,
and a pyhf JSON workspace.

One selection of a Run (a method, a cut efficiency, a window) as the search fits it: the observed m_jj
counts over the fit range, the background as the F-test's dijet fit to them (a fixed template: its
parameters are not free in these files), and the search's Gaussian signal template at one mass, normalised
to one event so that the signal strength μ is the number of signal events. Limits and significances
computed from either file equal ours with the background fixed (``tests/core/test_statmodel.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anomalyscope.core.bumphunt.result import Excess
from anomalyscope.core.bumphunt.search import INCLUSIVE
from anomalyscope.core.data.atomic import publish_dir, staging_dir, write_json_atomic, write_text_atomic
from anomalyscope.core.errors import InputError, NothingSelected

SHAPES_FILE = "shapes.root"
CHANNEL = "mjj"


@dataclass(frozen=True)
class StatModel:
    method: str
    efficiency: float
    window: str | None
    mass: float  # GeV, the signal hypothesis
    edges: np.ndarray  # GeV
    observed: np.ndarray
    background: np.ndarray  # the fit's expected counts per bin
    signal: np.ndarray  # the signal template's fraction per bin (sums to ≤ 1: tails outside the range)
    fit_order: int

    def pyhf_spec(self) -> dict:
        """A pyhf workspace: one channel, signal with a free normalisation μ, background fixed."""
        return {
            "channels": [
                {
                    "name": CHANNEL,
                    "samples": [
                        {
                            "name": "signal",
                            "data": self.signal.tolist(),
                            "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                        },
                        {"name": "background", "data": self.background.tolist(), "modifiers": []},
                    ],
                }
            ],
            "observations": [{"name": CHANNEL, "data": self.observed.tolist()}],
            "measurements": [
                {"name": "bump_hunt", "config": {"poi": "mu", "parameters": [{"name": "mu", "bounds": [[0, 1e6]]}]}}
            ],
            "version": "1.0.0",
        }

    def datacard(self, shapes: str = SHAPES_FILE) -> str:
        """A Combine shape datacard reading ``shapes`` (rate −1: the histograms' integrals)."""
        rule = "-" * 60
        return "\n".join(
            [
                f"# anomalyscope: {self.method}, ε = {self.efficiency:g}, window {self.window}, m = {self.mass:.0f} GeV",
                f"# background: the {self.fit_order}-parameter dijet fit, fixed; signal: 1 event at r = 1",
                "imax 1",
                "jmax 1",
                "kmax 0",
                rule,
                f"shapes * * {shapes} $PROCESS",
                rule,
                f"bin          {CHANNEL}",
                f"observation  {self.observed.sum():g}",
                rule,
                f"bin          {CHANNEL}  {CHANNEL}",
                "process      signal  background",
                "process      0  1",
                "rate         -1  -1",
                "",
            ]
        )

    def histograms(self) -> dict:
        """data_obs, background, signal as hist.Hist over m_jj [GeV] (what the ROOT file holds)."""
        import hist

        out = {}
        for name, values in (("data_obs", self.observed), ("background", self.background), ("signal", self.signal)):
            h = hist.Hist(hist.axis.Variable(self.edges, name="mjj", label="m_jj [GeV]"), storage=hist.storage.Weight())
            h.view().value = values
            h.view().variance = values if name == "data_obs" else np.zeros_like(values)
            out[name] = h
        return out


def statistical_model(run, method: str, efficiency: float | None = None, window: str | None = None,
                      mass: float | None = None) -> StatModel:  # fmt: skip
    """The model of one selection of ``run``. Unset choices come from the method's largest local excess
    in the Run's search (its cut, window and mass); the inclusive spectrum has no cut and no window."""
    if method not in run.methods:
        raise InputError(f"{run.path}: no method '{method}'; the Run holds {', '.join(run.methods)}")
    search, table = run.search(), run.table()
    res = run.search_result()
    best = res.best_excesses().get(method) if res is not None else None
    best = best if best is not None else Excess(float("nan"))
    inclusive = method == INCLUSIVE or efficiency == 1.0
    if efficiency is None:
        efficiency = 1.0 if method == INCLUSIVE else best.eff
    if efficiency is None:
        raise InputError(f"{run.path}: the search found no excess of {method} to export; give --efficiency")
    if not inclusive and window is None:
        window = best.window
        if window is None:
            raise InputError(f"{run.path}: give --window for a cut of {method} (no excess of it to take one from)")
    w = None if inclusive else search.window(window)
    if mass is None:
        mass = best.mass if best.mass is not None else (np.mean(w.sr) if w is not None else None)
    if mass is None:
        raise InputError(f"{run.path}: give --mass (no excess of {method} to take one from)")
    spec = search.spectrum(table.mjj[search.selected(table, method, efficiency, w)])
    if spec.total == 0:
        raise NothingSelected(f"{method} at ε = {efficiency:g} selects no event in the fit range")
    fit = search.fit(spec).chosen
    signal = search.definition.signal.templates([float(mass)], spec.edges)[0]
    return StatModel(
        method, float(efficiency), None if w is None else w.name, float(mass), spec.edges, spec.counts.astype(float),
        fit.expected.astype(float), signal, fit.order,
    )  # fmt: skip


def write_model(model: StatModel, out: Path, overwrite: bool = False) -> Path:
    """``out/``: shapes.root (uproot), datacard.txt (Combine), workspace.json (pyhf), model.json (what it is),
    written whole (a staging directory, then rename)."""
    import uproot

    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(f"{out}: already exists (pass --overwrite to replace it)")
    with staging_dir(out) as tmp:
        with uproot.recreate(tmp / SHAPES_FILE) as f:
            for name, h in model.histograms().items():
                f[name] = h
        write_text_atomic(tmp / "datacard.txt", model.datacard())
        write_text_atomic(tmp / "workspace.json", json.dumps(model.pyhf_spec(), indent=1) + "\n")
        write_json_atomic(
            tmp / "model.json",
            {
                "method": model.method,
                "efficiency": model.efficiency,
                "window": model.window,
                "mass_gev": model.mass,
                "edges_gev": model.edges.tolist(),
                "background": f"{model.fit_order}-parameter dijet fit (F-test), fixed",
                "signal": "Gaussian template of the search's resolution, normalised to 1 event (μ = events)",
            },
        )
        publish_dir(tmp, out, overwrite=overwrite)
    return out
