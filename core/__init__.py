"""anomalyscope.core, the compute core (no Panel imports). Its packages, from the bottom layer up — a module
imports only from its own layer or the ones below (tests/test_package.py checks it, and that no two modules
import each other):

0. ``errors``: the exception types the command line turns into one-line messages; ``params``: declared,
   checked parameters (the frozen dataclasses of methods, the search and the Run configuration); ``records``:
   typed results (the frozen dataclasses of the JSON files the search and a Run write);
   ``provenance``: the library versions and git commit every EventSet and Run records; ``columns``: a parquet
   file's per-event columns, each read when first asked for (a Run's scores).
1. ``features`` (jets, substructure, b-tag, Lund plane) and ``bumphunt`` (histograms, fits, significance,
   windows, the search definition and its result: statistics that know nothing of events or methods).
2. ``data``: the EventSet store, readers, mixing and injection, the chunk-job engine.
3. ``generate`` (Pythia 8 + FastJet + detector) and ``results`` (the Run directory a training writes).
4. ``methods``: the anomaly-detection methods and the runner that trains them into a Run.
5. ``lund`` (Lund-plane reweighting) and ``trigger`` (L1 anomaly triggers and their firmware figures).
6. ``workflows``: orchestrations over all of it (the demo, the injection scan, the CMS benchmark); ``plots``:
   publication plots of a Run.
7. ``cli``: the command line. The dashboard (``anomalyscope.dashboard``) sits above the core.


The public names are the ones below (``from anomalyscope.core import EventSet, Run, CWoLa, bump_hunt``); the
notebooks and docs use only these, and tests/test_public_api.py pins the list. Everything else is internal and may
change. Names are imported when first used, so ``import anomalyscope.core`` needs no optional extra.
"""

from __future__ import annotations

import importlib

from anomalyscope import __version__

_PUBLIC = {  # name → the module that defines it
    # events: the store, generation, reading files, injection
    "EventSet": "data",
    "inject": "data",
    "select": "data",
    "generate": "generate",
    "ingest": "data.ingest",
    "read_summary": "data.ingest",
    "LHCOFormat": "data.lhco",
    "NanoAODFormat": "data.nanoaod",
    "BranchMap": "data.nanoaod",
    "export_root": "data.nanoaod",
    "luminosity_fb": "plots",
    # methods and Runs
    "METHODS": "methods",
    "REGISTRY": "methods",
    "Inclusive": "methods",
    "CutTau21": "methods",
    "CutTau32": "methods",
    "Supervised": "methods",
    "IAD": "methods",
    "CWoLa": "methods",
    "VAEQR": "methods",
    "TagNTrain": "methods",
    "Cathode": "methods",
    "CathodeB": "methods",
    "QUAK": "methods",
    "performance": "methods.evaluate",
    "RunConfig": "methods.runner",
    "execute": "methods.runner",
    "load_config": "methods.runner",
    "Run": "results",
    # the search and the bump hunt on any histogram
    "SearchDefinition": "bumphunt",
    "Spectrum": "bumphunt",
    "SignalModel": "bumphunt",
    "CMS_DIJET_EDGES": "bumphunt",
    "bump_hunt": "bumphunt",
    "global_significance": "bumphunt",
    "poisson_interval": "bumphunt",
    # errors
    "AnomalyscopeError": "errors",
    "InputError": "errors",
    "AnalysisError": "errors",
}


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f"anomalyscope.core.{_PUBLIC[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)


__all__ = ["__version__", *sorted(_PUBLIC)]
