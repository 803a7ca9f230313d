"""Checksums of stored files, so bit-rot or an edit after writing is an error, not a different result.

Each EventSet's ``schema.json`` and each Run's ``manifest.json`` record the SHA-256 of the data files
they list (``sha256sum`` verifies them too). Opening verifies every recorded file; a file already verified
in this process, unchanged since (same size and modification time), is not read again, so reopening a
large EventSet costs nothing. Stores written before checksums existed have none and open as before.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from anomalyscope.core.errors import InputError

ALGORITHM = "sha256"
_VERIFIED: dict[str, tuple[int, int, str]] = {}  # resolved path → (size, mtime_ns, digest) of a verified file
_LOCK = threading.Lock()


def file_digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, ALGORITHM).hexdigest()


def digests(folder: Path, names) -> dict[str, str]:
    """name → SHA-256 of ``folder / name``, for the files a store lists (recorded when it is written)."""
    return {name: file_digest(Path(folder) / name) for name in names}


def verify(folder: Path, recorded: dict | None, where: str) -> None:
    """Check every file ``recorded`` lists (name → SHA-256) under ``folder``; one-line InputError naming the
    first file that is missing or whose content changed. ``where``: the file that records the checksums."""
    if recorded is None:
        return
    if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
        raise InputError(f"{where}: field 'checksums' must map file names to SHA-256 digests")
    for name, expected in recorded.items():
        path = Path(folder) / name
        try:
            st = path.stat()
        except OSError:
            raise InputError(f"{path}: listed in {Path(where).name} but missing") from None
        key = str(path.resolve())
        with _LOCK:
            seen = _VERIFIED.get(key)
        if seen == (st.st_size, st.st_mtime_ns, expected):
            continue
        actual = file_digest(path)
        if actual != expected:
            raise InputError(
                f"{path}: checksum mismatch — the file changed or was damaged after it was written "
                f"(SHA-256 recorded in {Path(where).name} {expected[:12]}…, now {actual[:12]}…); "
                "restore it or write it again"
            )
        with _LOCK:
            _VERIFIED[key] = (st.st_size, st.st_mtime_ns, expected)
