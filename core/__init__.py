"""anomalyscope.core, the compute core (no Panel imports). Its packages, from the bottom layer up — a module
imports only from its own layer or the ones below (tests/test_package.py checks it, and that no two modules
import each other):

0. ``errors``: the exception types the command line turns into one-line messages; ``params``: declared,
   checked parameters (the frozen dataclasses of methods, the search and the Run configuration);
   ``provenance``: the library versions and git commit every EventSet and Run records.
1. ``features`` (jets, substructure, b-tag, Lund plane) and ``bumphunt`` (histograms, fits, significance,
   windows, the search definition: statistics that know nothing of events or methods).
2. ``data``: the EventSet store, readers, mixing and injection, the chunk-job engine.
3. ``generate`` (Pythia 8 + FastJet + detector) and ``results`` (the Run directory a training writes).
4. ``methods``: the anomaly-detection methods and the runner that trains them into a Run.
5. ``lund`` (Lund-plane reweighting) and ``trigger`` (L1 anomaly triggers and their firmware figures).
6. ``workflows``: orchestrations over all of it (the demo, the injection scan, the CMS benchmark); ``plots``:
   publication plots of a Run.
7. ``cli``: the command line. The dashboard (``anomalyscope.dashboard``) sits above the core.
"""

from anomalyscope import __version__

__all__ = ["__version__"]
