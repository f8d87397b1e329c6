"""Zoho's API limits in the sandbox (concurrency by edition, sub-concurrency of heavy calls, daily credits) and the
injected faults in Zoho's own error shape, including a lost response after a committed write."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.sandbox.zoho.conftest import Api, ZohoSandbox
from tests.sandbox.zoho.oas import validate_error


def in_parallel(calls: int, call) -> list[requests.Response]:  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(max_workers=calls) as pool:
        return list(pool.map(lambda _: call(), range(calls)))


def test_concurrency_is_capped_by_edition_with_a_bare_429(zoho: ZohoSandbox):
    org = zoho.org("au")
    assert org["edition"] == "Free" and org["concurrency"] == 5
    zoho.call("POST", f"orgs/{org['id']}", {"latency_ms": 600})
    tokens = zoho.connect("au")
    answers = in_parallel(8, lambda: Api(tokens.api_domain, tokens.access_token).get(
        "/crm/v8/Accounts", params={"fields": "Account_Name"}))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * 5 + [429] * 3
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json()["code"] == "TOO_MANY_REQUESTS" and "concurrency" in refused.json()["message"]
    assert "Retry-After" not in refused.headers  # Zoho sends none (FACTS.md §5)
    validate_error(refused.json())
    stats = zoho.control.zoho.stats()
    assert stats["rate_limited"] == 3 and stats["by_org"][org["id"]] == 8
    # A bigger edition takes more at once.
    zoho.call("POST", f"orgs/{org['id']}", {"edition": "Standard"})
    answers = in_parallel(8, lambda: Api(tokens.api_domain, tokens.access_token).get(
        "/crm/v8/Accounts", params={"fields": "Account_Name"}))
    assert [answer.status_code for answer in answers] == [200] * 8


def test_heavy_calls_share_a_sub_concurrency_of_ten(zoho: ZohoSandbox):
    org = zoho.org("us")
    zoho.call("POST", f"orgs/{org['id']}", {"edition": "Ultimate", "latency_ms": 600})
    api = zoho.connect("us")
    answers = in_parallel(12, lambda: Api(api.api_domain, api.access_token).post(
        "/crm/v8/coql", {"select_query": "select Account_Name from Accounts where id is not null"}))
    assert sorted(answer.status_code for answer in answers) == [200] * 10 + [429] * 2
    assert "sub-concurrency" in next(a for a in answers if a.status_code == 429).json()["message"]


def test_daily_credits_run_out_with_a_429_and_report_what_remains(zoho: ZohoSandbox):
    org = zoho.org("us")
    zoho.call("POST", f"orgs/{org['id']}", {"credits_per_day": 20})
    api = zoho.api("us")
    for _ in range(9):
        assert "X-API-CREDITS-REMAINING" not in api.get("/crm/v8/org").headers
    # Zoho: once half of the day's credits are used, responses carry the remaining count (FACTS.md §5).
    assert api.get("/crm/v8/org").headers["X-API-CREDITS-REMAINING"] == "10"
    # Insert, update and upsert cost one credit per ten records: 25 records cost 3.
    created = api.post("/crm/v8/Contacts", {"data": [{"Last_Name": f"C{i}"} for i in range(25)]})
    assert created.status_code == 201 and created.headers["X-API-CREDITS-REMAINING"] == "7"
    for remaining in range(6, -1, -1):
        assert api.get("/crm/v8/org").headers["X-API-CREDITS-REMAINING"] == str(remaining)
    exhausted = api.get("/crm/v8/org")
    assert exhausted.status_code == 429 and "credits" in exhausted.json()["message"]
    assert zoho.orgs()[0]["credits_used"] == 20
    # Credits accrue over a rolling 24 hours.
    zoho.advance(24 * 3600 + 60)
    assert zoho.api("us").get("/crm/v8/org").status_code == 200


def test_default_credits_follow_the_edition(zoho: ZohoSandbox):
    editions = {org["edition"]: org for org in zoho.orgs()}
    assert editions["Free"]["credits_per_day"] == 5_000
    assert editions["Standard"]["credits_per_day"] == 50_000 + 250 * 10
    assert editions["Enterprise"]["credits_per_day"] == 50_000 + 1_000 * 10


def test_a_lost_response_still_commits_the_write(zoho: ZohoSandbox):
    api = zoho.api("us")
    zoho.control.zoho.faults(rate=1.0, kinds=["lost-response"], endpoints=["POST /crm/v8/Contacts"], limit=1)
    with pytest.raises(requests.ConnectionError):
        api.post("/crm/v8/Contacts", {"data": [{"Last_Name": "Lost", "Email": "lost@answer.example"}]})
    # The client cannot know whether the write happened; it did, so a retry must not duplicate it.
    found = api.get("/crm/v8/Contacts/search", params={"email": "lost@answer.example"}).json()["data"]
    assert [record["Last_Name"] for record in found] == ["Lost"]
    retried = api.post("/crm/v8/Contacts/upsert", {"data": [{"Last_Name": "Lost", "Email": "lost@answer.example"}]})
    assert retried.json()["data"][0]["action"] == "update"
    assert retried.json()["data"][0]["details"]["id"] == found[0]["id"]
    naive = api.post("/crm/v8/Contacts", {"data": [{"Last_Name": "Lost", "Email": "lost@answer.example"}]})
    assert naive.json()["data"][0]["code"] == "DUPLICATE_DATA"


@pytest.mark.parametrize(("kind", "code"), [("500", "INTERNAL_ERROR"), ("503", "SERVICE_UNAVAILABLE"),
                                             ("429", "TOO_MANY_REQUESTS")])
def test_injected_faults_answer_in_zohos_error_shape(zoho: ZohoSandbox, kind: str, code: str):
    api = zoho.api("us")
    zoho.control.zoho.faults(rate=1.0, kinds=[kind], endpoints=["GET /crm/v8/*"], limit=1)
    failed = api.get("/crm/v8/Accounts", params={"fields": "Account_Name"})
    assert failed.status_code == int(kind)
    assert failed.json()["code"] == code
    validate_error(failed.json())
    assert "Retry-After" not in failed.headers
    assert api.get("/crm/v8/Accounts", params={"fields": "Account_Name"}).status_code == 200


def test_faults_can_hit_the_token_endpoint(zoho: ZohoSandbox):
    tokens = zoho.connect("us")
    zoho.control.zoho.faults(rate=1.0, kinds=["reset"], endpoints=["POST /accounts/oauth/v2/token"], limit=1)
    with pytest.raises(requests.ConnectionError):
        zoho.token(grant_type="refresh_token", refresh_token=tokens.refresh_token)
    assert "access_token" in zoho.token(grant_type="refresh_token", refresh_token=tokens.refresh_token).json()
