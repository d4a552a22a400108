"""Fixtures: one JupyterLab server and one Chromium for the session, a fresh page per test.

Screenshots go to runs/browser/ (or $KERASDL_SCREENSHOTS); a failing test leaves
FAILED-<test>.png there. Without Chromium or Playwright the tests are skipped, unless
KERASDL_BROWSER_REQUIRED=1 (set by `make test`), which turns that into a failure.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .lab import CHROMIUM, ROOT, LabServer, launch_browser

SHOTS = Path(os.environ.get("KERASDL_SCREENSHOTS", ROOT / "runs" / "browser"))


def _missing():
    """Return why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (make env)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("KERASDL_BROWSER_REQUIRED") == "1":
            pytest.fail(f"browser tests cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def lab(browser, tmp_path_factory):
    """A running JupyterLab server on a copy of the kit; always stopped, also on failure."""
    server = LabServer(tmp_path_factory.mktemp("lab"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    return SHOTS


@pytest.fixture
def shot(shots):
    """Return a function that saves the page's full-page screenshot as NAME.png and returns its path."""

    def save(page, name):
        path = shots / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(request, browser, lab, shots):
    """A fresh browser page; afterwards: a screenshot on failure, kernels shut down, no request beyond 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside = []

    def note(url):
        if urlsplit(url).hostname not in ("127.0.0.1", None) and not url.startswith("data:"):
            outside.append(url)

    context.on("request", lambda request: note(request.url))
    context.on("page", lambda new: new.on("websocket", lambda socket: note(socket.url)))
    page = context.new_page()
    page.on("websocket", lambda socket: note(socket.url))
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        page.screenshot(path=shots / f"FAILED-{re.sub(r'[^A-Za-z0-9_.-]', '_', request.node.name)}.png", full_page=True)
    context.close()
    for session in lab.api("sessions"):
        lab.api(f"sessions/{session['id']}", method="DELETE")
    assert outside == [], f"the page reached beyond 127.0.0.1: {outside[:5]}"
