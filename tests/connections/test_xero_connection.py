"""Connecting Xero through the sandbox's consent page: one organisation, several (the picker), reset."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from portal.extensions import db
from portal.models import Connection, ConnectionStatus
from portal.services import connections
from tests.conftest import post_form, sign_in
from tests.connections.consent import callback_path, connect_xero, consent_decision, start_connect


def offered_organisations(consent_url: str) -> list[tuple[str, str]]:
    page = requests.get(consent_url, timeout=10).text
    return re.findall(r'name="tenant" value="([^"]+)" id="[^"]+"[^>]*>\s*<label[^>]*>([^<]+)<', page) or \
        [(value, value) for value in re.findall(r'name="tenant" value="([^"]+)"', page)]


def test_one_organisation_connects_directly(app, client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    page = connect_xero(client)
    assert "Connected to" in page
    connection = db.session.scalar(select(Connection).where(Connection.side == "xero"))
    assert connection.status == ConnectionStatus.CONNECTED and connection.remote_org_id
    organisation = connections.xero_client(connection).organisation()
    assert organisation["Name"] == connection.remote_org_name


def test_several_organisations_show_a_picker_and_release_the_others(app, client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    consent_url = start_connect(client, "xero")
    offered = [value for value, _ in offered_organisations(consent_url)]
    assert len(offered) >= 2
    redirect = consent_decision(consent_url, tenant=offered[:2])
    response = client.get(callback_path(redirect))
    assert response.headers["Location"].endswith("/connections/xero/choose")
    picker = client.get("/connections/xero/choose").get_data(as_text=True)
    assert offered[0] in picker and offered[1] in picker
    page = post_form(client, "/connections/xero/choose", {"organisation": offered[1]},
                     page="/connections/xero/choose", follow_redirects=True).get_data(as_text=True)
    assert "Connected to" in page
    connection = db.session.scalar(select(Connection).where(Connection.side == "xero"))
    assert connection.remote_org_id == offered[1]
    # Only the chosen organisation stays connected to the app on Xero's side.
    access = connections.tokens_for(connection).access_token()
    remaining = connections.providers().xero.connections(access)
    assert [c["tenantId"] for c in remaining] == [offered[1]]


def test_an_organisation_that_was_not_offered_cannot_be_chosen(client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    consent_url = start_connect(client, "xero")
    offered = [value for value, _ in offered_organisations(consent_url)]
    client.get(callback_path(consent_decision(consent_url, tenant=offered[:2])))
    response = post_form(client, "/connections/xero/choose", {"organisation": "not-offered"},
                         page="/connections/xero/choose")
    assert response.status_code == 422


def test_reset_is_for_owners_and_fences_the_old_organisation(app, client, acme_owner, acme_admin, sandbox):
    admin = app.test_client()
    sign_in(admin, acme_admin)
    assert admin.get("/connections/xero/reset").status_code == 403
    sign_in(client, acme_owner)
    connect_xero(client)
    connection = db.session.scalar(select(Connection).where(Connection.side == "xero"))
    generation = connection.generation
    confirm = client.get("/connections/xero/reset").get_data(as_text=True)
    assert "Nothing more is written to" in confirm
    page = post_form(client, "/connections/xero/reset", page="/connections/xero/reset",
                     follow_redirects=True).get_data(as_text=True)
    assert "was reset" in page
    db.session.refresh(connection)
    assert connection.status == ConnectionStatus.DISCONNECTED
    assert connection.generation == generation + 1 and connection.remote_org_id is None


def test_a_denied_consent_saves_nothing(client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    redirect = consent_decision(start_connect(client, "xero"), decision="deny")
    page = client.get(callback_path(redirect), follow_redirects=True).get_data(as_text=True)
    assert "You declined the access request in Xero" in page
    assert db.session.scalar(select(Connection).where(Connection.status == "connected")) is None
