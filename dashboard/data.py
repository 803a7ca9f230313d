"""Data the dashboard reads from disk, cached once per process and shared by all sessions."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import panel as pn

from core.data import EventSet
from core.demo import default_demo_dir


def default_eventset_path() -> Path:
    """ANOMALYSCOPE_EVENTSET if set, else the demo's data EventSet."""
    env = os.environ.get("ANOMALYSCOPE_EVENTSET")
    return Path(env) if env else default_demo_dir() / "data"


@pn.cache(max_items=8)
def open_eventset(path: str) -> EventSet:
    return EventSet.open(path)


@pn.cache(max_items=32)
def event_columns(path: str, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    es = open_eventset(path)
    return {c: es.column(c) for c in columns}
