"""Customers both ways: matching before the first write, change detection, echo suppression, switches."""

from __future__ import annotations

from dataclasses import replace

from portal.sync.settings import Direction, ModuleSwitches
from tests.sync.conftest import X2Z, Z2X, World


def test_an_existing_xero_contact_is_linked_not_duplicated(world: World) -> None:
    existing = world.xero.add("Contacts", {"Name": "Zylker", "EmailAddress": "ap@zylker.test"})
    account = world.account("Zylker", Account_Number="ZYL-1")
    world.push("Accounts")
    contacts = world.xero.all("Contacts")
    assert len(contacts) == 1
    assert contacts[0]["AccountNumber"] == "ZYL-1"  # the CRM's values reach the linked contact
    (link,) = world.links("customer")
    assert (link.zoho_id, link.xero_id) == (account["id"], existing["ContactID"])
    assert world.audit()[-1].action == "linked"


def test_two_plausible_counterparts_wait_for_review_and_nothing_is_written(world: World) -> None:
    world.xero.add("Contacts", {"Name": "Zylker", "AccountNumber": "A-1"})
    world.xero.add("Contacts", {"Name": "Zylker Inc", "AccountNumber": "Z-1"})
    world.account("Zylker", Account_Number="Z-1")
    writes = world.xero.write_calls
    world.push("Accounts")
    assert world.xero.write_calls == writes
    assert world.links("customer") == []
    (item,) = world.reviews()
    assert item.kind == "match"
    assert {c["name"] for c in item.candidates} == {"Zylker", "Zylker Inc"}
    assert world.audit()[-1].reason == "ambiguous_match"
    # Repeating the sync neither guesses nor queues the record twice.
    world.push("Accounts")
    assert len(world.reviews()) == 1


def test_an_admin_picks_the_counterpart_and_the_record_is_linked(world: World) -> None:
    world.xero.add("Contacts", {"Name": "Zylker", "AccountNumber": "A-1"})
    chosen = world.xero.add("Contacts", {"Name": "Zylker Inc", "AccountNumber": "Z-1"})
    world.account("Zylker", Account_Number="Z-1")
    world.push("Accounts")
    (item,) = world.reviews()
    world.engine().apply_review(item, {"counterpart": chosen["ContactID"]}, user_id=None)
    (link,) = world.links("customer")
    assert link.xero_id == chosen["ContactID"]
    assert len(world.xero.all("Contacts")) == 2
    assert world.reviews() == []


def test_a_record_without_any_match_key_is_never_duplicated_on_repeat_syncs(world: World) -> None:
    contact = world.zoho.add("Contacts", {"Last_Name": "Nobody"})  # no email, no account
    settings = replace(world.settings, customer_module="Contacts")
    settings = settings.with_module(Direction.ZOHO_TO_XERO, "Accounts", enabled=False)
    for _ in range(3):
        world.push("Contacts", [contact["id"]], settings=settings)
    assert len(world.xero.all("Contacts")) == 1


def test_a_crashed_create_is_found_again_by_its_zoho_id(world: World) -> None:
    account = world.account("Zylker")
    # The create reached Xero but the answer was lost, three times over: the record stays "creating".
    world.xero.fail_next("lost_response", op="create", times=3)
    world.push("Accounts")
    (link,) = world.links("customer")
    assert link.state == "creating"
    # Much later (the idempotency window is long gone) the next sync finds the contact by ContactNumber.
    world.xero._idempotency.clear()
    world.push("Accounts")
    contacts = world.xero.all("Contacts")
    assert len(contacts) == 1
    (link,) = world.links("customer")
    assert (link.state, link.zoho_id, link.xero_id) == ("linked", account["id"], contacts[0]["ContactID"])


def test_archived_contacts_are_no_match(world: World) -> None:
    old = world.xero.add("Contacts", {"Name": "Zylker"})
    world.xero.edit("Contacts", old["ContactID"], ContactStatus="ARCHIVED")
    world.account("Zylker")
    world.push("Accounts")
    active = world.xero.all("Contacts", active_only=True)
    assert len(active) == 1 and active[0]["ContactID"] != old["ContactID"]


def test_only_changed_fields_are_sent_and_other_addresses_survive(world: World) -> None:
    account = world.account("Zylker", Billing_City="Leeds", Shipping_City="York")
    world.push("Accounts")
    world.zoho.edit("Accounts", account["id"], Billing_City="Bradford")
    world.push("Accounts")
    (contact,) = world.xero.all("Contacts")
    cities = {a["AddressType"]: a["City"] for a in contact["Addresses"]}
    assert cities == {"STREET": "Bradford", "POBOX": "York"}
    row = world.audit()[-1]
    assert row.action == "updated"
    assert row.changes == [
        {"field": "Addresses[AddressType=STREET].City", "side": "xero", "old": "Leeds", "new": "Bradford"}
    ]


def test_our_own_write_coming_back_causes_no_write(world: World) -> None:
    account = world.account("Zylker")
    world.push("Accounts")
    world.zoho.edit("Accounts", account["id"], Phone="0113 496 0000")
    world.push("Accounts")
    zoho_writes, xero_writes = world.zoho.write_calls, world.xero.write_calls
    # The pull sees the contact we just updated, and the notification of the Zoho save arrives again.
    world.pull("Contacts")
    world.push("Accounts")
    assert (world.zoho.write_calls, world.xero.write_calls) == (zoho_writes, xero_writes)
    assert {r.reason for r in world.audit()[-2:]} == {"unchanged"}


def test_a_xero_contact_becomes_a_zoho_account(world: World) -> None:
    contact = world.xero.add(
        "Contacts",
        {
            "Name": "Globex",
            "AccountNumber": "G-7",
            "Website": "https://globex.test",
            "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "555"}],
        },
    )
    world.pull("Contacts")
    (account,) = world.zoho.all("Accounts")
    assert (account["Account_Name"], account["Account_Number"], account["Phone"]) == ("Globex", "G-7", "555")
    (link,) = world.links("customer")
    assert (link.zoho_id, link.xero_id) == (account["id"], contact["ContactID"])
    # ... and pushing that account back changes nothing in Xero.
    writes = world.xero.write_calls
    world.push("Accounts")
    assert world.xero.write_calls == writes


def test_allow_sync_off_moves_nothing_from_xero_and_says_why(world: World) -> None:
    world.xero.add("Contacts", {"Name": "Globex"})
    world.pull("Contacts", settings=replace(world.settings, allow_xero_to_zoho=False))
    assert world.zoho.all("Accounts") == []
    (row,) = world.audit()
    assert (row.action, row.reason, row.direction) == ("skipped", "allow_sync_off", str(X2Z))


def test_a_module_switched_off_is_skipped_with_the_reason(world: World) -> None:
    world.account("Zylker")
    settings = world.settings.with_module(Direction.ZOHO_TO_XERO, "Accounts", enabled=False)
    world.push("Accounts", settings=settings)
    assert world.xero.all("Contacts") == []
    assert world.audit()[-1].reason == "module_off"


def test_create_switched_off_creates_nothing_but_still_links(world: World) -> None:
    world.xero.add("Contacts", {"Name": "Known"})
    world.account("Known")
    world.account("Unknown")
    settings = world.settings.with_module(Direction.ZOHO_TO_XERO, "Accounts", create=False)
    world.push("Accounts", settings=settings)
    assert [c["Name"] for c in world.xero.all("Contacts")] == ["Known"]
    assert sorted(r.action for r in world.audit()) == ["linked", "skipped"]


def test_update_switched_off_leaves_xero_alone(world: World) -> None:
    account = world.account("Zylker", Phone="1")
    world.push("Accounts")
    world.zoho.edit("Accounts", account["id"], Phone="2")
    settings = world.settings.with_module(Direction.ZOHO_TO_XERO, "Accounts", update=False)
    world.push("Accounts", settings=settings)
    (contact,) = world.xero.all("Contacts")
    assert contact["Phones"][0]["PhoneNumber"] == "1"


def test_links_of_a_previous_xero_organisation_are_fenced_off(world: World) -> None:
    world.account("Zylker")
    world.push("Accounts")
    # The owner resets the connection to another organisation: nothing learnt about the old one applies.
    from portal.sync.testing import FakeXero

    world.xero = FakeXero(world.clock, tenant_id="xero-org-2")
    world.push("Accounts")
    (contact,) = world.xero.all("Contacts")
    assert contact["Name"] == "Zylker"
    assert {link.xero_tenant_id for link in world.links("customer")} == {"xero-org-1", "xero-org-2"}


def test_contacts_as_customers_join_first_and_last_name(world: World) -> None:
    settings = replace(world.settings, customer_module="Contacts")
    settings = settings.with_module(Direction.ZOHO_TO_XERO, "Accounts", enabled=False)
    world.zoho.add("Contacts", {"First_Name": "Ada", "Last_Name": "Lovelace", "Email": "ada@example.test"})
    world.push("Contacts", settings=settings)
    (contact,) = world.xero.all("Contacts")
    assert (contact["Name"], contact["FirstName"], contact["EmailAddress"]) == (
        "Ada Lovelace",
        "Ada",
        "ada@example.test",
    )


def test_zoho_contacts_become_contact_persons_of_their_account(world: World) -> None:
    account = world.account("Zylker")
    person = world.zoho.add(
        "Contacts",
        {
            "First_Name": "Ada",
            "Last_Name": "Lovelace",
            "Email": "ada@zylker.test",
            "Account_Name": {"id": account["id"]},
        },
    )
    world.push("Contacts")  # the account is synced first, as a dependency
    (contact,) = world.xero.all("Contacts")
    assert contact["ContactPersons"] == [
        {"FirstName": "Ada", "LastName": "Lovelace", "EmailAddress": "ada@zylker.test"}
    ]
    world.zoho.edit("Contacts", person["id"], Last_Name="King")
    world.push("Contacts")
    (contact,) = world.xero.all("Contacts")
    assert [p["LastName"] for p in contact["ContactPersons"]] == ["King"]
    world.zoho.delete("Contacts", person["id"])
    world.engine().sync_deletions(Z2X, "Contacts", [person["id"]])
    assert world.xero.all("Contacts")[0]["ContactPersons"] == []


def test_switches_of_the_settings_are_plain_values() -> None:
    assert ModuleSwitches(enabled=True, create=False).allows("update")
    assert not ModuleSwitches(enabled=False).allows("create")
