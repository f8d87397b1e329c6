"""Property: whatever users do on both sides, in whatever order syncs run, both sides converge and nothing is
ever duplicated; once converged, syncing again writes nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sync.conftest import World, make_session

NAMES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"]
VALUES = ["1", "2", "3"]
ZOHO_FIELDS = {"phone": "Phone", "number": "Account_Number", "city": "Billing_City"}


def _xero_change(contact: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    if field == "phone":
        return {"Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": value}]}
    if field == "number":
        return {"AccountNumber": value}
    addresses = [a for a in contact.get("Addresses") or [] if a["AddressType"] != "STREET"]
    street = next((a for a in contact.get("Addresses") or [] if a["AddressType"] == "STREET"), {})
    return {"Addresses": [*addresses, {**street, "AddressType": "STREET", "City": value}]}


operations = st.lists(
    st.one_of(
        st.tuples(st.just("zoho_create"), st.sampled_from(NAMES)),
        st.tuples(st.just("xero_create"), st.sampled_from(NAMES)),
        st.tuples(
            st.just("zoho_edit"),
            st.integers(0, 4),
            st.sampled_from(list(ZOHO_FIELDS)),
            st.sampled_from(VALUES),
        ),
        st.tuples(
            st.just("xero_edit"),
            st.integers(0, 4),
            st.sampled_from(list(ZOHO_FIELDS)),
            st.sampled_from(VALUES),
        ),
        st.tuples(st.just("push")),
        st.tuples(st.just("pull")),
        st.tuples(st.just("fault"), st.sampled_from(["transient", "lost_response", "rate_limit"])),
    ),
    max_size=20,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=operations, policy=st.sampled_from(["zoho_wins", "xero_wins", "newest_wins"]))
def test_any_edits_on_both_sides_converge_and_never_duplicate(steps: list[tuple[Any, ...]], policy: str) -> None:
    session = make_session()
    world = World(session)
    world.settings = replace(world.settings, conflict_policy=policy)
    for step in steps:
        kind = step[0]
        if kind == "zoho_create" and all(a["Account_Name"] != step[1] for a in world.zoho.all("Accounts")):
            world.account(step[1])
        elif kind == "xero_create" and all(c["Name"] != step[1] for c in world.xero.all("Contacts")):
            world.xero.add("Contacts", {"Name": step[1]})
        elif kind == "zoho_edit" and world.zoho.all("Accounts"):
            accounts = sorted(world.zoho.all("Accounts"), key=lambda a: a["id"])
            account = accounts[step[1] % len(accounts)]
            world.zoho.edit("Accounts", account["id"], **{ZOHO_FIELDS[step[2]]: step[3]})
        elif kind == "xero_edit" and world.xero.all("Contacts"):
            contacts = sorted(world.xero.all("Contacts"), key=lambda c: c["ContactID"])
            contact = contacts[step[1] % len(contacts)]
            world.xero.edit("Contacts", contact["ContactID"], **_xero_change(contact, step[2], step[3]))
        elif kind == "push":
            world.push("Accounts")
        elif kind == "pull":
            world.pull("Contacts")
        elif kind == "fault":
            # One pending fault per side at a time: within the 3 attempts a sync always gets through.
            world.xero.faults = []
            world.zoho.faults = []
            world.xero.fail_next(step[1], op="update")
            world.zoho.fail_next("transient", op="update")

    # Settle: one more round each way (faults injected above are consumed within the 3 attempts).
    world.push("Accounts")
    world.pull("Contacts")
    world.push("Accounts")

    accounts = {a["id"]: a for a in world.zoho.all("Accounts")}
    contacts = {c["ContactID"]: c for c in world.xero.all("Contacts")}
    links = [link for link in world.links("customer") if link.state == "linked"]
    # Never duplicated: every record has exactly one counterpart, one link each way.
    assert len(accounts) == len(contacts) == len(links)
    assert {link.zoho_id for link in links} == set(accounts)
    assert {link.xero_id for link in links} == set(contacts)
    assert sorted(a["Account_Name"] for a in accounts.values()) == sorted(c["Name"] for c in contacts.values())
    # Converged: every mapped field agrees.
    for link in links:
        account, contact = accounts[link.zoho_id], contacts[link.xero_id]
        street = next((a for a in contact.get("Addresses") or [] if a["AddressType"] == "STREET"), {})
        phone = next((p["PhoneNumber"] for p in contact.get("Phones") or [] if p["PhoneType"] == "DEFAULT"), None)
        assert (
            account["Account_Name"],
            account.get("Phone"),
            account.get("Account_Number"),
            account.get("Billing_City"),
        ) == (contact["Name"], phone, contact.get("AccountNumber"), street.get("City")), policy
    # And quiet: syncing again writes nothing on either side.
    writes = world.zoho.write_calls + world.xero.write_calls
    world.pull("Contacts")
    world.push("Accounts")
    assert world.zoho.write_calls + world.xero.write_calls == writes
    session.close()
