"""What made a result: the versions of the libraries that computed it and the source it ran from.

Every EventSet's ``schema.json`` and every Run's ``manifest.json`` records ``provenance()``: the installed
versions of the packages that shape the numbers (generator, clustering, statistics, learning) and, when
anomalyscope runs from a git checkout, the commit and whether the tree had uncommitted changes.
"""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "anomalyscope", "numpy", "scipy", "awkward", "pyarrow", "uproot", "hist", "iminuit", "torch", "zuko",
    "pythia8mc", "fastjet", "dask", "pandas", "h5py", "keras", "hgq2", "hls4ml", "da4ml",
)  # fmt: skip


def versions(packages=PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None where it is not installed)."""
    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@functools.lru_cache(maxsize=1)
def source() -> dict:
    """The git commit of the checkout anomalyscope runs from, and whether it had local changes; an installed
    wheel (no checkout) says so."""
    root = Path(__file__).resolve().parents[1]
    if not ((root / "pyproject.toml").exists() and (root / "core").is_dir()):  # an installed package
        return {"git_commit": None, "note": "installed package, not a git checkout"}
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "note": "not run from a git checkout"}
    return {"git_commit": commit, "git_dirty": bool(dirty)}


def provenance() -> dict:
    return {"versions": versions(), **source()}
