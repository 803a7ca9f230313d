"""Browser tests drive Debian's Chromium with Playwright against `panel serve app.py` on localhost.

Chromium is not a Python package: if /usr/bin/chromium is missing and this runs as root on Debian (CI),
it is installed with apt-get here, so the README's one test command sets up everything it needs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ensure_debian_package

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]


def _ensure_chromium() -> None:
    ensure_debian_package(CHROMIUM, "chromium")


@pytest.fixture(scope="session")
def browser():
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def dashboard_url(small_run, tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("panel") / "panel.log"
    env = {**os.environ, "ANOMALYSCOPE_RUN": str(small_run.path)}
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "panel",
                "serve",
                "app.py",
                "--port",
                str(port),
                "--allow-websocket-origin",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/app"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"panel serve did not come up; log:\n{log.read_text()}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def artifacts():
    """Screenshots of the browser tests land here (kept as test artifacts)."""
    d = ROOT / "test-artifacts"
    d.mkdir(exist_ok=True)
    return d
