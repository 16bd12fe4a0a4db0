"""Browser journeys: Playwright driving Debian's Chromium against a live server.

No browser is ever downloaded; if /usr/bin/chromium is missing the tests fail.
"""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from residency.demo import PASSWORD, seed

CHROMIUM = os.environ.get("RESIDENCY_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def axe():
    """Run axe-core on a page; return the serious and critical violations."""
    from axe_playwright_python.sync_playwright import Axe

    checker = Axe()

    def run(page):
        # Checked as the reader sees it: with every stylesheet applied (a click's navigation may
        # still be loading one when the awaited text has appeared).
        page.wait_for_load_state("load")
        results = checker.run(page)
        violations = results.response["violations"]
        return [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]][:5]}
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]

    return run


@pytest.fixture
def admin_page(app, page):
    """A browser page signed in as the demo programme administrator, on the seeded demo."""
    seed()
    page.goto("/account/login")
    page.get_by_label("E-mail").fill("admin@demo.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    return page
