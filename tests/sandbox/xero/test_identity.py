"""Xero identity in the sandbox: the consent page (JavaScript off), the token endpoint, rotation and grace of
refresh tokens, revocation, /connections and tenant and scope checks (FACTS.md §1)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from tests.sandbox.xero.helpers import (
    AU,
    CLIENT_ID,
    FULL_SCOPE,
    NZ,
    REDIRECT_URI,
    UK,
    ConsentForm,
    XeroApi,
    authorize_url,
    consent,
    exchange,
    jwt_claims,
    token_request,
)


def test_consent_page_is_a_plain_form_showing_scopes_and_organisations(sandbox_server, sandbox):
    page = requests.get(authorize_url(sandbox_server.url), timeout=10)
    assert page.status_code == 200
    assert "<script" not in page.text.lower()
    # Cookies ignore ports: the sandbox must not overwrite the portal's "session" cookie on 127.0.0.1.
    assert "session" not in page.cookies and "sandbox_session" in page.cookies
    assert "demo@sandbox.example" in page.text  # the demo user is signed in
    for scope in FULL_SCOPE.split():
        assert f"<code>{scope}</code>" in page.text
    form = ConsentForm(page.text)
    assert form.tenants == [NZ, UK, AU]
    assert 'name="action" value="allow"' in page.text and 'name="action" value="deny"' in page.text


def test_allow_redirects_with_code_scope_and_state_and_connects_the_chosen_orgs(sandbox_server, sandbox, xero_specs):
    redirect = consent(sandbox_server.url, tenants=[NZ, AU])
    assert set(redirect) == {"code", "scope", "state"}
    assert redirect["state"] == ["st4te"] and redirect["scope"] == [FULL_SCOPE]

    token = exchange(sandbox_server.url, redirect["code"][0])
    assert token.status_code == 200, token.text
    body = token.json()
    assert set(body) == {"id_token", "access_token", "expires_in", "token_type", "refresh_token", "scope"}
    assert (body["expires_in"], body["token_type"], body["scope"]) == (1800, "Bearer", FULL_SCOPE)
    claims = jwt_claims(body["access_token"])
    assert claims["client_id"] == CLIENT_ID and claims["exp"] - claims["nbf"] == 1800
    assert jwt_claims(body["id_token"])["email"] == "demo@sandbox.example"

    api = XeroApi(sandbox_server.url, xero_specs, body["access_token"])
    connections = api.ok(api.connections())
    assert [c["tenantId"] for c in connections] == [NZ, AU]
    assert {c["authEventId"] for c in connections} == {claims["authentication_event_id"]}
    assert {c["tenantType"] for c in connections} == {"ORGANISATION"}
    # Connection dates: UTC ISO without offset, 7 fractional digits (not /Date()/).
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}", c["createdDateUtc"]) for c in connections)
    assert api.get("/Organisation").status_code == 200
    api.tenant = UK
    assert api.get("/Organisation").status_code == 403  # not chosen on the consent page


def test_deny_redirects_with_access_denied_and_state(sandbox_server, sandbox):
    redirect = consent(sandbox_server.url, action="deny")
    assert redirect == {"error": ["access_denied"], "state": ["st4te"]}


def test_allow_without_an_organisation_shows_the_form_again(sandbox_server, sandbox):
    browser = requests.Session()
    page = browser.get(authorize_url(sandbox_server.url), timeout=10)
    form = ConsentForm(page.text)
    answer = browser.post(page.url, data={**form.hidden, "action": "allow"}, allow_redirects=False, timeout=10)
    assert answer.status_code == 422
    assert "Select at least one organisation" in answer.text


def test_consent_form_needs_its_own_session_token(sandbox_server, sandbox):
    page = requests.get(authorize_url(sandbox_server.url), timeout=10)
    form = ConsentForm(page.text)
    # Posted from another browser (no session cookie): refused, nothing redirected.
    forged = requests.post(page.url, data={**form.hidden, "action": "allow", "tenant": NZ}, allow_redirects=False,
                           timeout=10)
    assert forged.status_code == 400 and "Location" not in forged.headers


def test_untrusted_client_or_redirect_uri_gets_an_error_page_not_a_redirect(sandbox_server, sandbox):
    for url in (authorize_url(sandbox_server.url, redirect_uri="https://evil.example/callback"),
                authorize_url(sandbox_server.url).replace(CLIENT_ID, "someone-else")):
        answer = requests.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code == 400 and "Location" not in answer.headers
    unknown_scope = requests.get(authorize_url(sandbox_server.url, scope="accounting.everything"),
                                 allow_redirects=False, timeout=10)
    assert unknown_scope.status_code == 302
    assert parse_qs(urlsplit(unknown_scope.headers["Location"]).query)["error"] == ["invalid_scope"]


def test_code_is_single_use_bound_to_its_redirect_uri_and_short_lived(sandbox_server, sandbox):
    code = consent(sandbox_server.url)["code"][0]
    assert exchange(sandbox_server.url, code, redirect_uri=REDIRECT_URI + "/other").json() == {"error": "invalid_grant"}
    # A failed attempt burns the code too.
    assert exchange(sandbox_server.url, code).json() == {"error": "invalid_grant"}

    code = consent(sandbox_server.url)["code"][0]
    assert exchange(sandbox_server.url, code, basic=False).status_code == 200  # client in form fields (the SDK's way)
    again = exchange(sandbox_server.url, code)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})

    code = consent(sandbox_server.url)["code"][0]
    sandbox.xero.clock(advance_seconds=301)
    assert exchange(sandbox_server.url, code).json() == {"error": "invalid_grant"}


def test_client_authentication_is_checked(sandbox_server, sandbox):
    code = consent(sandbox_server.url)["code"][0]
    wrong = requests.post(f"{sandbox_server.url}/xero/identity/connect/token", auth=(CLIENT_ID, "not-the-secret"),
                          data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
                          timeout=10)
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_client"})
    odd = token_request(sandbox_server.url, {"grant_type": "password"})
    assert odd.json() == {"error": "unsupported_grant_type"}


def test_pkce_verifier_must_match_the_challenge(sandbox_server, sandbox):
    import base64
    import hashlib

    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    url = authorize_url(sandbox_server.url, code_challenge=challenge, code_challenge_method="S256")
    code = consent(sandbox_server.url, url=url)["code"][0]
    bad = token_request(sandbox_server.url, {"grant_type": "authorization_code", "code": code,
                                             "redirect_uri": REDIRECT_URI, "code_verifier": "w" * 50})
    assert bad.json() == {"error": "invalid_grant"}
    code = consent(sandbox_server.url, url=url)["code"][0]
    good = token_request(sandbox_server.url, {"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": REDIRECT_URI, "code_verifier": verifier})
    assert good.status_code == 200


def refresh(base_url: str, token: str) -> requests.Response:
    return token_request(base_url, {"grant_type": "refresh_token", "refresh_token": token}, basic=False)


def test_refresh_tokens_rotate_with_a_30_minute_grace_for_the_previous_one(sandbox_server, sandbox, xero_specs):
    first = exchange(sandbox_server.url, consent(sandbox_server.url)["code"][0]).json()
    second = refresh(sandbox_server.url, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert jwt_claims(second["access_token"])["authentication_event_id"] == \
        jwt_claims(first["access_token"])["authentication_event_id"]

    # The response was "lost": the previous refresh token still works within the grace period.
    sandbox.xero.clock(advance_seconds=20 * 60)
    replayed = refresh(sandbox_server.url, first["refresh_token"])
    assert replayed.status_code == 200
    assert XeroApi(sandbox_server.url, xero_specs, replayed.json()["access_token"]).get("/Organisation").ok

    sandbox.xero.clock(advance_seconds=11 * 60)  # 31 minutes after its first use
    late = refresh(sandbox_server.url, first["refresh_token"])
    assert (late.status_code, late.json()) == (400, {"error": "invalid_grant"})
    assert refresh(sandbox_server.url, second["refresh_token"]).status_code == 200


def test_unused_refresh_token_expires_after_60_days(sandbox_server, sandbox):
    token = exchange(sandbox_server.url, consent(sandbox_server.url)["code"][0]).json()
    sandbox.xero.clock(advance_seconds=59 * 86_400)
    fresh = refresh(sandbox_server.url, token["refresh_token"]).json()
    sandbox.xero.clock(advance_seconds=60 * 86_400 + 60)
    assert refresh(sandbox_server.url, fresh["refresh_token"]).json() == {"error": "invalid_grant"}


def test_refresh_token_only_with_offline_access(sandbox_server, sandbox):
    scope = "openid accounting.contacts.read"
    token = exchange(sandbox_server.url, consent(sandbox_server.url, scope=scope)["code"][0]).json()
    assert "refresh_token" not in token and token["scope"] == scope


def test_access_tokens_expire_after_30_minutes(sandbox_server, sandbox, xero):
    assert xero.get("/Contacts").status_code == 200
    sandbox.xero.clock(advance_seconds=1800)
    expired = xero.get("/Contacts")
    assert expired.status_code == 401
    body = expired.json()
    assert (body["Title"], body["Status"]) == ("Unauthorized", 401)
    assert re.fullmatch(r"TokenExpired: token expired at \d\d/\d\d/\d{4} \d\d:\d\d:\d\d", body["Detail"])


def test_revocation_removes_the_connections_and_the_tokens(sandbox_server, sandbox, xero_specs):
    token = exchange(sandbox_server.url, consent(sandbox_server.url, tenants=[NZ, UK])["code"][0]).json()
    answer = requests.post(f"{sandbox_server.url}/xero/identity/connect/revocation",
                           data={"token": token["refresh_token"], "client_id": CLIENT_ID,
                                 "client_secret": "sandbox-secret"}, timeout=10)
    assert answer.status_code == 200
    assert refresh(sandbox_server.url, token["refresh_token"]).json() == {"error": "invalid_grant"}
    api = XeroApi(sandbox_server.url, xero_specs, token["access_token"])
    assert api.get("/Contacts").status_code == 401
    fresh = exchange(sandbox_server.url, consent(sandbox_server.url, tenants=[AU])["code"][0]).json()
    api.token = fresh["access_token"]
    assert [c["tenantId"] for c in api.ok(api.connections())] == [AU]


def test_connections_are_case_insensitive_filterable_and_deletable(sandbox_server, sandbox, xero_specs):
    first = exchange(sandbox_server.url, consent(sandbox_server.url, tenants=[NZ])["code"][0]).json()
    second = exchange(sandbox_server.url, consent(sandbox_server.url, tenants=[UK])["code"][0]).json()
    api = XeroApi(sandbox_server.url, xero_specs, second["access_token"])
    everything = api.ok(api.connections())
    assert [c["tenantId"] for c in everything] == [NZ, UK]  # one token reaches every connected tenant
    capital = requests.get(f"{sandbox_server.url}/xero/Connections", timeout=10,
                           headers={"Authorization": f"Bearer {second['access_token']}"})
    assert capital.json() == everything
    assert set(capital.headers) >= {"X-AppMinLimit-Remaining"} and "X-MinLimit-Remaining" not in capital.headers
    event = jwt_claims(first["access_token"])["authentication_event_id"]
    assert [c["tenantId"] for c in api.ok(api.connections(authEventId=event))] == [NZ]

    nz = next(c for c in everything if c["tenantId"] == NZ)
    deleted = requests.delete(f"{sandbox_server.url}/xero/connections/{nz['id']}", timeout=10,
                              headers={"Authorization": f"Bearer {second['access_token']}"})
    assert deleted.status_code == 204
    assert api.get("/Organisation").status_code == 403
    again = requests.delete(f"{sandbox_server.url}/xero/connections/{nz['id']}", timeout=10,
                            headers={"Authorization": f"Bearer {second['access_token']}"})
    assert again.status_code == 404


def test_tenant_header_is_required_and_must_be_connected(sandbox, mint):
    api = mint(tenants=[NZ])
    for tenant in (None, "not-a-guid", UK, "00000000-0000-4000-8000-000000000000"):
        api.tenant = tenant
        answer = api.get("/Contacts")
        assert answer.status_code == 403
        assert answer.json()["Detail"] == "AuthenticationUnsuccessful"
    api.tenant, api.token = NZ, "not-a-token"
    assert api.get("/Contacts").json()["Detail"] == "AuthenticationUnsuccessful"


def test_scopes_are_enforced_per_resource_broad_and_granular(sandbox, mint):
    reader = mint(scope="accounting.contacts.read accounting.settings.read")
    assert reader.get("/Contacts").status_code == 200
    denied = reader.put("/Contacts", {"Contacts": [{"Name": "Nope"}]})
    assert denied.status_code == 401
    assert denied.json()["Detail"] == "AuthorizationUnsuccessful"
    assert "insufficient_scope" in denied.headers["WWW-Authenticate"]
    assert reader.get("/Invoices").status_code == 401
    assert reader.get("/Reports/ProfitAndLoss").status_code == 401

    granular = mint(scope="accounting.invoices accounting.payments.read accounting.reports.profitandloss.read")
    assert granular.get("/Invoices").status_code == 200
    assert granular.get("/Items").status_code == 200  # Items come with accounting.invoices too
    assert granular.get("/Payments").status_code == 200
    assert granular.put("/Payments", {"Payments": []}).status_code == 401
    assert granular.get("/Contacts").status_code == 401
    assert granular.get("/Reports/ProfitAndLoss").status_code == 200
    assert granular.get("/Reports/BankSummary").status_code == 401


def test_control_can_expire_or_revoke_a_token_now(sandbox, mint):
    api = mint()
    sandbox.xero.call("POST", "tokens/expire", {"token": api.token})
    assert api.get("/Contacts").json()["Detail"].startswith("TokenExpired")
    other = mint()
    sandbox.xero.call("POST", "tokens/revoke", {"token": other.token})
    assert other.get("/Contacts").json()["Detail"] == "AuthenticationUnsuccessful"
    refreshable = mint()
    sandbox.xero.call("POST", "tokens/expire", {"token": refreshable.refresh_token})
    assert refresh(sandbox.base_url, refreshable.refresh_token).json() == {"error": "invalid_grant"}


def test_an_organisation_can_disconnect_or_go_offline(sandbox, mint):
    api = mint()
    sandbox.xero.call("POST", f"orgs/{NZ}", {"offline": True})
    offline = api.get("/Contacts")
    assert offline.status_code == 503 and offline.headers["Content-Type"].startswith("text/plain")
    sandbox.xero.call("POST", f"orgs/{NZ}", {"offline": False})
    assert api.get("/Contacts").status_code == 200
    assert sandbox.xero.call("POST", "orgs/nz/disconnect") == {"disconnected": 1}
    assert api.get("/Contacts").status_code == 403
    assert NZ not in [c["tenantId"] for c in api.ok(api.connections())]
