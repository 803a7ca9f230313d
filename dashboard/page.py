"""The page a browser gets at once, filled with the dashboard when its session has connected.

A server's first page used to wait for the dashboard's imports (holoviews, scipy, the core: ≈ 2 s on 2 cores) and
the Run's opening before its HTML was sent, and only then could the browser start loading Bokeh's scripts
(≈ 1.5 s). Here the template goes out at once with a progress indicator; the imports and the Run's opening run in a
thread meanwhile, and the views replace the indicator when the browser has connected. This module imports nothing
but Panel, so ``panel serve app.py`` answers the first request without them.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

import panel as pn

from anomalyscope.dashboard.design import EXTENSIONS, TITLE, template

_ready: Future | None = None
_ready_lock = threading.Lock()


def prepare() -> Future:
    """Import the dashboard and open the default Run in a thread, once per process (later sessions find both
    done); the future holds ``anomalyscope.dashboard.app``."""
    global _ready
    with _ready_lock:
        if _ready is None:
            ready: Future = Future()

            def work():
                try:
                    from anomalyscope.dashboard import app

                    app.open_default_run()
                    ready.set_result(app)
                except BaseException as exc:  # shown on the page that waits for it
                    ready.set_exception(exc)

            threading.Thread(target=work, name="anomalyscope-prepare", daemon=True).start()
            _ready = ready
    return _ready


def page() -> pn.template.FastListTemplate:
    """One browser session's page (what ``panel serve app.py`` and ``anomalyscope serve`` build per session). Once
    the dashboard is ready, a session's page is built whole, at once (one round trip fewer than filling it)."""
    ready = prepare()
    if ready.done() and ready.exception() is None:
        _, side, content = ready.result().contents()
        return template(side, [content])
    sidebar = pn.Column(sizing_mode="stretch_width")
    main = pn.Column(
        pn.Row(
            pn.indicators.LoadingSpinner(value=True, size=36, name="Opening the Run …"),
            sizing_mode="stretch_width",
        ),
        sizing_mode="stretch_width",
    )

    def fill():
        try:
            _, side, content = ready.result().contents()
        except Exception as exc:  # an import failed: say so where the views would be (the details, with server
            main[:] = [  # paths, go to the server's log)
                pn.pane.Alert(
                    f"The dashboard could not start ({type(exc).__name__}); the server's log says why.",
                    alert_type="danger",
                )
            ]
            raise
        sidebar[:] = side
        main[:] = [content]

    pn.state.onload(fill)
    return template([sidebar], [main])


def serve(port: int = 5006, address: str | None = None, show: bool = False, websocket_origin=None) -> None:
    """Serve the dashboard from the installed package (``anomalyscope serve``): one page per browser session, as
    ``panel serve app.py`` does from a checkout."""
    pn.extension(*EXTENSIONS, sizing_mode="stretch_width", notifications=True)
    pn.serve(
        page,
        port=port,
        address=address,
        show=show,
        title=TITLE,
        websocket_origin=websocket_origin,
        threaded=False,
    )
