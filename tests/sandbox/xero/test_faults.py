"""Idempotent replay and injected faults in the Xero sandbox: each fault kind, in Xero's shapes, and a lost
response whose write really committed (FACTS.md §3; the issue's "Faults")."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox.xero.helpers import validation_messages


def contacts_named(xero, name: str) -> list[dict]:
    return xero.ok(xero.get("/Contacts", params={"where": f'Name=="{name}"'}))["Contacts"]


def test_replay_with_the_same_key_returns_the_first_answer_and_creates_nothing(sandbox, xero):
    body = {"Contacts": [{"Name": "Idempotent Ltd"}]}
    first = xero.put("/Contacts", body, headers={"Idempotency-Key": "key-1"})
    again = xero.put("/Contacts", body, headers={"Idempotency-Key": "key-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len(contacts_named(xero, "Idempotent Ltd")) == 1

    other = xero.put("/Contacts", {"Contacts": [{"Name": "Something Else"}]}, headers={"Idempotency-Key": "key-1"})
    assert other.status_code == 400
    assert other.json()["Message"] == "Idempotency Key: key-1 is used with a different request."

    # Errors are stored too: the replay of a refused request is the same refusal.
    refused = xero.put("/Contacts", {"Contacts": [{"Name": "Bayside Club"}]}, headers={"Idempotency-Key": "key-2"})
    assert refused.status_code == 400
    assert xero.put("/Contacts", {"Contacts": [{"Name": "Bayside Club"}]},
                    headers={"Idempotency-Key": "key-2"}).json() == refused.json()

    # After Xero's window (about 6 minutes) the key counts as new.
    sandbox.xero.clock(advance_seconds=7 * 60)
    late = xero.put("/Contacts", body, headers={"Idempotency-Key": "key-1"})
    assert late.status_code == 400 and "already assigned" in validation_messages(late.json())[0]
    assert xero.put("/Contacts", body, headers={"Idempotency-Key": "k" * 129}).status_code == 400


def test_lost_response_commits_the_write_and_a_keyed_retry_creates_nothing_new(sandbox, xero):
    sandbox.xero.faults(rate=1.0, kinds=["lost-response"], endpoints=["PUT /api.xro/2.0/Contacts"], limit=1)
    body = {"Contacts": [{"Name": "Lost And Found"}]}
    with pytest.raises(requests.ConnectionError):
        xero.put("/Contacts", body, headers={"Idempotency-Key": "retry-me"})
    retried = xero.ok(xero.put("/Contacts", body, headers={"Idempotency-Key": "retry-me"}))
    found = contacts_named(xero, "Lost And Found")
    assert [c["ContactID"] for c in found] == [retried["Contacts"][0]["ContactID"]]
    assert sandbox.xero.stats()["records_written"] == 1


def test_lost_response_without_a_key_shows_the_write_happened(sandbox, xero):
    sandbox.xero.faults(rate=1.0, kinds=["lost-response"], endpoints=["PUT /api.xro/2.0/Contacts"], limit=1)
    body = {"Contacts": [{"Name": "Committed Anyway"}]}
    with pytest.raises(requests.ConnectionError):
        xero.put("/Contacts", body)
    # A naive retry collides with the record the lost call created.
    assert "already assigned" in validation_messages(xero.put("/Contacts", body).json())[0]


def test_injected_errors_use_xero_shapes(sandbox, xero):
    sandbox.xero.faults(rate=1.0, kinds=["500"], limit=1)
    server_error = xero.get("/Contacts")
    assert server_error.status_code == 500
    assert server_error.json()["Title"] == "An error occurred" and "status.developer.xero.com" in \
        server_error.json()["Detail"]
    sandbox.xero.faults(rate=1.0, kinds=["503"], limit=1)
    unavailable = xero.get("/Contacts")
    assert (unavailable.status_code, unavailable.text) == (503, "The Xero API is currently offline for maintenance")
    sandbox.xero.faults(rate=1.0, kinds=["429"], limit=1)
    limited = xero.get("/Contacts")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute" and int(limited.headers["Retry-After"]) >= 1
    assert xero.get("/Contacts").status_code == 200  # the limit of one fault is spent
    assert sandbox.xero.stats()["by_status"] == {"500": 1, "503": 1, "429": 1, "200": 1}


def test_timeout_hangs_past_the_client_and_reset_drops_the_connection(sandbox, xero):
    sandbox.xero.faults(rate=1.0, kinds=["timeout"], hang_seconds=1.5, limit=1)
    with pytest.raises(requests.Timeout):
        xero.get("/Contacts", timeout=0.5)
    sandbox.xero.faults(rate=1.0, kinds=["reset"], limit=1)
    with pytest.raises(requests.ConnectionError):
        xero.get("/Contacts")
    assert xero.get("/Contacts").status_code == 200


def test_faults_can_target_the_token_endpoint(sandbox, sandbox_server, xero):
    sandbox.xero.faults(rate=1.0, kinds=["503"], endpoints=["POST /identity/connect/token"], limit=1)
    answer = requests.post(f"{sandbox_server.url}/xero/identity/connect/token",
                           data={"grant_type": "refresh_token", "refresh_token": xero.refresh_token,
                                 "client_id": "sandbox-client", "client_secret": "sandbox-secret"}, timeout=10)
    assert answer.status_code == 503
    assert xero.get("/Contacts").status_code == 200
