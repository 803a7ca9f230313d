"""The physics processes anomalyscope generates, each documented by its Pythia configuration.

Background
    ``qcd``: QCD 2→2 (``HardQCD:all``) at √s = 13 TeV, pTHat > ``pthat_min`` (default 1000 GeV) and
    optionally mHat > ``mhat_min`` (to spend the generator's time where the search looks),
    full hadronisation, multi-parton interactions and ISR/FSR with Pythia's default Monash tune.

Signals A → B C (all masses configurable with ``params``)
    Pythia's own resonance classes cannot decay a Z'/W'/H into arbitrary new particles (custom
    channels get zero width), so the heavy resonance A is produced by Pythia at process level
    (parton distributions and matrix element from Pythia), decayed through the model's cascade
    by ``core.generate.cascade`` (isotropic two-body decays, narrow Breit–Wigner masses, colour
    flow), and handed back to Pythia as Les Houches events for showers, MPI, decays of SM
    resonances (t, W, Z) and hadronisation — the same route as MadGraph + Pythia.

    =================  =================================  ====================================
    name               cascade                            production of A
    =================  =================================  ====================================
    wprime_xy          W'(3500) → X(500) Y(100), X,Y→qq   q q̄' → W' (LHC Olympics 2020 R&D)
    x_yyprime          X(3000) → Y(170) Y'(80) → 4q       q q̄ → spin-1 neutral (Z'-like)
    wprime_bprime_t    W'(3000) → B'(400) t, B' → b Z     q q̄' → W'
    wkk_rw             W_KK(3000) → R(400) W, R → W W      q q̄' → spin-1 charged (W'-like)
    zprime_tprime      Z'(3000) → T'(400) T̄', T' → t Z    q q̄ → Z'
    y_hh_tttt          Y(3000) → H(400) H, H → t t̄       g g → spin-0 neutral
    qstar_qw           Q*(3000) → q W                     q g → q* (Pythia excited quarks, native)
    zprime_ww          Z'(2000) → W⁺ W⁻ → 4q              q q̄ → Z' (control sample: boosted W jets)
    h_aa_4b            H(125) → a(30) a(30) → 4b          g g → H (L1-trigger benchmark, not a dijet)
    minbias            inelastic non-diffractive pp       SoftQCD:nonDiffractive (zero-bias-like)
    =================  =================================  ====================================

    Quarks from a neutral boson are d, u, s, c, b with equal probability; from a charged one
    (u d̄) or (c s̄). t, W, Z decay inclusively in Pythia. The width of A, B and C is
    ``width_fraction`` × mass (default 1%).

Shower and hadronisation settings
    Every process can be generated with changed shower / hadronisation settings (``tune``: a named set
    from ``TUNES``, or any Pythia settings), applied to the Pythia that showers and hadronises. The Lund
    reweighting (``core.lund``) uses them to make pseudo-data that differs from the default simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from anomalyscope.core.errors import InputError

SQRT_S = 13000.0

# Production routes: the Pythia process that makes A at process level.
PRODUCTION = {
    "qqbar_spin1_charged": {"pdg": 34, "settings": ["NewGaugeBoson:ffbar2Wprime = on"]},
    "qqbar_spin1_neutral": {"pdg": 32, "settings": ["NewGaugeBoson:ffbar2gmZZprime = on", "Zprime:gmZmode = 3"]},
    "gg_spin0_neutral": {"pdg": 35, "settings": ["Higgs:useBSM = on", "HiggsBSM:gg2H2 = on"]},
}

# New particles (id, name, spin type 2s+1, charge type 3q, colour type)
NEW_PARTICLES = {
    "X+": (9000024, "X+", "X-", 1, 3, 0),
    "X0": (9000023, "X0", "void", 1, 0, 0),
    "Y0": (9000025, "Y0", "void", 1, 0, 0),
    "Yp0": (9000026, "Yp0", "void", 1, 0, 0),
    "R0": (9000027, "R0", "void", 3, 0, 0),
    "H0heavy": (9000035, "Hheavy0", "void", 1, 0, 0),
}


@dataclass(frozen=True)
class Decay:
    """A node of a cascade: particle ``pdg`` with mass parameter ``mass`` (a key into params, or a
    fixed SM mass if None) decaying to ``children`` (empty: final state, or 'qq' for a quark pair)."""

    pdg: int
    mass: str | None = None
    children: tuple = ()


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    production: str | None  # key of PRODUCTION, None for native Pythia processes
    cascade: Decay | None
    defaults: dict
    native_settings: tuple = ()
    label_signal: bool = True
    checks: tuple = field(default_factory=tuple)  # (parent, (children...)) mass-threshold checks

    def masses(self, params: dict) -> dict:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise InputError(
                f"process {self.name}: unknown parameter(s) {sorted(unknown)}; it takes {sorted(self.defaults)}"
            )
        m = {**self.defaults, **params}
        for k, v in m.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise InputError(f"process {self.name}: parameter {k} must be a finite number, got {v!r}")
            if k in ("mA", "mB", "mC") and v <= 0:
                raise InputError(f"process {self.name}: parameter {k} must be a positive mass in GeV, got {v!r}")
            if k.endswith("_min") and v < 0:
                raise InputError(f"process {self.name}: threshold {k} must be >= 0 GeV, got {v!r}")
            if k == "width_fraction" and not 0 < v <= 0.5:
                raise InputError(f"process {self.name}: width_fraction (Γ/m) must lie in (0, 0.5], got {v!r}")
        for parent, kids in self.checks:
            total = sum(m[k] if isinstance(k, str) else k for k in kids)
            if total >= m[parent]:
                raise InputError(
                    f"process {self.name}: {parent}={m[parent]:g} GeV is lighter than its decay products "
                    f"({' + '.join(str(k) for k in kids)} = {total:g} GeV)"
                )
        if m.get("mA", 0) >= SQRT_S:
            raise InputError(f"process {self.name}: mA={m['mA']:g} GeV is above √s = {SQRT_S:g} GeV")
        return m


QQ = "qq"
M_TOP, M_W, M_Z = 173.0, 80.385, 91.1876

MODELS: dict[str, Model] = {}


def _add(model: Model):
    MODELS[model.name] = model


_add(
    Model(
        "qcd",
        "QCD dijets (HardQCD:all), pTHat > pthat_min, mHat > mhat_min",
        None,
        None,
        defaults={"pthat_min": 1000.0, "mhat_min": 0.0},
        native_settings=("HardQCD:all = on",),
        label_signal=False,
    )
)
_add(
    Model(
        "wprime_xy",
        "W'(3.5 TeV) → X(500 GeV) Y(100 GeV), X, Y → qq (LHC Olympics 2020 R&D)",
        "qqbar_spin1_charged",
        Decay(34, "mA", (Decay(9000024, "mB", (QQ,)), Decay(9000025, "mC", (QQ,)))),
        defaults={"mA": 3500.0, "mB": 500.0, "mC": 100.0, "width_fraction": 0.01},
        checks=(("mA", ("mB", "mC")),),
    )
)
_add(
    Model(
        "x_yyprime",
        "X(3 TeV) → Y(170 GeV) Y'(80 GeV) → 4q",
        "qqbar_spin1_neutral",
        Decay(32, "mA", (Decay(9000025, "mB", (QQ,)), Decay(9000026, "mC", (QQ,)))),
        defaults={"mA": 3000.0, "mB": 170.0, "mC": 80.0, "width_fraction": 0.01},
        checks=(("mA", ("mB", "mC")),),
    )
)
_add(
    Model(
        "wprime_bprime_t",
        "W'(3 TeV) → B'(400 GeV) t, B' → b Z",
        "qqbar_spin1_charged",
        Decay(34, "mA", (Decay(6), Decay(-7, "mB", (Decay(-5), Decay(23))))),
        defaults={"mA": 3000.0, "mB": 400.0, "width_fraction": 0.01},
        checks=(("mA", ("mB", M_TOP)), ("mB", (4.8, M_Z))),
    )
)
_add(
    Model(
        "wkk_rw",
        "W_KK(3 TeV) → R(400 GeV) W, R → W W",
        "qqbar_spin1_charged",
        Decay(34, "mA", (Decay(9000027, "mB", (Decay(24), Decay(-24))), Decay(24))),
        defaults={"mA": 3000.0, "mB": 400.0, "width_fraction": 0.01},
        checks=(("mA", ("mB", M_W)), ("mB", (M_W, M_W))),
    )
)
_add(
    Model(
        "zprime_tprime",
        "Z'(3 TeV) → T'(400 GeV) T̄', T' → t Z",
        "qqbar_spin1_neutral",
        Decay(32, "mA", (Decay(8, "mB", (Decay(6), Decay(23))), Decay(-8, "mB", (Decay(-6), Decay(23))))),
        defaults={"mA": 3000.0, "mB": 400.0, "width_fraction": 0.01},
        checks=(("mA", ("mB", "mB")), ("mB", (M_TOP, M_Z))),
    )
)
_add(
    Model(
        "y_hh_tttt",
        "Y(3 TeV) → H(400 GeV) H, H → t t̄",
        "gg_spin0_neutral",
        Decay(35, "mA", (Decay(9000035, "mB", (Decay(6), Decay(-6))), Decay(9000035, "mB", (Decay(6), Decay(-6))))),
        defaults={"mA": 3000.0, "mB": 400.0, "width_fraction": 0.01},
        checks=(("mA", ("mB", "mB")), ("mB", (M_TOP, M_TOP))),
    )
)
_add(
    Model(
        "qstar_qw",
        "Q*(3 TeV) → q W (excited quarks u*, d*, W inclusive)",
        None,
        None,
        defaults={"mA": 3000.0},
        native_settings=(
            "ExcitedFermion:dg2dStar = on",
            "ExcitedFermion:ug2uStar = on",
            "4000001:onMode = off",
            "4000001:onIfAny = 24",
            "4000002:onMode = off",
            "4000002:onIfAny = 24",
        ),
    )
)


_add(
    Model(
        "zprime_ww",
        "Z'(2 TeV) → W⁺ W⁻ → 4q (control sample: boosted two-prong W jets)",
        "qqbar_spin1_neutral",
        Decay(32, "mA", (Decay(24, None, (QQ,)), Decay(-24, None, (QQ,)))),
        defaults={"mA": 2000.0, "width_fraction": 0.01},
        checks=(("mA", (M_W, M_W)),),
    )
)

_add(
    Model(
        "h_aa_4b",
        "H(125 GeV) → a(30 GeV) a(30 GeV) → 4b (L1 anomaly-trigger benchmark, not a dijet)",
        "gg_spin0_neutral",
        Decay(35, "mA", (Decay(9000025, "mB", (Decay(5), Decay(-5))), Decay(9000025, "mB", (Decay(5), Decay(-5))))),
        defaults={"mA": 125.0, "mB": 30.0, "width_fraction": 0.01},
        checks=(("mA", ("mB", "mB")), ("mB", (4.8, 4.8))),
    )
)
_add(
    Model(
        "minbias",
        "inelastic non-diffractive pp collisions (SoftQCD:nonDiffractive): the zero-bias trigger's background",
        None,
        None,
        defaults={},
        native_settings=("SoftQCD:nonDiffractive = on",),
        label_signal=False,
    )
)

# Named shower / hadronisation settings (Pythia 8.3 defaults = Monash 2013). Changes are large on purpose:
# the pseudo-data has to differ visibly from the simulation in samples of a few thousand jets.
TUNES: dict[str, tuple[str, ...]] = {
    "monash": (),
    # pseudo-data: less final-state radiation (αs(MZ) of the timelike shower 0.1365 → 0.115), harder
    # fragmentation (Lund a 0.68 → 0.55), wider hadron pT in string breaks (σ 0.335 → 0.40 GeV)
    "pseudodata": ("TimeShower:alphaSvalue = 0.115", "StringZ:aLund = 0.55", "StringPT:sigma = 0.40"),
    # alternative simulation for the modelling systematic: more FSR and softer fragmentation
    "alt_shower": ("TimeShower:alphaSvalue = 0.1450", "StringZ:aLund = 0.80", "TimeShower:pTmin = 0.8"),
}


def tune_settings(tune: str | list | tuple | None) -> list[str]:
    """Pythia settings for a tune: a name from TUNES, or a list of 'Key = value' strings."""
    if tune is None:
        return []
    if isinstance(tune, str):
        if tune not in TUNES:
            raise InputError(f"unknown tune '{tune}'; known: {', '.join(TUNES)} (or give Pythia settings)")
        return list(TUNES[tune])
    bad = [t for t in tune if not isinstance(t, str) or "=" not in t]
    if bad:
        raise InputError(f"Pythia settings must look like 'Key:name = value', got {bad}")
    return list(tune)


def get_model(name: str) -> Model:
    if name not in MODELS:
        raise InputError(f"unknown process '{name}'; known: {', '.join(MODELS)}")
    return MODELS[name]


def native_settings(model: Model, m: dict) -> list[str]:
    """Pythia settings for processes generated entirely inside Pythia."""
    s = list(model.native_settings)
    if model.name == "qcd":
        s.append(f"PhaseSpace:pTHatMin = {m['pthat_min']}")
        if m["mhat_min"] > 0:
            s.append(f"PhaseSpace:mHatMin = {m['mhat_min']}")
    elif model.name == "qstar_qw":
        s += [f"4000001:m0 = {m['mA']}", f"4000002:m0 = {m['mA']}", f"ExcitedFermion:Lambda = {m['mA']}"]
    return s


def production_settings(model: Model, m: dict) -> list[str]:
    """Pythia settings for producing A (process level only) before the cascade."""
    prod = PRODUCTION[model.production]
    pdg, mass = prod["pdg"], m["mA"]
    width = m["width_fraction"] * mass
    return (
        list(prod["settings"])
        + new_particle_settings(model, m)
        + [
            f"{pdg}:m0 = {mass}",
            f"{pdg}:doForceWidth = on",
            f"{pdg}:mWidth = {width}",
            f"{pdg}:mMin = {max(mass - 20 * width, 1.0)}",
            f"{pdg}:mMax = {mass + 20 * width}",
            "PartonLevel:all = off",
            "HadronLevel:all = off",
            "ProcessLevel:resonanceDecays = off",
        ]
    )


def new_particle_settings(model: Model, m: dict) -> list[str]:
    """Declare the cascade's new particles (and move the masses of b'/t') in the showering Pythia."""
    out = []
    declared = {v[0]: v for v in NEW_PARTICLES.values()}

    def walk(node: Decay):
        if not isinstance(node, Decay):
            return
        apdg = abs(node.pdg)
        if node.mass is not None:
            mass = m[node.mass]
            width = m.get("width_fraction", 0.01) * mass
            if apdg in declared:
                pid, name, anti, spin, chg, col = declared[apdg]
                out.extend([f"{pid}:new = {name} {anti} {spin} {chg} {col} {mass}", f"{pid}:isResonance = on"])
            out.extend(
                [
                    f"{apdg}:m0 = {mass}",
                    f"{apdg}:mWidth = {width}",
                    f"{apdg}:mMin = {max(mass - 20 * width, 0.1)}",
                    f"{apdg}:mMax = {mass + 20 * width}",
                ]
            )
        for c in node.children:
            walk(c)

    if model.cascade is not None:
        for c in model.cascade.children:
            walk(c)
    return out
