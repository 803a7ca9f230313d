"""Event storage: the EventSet (parquet + schema.json) and its selections and mixing."""

from anomalyscope.core.data.eventset import (
    CONSTITUENT_CLASSES,
    SCHEMA_VERSION,
    EventSet,
    inject,
    select,
    signal_processes,
    write_eventset,
)

__all__ = [
    "CONSTITUENT_CLASSES",
    "SCHEMA_VERSION",
    "EventSet",
    "inject",
    "select",
    "signal_processes",
    "write_eventset",
]
