"""Retries: transient errors and rate limits only, 3 attempts in all, one audit row per attempt, one event."""

from __future__ import annotations

import pytest

from portal.connectors.errors import AuthExpired, Invalid
from portal.sync.engine import BACKOFF_SECONDS
from tests.sync.conftest import World


def test_a_transient_error_is_retried_with_backoff_and_then_succeeds(world: World) -> None:
    world.account("Zylker")
    world.xero.fail_next("transient", op="create")
    world.push("Accounts")
    assert len(world.xero.all("Contacts")) == 1
    rows = world.audit(module="Accounts")
    assert [(r.action, r.attempt, r.final) for r in rows] == [("failed", 1, False), ("created", 1, True)]
    assert world.sleeps == [BACKOFF_SECONDS[0]]
    assert world.sink.of_kind("record_failed") == []


def test_a_rate_limit_waits_as_long_as_the_remote_asks(world: World) -> None:
    world.account("Zylker")
    world.xero.fail_next("rate_limit", op="create", retry_after=42)
    world.push("Accounts")
    assert world.sleeps == [42]
    assert len(world.xero.all("Contacts")) == 1


def test_after_the_third_attempt_the_record_fails_with_the_remote_message_and_admins_hear_once(
    world: World,
) -> None:
    world.account("Zylker")
    world.account("Globex")
    world.xero.fail_next("transient", op="create", times=3)
    world.push("Accounts")
    rows = world.audit(module="Accounts", record_name="Zylker")
    assert [(r.action, r.attempt, r.final) for r in rows] == [
        ("failed", 1, False),
        ("failed", 2, False),
        ("failed", 3, True),
    ]
    assert rows[-1].error_text == "503 Service Unavailable"
    assert world.sleeps == list(BACKOFF_SECONDS)
    events = world.sink.of_kind("record_failed")
    assert sorted(e.record_name for e in events) == ["Globex", "Zylker"]
    assert events[0].message == "503 Service Unavailable"
    # Dashboards count the record once, as failed, not once per attempt.
    assert world.rollups()[("zoho_to_xero", "Accounts", "failed")] == 2


def test_a_validation_error_is_final_at_once(world: World) -> None:
    world.account("Zylker")
    world.xero.fail_records(lambda op, module, record: True, Invalid("Email address must be valid."))
    world.push("Accounts")
    (row,) = world.audit()
    assert (row.action, row.attempt, row.error_text) == ("failed", 1, "Email address must be valid.")
    assert world.sleeps == []
    assert len(world.sink.of_kind("record_failed")) == 1
    assert world.links() == []  # nothing pending: the next sync starts clean


def test_a_lost_response_never_creates_a_duplicate(world: World) -> None:
    world.account("Zylker")
    world.xero.fail_next("lost_response", op="create")
    world.push("Accounts")
    assert len(world.xero.all("Contacts")) == 1
    (link,) = world.links()
    assert link.state == "linked"


def test_an_expired_connection_stops_the_run_and_loses_nothing(world: World) -> None:
    for name in ("A", "B"):
        world.account(name)
    world.xero.fail_next("auth", op="create")
    with pytest.raises(AuthExpired):
        world.push("Accounts")
    world.push("Accounts")
    assert sorted(c["Name"] for c in world.xero.all("Contacts")) == ["A", "B"]


def test_retries_only_resend_the_records_that_failed(world: World) -> None:
    world.account("A")
    world.account("B")
    from portal.connectors.errors import Transient

    flaky = {"A": 1}

    def first_time_only(op: str, module: str, record: dict) -> bool:
        if flaky.get(record.get("Name"), 0) > 0:
            flaky[record["Name"]] -= 1
            return True
        return False

    world.xero.fail_records(first_time_only, Transient("connection reset"))
    world.push("Accounts")
    assert world.xero.written["create:Contacts"] == 2
    assert sorted(c["Name"] for c in world.xero.all("Contacts")) == ["A", "B"]
