"""Zoho Accounts in the sandbox: consent, codes, tokens and their limits, revocation, data centres, scopes."""

from __future__ import annotations

import re

import requests

from tests.sandbox.zoho.conftest import ALL_SCOPES, REDIRECT_URI, Api, ZohoSandbox
from tests.sandbox.zoho.oas import validate, validate_error


def test_consent_page_is_a_plain_form_with_scopes_orgs_and_data_centres(zoho: ZohoSandbox):
    page = requests.get(f"{zoho.accounts}/oauth/v2/auth", timeout=10, params={
        "client_id": "sandbox-client", "response_type": "code", "redirect_uri": REDIRECT_URI,
        "scope": "ZohoCRM.modules.ALL,ZohoCRM.users.READ", "access_type": "offline", "state": "abc"})
    assert page.status_code == 200
    assert "<script" not in page.text
    assert 'method="post"' in page.text
    assert "ZohoCRM.modules.ALL" in page.text and "ZohoCRM.users.READ" in page.text
    assert "demo@zylker.example" in page.text  # the demo user is already signed in
    org_ids = re.findall(r'name="org_id" value="(\d+)"', page.text)
    assert len(org_ids) == 4 and all(len(org_id) == 19 for org_id in org_ids)
    for dc in ("us", "eu", "in", "au", "jp", "cn", "ca", "sa"):
        assert f'<option value="{dc}">' in page.text


def test_allow_redirects_with_code_location_accounts_server_and_state(zoho: ZohoSandbox):
    eu = zoho.org("eu")
    redirect = zoho.consent_code(eu["id"], state="xyz")
    assert set(redirect) == {"code", "location", "accounts-server", "state"}
    assert redirect["location"] == "eu"
    assert redirect["accounts-server"] == f"{zoho.base}/zoho/accounts"
    assert redirect["state"] == "xyz"


def test_deny_redirects_with_access_denied(zoho: ZohoSandbox):
    browser = requests.Session()
    answer = browser.post(f"{zoho.accounts}/oauth/v2/auth", allow_redirects=False, timeout=10, data={
        "client_id": "sandbox-client", "response_type": "code", "redirect_uri": REDIRECT_URI, "scope": ALL_SCOPES,
        "access_type": "offline", "state": "s", "decision": "deny"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{REDIRECT_URI}?error=access_denied&state=s"


def test_consent_rejects_unknown_clients_and_foreign_redirects(zoho: ZohoSandbox):
    base = {"response_type": "code", "scope": ALL_SCOPES}
    wrong_client = requests.get(f"{zoho.accounts}/oauth/v2/auth", timeout=10,
                                params={**base, "client_id": "other", "redirect_uri": REDIRECT_URI})
    assert wrong_client.status_code == 400 and "Invalid Client" in wrong_client.text
    foreign = requests.get(f"{zoho.accounts}/oauth/v2/auth", timeout=10,
                           params={**base, "client_id": "sandbox-client", "redirect_uri": "https://evil.example/cb"})
    assert foreign.status_code == 400 and "Invalid Redirect Uri" in foreign.text


def test_exchange_gives_tokens_for_an_hour_and_the_api_domain(zoho: ZohoSandbox):
    tokens = zoho.connect("in")
    assert set(tokens.body) == {"access_token", "refresh_token", "scope", "api_domain", "token_type", "expires_in"}
    assert tokens.body["expires_in"] == 3600 and tokens.body["token_type"] == "Bearer"
    assert tokens.api_domain == f"{zoho.base}/zoho"
    org = Api(tokens.api_domain, tokens.access_token).get("/crm/v8/org").json()["org"][0]
    assert org["id"] == zoho.org("in")["id"] and org["time_zone"] == "Asia/Kolkata"


def test_codes_are_single_use_bound_to_their_redirect_uri_and_short_lived(zoho: ZohoSandbox):
    us = zoho.org("us")["id"]
    code = zoho.consent_code(us)["code"]
    wrong_uri = zoho.token(grant_type="authorization_code", code=code, redirect_uri="http://localhost:1/other")
    # Zoho answers Accounts errors with HTTP 200 and an error body (FACTS.md §1).
    assert (wrong_uri.status_code, wrong_uri.json()) == (200, {"error": "invalid_redirect_uri"})
    assert "access_token" in zoho.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI).json()
    again = zoho.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert again.json() == {"error": "invalid_code"}
    late = zoho.consent_code(us)["code"]
    zoho.advance(121)
    assert zoho.token(grant_type="authorization_code", code=late, redirect_uri=REDIRECT_URI).json() == {
        "error": "invalid_code"}


def test_wrong_client_secret_and_grant_type(zoho: ZohoSandbox):
    code = zoho.consent_code(zoho.org("us")["id"])["code"]
    assert zoho.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                      client_secret="nope").json() == {"error": "invalid_client_secret"}
    assert zoho.token(grant_type="password").json() == {"error": "unsupported_grant_type"}


def test_online_access_gives_no_refresh_token(zoho: ZohoSandbox):
    tokens = zoho.connect("us", access_type="online")
    assert tokens.refresh_token is None and "refresh_token" not in tokens.body


def test_reconnecting_without_prompt_consent_skips_the_screen_and_gives_no_refresh_token(zoho: ZohoSandbox):
    zoho.connect("us")
    redirect = zoho.consent_code(zoho.org("us")["id"], prompt="")
    body = zoho.token(grant_type="authorization_code", code=redirect["code"], redirect_uri=REDIRECT_URI).json()
    assert "access_token" in body and "refresh_token" not in body


def test_refresh_does_not_rotate_and_expired_tokens_are_rejected(zoho: ZohoSandbox):
    tokens = zoho.connect("us")
    api = Api(tokens.api_domain, tokens.access_token)
    assert api.get("/crm/v8/org").status_code == 200
    zoho.advance(3601)
    expired = api.get("/crm/v8/org")
    assert expired.status_code == 401 and expired.json()["code"] == "INVALID_TOKEN"
    validate_error(expired.json())
    refreshed = zoho.token(grant_type="refresh_token", refresh_token=tokens.refresh_token).json()
    assert "refresh_token" not in refreshed and refreshed["expires_in"] == 3600
    assert Api(tokens.api_domain, refreshed["access_token"]).get("/crm/v8/org").status_code == 200
    # The same refresh token keeps working (no rotation).
    assert "access_token" in zoho.token(grant_type="refresh_token", refresh_token=tokens.refresh_token).json()


def test_refresh_throttle_is_ten_per_ten_minutes_answered_with_http_200(zoho: ZohoSandbox):
    tokens = zoho.connect("us")  # the exchange's access token counts as the first of ten
    for _ in range(9):
        assert "access_token" in zoho.token(grant_type="refresh_token", refresh_token=tokens.refresh_token).json()
    throttled = zoho.token(grant_type="refresh_token", refresh_token=tokens.refresh_token)
    assert throttled.status_code == 200
    assert throttled.json()["error"] == "Access Denied" and throttled.json()["status"] == "failure"
    zoho.advance(601)
    assert "access_token" in zoho.token(grant_type="refresh_token", refresh_token=tokens.refresh_token).json()


def test_a_sixteenth_access_token_invalidates_the_oldest(zoho: ZohoSandbox):
    zoho.settings(access_tokens_per_refresh_per_10_minutes=100)
    tokens = zoho.connect("us")
    minted = [tokens.access_token]
    for _ in range(15):
        minted.append(zoho.token(grant_type="refresh_token", refresh_token=tokens.refresh_token).json()["access_token"])
    assert Api(tokens.api_domain, minted[0]).get("/crm/v8/org").status_code == 401
    assert all(Api(tokens.api_domain, token).get("/crm/v8/org").status_code == 200 for token in minted[1:])


def test_a_twenty_first_refresh_token_silently_invalidates_the_oldest(zoho: ZohoSandbox):
    zoho.settings(codes_per_10_minutes=100)
    first = zoho.connect("us")
    for _ in range(20):
        zoho.connect("us")
    assert zoho.token(grant_type="refresh_token", refresh_token=first.refresh_token).json() == {
        "error": "invalid_code"}
    assert Api(first.api_domain, first.access_token).get("/crm/v8/org").status_code == 401


def test_too_many_codes_are_refused_with_access_denied(zoho: ZohoSandbox):
    org_id = zoho.org("us")["id"]
    for _ in range(10):
        assert "code" in zoho.consent_code(org_id)
    assert zoho.consent_code(org_id) == {"error": "access_denied", "state": "st4te"}


def test_revoke_kills_the_refresh_token_and_its_access_tokens(zoho: ZohoSandbox):
    tokens = zoho.connect("us")
    revoked = requests.post(f"{zoho.accounts}/oauth/v2/token/revoke", params={"token": tokens.refresh_token},
                            timeout=10)
    assert revoked.json() == {"status": "success"}
    assert zoho.token(grant_type="refresh_token", refresh_token=tokens.refresh_token).json() == {
        "error": "invalid_code"}
    assert Api(tokens.api_domain, tokens.access_token).get("/crm/v8/org").json()["code"] == "INVALID_TOKEN"
    again = requests.post(f"{zoho.accounts}/oauth/v2/token/revoke", params={"token": tokens.refresh_token},
                          timeout=10)
    assert again.status_code == 400


def test_control_api_expires_and_revokes_tokens_now(zoho: ZohoSandbox):
    tokens = zoho.connect("us")
    api = Api(tokens.api_domain, tokens.access_token)
    assert zoho.call("POST", "tokens/expire", {"token": tokens.access_token})["expired"] == 1
    assert api.get("/crm/v8/org").status_code == 401
    fresh = zoho.token(grant_type="refresh_token", refresh_token=tokens.refresh_token).json()["access_token"]
    zoho.call("POST", "tokens/revoke", {"org_id": zoho.org("us")["id"]})
    assert Api(tokens.api_domain, fresh).get("/crm/v8/org").status_code == 401


def test_tokens_belong_to_their_org_and_data_centre(zoho: ZohoSandbox):
    eu = zoho.connect("eu")
    assert Api(eu.api_domain, eu.access_token).get("/crm/v8/org").json()["org"][0]["id"] == zoho.org("eu")["id"]
    # Moving the org to another DC (as the consent page allows) leaves the old DC's tokens behind.
    zoho.call("POST", f"orgs/{zoho.org('eu')['id']}", {"dc": "uk"})
    assert Api(eu.api_domain, eu.access_token).get("/crm/v8/org").json()["code"] == "INVALID_TOKEN"
    assert zoho.token(grant_type="refresh_token", refresh_token=eu.refresh_token).json() == {
        "error": "invalid_client"}


def test_authorization_header_and_scopes_are_enforced(zoho: ZohoSandbox):
    tokens = zoho.connect("us", scope="ZohoCRM.modules.contacts.READ")
    api = Api(tokens.api_domain, tokens.access_token)
    assert api.get("/crm/v8/Contacts", params={"fields": "Last_Name"}).status_code == 200
    mismatch = api.get("/crm/v8/Accounts", params={"fields": "Account_Name"})
    assert mismatch.status_code == 401 and mismatch.json()["code"] == "OAUTH_SCOPE_MISMATCH"
    assert api.post("/crm/v8/Contacts", {"data": [{"Last_Name": "X"}]}).json()["code"] == "OAUTH_SCOPE_MISMATCH"
    assert api.get("/crm/v8/settings/fields", params={"module": "Contacts"}).json()["code"] == "OAUTH_SCOPE_MISMATCH"
    bearer = requests.get(f"{tokens.api_domain}/crm/v8/org", headers={"Authorization": f"Bearer {tokens.access_token}"},
                          timeout=10)
    assert bearer.status_code == 401 and bearer.json()["code"] == "AUTHENTICATION_FAILURE"
    missing = requests.get(f"{tokens.api_domain}/crm/v8/org", timeout=10)
    assert missing.json() == {"code": "AUTHENTICATION_FAILURE", "details": {}, "message": "Authentication failed",
                              "status": "error"}
    validate("record.json", "API_Exception", missing.json())
