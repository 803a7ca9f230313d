"""Jets and features: clustering, the dijet preselection, substructure, Lund plane, b-tag."""

from anomalyscope.core.features.jets import MAX_CONSTITUENTS, Selection, event_record, leading_dijets

__all__ = ["MAX_CONSTITUENTS", "Selection", "event_record", "leading_dijets"]
