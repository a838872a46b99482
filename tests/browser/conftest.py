"""Browser tests: Playwright (PyPI) driving Debian's chromium against a live server.

The app runs in a thread on 127.0.0.1 with its own fresh database. Outside CI, a
machine without /usr/bin/chromium skips these tests (with the reason); in CI
(``CI=true``) a missing browser is a failure, so they can never silently not run.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHOPAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _require_chromium() -> None:
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI"):
        pytest.fail(
            f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
    pytest.skip(f"no chromium at {CHROMIUM}; install Debian's chromium to run browser tests")


class LiveServer:
    """The app served on 127.0.0.1 in a background thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_app(fresh_app: Callable[..., Flask]) -> Flask:
    """A fresh app (own database, admin units loaded) with CSRF on, as in production."""
    return fresh_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[LiveServer]:
    _require_chromium()
    server = LiveServer(live_app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Pages that answer a wrong form with 401/409/422 do so on purpose; the browser logs
# each as a failed resource. Everything else (JS errors, CSP violations, 404s) counts.
_INTENDED_STATUSES = ("status of 401", "status of 409", "status of 422")


def _collect_console_error(msg: Any, errors: list[str]) -> None:
    if msg.type != "error":
        return
    if msg.text.startswith("Failed to load resource") and any(
        s in msg.text for s in _INTENDED_STATUSES
    ):
        return
    errors.append(msg.text)


@pytest.fixture
def browser_page(browser: Any) -> Iterator[Any]:
    """A page in a fresh browser context sized like a cheap phone."""
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, locale="vi-VN", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: _collect_console_error(msg, errors))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"JavaScript or CSP errors in the browser: {errors}"
