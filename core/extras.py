"""The optional stacks and the extras that install them, so that the analysis part (EventSet, bump hunt, Runs)
installs and imports without the generator, the ML, the FPGA and the dashboard stacks.

A module that needs one of them imports it through :func:`require` where it is used, never at module level:
a missing library then stops only the step that needs it, with one line naming the extra to install.
``pyproject.toml``'s extras are checked against :data:`EXTRAS` by the test suite.
"""

from __future__ import annotations

import importlib

from anomalyscope.core.errors import MissingExtra

# extra → the import names of the libraries it installs (pyproject.toml says what each is for)
EXTRAS = {
    "generate": ("pythia8mc", "fastjet"),
    "ml": ("torch", "zuko"),
    "trigger": ("keras", "hgq", "hls4ml", "da4ml"),
    "dashboard": ("panel", "holoviews", "bokeh", "datashader", "param"),
    "plots": ("matplotlib", "mplhep"),
    "exports": ("correctionlib",),
}
EXTRA_OF = {module: extra for extra, modules in EXTRAS.items() for module in modules}


def require(module: str, purpose: str):
    """``module`` imported, or :class:`MissingExtra` naming ``purpose`` and the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name is None or exc.name.split(".")[0] != top:
            raise  # the library is there but something it imports is not: show that, not a wrong hint
        extra = EXTRA_OF.get(top)
        hint = f"pip install 'anomalyscope[{extra}]'" if extra else f"pip install {top}"
        raise MissingExtra(f"{purpose}: needs {top}, which is not installed: {hint}") from None
