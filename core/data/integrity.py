"""Checksums of stored files, so bit-rot or an edit after writing is an error, not a different result.

Each EventSet's ``schema.json`` and each Run's ``manifest.json`` record the SHA-256 of the data files
they list (``sha256sum`` verifies them too). Opening verifies every recorded file once per version of it: a
file verified before — in this process, or by any process, which notes it in the store's ``.verified.json``
(its inode, size and modification time with the digest, as git's index does) — and unchanged since is not read
again, so opening a large EventSet again (a new dashboard server, the next command) costs nothing. The writer
notes the files it has just hashed. A copy of the store (new inodes) or an edited file (new size or time) is
hashed again; silent damage that keeps all three is what ``sha256sum -c`` against the recorded digests is for.
Stores written before checksums existed have none and open as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from anomalyscope.core.data.atomic import write_json_atomic
from anomalyscope.core.errors import InputError

ALGORITHM = "sha256"
STAMPS = ".verified.json"  # in a store: file name → [inode, size, mtime_ns, digest] of its verified version
RACY_NS = 100_000_000  # a note is trusted only for a file last modified this long before the note was written
_VERIFIED: dict[str, tuple[int, int, str]] = {}  # resolved path → (size, mtime_ns, digest) of a verified file
_LOCK = threading.Lock()


def _signature(st: os.stat_result, digest: str) -> list:
    return [st.st_ino, st.st_size, st.st_mtime_ns, digest]


def _read_stamps(folder: Path) -> dict:
    """The store's notes of verified files, less those a file system's coarse clock could not tell from an edit
    made right after (git's "racy" entries: a file modified within RACY_NS of when the notes were written)."""
    try:
        path = Path(folder) / STAMPS
        written, data = path.stat().st_mtime_ns, json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, list) and len(v) == 4 and written - v[2] > RACY_NS}


def _write_stamps(folder: Path, stamps: dict) -> None:
    try:
        write_json_atomic(Path(folder) / STAMPS, stamps)
    except OSError:  # a store this user may read but not write: verified again next time
        pass


def file_digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, ALGORITHM).hexdigest()


def digests(folder: Path, names) -> dict[str, str]:
    """name → SHA-256 of ``folder / name``, for the files a store lists (recorded when it is written); the
    files are noted as verified in the store (they keep their inodes when the store is moved into place)."""
    out = {name: file_digest(Path(folder) / name) for name in names}
    _write_stamps(
        folder, {**_read_stamps(folder), **{n: _signature((Path(folder) / n).stat(), d) for n, d in out.items()}}
    )
    return out


def verify(folder: Path, recorded: dict | None, where: str) -> None:
    """Check every file ``recorded`` lists (name → SHA-256) under ``folder``; one-line InputError naming the
    first file that is missing or whose content changed. ``where``: the file that records the checksums."""
    if recorded is None:
        return
    if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
        raise InputError(f"{where}: field 'checksums' must map file names to SHA-256 digests")
    stamps, noted = None, False
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
        stamps = _read_stamps(folder) if stamps is None else stamps
        if stamps.get(name) == _signature(st, expected):  # verified by an earlier process, unchanged since
            with _LOCK:
                _VERIFIED[key] = (st.st_size, st.st_mtime_ns, expected)
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
        stamps[name], noted = _signature(st, expected), True
    if noted:
        _write_stamps(folder, stamps)
