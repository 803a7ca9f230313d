"""The LHC Olympics 2020 HDF5 layout (arXiv:2101.08320): read it into EventSets, write it back out.

A file is a pandas DataFrame stored with ``DataFrame.to_hdf`` (one key, usually ``df``): one row per
event, up to 700 hadrons as (pT, η, φ) triplets zero-padded to 2100 float columns, and in the R&D
files a 2101st column with the truth label (1 signal, 0 background). Black boxes have no label.

Hadrons are taken as massless (the files give no mass) and of unknown particle class, so the lepton
fraction is absent; there is no b-tag. Jets are clustered with the same code and jet definition as
our generated events (anti-kT, R configurable; the LHCO papers use R = 1.0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import awkward as ak
import numpy as np

import anomalyscope.core.data.sources as sources
from anomalyscope.core.data.atomic import temp_sibling
from anomalyscope.core.data.eventset import UNKNOWN_PROCESS, EventSet
from anomalyscope.core.errors import InputError, row_list, short_message
from anomalyscope.core.features.jets import (
    Selection,
    event_record,
    leading_dijets,
    particles_from_ptetaphi,
    tau_axes_name,
)

N_HADRONS = 700
N_COLUMNS = 3 * N_HADRONS  # 2100
LHCO_SELECTION = Selection(jet_r=1.0)


@dataclass(frozen=True)
class LHCOFormat:
    """How to read LHCO files: the HDF5 key (None = the file's only key), the jet selection, process names."""

    key: str | None = None
    selection: Selection = field(default_factory=lambda: LHCO_SELECTION)
    signal_process: str = "lhco_signal"
    background_process: str = "qcd"
    kind: str = "lhco"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "layout": "LHC Olympics 2020 HDF5 (pandas; 700 hadrons x (pT, eta, phi) [+ label])",
            "key": self.key,
            "signal_process": self.signal_process,
            "background_process": self.background_process,
        }

    def tau_axes(self, info: dict) -> str:
        """τ_N are always computed here, from the hadrons."""
        return tau_axes_name(self.selection)

    # ------------------------------------------------------------------ file facts
    def inspect(self, path: str | Path) -> dict:
        """Entries and whether the file carries truth; a clear InputError for anything not in the layout. A
        remote file (``https://``, ``s3://``, ...) is fetched once into the local cache and read there."""
        import pandas as pd

        inp = sources.parse(path)
        path = sources.local_copy(inp)
        if not path.exists():
            raise InputError(f"{path}: no such file")
        _check_hdf5(path)
        try:
            with pd.HDFStore(path, mode="r") as store:
                keys = store.keys()
                key = self._key(path, keys)
                storer = store.get_storer(key)
                shape = _frame_shape(storer)
        except InputError:
            raise
        except Exception as exc:  # PyTables / HDF5 raise many types for damaged or foreign files
            raise InputError(
                f"{path}: not a readable LHCO HDF5 file ({type(exc).__name__}: {short_message(exc)})"
            ) from None
        if shape is None:
            raise InputError(f"{path}: key '{key}' is not a pandas DataFrame")
        n_rows, n_cols = shape
        if n_cols not in (N_COLUMNS, N_COLUMNS + 1):
            raise InputError(
                f"{path}: key '{key}' has {n_cols} columns; the LHCO layout has {N_COLUMNS} "
                f"(700 hadrons x pT, eta, phi) or {N_COLUMNS + 1} (with the truth label)"
            )
        return {"n_entries": int(n_rows), "has_truth": n_cols == N_COLUMNS + 1, "key": key, "local": str(path)}

    def _key(self, path: Path, keys: list[str]) -> str:
        if self.key is not None:
            want = "/" + self.key.lstrip("/")
            if want not in keys:
                raise InputError(f"{path}: no key '{self.key}' (keys: {', '.join(keys) or 'none'})")
            return want
        if len(keys) != 1:
            raise InputError(f"{path}: holds {len(keys)} keys ({', '.join(keys) or 'none'}); choose one with --key")
        return keys[0]

    # ------------------------------------------------------------------ reading
    def read_chunk(
        self, path: str | Path, start: int, stop: int, first_id: int, info: dict
    ) -> tuple[ak.Array, list[str]]:
        """Events of rows [start, stop) passing the selection, and warnings (each naming file and rows)."""
        local = Path(info.get("local", ""))
        path = local if local.name and local.exists() else sources.local_copy(sources.parse(path))  # another machine
        try:
            table = _read_rows(path, info["key"], start, stop)
        except Exception as exc:
            raise InputError(
                f"{path}: rows {start}-{stop}: cannot be read ({type(exc).__name__}: {short_message(exc)})"
            ) from None
        warnings = []
        finite = np.isfinite(table).all(axis=1)
        if not finite.all():
            bad = np.flatnonzero(~finite) + start
            warnings.append(f"{path}: {len(bad)} event(s) with NaN/inf values dropped (rows {row_list(bad)})")
        labels = table[:, N_COLUMNS] if info["has_truth"] else None
        if labels is not None:
            odd = finite & ~np.isin(labels, (0.0, 1.0))
            if odd.any():
                rows = row_list(np.flatnonzero(odd) + start)
                raise InputError(f"{path}: column {N_COLUMNS} (truth label) holds values other than 0/1 (rows {rows})")
        hadrons = table[:, :N_COLUMNS].reshape(len(table), N_HADRONS, 3)
        hadrons[~finite] = 0.0
        present = hadrons[:, :, 0] > 0.0
        counts = present.sum(axis=1)
        h = hadrons[present]
        particles = particles_from_ptetaphi(h[:, 0], h[:, 1], h[:, 2], np.zeros(len(h)), np.full(len(h), -1), counts)
        keep, jets, cons, mjj, deta = leading_dijets(particles, self.selection)  # zeroed rows have no jets
        k = int(keep.sum())
        if labels is None:
            label = np.full(k, -1, dtype=np.int8)
            process = np.full(k, UNKNOWN_PROCESS)
        else:
            label = labels[keep].astype(np.int8)
            process = np.where(label == 1, self.signal_process, self.background_process)
        extra = {
            "event_id": first_id + np.flatnonzero(keep).astype(np.int64),
            "weight": np.ones(k, dtype=np.float32),
            "label": label,
            "process": process.astype(str),
            "pthat": np.full(k, np.nan, dtype=np.float32),
        }
        if k == 0:
            return None, warnings
        rng = np.random.default_rng(0)  # unused: no heavy-flavour hadrons, so no b-tag is drawn
        return event_record(jets, cons, mjj[keep], deta[keep], extra, self.selection, None, rng), warnings


# ---------------------------------------------------------------------- writing
def write_lhco_table(path: str | Path, hadrons: np.ndarray, labels: np.ndarray | None = None, key: str = "df") -> Path:
    """Write (n, k ≤ 700, 3) hadron (pT, η, φ) arrays in the exact LHCO layout, atomically.

    Rows are zero-padded to 2100 float64 columns named 0..2099 (plus column 2100 = label when given),
    stored with pandas ``to_hdf`` in fixed format, as the published files are.
    """
    import pandas as pd

    path = Path(path)
    hadrons = np.asarray(hadrons, dtype=np.float64)
    if hadrons.ndim != 3 or hadrons.shape[2] != 3 or hadrons.shape[1] > N_HADRONS:
        raise InputError(f"{path}: hadrons must have shape (events, <= {N_HADRONS}, 3), got {hadrons.shape}")
    table = np.zeros((len(hadrons), N_COLUMNS + (labels is not None)), dtype=np.float64)
    table[:, : hadrons.shape[1] * 3] = hadrons.reshape(len(hadrons), hadrons.shape[1] * 3)
    if labels is not None:
        table[:, N_COLUMNS] = np.asarray(labels, dtype=np.float64)
    with temp_sibling(path) as tmp:
        pd.DataFrame(table).to_hdf(tmp, key=key, mode="w")
    return path


def _check_hdf5(path: Path) -> None:
    """Name what is wrong with a file HDF5 cannot open (PyTables only says "HDF5 error back trace")."""
    import h5py

    if not h5py.is_hdf5(path):
        raise InputError(f"{path}: not an HDF5 file (no HDF5 signature); the LHC Olympics files are HDF5")
    try:
        h5py.File(path, "r").close()
    except OSError as exc:  # truncated, damaged superblock, ...
        why = str(exc).split("(", 1)[-1].rstrip(")") if "(" in str(exc) else short_message(exc)
        raise InputError(f"{path}: a damaged HDF5 file ({why})") from None


def eventset_hadrons(es: EventSet) -> tuple[np.ndarray, np.ndarray | None]:
    """Both jets' stored constituents per event as (n, k, 3) (pT, η, φ), pT-ordered, and the labels if all known.

    An EventSet keeps only the jets' leading constituents (at most 100 per jet), so an exported event holds
    those, not the full event of the original file.
    """
    if "constituents" not in es.jet_fields:
        raise InputError(
            f"{es.path}: stores no jet constituents, and the LHCO format is a list of hadrons; "
            "export --format root keeps the jets"
        )
    arr = es.load(["j1.constituents", "j2.constituents", "label"], truth=True)
    cons = ak.concatenate([arr.j1.constituents, arr.j2.constituents], axis=1)
    pt = np.hypot(cons.px, cons.py)
    order = ak.argsort(pt, axis=1, ascending=False)
    cons, pt = cons[order], pt[order]
    eta = np.arcsinh(cons.pz / pt)
    phi = np.arctan2(cons.py, cons.px)
    k = min(int(ak.max(ak.num(pt), initial=0)), N_HADRONS)
    if k == 0 and len(arr):
        raise InputError(f"{es.path}: its jets' constituent lists are all empty; nothing to export as LHCO hadrons")
    out = np.zeros((len(arr), k, 3), dtype=np.float64)
    for i, comp in enumerate((pt, eta, phi)):
        out[:, :, i] = ak.to_numpy(ak.fill_none(ak.pad_none(comp, k, clip=True), 0.0))
    labels = ak.to_numpy(arr.label)
    return out, (labels if len(labels) and (labels >= 0).all() else None)


def export_lhco(es: EventSet, path: str | Path, key: str = "df") -> Path:
    """An EventSet in the LHCO layout: R&D-like (with labels) when every event's truth is known, else black-box."""
    hadrons, labels = eventset_hadrons(es)
    return write_lhco_table(path, hadrons, labels, key=key)


def _read_rows(path: Path, key: str, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) as a float64 (rows, columns) array, reading only those rows from disk.

    pandas' fixed format keeps a single-dtype frame in one HDF5 dataset, ``<key>/block0_values`` (rows x
    columns), which h5py slices directly; ``pd.read_hdf(start=, stop=)`` on that format reads the whole
    table (measured: peak memory grew with the file, bench/bench_readers.py). Other layouts (table format,
    several dtype blocks) go through pandas, which reads table-format rows selectively.
    """
    import h5py

    with h5py.File(path, "r") as f:
        group = f[key]
        attrs = group.attrs
        fixed = (
            isinstance(group, h5py.Group)
            and attrs.get("pandas_type", b"") in (b"frame", "frame")
            and int(attrs.get("nblocks", 0)) == 1
            and "block0_values" in group
        )
        if fixed:
            items = group["block0_items"][:]
            if np.array_equal(items.astype(np.int64), np.arange(len(items))):
                return np.asarray(group["block0_values"][start:stop], dtype=np.float64)
    import pandas as pd

    return pd.read_hdf(path, key, start=start, stop=stop).to_numpy(dtype=np.float64, copy=True)


def _frame_shape(storer) -> tuple[int, int] | None:
    shape = getattr(storer, "shape", None)
    if shape is None or len(shape) != 2:
        return None
    return int(shape[0]), int(shape[1])
