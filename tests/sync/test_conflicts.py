"""Both sides changed since the last sync: three-way merge, the four policies and the review queue."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.sync.conftest import World


def _linked(world: World, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    account = world.account("Zylker", **fields)
    world.push("Accounts")
    (contact,) = world.xero.all("Contacts")
    return account, contact


def _policy(world: World, policy: str) -> None:
    world.settings = replace(world.settings, conflict_policy=policy)


def test_different_fields_changed_on_each_side_are_merged_both_ways(world: World) -> None:
    account, contact = _linked(world, Phone="1", Account_Number="https://a.test")
    world.zoho.edit("Accounts", account["id"], Phone="2")
    world.xero.edit("Contacts", contact["ContactID"], AccountNumber="https://b.test")
    world.push("Accounts")
    assert world.xero.all("Contacts")[0]["Phones"][0]["PhoneNumber"] == "2"
    assert world.zoho.all("Accounts")[0]["Account_Number"] == "https://b.test"
    # Converged: a pull afterwards writes nothing.
    writes = world.zoho.write_calls + world.xero.write_calls
    world.pull("Contacts")
    world.push("Accounts")
    assert world.zoho.write_calls + world.xero.write_calls == writes


@pytest.mark.parametrize(
    ("policy", "zoho_later", "expected"),
    [
        ("zoho_wins", False, "From Zoho"),
        ("xero_wins", True, "From Xero"),
        ("newest_wins", True, "From Zoho"),
        ("newest_wins", False, "From Xero"),
    ],
)
def test_the_same_field_changed_on_both_sides_follows_the_policy(
    world: World, policy: str, zoho_later: bool, expected: str
) -> None:
    _policy(world, policy)
    account, contact = _linked(world, Billing_Street="Old")
    edits = [
        lambda: world.zoho.edit("Accounts", account["id"], Billing_Street="From Zoho"),
        lambda: world.xero.edit(
            "Contacts",
            contact["ContactID"],
            Addresses=[{"AddressType": "STREET", "AddressLine1": "From Xero"}],
        ),
    ]
    for edit in reversed(edits) if zoho_later else edits:
        edit()
    world.push("Accounts")
    street = next(a for a in world.xero.all("Contacts")[0]["Addresses"] if a["AddressType"] == "STREET")
    assert street["AddressLine1"] == expected
    assert world.zoho.all("Accounts")[0]["Billing_Street"] == expected


def test_ask_me_holds_the_record_until_an_admin_picks_per_field(world: World) -> None:
    _policy(world, "ask")
    account, contact = _linked(world, Phone="1", Account_Number="https://a.test")
    world.zoho.edit("Accounts", account["id"], Phone="2", Account_Number="https://zoho.test")
    world.xero.edit(
        "Contacts",
        contact["ContactID"],
        AccountNumber="https://xero.test",
        Phones=[{"PhoneType": "DEFAULT", "PhoneNumber": "3"}],
    )
    writes = world.zoho.write_calls + world.xero.write_calls
    world.push("Accounts")
    assert world.zoho.write_calls + world.xero.write_calls == writes  # no silent overwrite
    (item,) = world.reviews()
    assert item.kind == "conflict"
    fields = {f["rule"]: f for f in item.fields}
    assert fields["Account_Number|AccountNumber"]["zoho"] == "https://zoho.test"
    assert fields["Account_Number|AccountNumber"]["xero"] == "https://xero.test"
    assert fields["Account_Number|AccountNumber"]["base_zoho"] == "https://a.test"
    assert world.audit()[-1].reason == "awaiting_review"

    world.engine().apply_review(
        item, {"Account_Number|AccountNumber": "xero", "Phone|Phones[PhoneType=DEFAULT].PhoneNumber": "zoho"}
    )
    (contact,) = world.xero.all("Contacts")
    (account,) = world.zoho.all("Accounts")
    assert (account["Account_Number"], contact["AccountNumber"]) == ("https://xero.test", "https://xero.test")
    assert (account["Phone"], contact["Phones"][0]["PhoneNumber"]) == ("2", "2")
    assert world.reviews() == []
    assert world.reviews("applied")[0].resolution["Account_Number|AccountNumber"] == "xero"


def test_a_field_changed_on_both_sides_to_the_same_value_is_no_conflict(world: World) -> None:
    _policy(world, "ask")
    account, contact = _linked(world, Account_Number="https://a.test")
    world.zoho.edit("Accounts", account["id"], Account_Number="https://same.test")
    world.xero.edit("Contacts", contact["ContactID"], AccountNumber="https://same.test")
    world.push("Accounts")
    assert world.reviews() == []
