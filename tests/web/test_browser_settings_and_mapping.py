"""In a real browser: pair a custom Zoho field with a Xero field by drag and drop, save, reload, see it kept;
reorder by dragging; and the configuration tab's unsaved-changes notice, HTMX save and one-click fix."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import browser_sign_in

pytestmark = pytest.mark.browser


def drag(page, source, target, at: float = 0.5) -> None:
    """Press, move in steps (SortableJS waits for real movement), release ``at`` that height of the target:
    what a hand on a mouse does."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 5, start["y"] + start["height"] / 2 + 5, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] * at, steps=20)
    page.mouse.move(end["x"] + end["width"] / 2 + 2, end["y"] + end["height"] * at, steps=2)  # a hand settles
    page.mouse.up()


def test_drag_a_custom_field_pair_into_place_save_and_find_it_after_a_reload(page, acme_admin, remote,
                                                                            artifacts_dir):
    remote.connect(acme_admin.tenant)
    browser_sign_in(page, acme_admin)
    page.goto("/mapping/accounts-contacts")
    assert page.get_by_test_id("version").inner_text() == "Default mapping"
    vat = page.get_by_test_id("zoho-field-VAT_Number")
    assert "custom" in vat.inner_text()
    tax_number = page.get_by_test_id("xero-field-TaxNumber")
    vat.scroll_into_view_if_needed()  # each list scrolls on its own; both sit side by side
    tax_number.scroll_into_view_if_needed()

    with page.expect_response("**/mapping/accounts-contacts/add"):
        drag(page, vat, tax_number)
    new_row = page.locator('[data-testid="rule"][data-rule="VAT_Number|TaxNumber"]')
    new_row.wait_for()
    assert page.get_by_test_id("notice").inner_text() == "Pair added."
    assert page.get_by_test_id("draft").is_visible()
    assert "Compatible" in new_row.inner_text()

    # Reorder by dragging the new pair's handle above the first pair: the server keeps the order.
    page.set_viewport_size({"width": 1280, "height": 1400})  # the whole list in view, far from the edges
    page.evaluate("document.getElementById('pairs-heading').scrollIntoView()")
    page.locator("#rule-order[data-sortable-ready]").wait_for()  # htmx has set up the swapped-in editor
    with page.expect_response("**/mapping/accounts-contacts/order") as answer:
        drag(page, new_row.locator(".drag-handle"), page.locator('[data-testid="rule"]').first, at=0.2)
    assert answer.value.status == 200
    rows = page.locator('[data-testid="rule"]')
    expect(rows.first).to_have_attribute("data-rule", "VAT_Number|TaxNumber")

    # The same with the keyboard: the direction buttons and "Move down".
    page.locator("#rule-order[data-sortable-ready]").wait_for()
    new_row = page.locator('[data-testid="rule"][data-rule="VAT_Number|TaxNumber"]')
    new_row.get_by_role("button", name="Zoho CRM to Xero").focus()
    with page.expect_response("**/mapping/accounts-contacts/arrow*"):
        page.keyboard.press("Enter")
    page.locator('[data-rule="VAT_Number|TaxNumber"] button[aria-pressed="true"][title="Zoho CRM to Xero"]').wait_for()
    vat_row = page.locator('[data-rule="VAT_Number|TaxNumber"]')
    move_down = vat_row.get_by_role("button", name=re.compile("Move .* down"))
    with page.expect_response("**/mapping/accounts-contacts/move*"):
        move_down.click()
    expect(rows.nth(1)).to_have_attribute("data-rule", "VAT_Number|TaxNumber")

    page.get_by_test_id("save-mapping").click()
    page.get_by_test_id("version").filter(has_text="Version 1").wait_for()
    assert "Version 1 saved." in page.get_by_test_id("notice").inner_text()
    page.screenshot(path=artifacts_dir / "mapping-editor.png", full_page=True)

    page.reload()
    assert page.get_by_test_id("version").inner_text() == "Version 1"
    saved = page.locator('[data-testid="rule"][data-rule="VAT_Number|TaxNumber"]')
    assert saved.is_visible()
    assert page.locator('[data-testid="rule"]').nth(1).get_attribute("data-rule") == "VAT_Number|TaxNumber"
    assert saved.locator('button[aria-pressed="true"]').get_attribute("title") == "Zoho CRM to Xero"
    assert page.get_by_test_id("draft").count() == 0


def test_a_refused_pair_shows_the_reason_in_place_and_the_keyboard_form_adds_one(page, acme_admin, artifacts_dir):
    browser_sign_in(page, acme_admin)
    page.goto("/mapping/accounts-contacts")
    page.get_by_role("combobox", name="Zoho CRM field").select_option("Parent_Account")
    page.get_by_role("combobox", name="Xero field").select_option("Name")
    page.get_by_test_id("add-pair-button").click()
    error = page.get_by_test_id("add-error")
    error.wait_for()
    assert error.inner_text() == "A lookup can only be paired with a linked record, not with a plain value."
    assert page.get_by_role("combobox", name="Zoho CRM field").input_value() == "Parent_Account"  # nothing lost
    page.get_by_role("combobox", name="Zoho CRM field").select_option("Description")
    page.get_by_role("combobox", name="Direction").select_option("->")
    page.get_by_role("combobox", name="Xero field").select_option("Addresses[AddressType=STREET].AttentionTo")
    page.get_by_test_id("add-pair-button").click()
    page.locator('[data-rule="Description|Addresses[AddressType=STREET].AttentionTo"]').wait_for()
    assert page.get_by_test_id("add-error").count() == 0


def test_the_configuration_says_it_has_unsaved_changes_saves_in_place_and_fixes_nonsense(page, acme_admin,
                                                                                       artifacts_dir):
    browser_sign_in(page, acme_admin)
    # Tall enough for the whole form: the sticky "Update configuration" bar then sits at its end in screenshots.
    page.set_viewport_size({"width": 1280, "height": 1800})
    page.goto("/settings/zoho-to-xero")
    notice = page.locator("[data-unsaved-notice]")
    assert notice.is_hidden()
    page.get_by_label("Sync Invoices").check()
    page.get_by_label("Sync Products").check()
    assert notice.is_visible()
    page.get_by_label("Default sales account").fill("200")
    page.screenshot(path=artifacts_dir / "settings-unsaved.png", full_page=True)
    page.get_by_test_id("update-configuration").click()
    problems = page.get_by_test_id("problems")
    problems.wait_for()
    assert "Invoices need their customers in Xero, but Accounts (the customer module) is off." in problems.inner_text()
    page.screenshot(path=artifacts_dir / "settings-refused.png", full_page=True)
    url = page.url
    problems.get_by_role("button", name="Turn on Accounts").click()
    saved = page.get_by_test_id("saved")
    saved.wait_for()
    assert page.url == url  # saved by HTMX, no page load
    assert "Zoho → Xero, Accounts: Sync is now on" in saved.inner_text()
    assert "Zoho → Xero, Invoices: Sync is now on" in saved.inner_text()
    assert page.get_by_label("Sync Accounts").is_checked()
    assert notice.is_hidden()
    page.screenshot(path=artifacts_dir / "settings-saved.png", full_page=True)
    page.reload()
    assert page.get_by_label("Sync Invoices").is_checked() and page.get_by_label("Sync Accounts").is_checked()
    page.goto("/settings/xero-to-zoho")
    page.get_by_role("switch", name="Allow sync").check()
    assert page.locator("[data-unsaved-notice]").is_visible()
    page.screenshot(path=artifacts_dir / "settings-xero-to-zoho.png", full_page=True)
