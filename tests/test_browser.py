"""In a real browser: sign in, switch to German with the language menu, see German navigation, sign out."""

from __future__ import annotations

import re

import pytest

from tests.browser import PHONE, browser_sign_in

pytestmark = pytest.mark.browser


def test_sign_in_switch_to_german_and_sign_out(page, acme_owner, acme_admin, artifacts_dir):
    browser_sign_in(page, acme_owner)
    navigation = page.get_by_role("navigation", name="Main")
    assert navigation.get_by_role("link", name="Dashboard").get_attribute("aria-current") == "page"
    assert page.evaluate("typeof htmx") == "object"  # loaded, and allowed by the Content Security Policy

    page.get_by_label("Language").select_option(label="Deutsch")
    page.get_by_role("button", name="Update language").click()
    page.locator("html[lang=de]").wait_for()

    navigation = page.get_by_role("navigation", name="Hauptnavigation")
    labels = [label.strip() for label in navigation.get_by_role("link").all_inner_texts()]
    assert labels == ["Übersicht", "Verbindungen", "Zoho → Xero", "Xero → Zoho", "Zuordnung",
                      "Synchronisierung", "Auslöser", "Protokoll"]
    assert page.get_by_role("status").filter(has_text="Sprache aktualisiert.").is_visible()
    assert page.get_by_role("heading", level=1).inner_text() == "Übersicht"
    page.screenshot(path=artifacts_dir / "german-dashboard.png", full_page=True)

    page.set_viewport_size(PHONE)
    page.screenshot(path=artifacts_dir / "german-dashboard-phone.png", full_page=True)
    # On a phone nothing pushes the page sideways (long German words, tables, the top bar).
    for path in ("/", "/account/team", "/account/"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(re.compile(r"/login$"))
    assert page.get_by_role("heading", name="Sign in").is_visible()  # signed out: the browser's language
    assert page.get_by_text("You are signed out.").is_visible()
    page.goto("/")
    assert "/login" in page.url
