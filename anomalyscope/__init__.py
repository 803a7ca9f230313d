"""anomalyscope: model-agnostic dijet anomaly searches (CMS arXiv:2412.03747, LHC Olympics 2020) and the
dashboard to inspect them.

Two subpackages, installed from the repository's ``core/`` and ``dashboard/`` folders:

- ``anomalyscope.core``: events (generation, readers, the EventSet), the anomaly-detection methods, the bump
  hunt, Lund-plane reweighting, trigger models and the workflows (demo, injection scan, CMS benchmark);
- ``anomalyscope.dashboard``: the Panel app (``anomalyscope serve``, or ``panel serve app.py`` in a checkout).
"""

__version__ = "0.1.0"  # the one place it is written: pyproject.toml reads it, Runs and EventSets record it

__all__ = ["__version__"]
