"""The two tabs of the sync configuration: save, refuse nonsense with the engine's message and a one-click fix,
HTMX fragments or full pages, concurrent edits, read-only support staff, choices from the connected systems."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import SyncConfig
from portal.sync.settings import Direction, SyncSettings
from tests.conftest import csrf_token, sign_in
from tests.web.forms import BrowserForm

Z2X_PAGE = "/settings/zoho-to-xero"
X2Z_PAGE = "/settings/xero-to-zoho"
HTMX = {"HX-Request": "true"}
ALL = ("enabled", "create", "update", "delete")


def switches(module: str, *names: str) -> list[str]:
    return [f"{module}-{name}" for name in (names or ALL)]


def open_form(client, path: str) -> BrowserForm:
    return BrowserForm(client.get(path).get_data(as_text=True), "settings-form")


def submit(client, path: str, form: BrowserForm, htmx: bool = False, **extra: Any):
    return client.post(path, data={**form.data(), **extra}, headers=HTMX if htmx else {})


def stored(tenant) -> SyncSettings:
    db.session.expire_all()
    config = db.session.scalar(select(SyncConfig).where(SyncConfig.tenant_id == tenant.id))
    return SyncSettings.from_json(config.settings if config else None)


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_the_zoho_to_xero_tab_has_a_row_of_real_switches_per_module(client, acme_admin):
    sign_in(client, acme_admin)
    response = client.get(Z2X_PAGE)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    page = text(response)
    assert "<html" in page and 'aria-current="page">Zoho → Xero</a>' in page
    for module, label in (("Accounts", "Accounts"), ("Contacts", "Contacts"), ("Products", "Products"),
                          ("Invoices", "Invoices"), ("Deals", "Deals"), ("Xero_Accounts", "Xero accounts")):
        for switch, verb in zip(ALL, ("Sync", "Create", "Update", "Delete"), strict=True):
            field_id = f"{module}-{switch}"
            assert re.search(rf'<input[^>]*id="{field_id}"[^>]*role="switch"', page), field_id
            assert f'<label class="switch-label" for="{field_id}">' in page
            assert f'<span class="visually-hidden">{verb} {label}</span>' in page
    assert "Won deals become Xero invoices, one per deal." in page
    assert "Become contact persons of their account's customer in Xero." in page  # Contacts, with Accounts
    assert 'name="on_save"' in page and "Update configuration" in page
    assert "Xero is not connected: type the account code" in page  # free entry without a connection


def test_an_htmx_request_gets_the_form_alone(client, acme_admin):
    sign_in(client, acme_admin)
    response = client.get(Z2X_PAGE, headers=HTMX)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    page = text(response)
    assert "<html" not in page and page.strip().startswith("<form id=\"settings-form\"")
    assert 'hx-post="/settings/zoho-to-xero"' in page and 'data-track-changes' in page
    assert 'data-unsaved-notice role="status" hidden' in page  # nothing unsaved yet


def test_saving_with_htmx_stores_the_settings_and_lists_what_changed(client, acme_admin):
    sign_in(client, acme_admin)
    form = open_form(client, Z2X_PAGE).tick(*switches("Accounts"), "Products-enabled", "Invoices-enabled", "on_save")
    response = submit(client, Z2X_PAGE, form.set(default_sales_account="200"), htmx=True)
    assert response.status_code == 200, text(response)[:2000]
    assert response.headers["HX-Trigger"] == "settingsSaved"
    page = text(response)
    assert "<html" not in page and "Configuration updated." in page
    changes = re.findall(r"<li>([^<]*)</li>", page)
    assert changes == ["Zoho → Xero, Accounts: Sync is now on", "Zoho → Xero, Accounts: Delete is now on",
                       "Zoho → Xero, Products: Sync is now on", "Zoho → Xero, Invoices: Sync is now on",
                       "On-save sync is now on", "Default sales account: 200 (before: (none))"]
    settings = stored(acme_admin.tenant)
    assert settings.allows(Direction.ZOHO_TO_XERO, "Accounts", "delete")
    assert settings.allows(Direction.ZOHO_TO_XERO, "Invoices", "create")
    assert not settings.switches(Direction.ZOHO_TO_XERO, "Deals").enabled
    assert settings.on_save and settings.default_sales_account == "200"
    assert 'name="revision" type="hidden" value="1"' in page  # the next save builds on this one
    assert 'data-unsaved-notice role="status" hidden' in page


def test_without_javascript_the_form_posts_and_the_page_comes_back_with_the_changes(client, acme_admin):
    sign_in(client, acme_admin)
    response = submit(client, Z2X_PAGE, open_form(client, Z2X_PAGE).tick("Products-enabled").untick("Products-update"))
    assert response.status_code == 303 and response.headers["Location"].endswith(Z2X_PAGE)
    page = text(client.get(Z2X_PAGE))
    assert ("Configuration updated: Zoho → Xero, Products: Sync is now on; "
            "Zoho → Xero, Products: Update is now off.") in page
    form = BrowserForm(page, "settings-form")
    assert form.get("Products-enabled") == "y" and form.get("Products-update") is None
    assert submit(client, Z2X_PAGE, form).status_code == 303
    assert "Nothing to update: the configuration was already like this." in text(client.get(Z2X_PAGE))


def test_nonsense_is_refused_with_the_engines_message_and_nothing_is_saved(client, acme_admin):
    sign_in(client, acme_admin)
    form = open_form(client, Z2X_PAGE).tick("Invoices-enabled", "Products-enabled")
    response = submit(client, Z2X_PAGE, form.set(default_sales_account="200"), htmx=True)
    assert response.status_code == 422
    page = text(response)
    assert "The configuration was not updated:" in page
    assert "Invoices need their customers in Xero, but Accounts (the customer module) is off." in page
    assert ('<button type="submit" name="apply_fix" value="invoices_need_customers:zoho_to_xero.Invoices.enabled"'
            ' class="small" data-testid="fix">Turn on Accounts</button>') in page
    assert 'data-dirty="true"' in page and 'data-unsaved-notice role="status">' in page  # shown, not hidden
    refused = BrowserForm(page, "settings-form")  # the user's choices are still in the form
    assert refused.get("Invoices-enabled") == "y" and refused.get("default_sales_account") == "200"
    assert re.search(r'<tr class="[^"]*has-problem" data-module-row data-testid="row-Invoices">', page)
    assert re.search(r'<tr class="[^"]*has-problem" data-module-row data-testid="row-Accounts">', page)
    assert db.session.scalar(select(SyncConfig)) is None


def test_the_one_click_fix_applies_and_saves(client, acme_admin):
    sign_in(client, acme_admin)
    form = open_form(client, Z2X_PAGE).tick("Invoices-enabled", "Products-enabled").set(default_sales_account="200")
    response = submit(client, Z2X_PAGE, form, htmx=True,
                      apply_fix="invoices_need_customers:zoho_to_xero.Invoices.enabled")
    assert response.status_code == 200, text(response)[:3000]
    assert "<li>Zoho → Xero, Accounts: Sync is now on</li>" in text(response)
    settings = stored(acme_admin.tenant)
    assert settings.switches(Direction.ZOHO_TO_XERO, "Accounts").enabled
    assert settings.switches(Direction.ZOHO_TO_XERO, "Invoices").enabled


def test_a_fix_that_leaves_another_problem_shows_it_with_the_fix_applied(client, acme_admin):
    sign_in(client, acme_admin)
    form = open_form(client, Z2X_PAGE).tick("Invoices-enabled")
    response = submit(client, Z2X_PAGE, form, htmx=True,
                      apply_fix="invoices_need_customers:zoho_to_xero.Invoices.enabled")
    assert response.status_code == 422
    page = text(response)
    assert "Invoices need their customers" not in page
    assert "Invoices need their products as Xero items, but Products is off." in page
    assert "Choose the default sales account that invoice lines without an item account are posted to." in page
    assert BrowserForm(page, "settings-form").get("Accounts-enabled") == "y"  # the fix is applied in the form
    assert re.search(r'<input aria-describedby="default_sales_account-help" aria-invalid="true"', page)
    assert 'id="default_sales_account-help" class="field-error"' in page
    assert db.session.scalar(select(SyncConfig)) is None


def test_the_customer_choice_says_what_happens_to_the_other_module(client, acme_admin):
    sign_in(client, acme_admin)
    form = open_form(client, Z2X_PAGE).tick("Contacts-enabled", "Accounts-enabled").set(customer_module="Contacts")
    response = submit(client, Z2X_PAGE, form, htmx=True)
    assert response.status_code == 422
    page = text(response)
    assert "With Contacts as the customer module, Zoho accounts are not synced to Xero" in page
    assert "Make Accounts the customer module" in page
    assert "Not synced while Contacts are the Xero customers." in page  # the Accounts row's note
    ok = submit(client, Z2X_PAGE, BrowserForm(page, "settings-form").untick("Accounts-enabled"), htmx=True)
    assert ok.status_code == 200
    assert "Xero customers come from Zoho Contacts (before: Accounts)" in text(ok)


def test_the_xero_to_zoho_tab_keeps_the_other_tab_as_it_is(client, acme_admin):
    sign_in(client, acme_admin)
    assert submit(client, Z2X_PAGE, open_form(client, Z2X_PAGE).tick(*switches("Accounts"))).status_code == 303
    page = text(client.get(X2Z_PAGE))
    assert "Allow sync" in page and "Chart of accounts" in page
    assert "When off, nothing moves from Xero to Zoho CRM" in page
    form = open_form(client, X2Z_PAGE).tick("allow_xero_to_zoho", "Contacts-enabled", "Invoices-enabled",
                                            "Payments-enabled").untick("Payments-create")
    response = submit(client, X2Z_PAGE, form.set(conflict_policy="newest_wins"), htmx=True)
    assert response.status_code == 200, text(response)[:2000]
    page = text(response)
    assert "<li>Sync from Xero to Zoho CRM is now allowed</li>" in page
    assert ("<li>When both sides changed the same field: The most recent change wins "
            "(before: Ask me: the record waits in the review queue)</li>") in page
    settings = stored(acme_admin.tenant)
    assert settings.allows(Direction.XERO_TO_ZOHO, "Payments", "update")
    assert not settings.allows(Direction.XERO_TO_ZOHO, "Payments", "create")
    assert settings.allows(Direction.ZOHO_TO_XERO, "Accounts", "delete")  # the other tab, untouched
    assert settings.conflict_policy == "newest_wins"


def test_xero_to_zoho_refusals_offer_their_fix(client, acme_admin):
    sign_in(client, acme_admin)
    form = open_form(client, X2Z_PAGE).tick("allow_xero_to_zoho", "Payments-enabled")
    response = submit(client, X2Z_PAGE, form, htmx=True)
    assert response.status_code == 422
    page = text(response)
    assert "Payments update Zoho invoices, but Invoices are synced in neither direction." in page
    assert "Turn on Invoices" in page
    fixed = submit(client, X2Z_PAGE, form, htmx=True, apply_fix="payments_need_invoices:xero_to_zoho.Payments.enabled")
    assert fixed.status_code == 422  # Xero invoices then need their contacts: the next problem, with its fix
    assert "Xero invoices need their contacts in Zoho" in text(fixed) and "Turn on Contacts" in text(fixed)
    done = submit(client, X2Z_PAGE, BrowserForm(text(fixed), "settings-form"), htmx=True,
                  apply_fix="xero_invoices_need_contacts:xero_to_zoho.Invoices.enabled")
    assert done.status_code == 200
    assert stored(acme_admin.tenant).allows(Direction.XERO_TO_ZOHO, "Contacts", "create")


def test_a_save_over_someone_elses_newer_save_is_refused_and_loses_nothing(client, acme_admin, acme_owner, app):
    sign_in(client, acme_admin)
    mine = open_form(client, Z2X_PAGE).tick(*switches("Accounts"))
    other = app.test_client()
    sign_in(other, acme_owner)
    assert submit(other, Z2X_PAGE, open_form(other, Z2X_PAGE).tick("Products-enabled")).status_code == 303
    response = submit(client, Z2X_PAGE, mine, htmx=True)
    assert response.status_code == 409
    page = text(response)
    assert "Someone else updated this configuration (Olivia Owner" in page
    kept = BrowserForm(page, "settings-form")
    assert kept.get("Accounts-delete") == "y" and kept.get("revision") == "1"
    settings = stored(acme_admin.tenant)
    assert settings.switches(Direction.ZOHO_TO_XERO, "Products").enabled
    assert not settings.switches(Direction.ZOHO_TO_XERO, "Accounts").enabled
    again = submit(client, Z2X_PAGE, kept, htmx=True)  # saved again from that page, it goes through
    assert again.status_code == 200
    assert stored(acme_admin.tenant).switches(Direction.ZOHO_TO_XERO, "Accounts").enabled


def test_connected_systems_offer_their_accounts_tax_rates_and_deal_stages(client, acme_admin, remote):
    remote.connect(acme_admin.tenant)
    sign_in(client, acme_admin)
    page = text(client.get(Z2X_PAGE))
    assert '<select aria-describedby="default_sales_account-help" id="default_sales_account"' in page
    assert '<option value="200">200 · Sales</option>' in page and '<option value="260">' in page
    assert 'value="400"' not in page and 'value="210"' not in page  # expense and archived accounts
    assert '<option value="OUTPUT2">15% GST on Income (15.0 %)</option>' in page
    assert 'value="INPUT2"' not in page
    assert '<option value="Won (signed)">' in page
    assert "Closed Won (not found in the connected organisation)" in page  # the stored default is kept
    assert "Connected Xero organisation: Demo Company (NZ), base currency NZD." in page
    assert "Invoices dated on or before Jan 1, 2024 are locked in Xero" in page
    form = open_form(client, Z2X_PAGE).tick("Deals-enabled", "Accounts-enabled")
    form.set(default_sales_account="260", default_tax_type="OUTPUT2", won_deal_stage="Won (signed)")
    response = submit(client, Z2X_PAGE, form, htmx=True)
    assert response.status_code == 200, text(response)[:2000]
    settings = stored(acme_admin.tenant)
    assert (settings.default_sales_account, settings.default_tax_type, settings.won_deal_stage) == \
        ("260", "OUTPUT2", "Won (signed)")
    refused = submit(client, Z2X_PAGE, open_form(client, Z2X_PAGE).set(default_sales_account="999"), htmx=True)
    assert refused.status_code == 422 and "Not a valid choice" in text(refused)
    assert remote.calls["xero Accounts"] == 1  # cached between the pages


def test_support_staff_see_both_tabs_read_only_and_every_post_is_refused(client, acme_admin, support_agent):
    from portal.services.access import VIEWED_TENANT_KEY

    sign_in(client, support_agent)
    with client.session_transaction() as session:
        session[VIEWED_TENANT_KEY] = acme_admin.tenant_id
    for path in (Z2X_PAGE, X2Z_PAGE):
        response = client.get(path)
        assert response.status_code == 200
        page = text(response)
        assert '<fieldset class="plain" disabled>' in page and "You are viewing this configuration read-only." in page
        assert "Update configuration</button>" not in page
        token = csrf_token(client, path)
        data = {"csrf_token": token, "Accounts-enabled": "y", "revision": "0"}
        assert client.post(path, data=data).status_code == 403
        assert client.post(path, data=data, headers=HTMX).status_code == 403
    assert db.session.scalar(select(SyncConfig)) is None


@pytest.mark.parametrize("path", [Z2X_PAGE, X2Z_PAGE])
def test_signed_out_visitors_are_sent_to_sign_in(client, acme, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_tabs_speak_french(client, acme_admin):
    sign_in(client, acme_admin)
    client.post("/account/language", data={"csrf_token": csrf_token(client, "/"), "locale": "fr"})
    page = text(client.get(X2Z_PAGE))
    assert "Mettre à jour la configuration" in page and "Autoriser la synchronisation" in page
    response = submit(client, Z2X_PAGE, open_form(client, Z2X_PAGE).tick("Invoices-enabled"), htmx=True)
    assert "Activer Comptes" in text(response)
