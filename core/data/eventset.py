"""The EventSet: the one on-disk form of events that every part of anomalyscope reads.

An EventSet is a directory holding parquet files of awkward records (one row per event) and a
``schema.json`` describing them: schema version, units, provenance, seeds and event counts per
process. Directories are published atomically, so a reader never sees a half-written set.

Per event: ``event_id``, ``mjj``, ``deta``, ``weight``, ``label`` (0 background, 1 signal, -1 unknown),
``process``, ``pthat`` (generator only, else NaN) and two jet records ``j1``/``j2`` (the two leading
large-radius jets **ordered by pT**) with kinematics, substructure, up to 100 constituents and the
primary Lund-plane declusterings. Generated events also hold ``partons``: the quarks from decays of
heavy resonances (W, Z, H, t and the models' new particles) as (pt, eta, phi, pdgid) before showering —
the prongs the Lund-plane reweighting matches subjets to. Units: GeV, angles in radians.
"""

from __future__ import annotations

import math
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import awkward as ak
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from anomalyscope.core.data.atomic import publish_dir, staging_dir, write_json_atomic
from anomalyscope.core.data.integrity import digests, verify
from anomalyscope.core.data.schema import EventSetSchema
from anomalyscope.core.data.versioned import read_versioned_json
from anomalyscope.core.errors import InputError, InputWarning
from anomalyscope.core.features.jets import combined_tau_axes
from anomalyscope.core.provenance import provenance

SCHEMA_VERSION = 1
ROW_GROUP_ROWS = 5000  # parquet row groups: one event (the event display) is read without its whole file
SCHEMA_FILE = "schema.json"
# bench/bench_turn_on.py: pTHat > X loses at most 1% of the |Δη| < 1.3 events above 2.86–3.07·X (X = 700–1000
# GeV, 95% CL bounds 1.4–2.6%); 3.2 leaves a margin for that sample's statistics
FULL_EFFICIENCY_RATIO = 3.2
EDGE_STEP = 10.0  # GeV: fully-efficient edges are multiples of this


def fully_efficient_from(measured_edge: float, pthat_min: float) -> float:
    """Where a QCD sample generated at pTHat > ``pthat_min`` may be fitted from: above its own measured edge and
    above where that threshold is known to lose ≤ 1% (``FULL_EFFICIENCY_RATIO`` × pTHat_min, measured on 48k
    events): the calibration sample a generation makes (a twentieth of its events) sees too few events up there
    to find the loss (the demo's, 3,000 events, put its edge at 2.67 TeV for pTHat > 1 TeV, where 7–12% are lost)."""
    return max(float(measured_edge), math.ceil(FULL_EFFICIENCY_RATIO * pthat_min / EDGE_STEP) * EDGE_STEP)


TRUTH_FIELDS = ("label", "process", "partons")
UNITS = {"energy": "GeV", "momentum": "GeV", "mass": "GeV", "angle": "rad"}

CONSTITUENT_CLASSES = {-1: "unknown", 0: "charged hadron", 1: "neutral hadron", 2: "photon", 3: "electron", 4: "muon"}


class EventSet:
    """A lazily opened EventSet directory. Columns are read from parquet only when asked for."""

    def __init__(self, path: Path, schema: dict):
        self.path = Path(path)
        self.schema = schema
        self._info: tuple[dict, EventSetSchema] | None = None  # (the mapping it was made from, the record)

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | Path) -> "EventSet":
        path = Path(path)
        schema = read_versioned_json(path, SCHEMA_FILE, "EventSet", "schema_version", SCHEMA_VERSION)
        schema_path = path / SCHEMA_FILE
        info = EventSetSchema.from_dict(schema, str(schema_path))  # every field checked, named when wrong
        total = 0
        for name in info.files:
            fpath = path / name
            if not fpath.exists():
                raise InputError(f"{fpath}: listed in schema.json but missing")
            try:
                total += pq.read_metadata(fpath).num_rows
            except Exception as exc:  # pyarrow raises several types for damaged files
                raise InputError(f"{fpath}: corrupt parquet file ({type(exc).__name__}: {exc})") from None
        if total != info.n_events:
            raise InputError(f"{schema_path}: field 'n_events' says {info.n_events} but the parquet files hold {total}")
        verify(path, info.checksums, str(schema_path))
        es = cls(path, schema)
        es._info = (schema, info)
        return es

    # ------------------------------------------------------------------ facts
    @property
    def info(self) -> EventSetSchema:
        """The schema as its typed record (``data.schema``): what readers use rather than the raw mapping (made
        once per mapping: a new ``schema`` is read again)."""
        if self._info is None or self._info[0] is not self.schema:
            self._info = (self.schema, EventSetSchema.from_dict(self.schema, str(self.path / SCHEMA_FILE)))
        return self._info[1]

    def __len__(self) -> int:
        return int(self.schema["n_events"])

    def __repr__(self) -> str:
        return f"EventSet({str(self.path)!r}, n_events={len(self)}, counts={self.counts})"

    @property
    def name(self) -> str:
        return self.info.name or self.path.name

    @property
    def counts(self) -> dict:
        return dict(self.schema["counts"])

    @property
    def files(self) -> list[Path]:
        return [self.path / f for f in self.schema["files"]]

    @property
    def mjj_fit_min(self) -> float:
        """Lowest m_jj [GeV] at which the generator threshold and preselection are fully efficient."""
        info = self.info
        return float(info.mjj_fit_min if info.mjj_fit_min is not None else info.selection_value("mjj_min", 0.0))

    @property
    def threshold_known(self) -> str | None:
        """How ``mjj_fit_min`` is known when it comes from the generator's thresholds (a turn-on measured with a
        calibration sample, or the parton-level bound); None where it is only a preselection cut and the
        sculpting is not known."""
        turn_on = self.info.turn_on
        if turn_on is None:
            return None
        if turn_on.measured:
            return "measured with a calibration sample below the generator thresholds"
        return "the parton-level bound of the generator thresholds"

    @property
    def edge_caveat(self) -> str | None:
        """Why ``mjj_fit_min`` may be too low to fit from, or None: a generated sample's calibration (a twentieth
        of its events) sees few events near the edge, and where it cannot bound the loss above it to 5% at 95%
        CL the measured rule (``fully_efficient_from``) is named, with where it starts."""
        turn_on = self.info.turn_on
        if turn_on is None or (turn_on.inefficiency_95cl_above_edge or 0.0) <= 0.05:
            return None
        pthat = turn_on.pthat_min
        rule = fully_efficient_from(self.mjj_fit_min, pthat)
        if pthat <= 0 or rule <= self.mjj_fit_min:
            return None
        return (
            f"{self.path}: the fully-efficient edge {self.mjj_fit_min:.0f} GeV rests on "
            f"{turn_on.n_above_edge or 0} calibration events above it (95% CL loss there ≤ "
            f"{turn_on.inefficiency_95cl_above_edge:.0%}); pTHat > {pthat:.0f} GeV is measured to lose ≤ 1% only "
            f"above {rule:.0f} GeV: set the search's fit_min there to fit where the sample is fully efficient"
        )

    @property
    def fields(self) -> list[str]:
        return _parquet_fields(self.files[0]) if self.files else []

    @property
    def jet_fields(self) -> list[str]:
        """The per-jet fields stored (a read file may lack some: constituents, τ, b-tag ...)."""
        if not self.files:
            return []
        j1 = pq.read_schema(self.files[0]).field("j1").type
        return [j1.field(i).name for i in range(j1.num_fields)]

    # ------------------------------------------------------------------ reading
    def load(self, columns: Sequence[str] | None = None, truth: bool = False) -> ak.Array:
        """Read events. Truth fields (label, process) are left out unless ``truth=True``.

        ``columns`` takes top-level names or dotted paths into the jets (``"j1.msoftdrop"``).
        Methods read through this with ``truth=False`` so they never see the labels.
        """
        columns = self._readable(columns, truth)
        arr = (
            ak.concatenate([ak.from_parquet(f, columns=columns) for f in self.files])
            if len(self.files) > 1
            else ak.from_parquet(self.files[0], columns=columns)
        )
        if not truth and columns is None:
            arr = arr[[f for f in arr.fields if f not in TRUTH_FIELDS]]
        return arr

    def to_dask(self, columns: Sequence[str] | None = None, truth: bool = False):
        """The events as a lazy dask-awkward array, one partition per parquet file.

        Nothing is read until ``.compute()``; then only the columns the computation touches are read
        (dask-awkward's column projection), so a selection over 1M events reads two columns, not the
        constituents. Truth fields are left out unless ``truth=True``, as in :meth:`load`.
        """
        import dask_awkward as dak

        columns = self._readable(columns, truth)
        arr = dak.from_parquet([str(f) for f in self.files], columns=columns)
        if not truth and columns is None:
            arr = arr[[f for f in arr.fields if f not in TRUTH_FIELDS]]
        return arr

    def _readable(self, columns: Sequence[str] | None, truth: bool) -> list[str] | None:
        """``columns`` as a list, after refusing truth columns not asked for and an empty set."""
        if columns is not None:
            columns = list(columns)
            bad = [c for c in columns if c.split(".")[0] in TRUTH_FIELDS and not truth]
            if bad:
                raise InputError(f"{self.path}: columns {bad} are truth information; pass truth=True to read them")
        if not self.files:
            raise InputError(f"{self.path}: holds no events")
        return columns

    def row(self, index: int, columns: Sequence[str] | None = None) -> ak.Record:
        """One event, reading only the parquet row group that holds it (the event display on 1M events)."""
        if not 0 <= index < len(self):
            raise InputError(f"{self.path}: event row {index} outside 0..{len(self) - 1}")
        if columns is not None and any(c.split(".")[0] in TRUTH_FIELDS for c in columns):
            raise InputError(f"{self.path}: row() does not return truth information")
        rest = int(index)
        for f in self.files:
            meta = pq.read_metadata(f)
            if rest >= meta.num_rows:
                rest -= meta.num_rows
                continue
            for g in range(meta.num_row_groups):
                n = meta.row_group(g).num_rows
                if rest < n:
                    arr = ak.from_parquet(f, columns=list(columns) if columns else None, row_groups=[g])
                    if columns is None:
                        arr = arr[[k for k in arr.fields if k not in TRUTH_FIELDS]]
                    return arr[rest]
                rest -= n
        raise InputError(f"{self.path}: event row {index} not found in its parquet files")

    def column(self, name: str) -> np.ndarray:
        """One scalar column as a numpy array (dotted path for jet fields)."""
        truth = name.split(".")[0] in TRUTH_FIELDS
        if "." not in name:  # a top-level column: arrow reads it straight to numpy (half awkward's time at 1M)
            self._readable([name], truth)
            try:
                parts = [pq.read_table(f, columns=[name]).column(0) for f in self.files]
            except (OSError, pa.ArrowException) as exc:
                raise InputError(f"{self.path}: column {name!r} unreadable ({type(exc).__name__}: {exc})") from None
            return pa.chunked_array([c for p in parts for c in p.chunks], type=parts[0].type).to_numpy()
        arr = self.load([name], truth=truth)
        for part in name.split("."):
            arr = arr[part]
        return ak.to_numpy(arr)

    def truth(self) -> np.ndarray:
        """Per-event truth label (0 background, 1 signal, -1 unknown), for evaluation only."""
        return self.column("label").astype(np.int8)

    def describe(self) -> str:
        s = self.schema
        lines = [f"EventSet {self.name} at {self.path}", f"  events: {len(self)}  counts: {self.counts}"]
        if "mjj_fit_min" in s:
            lines.append(f"  m_jj fully efficient above {s['mjj_fit_min']:.0f} GeV")
        if s.get("injection"):
            lines.append(f"  injected: {s['injection']}")
        lines.append(f"  source: {s.get('source', {}).get('kind', '?')}, created {s.get('created', '?')}")
        return "\n".join(lines)


def _parquet_fields(path: Path) -> list[str]:
    return list(pq.read_schema(path).names)


# ---------------------------------------------------------------------- writing
BACKGROUND_PROCESSES = ("qcd",)
UNKNOWN_PROCESS = "unknown"  # events read from files without truth (real data, LHCO black boxes)


def signal_processes(es: EventSet) -> set[str]:
    """The signal processes an EventSet holds (every named process but the QCD background)."""
    return {p for p in es.counts if p not in (*BACKGROUND_PROCESSES, UNKNOWN_PROCESS)}


def write_eventset(path: str | Path, parts: Iterable[ak.Array], meta: dict, overwrite: bool = False) -> EventSet:
    """Write events (an iterable of awkward arrays, one parquet file each) and schema.json atomically."""
    path = Path(path)
    with staging_dir(path) as tmp:
        files = []
        n = 0
        counts: dict[str, int] = {}
        labels: dict[str, int] = {}
        for i, arr in enumerate(parts):
            if len(arr) == 0:
                continue
            name = f"part-{i:05d}.parquet"
            ak.to_parquet(arr, tmp / name, compression="zstd", row_group_size=ROW_GROUP_ROWS)
            files.append(name)
            n += len(arr)
            for proc, c in zip(*np.unique(ak.to_numpy(arr["process"]).astype(str), return_counts=True)):
                counts[proc] = counts.get(proc, 0) + int(c)
            for lab, c in zip(*np.unique(ak.to_numpy(arr["label"]), return_counts=True)):
                labels[str(int(lab))] = labels.get(str(int(lab)), 0) + int(c)
        schema = finalize_schema(meta, n_events=n, files=files, counts=counts, labels=labels)
        schema["checksums"] = digests(tmp, files)
        write_json_atomic(tmp / SCHEMA_FILE, schema)
        publish_dir(tmp, path, overwrite=overwrite)
    return EventSet.open(path)


def publish_job_dir(job_dir: Path, out: Path, schema: dict, overwrite: bool = False) -> EventSet:
    """Turn a finished job directory into the EventSet ``out``: drop every file the schema does not list
    (stats, job records), write schema.json, then rename the directory into place."""
    keep = set(schema["files"])
    for f in Path(job_dir).iterdir():
        if f.name not in keep:
            f.unlink()
    schema = {**schema, "checksums": digests(job_dir, schema["files"])}
    write_json_atomic(Path(job_dir) / SCHEMA_FILE, schema)
    publish_dir(job_dir, out, overwrite=overwrite)
    return EventSet.open(out)


def finalize_schema(meta: dict, *, n_events: int, files: list[str], counts: dict, labels: dict) -> dict:
    schema = {
        "schema_version": SCHEMA_VERSION,
        "name": meta.get("name"),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "units": UNITS,
        "jet_order": "pt (j1 = leading-pT jet)",
        "n_events": int(n_events),
        "counts": counts,
        "labels": labels,
        "files": files,
        "provenance": provenance(),  # what wrote it: library versions, git commit
    }
    schema.update({k: v for k, v in meta.items() if k not in schema or k == "name"})
    return schema


# ---------------------------------------------------------------------- selections and mixing
def select(es: EventSet, mask: np.ndarray, out: str | Path, note: str, overwrite: bool = False) -> EventSet:
    """Write the events where ``mask`` is true as a new EventSet (provenance records the selection)."""
    arr = es.load(truth=True)
    mask = np.asarray(mask, dtype=bool)
    if len(mask) != len(arr):
        raise InputError(f"{es.path}: selection mask has {len(mask)} entries for {len(arr)} events")
    meta = {k: v for k, v in es.schema.items() if k not in ("n_events", "files", "counts", "labels", "created")}
    meta["name"] = Path(out).name
    meta["derived_from"] = {"path": str(es.path), "selection": note, "n_before": len(arr)}
    return write_eventset(out, [arr[mask]], meta, overwrite=overwrite)


def _common_fields(a: ak.Array, b: ak.Array, a_path, b_path) -> tuple[ak.Array, ak.Array]:
    """Both samples with only the fields (and jet fields) they share, and a warning naming what was left out: a
    generated background and a signal read from NanoAOD differ (generator partons, PF-less jets) and one
    parquet file holds one record type."""

    def fields(x):
        return {f: (tuple(x[f].fields) if f in ("j1", "j2") else ()) for f in x.fields}

    fa, fb = fields(a), fields(b)
    if fa == fb:
        return a, b
    keep = {f: tuple(s for s in fa[f] if s in fb[f]) for f in fa if f in fb}
    dropped = sorted({f for f in {*fa, *fb} if f not in keep}) + sorted(
        {f"{f}.{s}" for f in keep for s in {*fa[f], *fb[f]} if keep[f] and s not in keep[f]}
    )
    warnings.warn(
        f"{a_path} and {b_path} store different fields; the mixed sample keeps the shared ones "
        f"(left out: {', '.join(dropped)})",
        InputWarning,
        stacklevel=3,
    )

    def project(x):
        return ak.zip({f: (x[f][list(sub)] if sub else x[f]) for f, sub in keep.items()}, depth_limit=1)

    return project(a), project(b)


def _injection_draw(n_background: int, n_available: int, n_signal: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``inject``'s one random draw: which signal events go in (mask over the signal sample) and the order of the
    mixed rows (a permutation of the background rows followed by the chosen signal rows)."""
    rng = np.random.default_rng(seed)
    pick = np.zeros(n_available, dtype=bool)
    pick[rng.choice(n_available, size=n_signal, replace=False)] = True
    return pick, rng.permutation(n_background + n_signal)


def injected_labels(n_background: int, n_available: int, n_signal: int, seed: int) -> np.ndarray:
    """The labels (0 background, 1 signal) of the events ``inject`` wrote with these sizes and seed, in its order:
    how a scan reads a Run again after its injected dataset was removed."""
    return (_injection_draw(n_background, n_available, n_signal, seed)[1] >= n_background).astype(np.int8)


def inject(
    background: EventSet,
    signal: EventSet,
    n_signal: int,
    out: str | Path,
    seed: int,
    remainder: str | Path | None = None,
    overwrite: bool = False,
    provenance: dict | None = None,
) -> EventSet:
    """Mix ``n_signal`` randomly chosen signal events into the background, shuffled, with fresh event ids.

    Labels are kept (0 background, 1 signal) for evaluation; methods never read them (see ``load``).
    The signal events not injected can be written to ``remainder``: a disjoint pure-signal sample
    for evaluating methods without reusing injected events. ``provenance``: more fields for the new
    EventSet's ``schema.json`` (what a workflow made it for).
    """
    if n_signal < 0:
        raise InputError(f"n_signal must be >= 0, got {n_signal}")
    if n_signal > len(signal):
        raise InputError(f"{signal.path}: asked to inject {n_signal} signal events but it holds {len(signal)}")
    bkg, sig = _common_fields(background.load(truth=True), signal.load(truth=True), background.path, signal.path)
    pick, order = _injection_draw(len(bkg), len(sig), n_signal, seed)
    bkg = ak.with_field(bkg, np.zeros(len(bkg), dtype=np.int8), "label")
    chosen = ak.with_field(sig[pick], np.ones(n_signal, dtype=np.int8), "label")
    mixed = ak.concatenate([bkg, chosen])[order]
    mixed = ak.with_field(mixed, np.arange(len(mixed), dtype=np.int64), "event_id")
    meta = {k: v for k, v in background.schema.items() if k not in ("n_events", "files", "counts", "labels", "created")}
    meta["name"] = Path(out).name
    meta["source"] = {"kind": "mixed", "background": str(background.path), "signal": str(signal.path)}
    meta["processes"] = {**background.schema.get("processes", {}), **signal.schema.get("processes", {})}
    meta["tau_axes"], tau_note = combined_tau_axes(
        {str(background.path): background.schema.get("tau_axes"), str(signal.path): signal.schema.get("tau_axes")}
    )
    if tau_note:
        warnings.warn(tau_note, InputWarning, stacklevel=2)
    meta["injection"] = {
        "signal_process": sorted(signal.counts),
        "n_signal": int(n_signal),
        "n_background": int(len(bkg)),
        "seed": int(seed),
    }
    meta.update(provenance or {})
    result = write_eventset(out, [mixed], meta, overwrite=overwrite)
    if remainder is not None:
        select(signal, ~pick, remainder, note=f"signal events not injected into {Path(out).name}", overwrite=overwrite)
    return result
