"""The injection scan (``injection_scan.json``, beside the scan's Runs) as a typed record (see ``records``):
what ``injection-scan`` and ``benchmark`` write, what the sensitivity view, ``plot`` and the command line read.

Z values are per method, per injected amount (rows) and per draw (columns); a point a draw did not reach is
NaN. A sensitivity that was not reached is null, not absent.
"""

from __future__ import annotations

from dataclasses import dataclass

from anomalyscope.core.records import Record

THRESHOLDS = (3, 5)  # the significances a sensitivity is quoted at


@dataclass(frozen=True)
class Sensitivity(Record):
    """Injected signal events for a median Z of 3 and 5 (interpolated; bootstrap spread over draws), the
    fraction of bootstrap samples that reached it, the cross section it means, and the inclusive's ratio."""

    n_3sigma: float | None
    n_3sigma_err: float | None
    n_3sigma_reached_in: float
    n_5sigma: float | None
    n_5sigma_err: float | None
    n_5sigma_reached_in: float
    improvement_3sigma: float | None  # inclusive's n / this method's n
    improvement_5sigma: float | None
    xsec_3sigma_fb: float | None = None  # only with the scan's luminosity: σ × B [× A without the efficiency]
    xsec_5sigma_fb: float | None = None

    def events(self, z: int) -> tuple[float | None, float | None]:
        """(events, bootstrap spread) for a median Z of ``z`` (3 or 5)."""
        return getattr(self, f"n_{z}sigma"), getattr(self, f"n_{z}sigma_err")

    def xsec_fb(self, z: int) -> float | None:
        return getattr(self, f"xsec_{z}sigma_fb")

    def improvement(self, z: int) -> float | None:
        return getattr(self, f"improvement_{z}sigma")


@dataclass(frozen=True)
class InjectionScan(Record):
    mass: float  # the injected resonance's mass [GeV]
    reconstructed_peak: float  # where its m_jj peaks after the detector [GeV]
    efficiency: float  # the anomaly cut's background efficiency
    draws: int
    mode: str
    injections: list[int]  # injected signal events
    luminosity_fb: float | None
    signal_efficiency: float | None
    z: dict[str, list[list[float]]]  # expected (toy-median) Z per injection and draw
    z_observed: dict[str, list[list[float]]]
    median_z_observed: dict[str, list[float]]
    median_z: dict[str, list[float]]
    sensitivity: dict[str, Sensitivity]
    schema_version: int = 0
    # the same Runs read at every other efficiency they searched, keyed by the efficiency ("0.01"); scans written
    # before it lack it
    other_efficiencies: dict[str, InjectionScan] | None = None

    def at(self, efficiency: float) -> InjectionScan:
        """The scan read at ``efficiency`` (its own or one of ``other_efficiencies``)."""
        if efficiency == self.efficiency:
            return self
        others = self.other_efficiencies or {}
        if str(float(efficiency)) not in others:
            raise KeyError(f"the scan was read at ε = {self.efficiency:g} and {sorted(others)}, not {efficiency:g}")
        return others[str(float(efficiency))]

    @property
    def efficiencies(self) -> list[float]:
        """Every efficiency the scan can be read at, the scan's own first."""
        return [self.efficiency, *sorted((float(e) for e in self.other_efficiencies or {}), reverse=True)]
