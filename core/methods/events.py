"""In-memory event arrays that methods train on: read once from an EventSet, sliced per fold.

Methods never see truth labels: ``Events`` holds only what a real-data analysis has. The jet
features are the CMS CWoLa / TNT set (m_SD, τ21, τ32, τ43, n_constituents, lepton fraction,
b-tag); a feature missing from the EventSet (e.g. b-tag in files without it) is left out, and
methods that need it say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import awkward as ak
import numpy as np

from anomalyscope.core.data import EventSet
from anomalyscope.core.errors import InputError

JET_FEATURES = ("msoftdrop", "tau21", "tau32", "tau43", "n_constituents", "lepton_fraction", "btag")
LOG_FEATURES = ("msoftdrop", "n_constituents")  # heavy-tailed: classifiers see log(1 + x)
N_CONSTITUENTS = 100


@dataclass
class Events:
    event_id: np.ndarray
    mjj: np.ndarray
    deta: np.ndarray
    jets: np.ndarray  # (n, 2, n_features) float32, jets ordered by pT
    feature_names: tuple
    source: str = ""
    _constituents: np.ndarray | None = field(default=None, repr=False)
    _es: EventSet | None = field(default=None, repr=False)
    _index: np.ndarray | None = field(default=None, repr=False)
    # what an Events and its subsets share: the EventSet's constituents, read once for all folds and regions
    _shared: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.mjj)

    @classmethod
    def from_eventset(cls, es: EventSet, mask: np.ndarray | None = None, features: tuple = JET_FEATURES) -> "Events":
        cols = ["event_id", "mjj", "deta"] + [f"{j}.{f}" for j in ("j1", "j2") for f in features]
        arr = es.load(cols)
        present = [
            f
            for f in features
            if f in arr["j1"].fields and not np.all(np.isnan(ak.to_numpy(arr["j1"][f]).astype(float)))
        ]
        jets = np.stack(
            [np.column_stack([ak.to_numpy(arr[j][f]).astype(np.float32) for f in present]) for j in ("j1", "j2")],
            axis=1,
        )
        index = np.arange(len(arr))
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if len(mask) != len(arr):
                raise InputError(f"{es.path}: mask has {len(mask)} entries for {len(arr)} events")
            index = index[mask]
        return cls(
            ak.to_numpy(arr.event_id)[index],
            ak.to_numpy(arr.mjj)[index].astype(np.float64),
            ak.to_numpy(arr.deta)[index].astype(np.float64),
            jets[index],
            tuple(present),
            str(es.path),
            None,
            es,
            index,
        )

    def subset(self, idx) -> "Events":
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        cons = None if self._constituents is None else self._constituents[idx]
        base = None if self._index is None else self._index[idx]
        return Events(
            self.event_id[idx],
            self.mjj[idx],
            self.deta[idx],
            self.jets[idx],
            self.feature_names,
            self.source,
            cons,
            self._es,
            base,
            self._shared,
        )

    def classifier_inputs(self) -> np.ndarray:
        """(n, 2, n_features) jet features as classifiers take them: heavy-tailed ones as log(1 + x)."""
        x = self.jets.astype(np.float32).copy()
        for i, name in enumerate(self.feature_names):
            if name in LOG_FEATURES:
                x[:, :, i] = np.log1p(np.clip(x[:, :, i], 0.0, None))
        return x

    def feature(self, name: str) -> np.ndarray:
        """(n, 2) values of one jet feature."""
        if name not in self.feature_names:
            raise InputError(f"{self.source}: jet feature '{name}' is not available (have {self.feature_names})")
        return self.jets[:, :, self.feature_names.index(name)]

    def constituents(self) -> np.ndarray:
        """(n, 2, 100, 3) float32 px, py, pz of the leading constituents, zero-padded (read on first use)."""
        if self._constituents is None:
            if self._es is None:
                raise InputError(f"{self.source}: no constituents available for these events")
            if "constituents" not in self._es.jet_fields:
                raise InputError(
                    f"{self.source}: the jets have no constituents (the source had none, e.g. NanoAOD without "
                    "PF candidates); this method needs them"
                )
            if "constituents" not in self._shared:
                self._shared["constituents"] = _padded_constituents(self._es)
            out = self._shared["constituents"]
            self._constituents = out if self._index is None else out[self._index]
        return self._constituents


def _padded_constituents(es: EventSet) -> np.ndarray:
    """(n, 2, N_CONSTITUENTS, 3) float32 px, py, pz of each jet's leading constituents (stored pT-ordered),
    zero-padded."""
    arr = es.load(["j1.constituents", "j2.constituents"])
    out = np.zeros((len(arr), 2, N_CONSTITUENTS, 3), dtype=np.float32)
    for j, name in enumerate(("j1", "j2")):
        c = arr[name].constituents
        counts = ak.to_numpy(ak.num(c, axis=1)).astype(np.int64)
        local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        keep = local < N_CONSTITUENTS
        rows, slots = np.repeat(np.arange(len(counts)), counts)[keep], local[keep]
        xyz = np.column_stack([ak.to_numpy(ak.flatten(c[comp], axis=1)) for comp in ("px", "py", "pz")])
        out[rows, j, slots] = xyz[keep]
    return out
