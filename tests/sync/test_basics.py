from __future__ import annotations

from tests.sync.conftest import World


def test_a_zoho_account_becomes_a_xero_contact_with_its_address(world: World) -> None:
    account = world.account(
        "Zylker",
        Phone="+44 20 7946 0000",
        Website="https://zylker.test",
        Billing_Street="1 High St",
        Billing_City="Leeds",
        Billing_Code="LS1 1AA",
        Billing_Country="United Kingdom",
        Account_Number="Z-1",
    )
    world.push("Accounts")
    (contact,) = world.xero.all("Contacts")
    assert contact["Name"] == "Zylker"
    assert contact["AccountNumber"] == "Z-1"
    assert contact["ContactNumber"] == account["id"]
    street = next(a for a in contact["Addresses"] if a["AddressType"] == "STREET")
    assert (street["AddressLine1"], street["City"], street["PostalCode"]) == ("1 High St", "Leeds", "LS1 1AA")
    assert contact["Phones"] == [{"PhoneType": "DEFAULT", "PhoneNumber": "+44 20 7946 0000"}]
    (link,) = world.links("customer")
    assert (link.zoho_id, link.xero_id) == (account["id"], contact["ContactID"])
    (row,) = world.audit()
    assert (row.action, row.module, row.record_name) == ("created", "Accounts", "Zylker")


def test_repeating_a_finished_sync_writes_nothing(world: World) -> None:
    world.account("Zylker")
    world.push("Accounts")
    writes = world.xero.write_calls
    world.push("Accounts")
    assert world.xero.write_calls == writes
    assert world.audit()[-1].reason == "unchanged"
