"""The Triggers page: what admins configure in Zoho and Xero, and the Send to Xero form."""

from __future__ import annotations

from redis import Redis
from rq import Queue

from portal.extensions import db
from portal.models import InboundEvent
from portal.services import hook_keys
from tests.conftest import post_form, sign_in


def test_admins_see_the_urls_and_secrets_to_give_zoho_and_xero(client, acme, acme_admin):
    sign_in(client, acme_admin)
    page = client.get("/triggers/").get_data(as_text=True)
    keys = hook_keys.keys_for(acme)
    assert f"http://127.0.0.1:5000/hooks/zoho/{keys.token}" in page
    assert keys.workflow_secret in page
    assert (f"/hooks/zoho/{keys.token}/send?module=Invoices&amp;id=${{Invoices.Invoice Id}}&amp;key={keys.send_key}"
            in page)
    assert "http://127.0.0.1:5000/hooks/xero" in page
    assert "Set (XERO_WEBHOOK_KEY)." in page
    assert "Off: turn on “On-save sync”" in page


def test_support_staff_read_the_page_without_the_secrets(client, acme, acme_owner, support_agent):
    keys = hook_keys.keys_for(acme)
    sign_in(client, support_agent)
    post_form(client, "/support/tenants/acme/view", page="/support/")
    page = client.get("/triggers/").get_data(as_text=True)
    assert "Triggers" in page and keys.workflow_secret not in page and keys.send_key not in page
    assert "shown to the tenant's admins only" in page


def test_the_send_form_refuses_what_is_not_a_zoho_record_and_queues_what_is(client, acme, acme_admin, redis_url):
    sign_in(client, acme_admin)
    refused = post_form(client, "/triggers/send", {"module": "Invoices", "record_id": "INV-001"}, page="/triggers/")
    assert refused.status_code == 422
    assert "A Zoho CRM record id is a number of up to 19 digits." in refused.get_data(as_text=True)
    assert post_form(client, "/triggers/send", {"module": "Leads", "record_id": "1"},
                     page="/triggers/").status_code == 422
    sent = post_form(client, "/triggers/send", {"module": "Invoices", "record_id": " 4150868000000123001 "},
                     page="/triggers/")
    assert sent.status_code == 302
    event = db.session.query(InboundEvent).one()
    assert (event.kind, event.record_ids, event.requested_by_id) == ("send_portal", ["4150868000000123001"],
                                                                    acme_admin.id)
    assert [j.args for j in Queue("high", connection=Redis.from_url(redis_url)).jobs] == [(acme.id, event.id)]
    status = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Sending to Xero…" in status and 'hx-trigger="every 1s"' in status


def test_a_french_admin_reads_the_outcome_in_french(client, acme, acme_admin):
    sign_in(client, acme_admin)
    post_form(client, "/account/language", {"locale": "fr"})
    sent = post_form(client, "/triggers/send", {"module": "Invoices", "record_id": "1"}, page="/triggers/")
    assert "Envoi vers Xero…" in client.get(sent.headers["Location"]).get_data(as_text=True)


def test_owners_replace_the_hook_secrets_and_the_old_urls_stop_working(client, acme, acme_owner):
    old = hook_keys.keys_for(acme)
    sign_in(client, acme_owner)
    assert post_form(client, "/triggers/rotate", page="/triggers/").status_code == 302
    new = hook_keys.keys_for(acme)
    assert new.token != old.token and new.workflow_secret != old.workflow_secret
    assert client.post(f"/hooks/zoho/{old.token}", data={"module": "Invoices", "id": "1",
                                                         "secret": old.workflow_secret}).status_code == 404
    assert client.post(f"/hooks/zoho/{new.token}", data={"module": "Invoices", "id": "1",
                                                         "secret": new.workflow_secret}).status_code == 200


def test_admins_cannot_replace_the_secrets(client, acme, acme_admin):
    sign_in(client, acme_admin)
    assert post_form(client, "/triggers/rotate", page="/triggers/").status_code == 403


def test_saving_settings_that_change_on_save_reconciles_the_zoho_channels(app, acme, acme_admin, redis_url):
    from dataclasses import replace

    from portal.services import settings as tenant_settings
    from portal.sync.settings import SyncSettings

    high = Queue("high", connection=Redis.from_url(redis_url))
    on = SyncSettings.everything_on(default_tax_type="OUTPUT2")
    tenant_settings.save(acme, acme_admin, on, base_revision=0)
    assert [(j.func_name, j.args) for j in high.jobs] == [("portal.jobs.triggers.reconcile_channels", (acme.id,))]
    high.empty()
    tenant_settings.save(acme, acme_admin, replace(on, conflict_policy="zoho_wins"), base_revision=1)
    assert high.jobs == []  # nothing the channels depend on
    tenant_settings.save(acme, acme_admin, replace(on, conflict_policy="zoho_wins", on_save=False), base_revision=2)
    assert [j.func_name for j in high.jobs] == ["portal.jobs.triggers.reconcile_channels"]
