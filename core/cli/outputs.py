"""Handing results on: publication plots, the Combine/pyhf model, the dashboard server."""

from __future__ import annotations

from pathlib import Path

from anomalyscope.core.errors import InputError
from anomalyscope.core.extras import require


def add_commands(sub) -> None:
    pl = sub.add_parser("plot", help='publication plots of a Run as PDF and PNG (pip install "anomalyscope[plots]")')
    pl.add_argument("run", type=Path)
    pl.add_argument("--out", type=Path, default=None, help="where to write them (default: RUN/plots)")
    pl.add_argument("--method", action="append", default=None, help="spectra of these methods only (default: all)")
    pl.set_defaults(func=_cmd_plot)

    em = sub.add_parser(
        "export-model",
        help="write one selection's bump-hunt model for Combine (ROOT shapes + datacard) and pyhf (JSON workspace)",
    )
    em.add_argument("run", type=Path)
    em.add_argument("--method", required=True)
    em.add_argument("--efficiency", type=float, default=None, help="the cut (default: where the method's excess is)")
    em.add_argument("--window", default=None, help="the search window (default: where the method's excess is)")
    em.add_argument("--mass", type=float, default=None, help="signal mass [GeV] (default: the excess's)")
    em.add_argument("--out", type=Path, required=True, help="a new directory for the files")
    em.add_argument("--overwrite", action="store_true")
    em.set_defaults(func=_cmd_export_model)

    sv = sub.add_parser(
        "serve", help="serve the dashboard (from an installed package; a checkout may `panel serve app.py`)"
    )
    sv.add_argument(
        "--run", type=Path, default=None, help="the Run to open (default: ANOMALYSCOPE_RUN, else the demo's)"
    )
    sv.add_argument("--port", type=int, default=5006)
    sv.add_argument("--address", default=None, help="the address to listen on (default: localhost)")
    sv.add_argument("--allow-websocket-origin", nargs="*", default=None, help="hosts allowed to connect (host:port)")
    sv.add_argument("--show", action="store_true", help="open a browser")
    sv.set_defaults(func=_cmd_serve)


def _cmd_plot(a) -> int:
    from anomalyscope.core.plots import plot_run
    from anomalyscope.core.results import Run

    run = Run.open(a.run)
    out = a.out or run.path / "plots"
    written = plot_run(run, out, a.method)
    print(f"wrote {len(written)} files to {out}:")
    for stem in sorted({p.stem for p in written}):
        print(f"  {stem}.pdf, {stem}.png")
    return 0


def _cmd_export_model(a) -> int:
    from anomalyscope.core.results import Run
    from anomalyscope.core.results.statmodel import statistical_model, write_model

    model = statistical_model(Run.open(a.run), a.method, a.efficiency, a.window, a.mass)
    out = write_model(model, a.out, overwrite=a.overwrite)
    cut = "no cut" if model.efficiency >= 1 else f"ε = {model.efficiency:g} in window {model.window}"
    print(f"wrote {out}: {model.method}, {cut}, signal at {model.mass:.0f} GeV, {len(model.observed)} bins")
    print(f"  Combine: cd {out} && combine -M AsymptoticLimits datacard.txt")
    print(f"  pyhf:    pyhf cls {out / 'workspace.json'}")
    return 0


def _cmd_serve(a) -> int:
    import os

    if a.run is not None:
        run = a.run.expanduser().resolve()
        if not (run / "manifest.json").is_file():
            raise InputError(f"--run {a.run}: not a Run directory (no manifest.json)")
        os.environ["ANOMALYSCOPE_RUN"] = str(run)
    if not 0 < a.port < 65536:
        raise InputError(f"--port must lie in 1–65535, got {a.port}")
    require("panel", "The dashboard")
    from anomalyscope.dashboard.page import serve

    serve(port=a.port, address=a.address, show=a.show, websocket_origin=a.allow_websocket_origin)
    return 0
