"""Per-event columns of a parquet file, each read when first asked for.

A 1M-event Run's scores are 35 columns (≈ 1 s to read together); a dashboard page needs two or three of them, and
a search reads one method at a time. ``Columns`` is a read-only mapping (name → numpy array) that reads a column
on its first lookup and keeps it; ``view`` gives another name for a subset of them, sharing the reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from anomalyscope.core.errors import InputError


class _Store:
    """The file, its column names and the arrays read so far (shared by every view of it)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.names = list(pq.read_schema(path).names)
        except (OSError, pa.ArrowException) as exc:  # truncated, not parquet, unreadable
            raise InputError(f"{path}: unreadable ({type(exc).__name__}: {str(exc)[:200]})") from None
        self.arrays: dict[str, np.ndarray] = {}
        self.lock = threading.Lock()

    def read(self, name: str) -> np.ndarray:
        with self.lock:
            if name not in self.arrays:
                try:
                    t = pq.read_table(self.path, columns=[name])
                except (OSError, pa.ArrowException) as exc:
                    raise InputError(
                        f"{self.path}: column {name!r} unreadable ({type(exc).__name__}: {str(exc)[:200]})"
                    ) from None
                self.arrays[name] = t.column(0).to_numpy()
            return self.arrays[name]


class Columns(Mapping):
    """A parquet file's columns by name, each read on first lookup (``view``: a renamed subset, same reads)."""

    def __init__(self, path: str | Path, _store: _Store | None = None, _names: dict[str, str] | None = None):
        self._store = _store or _Store(Path(path))
        self._names = _names if _names is not None else {n: n for n in self._store.names}

    @property
    def path(self) -> Path:
        return self._store.path

    def __getitem__(self, name: str) -> np.ndarray:
        return self._store.read(self._names[name])

    def __contains__(self, name: object) -> bool:  # Mapping's default would read the column
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def view(self, names: dict[str, str]) -> Columns:
        """The columns ``names.values()`` under the names ``names.keys()``; a missing one is a KeyError now."""
        missing = [c for c in names.values() if c not in self._names]
        if missing:
            raise KeyError(f"{self.path}: no column {', '.join(missing)}")
        return Columns(self.path, self._store, {k: self._names[v] for k, v in names.items()})

    def __repr__(self) -> str:
        return f"Columns({self.path}, {len(self)} columns, {len(self._store.arrays)} read)"


def view(columns: Mapping, names: dict[str, str]) -> Mapping:
    """``names`` (new → stored) of ``columns``: a lazy view of a ``Columns``, a dict of the arrays otherwise."""
    if isinstance(columns, Columns):
        return columns.view(names)
    return {k: columns[v] for k, v in names.items()}
