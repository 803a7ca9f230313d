"""Where a reader's input is: a local path, or a URL (``root://``, ``https://``, ``s3://``), with uproot's
``file.root:Tree`` syntax for the tree, and coffea-style filesets.

Inputs stay strings until a reader opens them (a ``Path`` turns ``root://host//eos/f.root`` into
``root:/host/eos/f.root``). ROOT files are read where they are, through uproot (XRootD needs
``fsspec-xrootd``, S3 ``s3fs``); HDF5 needs random access that HTTP gives only slowly, so a remote LHC
Olympics file is fetched once into a local cache (fsspec's ``simplecache``) and read from there.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from pathlib import Path

from anomalyscope.core.errors import InputError

REMOTE = ("root://", "xroot://", "http://", "https://", "s3://", "gs://")
NEEDS = {"root://": "fsspec-xrootd", "xroot://": "fsspec-xrootd", "s3://": "s3fs", "gs://": "gcsfs"}


@dataclass(frozen=True)
class Input:
    location: str  # a local path or a URL
    tree: str | None = None  # "file.root:Tree"

    @property
    def remote(self) -> bool:
        return self.location.startswith(REMOTE)

    def __str__(self) -> str:
        return self.location + (f":{self.tree}" if self.tree else "")


def parse(spec: str | Path) -> Input:
    """``file.root``, ``file.root:Tree``, ``root://host//path/file.root:Events``, ``https://…/f.h5``."""
    s = str(spec)
    head, _, tail = s.rpartition("/")
    name, colon, tree = tail.partition(":")
    if colon and tree and ".root" in name:
        return Input(f"{head}/{name}" if head else name, tree)
    return Input(s)


def expand(inputs) -> list[Input]:
    """Inputs in the order given: local glob patterns expanded (each sorted), URLs as they are; an error for a
    pattern that matches nothing."""
    out: list[Input] = []
    for item in inputs:
        inp = parse(item)
        if not inp.remote and any(ch in inp.location for ch in "*?["):
            hits = sorted(glob.glob(inp.location))
            if not hits:
                raise InputError(f"{inp.location}: no file matches this pattern")
            out += [Input(h, inp.tree) for h in hits]
        else:
            out.append(inp)
    if not out:
        raise InputError("no input files given")
    return out


def fileset(path: str | Path, dataset: str | None = None) -> tuple[list[Input], dict]:
    """The files of a coffea-style fileset JSON — ``{dataset: {"files": {path: tree}, "metadata": {...}}}`` (or a
    list of paths) — as inputs, and the dataset's metadata. Relative local paths are relative to the JSON."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read the fileset ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not data:
        raise InputError(f"{path}: a fileset maps dataset names to {{'files': {{path: tree}}}}")
    if dataset is None:
        if len(data) != 1:
            raise InputError(f"{path}: holds {len(data)} datasets ({', '.join(data)}); choose one with --dataset")
        dataset = next(iter(data))
    if dataset not in data:
        raise InputError(f"{path}: no dataset '{dataset}' (has {', '.join(data)})")
    entry = data[dataset]
    files = entry.get("files") if isinstance(entry, dict) else entry
    if isinstance(files, list):
        files = {f: None for f in files}
    if not isinstance(files, dict) or not files:
        raise InputError(f"{path}: dataset '{dataset}' field 'files' must map file paths to tree names")
    out = []
    for loc, tree in files.items():
        inp = parse(loc)
        if not inp.remote and not os.path.isabs(inp.location):
            inp = Input(str(path.parent / inp.location), inp.tree)
        out.append(Input(inp.location, tree if isinstance(tree, str) else inp.tree))
    meta = entry.get("metadata", {}) if isinstance(entry, dict) else {}
    return out, {"dataset": dataset, **(meta if isinstance(meta, dict) else {})}


def check_handler(inp: Input) -> None:
    """A clear error when a URL's scheme needs a package that is not installed."""
    import importlib.util

    for scheme, package in NEEDS.items():
        if inp.location.startswith(scheme) and importlib.util.find_spec(package.replace("-", "_")) is None:
            raise InputError(
                f"{inp.location}: reading {scheme} URLs needs the {package} package (pip install {package})"
            )


def local_copy(inp: Input, cache: Path | None = None) -> Path:
    """A local file with the input's bytes: the path itself, or a remote file fetched once into the cache."""
    if not inp.remote:
        return Path(inp.location)
    import fsspec

    check_handler(inp)
    cache = Path(cache or Path.home() / ".cache" / "anomalyscope" / "inputs")
    cache.mkdir(parents=True, exist_ok=True)
    try:
        return Path(fsspec.open_local(f"simplecache::{inp.location}", simplecache={"cache_storage": str(cache)}))
    except (OSError, ValueError) as exc:
        raise InputError(f"{inp.location}: cannot be fetched ({type(exc).__name__}: {str(exc)[:200]})") from None
