"""Decay a produced resonance A through a model's cascade and write Les Houches events.

Pythia makes A (parton densities, matrix element, Breit–Wigner mass) at process level; this
module decays it: each two-body decay is isotropic in the parent's rest frame (spin correlations
are not modelled), masses of new particles follow a Breit–Wigner of the model's width, colour
lines are assigned (a colourless parent gives its quark pair a new colour line; a coloured parent
passes its colour to its coloured daughter). The result is an LHEF that Pythia showers,
hadronises and overlays with MPI, decaying t/W/Z itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anomalyscope.core.generate.processes import QQ, Decay

QUARK_MASS = {1: 0.0, 2: 0.0, 3: 0.0, 4: 1.5, 5: 4.8, 6: 173.0}
NEUTRAL_QQ = (1, 2, 3, 4, 5)
CHARGED_QQ = ((2, -1), (4, -3))  # for a positive parent; conjugated for negative


@dataclass
class Line:
    pdg: np.ndarray  # (n,)
    status: int
    mother: int  # 1-based LHE index of the mother line (0 for none)
    col: np.ndarray
    acol: np.ndarray
    p: np.ndarray  # (n, 4): px, py, pz, E
    m: np.ndarray


def _boost(p_rest: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Boost 4-vectors given in the parent rest frame into the lab frame (vectorised)."""
    mass = np.sqrt(np.maximum(parent[:, 3] ** 2 - np.sum(parent[:, :3] ** 2, axis=1), 1e-12))
    beta = parent[:, :3] / parent[:, 3:4]
    gamma = parent[:, 3] / mass
    bp = np.sum(beta * p_rest[:, :3], axis=1)
    b2 = np.sum(beta**2, axis=1)
    g2 = np.where(b2 > 0, (gamma - 1.0) / np.where(b2 > 0, b2, 1.0), 0.0)
    space = p_rest[:, :3] + (g2 * bp + gamma * p_rest[:, 3])[:, None] * beta
    energy = gamma * (p_rest[:, 3] + bp)
    return np.column_stack([space, energy])


def two_body(parent: np.ndarray, m1: np.ndarray, m2: np.ndarray, rng: np.random.Generator):
    """Isotropic two-body decays of parent 4-vectors (n, 4) into masses m1, m2."""
    big_m = np.sqrt(np.maximum(parent[:, 3] ** 2 - np.sum(parent[:, :3] ** 2, axis=1), 0.0))
    lam = (big_m**2 - (m1 + m2) ** 2) * (big_m**2 - (m1 - m2) ** 2)
    pstar = np.sqrt(np.maximum(lam, 0.0)) / (2 * big_m)
    cos_t = rng.uniform(-1, 1, len(parent))
    sin_t = np.sqrt(1 - cos_t**2)
    phi = rng.uniform(-np.pi, np.pi, len(parent))
    d = np.column_stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t]) * pstar[:, None]
    p1 = np.column_stack([d, np.sqrt(pstar**2 + m1**2)])
    p2 = np.column_stack([-d, np.sqrt(pstar**2 + m2**2)])
    return _boost(p1, parent), _boost(p2, parent)


class CascadeBuilder:
    """Builds the LHE lines of one chunk of events, all events at once (numpy over events)."""

    def __init__(self, particle_data, masses: dict, rng: np.random.Generator):
        self.pd = particle_data
        self.m = masses
        self.rng = rng
        self.lines: list[Line] = []
        self.next_col = None

    # -------------------------------------------------------------- particle facts
    def charge3(self, pdg: np.ndarray) -> np.ndarray:
        return np.array([round(3 * self.pd.charge(int(p))) for p in pdg])

    def col_type(self, pdg: int) -> int:
        return self.pd.colType(int(pdg))

    def conj(self, pdg: int, sign: np.ndarray) -> np.ndarray:
        """pdg for a positive parent, conjugated where the cascade's parent is an antiparticle."""
        if self.pd.hasAnti(abs(int(pdg))):
            return np.where(sign > 0, pdg, -pdg)
        return np.full(len(sign), abs(pdg))

    def mass_of(self, node: Decay, n: int) -> np.ndarray:
        apdg = abs(node.pdg)
        if node.mass is not None:
            m0 = self.m[node.mass]
            width = self.m.get("width_fraction", 0.01) * m0
        elif apdg in QUARK_MASS:
            m0, width = QUARK_MASS[apdg], (1.4 if apdg == 6 else 0.0)
        else:
            m0, width = self.pd.m0(apdg), self.pd.mWidth(apdg)
        if width <= 0:
            return np.full(n, m0)
        # Cauchy (Breit–Wigner) truncated at ±5 widths
        u = self.rng.uniform(np.arctan(-10.0), np.arctan(10.0), n)
        return np.maximum(m0 + 0.5 * width * np.tan(u), 0.0)

    # -------------------------------------------------------------- building
    def build(self, incoming: list[Line], a_line: Line, cascade: Decay) -> list[Line]:
        self.lines = list(incoming) + [a_line]
        n = len(a_line.pdg)
        self.next_col = np.full(n, 600)
        sign = np.sign(a_line.pdg)
        self._decay(len(self.lines), cascade, sign)
        return self.lines

    def _new_col(self) -> np.ndarray:
        c = self.next_col.copy()
        self.next_col += 1
        return c

    def _decay(self, parent_index: int, node: Decay, sign: np.ndarray) -> None:
        """Decay line parent_index by node; pdg codes in the model are for a positive A, so the whole
        tree is conjugated with the sign of A (sign), not of the intermediate particle."""
        parent = self.lines[parent_index - 1]
        n = len(parent.pdg)
        kids = node.children
        if kids == (QQ,):
            q1, q2 = self._quark_pair(parent)
            kid_pdgs = [q1, q2]
            kid_nodes = [Decay(0), Decay(0)]
            masses = [np.array([QUARK_MASS[abs(int(q))] for q in q1]), np.array([QUARK_MASS[abs(int(q))] for q in q2])]
        else:
            kid_pdgs = [self.conj(k.pdg, sign) for k in kids]
            kid_nodes = list(kids)
            masses = [self.mass_of(k, n) for k in kids]
        # resample masses that do not fit the parent's mass
        big_m = parent.m
        for _ in range(100):
            bad = masses[0] + masses[1] >= big_m
            if not bad.any():
                break
            for i, k in enumerate(kid_nodes):
                if k.pdg != 0:
                    masses[i][bad] = self.mass_of(k, int(bad.sum()))
        p1, p2 = two_body(parent.p, masses[0], masses[1], self.rng)
        cols = self._colours(parent, kid_pdgs)
        for pdg, p, mass, (col, acol), k in zip(kid_pdgs, (p1, p2), masses, cols, kid_nodes):
            has_decay = k.pdg != 0 and len(k.children) > 0
            self.lines.append(Line(pdg, 2 if has_decay else 1, parent_index, col, acol, p, mass))
            if has_decay:
                self._decay(len(self.lines), k, sign)

    def _quark_pair(self, parent: Line):
        n = len(parent.pdg)
        ch = self.charge3(parent.pdg)
        q = np.array(NEUTRAL_QQ)[self.rng.integers(0, len(NEUTRAL_QQ), n)]
        q1, q2 = q.copy(), -q
        pick = self.rng.integers(0, len(CHARGED_QQ), n)
        up = np.array([CHARGED_QQ[i][0] for i in pick])
        down = np.array([CHARGED_QQ[i][1] for i in pick])
        pos, neg = ch == 3, ch == -3
        q1[pos], q2[pos] = up[pos], down[pos]
        q1[neg], q2[neg] = -up[neg], -down[neg]
        if np.any(np.abs(ch) > 3):
            raise ValueError("a boson of charge |q| > 1 cannot decay to one quark pair")
        return q1, q2

    def _colours(self, parent: Line, kid_pdgs: list[np.ndarray]):
        n = len(parent.pdg)
        zero = np.zeros(n, dtype=np.int64)
        types = [np.array([self.col_type(abs(int(p))) * np.sign(p) for p in pdgs]) for pdgs in kid_pdgs]
        out = [(zero.copy(), zero.copy()), (zero.copy(), zero.copy())]
        parent_coloured = (parent.col != 0) | (parent.acol != 0)
        both = (types[0] != 0) & (types[1] != 0) & ~parent_coloured
        c = self._new_col()
        for i, t in enumerate(types):
            out[i][0][both & (t > 0)] = c[both & (t > 0)]
            out[i][1][both & (t < 0)] = c[both & (t < 0)]
            inherit = parent_coloured & (t != 0)
            out[i][0][inherit] = parent.col[inherit]
            out[i][1][inherit] = parent.acol[inherit]
        return out


def production_lines(pythia, n: int) -> tuple[list[Line], Line, np.ndarray]:
    """Generate n events at process level; return incoming partons, the resonance line and SCALUP."""
    rows = []
    while len(rows) < n:
        if not pythia.next():
            continue
        proc = pythia.process
        inc = [p for p in proc if p.status() == -21]
        res = [p for p in proc if p.status() in (22, 23) and p.isResonance()]
        rows.append([(p.id(), p.col(), p.acol(), p.px(), p.py(), p.pz(), p.e(), p.m()) for p in (*inc, res[0])])
    arr = np.array(rows, dtype=np.float64)  # (n, 3, 8)

    def line(k: int, status: int, mother: int) -> Line:
        a = arr[:, k]
        return Line(
            a[:, 0].astype(np.int64),
            status,
            mother,
            a[:, 1].astype(np.int64),
            a[:, 2].astype(np.int64),
            a[:, 3:7].copy(),
            a[:, 7].copy(),
        )

    resonance = line(2, 2, 1)
    return [line(0, -1, 0), line(1, -1, 0)], resonance, resonance.m.copy()


def write_lhef(path: Path, lines: list[Line], scale: np.ndarray, sigma_pb: float) -> None:
    n = len(lines[0].pdg)
    with open(path, "w") as fh:
        fh.write('<LesHouchesEvents version="1.0">\n<init>\n')
        fh.write("2212 2212 6.5e+03 6.5e+03 0 0 0 0 3 1\n")
        fh.write(f"{sigma_pb:.6e} 0.0 1.0 1\n</init>\n")
        for i in range(n):
            fh.write(f"<event>\n{len(lines)} 1 1.0 {scale[i]:.6e} 7.8125e-03 1.18e-01\n")
            for ln in lines:
                # the resonance (third line) comes from both incoming partons
                m1, m2 = (1, 2) if ln is lines[2] else (ln.mother, 0)
                p = ln.p[i]
                fh.write(
                    f"{int(ln.pdg[i])} {ln.status} {m1} {m2} {int(ln.col[i])} {int(ln.acol[i])} "
                    f"{p[0]:.9e} {p[1]:.9e} {p[2]:.9e} {p[3]:.9e} {ln.m[i]:.9e} 0. 9.\n"
                )
            fh.write("</event>\n")
        fh.write("</LesHouchesEvents>\n")
