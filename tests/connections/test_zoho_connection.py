"""Connecting Zoho CRM through the sandbox's real consent page, and the Zoho connector over real HTTP."""

from __future__ import annotations

from sqlalchemy import select, text

from portal.connectors.errors import AuthRevoked
from portal.extensions import db
from portal.models import Connection, ConnectionStatus
from portal.services import connections
from tests.conftest import sign_in
from tests.connections.consent import callback_path, connect_zoho, consent_decision, start_connect


def test_an_admin_connects_zoho_in_the_eu_data_centre(app, client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    page = connect_zoho(client, dc="eu")
    assert "Connected to" in page
    connection = db.session.scalar(select(Connection).where(Connection.side == "zoho"))
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.zoho_location == "eu"
    assert connection.zoho_accounts_server == f"{sandbox.base_url}/zoho/accounts"
    assert connection.zoho_api_domain == f"{sandbox.base_url}/zoho"
    assert connection.remote_org_name in page
    # Tokens are encrypted at rest: no plain token anywhere in the row.
    raw = db.session.execute(text("SELECT access_token_encrypted, refresh_token_encrypted FROM connection")).one()
    tokens = sandbox.zoho.call("GET", "tokens")
    plain = [t.get("token") for t in tokens.get("tokens", []) if t.get("token")]
    assert plain and not any(token in (raw[0] + raw[1]) for token in plain)
    assert "Zoho CRM" in page and "EU" in page


def test_declining_consent_connects_nothing(client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    consent_url = start_connect(client, "zoho")
    redirect = consent_decision(consent_url, decision="deny")
    page = client.get(callback_path(redirect), follow_redirects=True).get_data(as_text=True)
    assert "You declined the access request in Zoho CRM" in page
    assert db.session.scalar(select(Connection).where(Connection.status == "connected")) is None


def test_a_callback_with_someone_elses_state_is_refused(client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    consent_url = start_connect(client, "zoho")
    redirect = consent_decision(consent_url)
    forged = callback_path(redirect).replace("state=", "state=forged")
    page = client.get(forged, follow_redirects=True).get_data(as_text=True)
    assert "did not come from this page" in page
    assert db.session.scalar(select(Connection).where(Connection.status == "connected")) is None


def test_a_used_code_is_refused_with_a_clear_message(client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    consent_url = start_connect(client, "zoho")
    redirect = consent_decision(consent_url)
    assert "Connected to" in client.get(callback_path(redirect), follow_redirects=True).get_data(as_text=True)
    # Replaying the same answer: the state is spent, so it is refused before the code is even tried.
    page = client.get(callback_path(redirect), follow_redirects=True).get_data(as_text=True)
    assert "did not come from this page" in page


def test_an_untrusted_accounts_server_never_receives_our_code_or_secret(client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    consent_url = start_connect(client, "zoho")
    redirect = consent_decision(consent_url)
    tampered = callback_path(redirect).replace("accounts-server=", "accounts-server=https%3A%2F%2Fevil.example%2F")
    page = client.get(tampered, follow_redirects=True).get_data(as_text=True)
    assert "Zoho CRM could not be connected" in page
    assert db.session.scalar(select(Connection).where(Connection.status == "connected")) is None


def test_the_connector_refreshes_an_expired_token_once_and_carries_on(app, client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    connect_zoho(client)
    connection = db.session.scalar(select(Connection).where(Connection.side == "zoho"))
    zoho = connections.zoho_client(connection)
    assert zoho.org()["company_name"] == connection.remote_org_name
    sandbox.zoho.call("POST", "tokens/expire", {"all": True})  # every access token dies now, as after an hour
    assert zoho.current_user()  # 401 INVALID_TOKEN, one refresh, the call succeeds
    db.session.refresh(connection)
    assert connection.refreshed_at is not None and connection.status == ConnectionStatus.CONNECTED


def test_a_revoked_grant_marks_the_connection_for_reconnect(app, client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    connect_zoho(client)
    connection = db.session.scalar(select(Connection).where(Connection.side == "zoho"))
    sandbox.zoho.call("POST", "tokens/revoke", {"all": True})
    zoho = connections.zoho_client(connection)
    try:
        zoho.org()
    except AuthRevoked:
        pass
    else:
        raise AssertionError("a revoked grant must not keep working")
    db.session.refresh(connection)
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    page = client.get("/connections/").get_data(as_text=True)
    assert "Needs to be connected again" in page


def test_disconnect_revokes_the_grant(app, client, acme_admin, sandbox):
    from tests.conftest import post_form

    sign_in(client, acme_admin)
    connect_zoho(client)
    before = sum(t["active"] for t in sandbox.zoho.call("GET", "tokens")["tokens"])
    page = post_form(client, "/connections/zoho/disconnect", page="/connections/",
                     follow_redirects=True).get_data(as_text=True)
    assert "Zoho CRM is disconnected" in page
    connection = db.session.scalar(select(Connection).where(Connection.side == "zoho"))
    assert connection.status == ConnectionStatus.DISCONNECTED
    assert connection.refresh_token_encrypted is None
    assert sum(t["active"] for t in sandbox.zoho.call("GET", "tokens")["tokens"]) == 0 < before
