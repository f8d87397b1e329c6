"""Real-browser fixtures, shared by every browser test: the portal served from this test session, and a
Playwright page in Debian's Chromium (never a downloaded browser).

Use them in a test marked ``@pytest.mark.browser``::

    def test_something(page, live_server, acme_admin):
        browser_sign_in(page, acme_admin)
        ...

``page`` fails the test if the page raised a JavaScript error or the Content Security Policy blocked
something, so a test cannot pass on a page that is silently broken.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.factories import DEFAULT_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def live_server_url(_migrated_app: Flask) -> Iterator[str]:
    """The test session's app on a free port, served by threads of this process (it shares the database)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns a failure's output
    server = make_server("127.0.0.1", 0, _migrated_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def live_server(app: Flask, live_server_url: str) -> str:
    """The live server's URL, with this test's clean tables (through ``app``)."""
    return live_server_url


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the README's test command installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def page(playwright_driver: Any, live_server: str, tmp_path: Path) -> Iterator[Any]:
    """A fresh Chromium (its own user-data-dir) on a desktop-sized window, pointed at the live server."""
    context = playwright_driver.chromium.launch_persistent_context(
        user_data_dir=str(tmp_path / "chromium-profile"),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        base_url=live_server,
        viewport=DESKTOP,
        locale="en-GB",
    )
    context.set_default_timeout(10_000)
    page = context.pages[0] if context.pages else context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert problems == [], "the page was broken in the browser"


def browser_sign_in(page: Any, user: Any, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
