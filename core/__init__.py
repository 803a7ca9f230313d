"""anomalyscope compute core: events, features, anomaly methods, bump hunt (no Panel imports)."""

__version__ = "0.1.0"
