"""Won deals become invoices once; Xero payments reach the CRM; deletes follow each system's rules."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.sync.conftest import X2Z, Z2X, World


def test_a_won_deal_becomes_one_xero_invoice_with_its_products(world: World) -> None:
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1", 10)
    deal = world.zoho.add(
        "Deals",
        {
            "Deal_Name": "Big deal",
            "Stage": "Negotiation",
            "Amount": 500,
            "Account_Name": {"id": account["id"]},
            "Closing_Date": "2026-03-01",
            "Products": [{"id": widget["id"], "Product_Name": "Widget", "Quantity": 5, "Unit_Price": 10}],
        },
    )
    world.push("Deals")
    assert world.xero.all("Invoices") == []
    assert world.audit()[-1].reason == "deal_not_won"
    world.zoho.edit("Deals", deal["id"], Stage="Closed Won")
    world.push("Deals")
    (invoice,) = world.xero.all("Invoices")
    assert invoice["Reference"] == "Big deal"
    assert [(ln["ItemCode"], ln["Quantity"]) for ln in invoice["LineItems"]] == [("W-1", "5")]
    (link,) = world.links("deal")
    assert (link.zoho_id, link.xero_id) == (deal["id"], invoice["InvoiceID"])
    # Edited again, re-saved, re-notified: never a second invoice for the same deal.
    world.zoho.edit("Deals", deal["id"], Amount=600)
    world.push("Deals")
    world.push("Deals")
    assert len(world.xero.all("Invoices")) == 1
    assert world.audit()[-1].reason == "deal_invoiced"


def test_a_won_deal_without_products_is_one_line_with_its_amount(world: World) -> None:
    world.settings = replace(world.settings, won_deal_stage="Won")
    account = world.account("Zylker")
    world.zoho.add(
        "Deals",
        {"Deal_Name": "Consulting", "Stage": "Won", "Amount": 1200, "Account_Name": {"id": account["id"]}},
    )
    world.push("Deals")
    (invoice,) = world.xero.all("Invoices")
    assert [(ln["Description"], ln["UnitAmount"]) for ln in invoice["LineItems"]] == [("Consulting", "1200")]


def _authorised_invoice(world: World) -> tuple[dict, dict, dict]:
    world.settings = replace(world.settings, new_invoice_status="AUTHORISED")
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1")
    invoice = world.invoice(account, [(widget, 10, 10)], Due_Date="2026-03-20")
    world.push("Invoices", [invoice["id"]])
    (xero_invoice,) = world.xero.all("Invoices")
    return account, invoice, xero_invoice


def test_xero_payments_update_the_zoho_invoice_and_the_customer_totals(world: World) -> None:
    _account, _invoice, xero_invoice = _authorised_invoice(world)  # total 120.00
    world.xero.pay(xero_invoice["InvoiceID"], 50, on="2026-03-05")
    world.engine().sync_batch(X2Z, "Payments", world.xero.all("Payments"))
    zoho_invoice = world.zoho.all("Invoices")[0]
    assert (
        zoho_invoice["Amount_Paid"],
        zoho_invoice["Amount_Due"],
        zoho_invoice["Payment_Status"],
        zoho_invoice["Payment_Date"],
    ) == ("50", "70", "Partially Paid", "2026-03-05")
    customer = world.zoho.all("Accounts")[0]
    assert (customer["Outstanding_Balance"], customer["Overdue_Balance"], customer["Last_Payment_Date"]) == (
        "70",
        "0",
        "2026-03-05",
    )

    world.clock.tick(30 * 86400)  # the due date passes
    world.engine().sync_batch(X2Z, "Payments", world.xero.all("Payments"))
    assert world.zoho.all("Invoices")[0]["Payment_Status"] == "Overdue"

    world.xero.pay(xero_invoice["InvoiceID"], 70, on="2026-04-02")
    world.engine().sync_batch(X2Z, "Payments", world.xero.all("Payments"))
    zoho_invoice = world.zoho.all("Invoices")[0]
    assert (zoho_invoice["Amount_Due"], zoho_invoice["Payment_Status"], zoho_invoice["Payment_Date"]) == (
        "0",
        "Paid",
        "2026-04-02",
    )
    assert world.zoho.all("Accounts")[0]["Outstanding_Balance"] == "0"
    # The same payments again: nothing to write.
    writes = world.zoho.write_calls
    world.engine().sync_batch(X2Z, "Payments", world.xero.all("Payments"))
    assert world.zoho.write_calls == writes


def test_a_payment_of_an_invoice_that_is_not_linked_is_skipped(world: World) -> None:
    contact = world.xero.add("Contacts", {"Name": "Nobody"})
    item = world.xero.add("Items", {"Code": "X"})
    invoice = world.xero.add(
        "Invoices",
        {
            "Contact": {"ContactID": contact["ContactID"]},
            "Status": "AUTHORISED",
            "LineItems": [{"ItemCode": item["Code"], "Quantity": 1, "UnitAmount": 5, "TaxType": "NONE"}],
        },
    )
    world.xero.pay(invoice["InvoiceID"], 5)
    world.engine().sync_batch(X2Z, "Payments", world.xero.all("Payments"))
    assert world.audit()[-1].reason == "no_counterpart"


def test_a_zoho_account_deleted_archives_its_xero_contact(world: World) -> None:
    account = world.account("Zylker")
    world.push("Accounts")
    world.zoho.delete("Accounts", account["id"])
    world.engine().sync_deletions(Z2X, "Accounts", world.zoho.list_deleted("Accounts", None))
    (contact,) = world.xero.all("Contacts")
    assert contact["ContactStatus"] == "ARCHIVED"
    assert world.audit()[-1].action == "archived"
    # The archive comes back with the next pull: it is not "recreated" in Zoho.
    world.pull("Contacts")
    assert world.zoho.all("Accounts") == []


def test_a_zoho_invoice_deleted_deletes_a_draft_and_voids_an_authorised_one_only_when_allowed(
    world: World,
) -> None:
    account, invoice, _xero_invoice = _authorised_invoice(world)
    world.settings = replace(world.settings, allow_voiding=False)
    world.engine().sync_deletions(Z2X, "Invoices", [invoice["id"]])
    assert world.xero.all("Invoices")[0]["Status"] == "AUTHORISED"
    assert world.audit()[-1].reason == "cannot_delete_invoice"
    world.settings = replace(world.settings, allow_voiding=True)
    world.engine().sync_deletions(Z2X, "Invoices", [invoice["id"]])
    assert world.xero.all("Invoices")[0]["Status"] == "VOIDED"
    assert world.audit()[-1].action == "voided"

    (widget,) = world.zoho.all("Products")
    draft = world.invoice(account, [(widget, 1, 10)], Subject="Draft")
    world.settings = replace(world.settings, new_invoice_status="DRAFT")
    world.push("Invoices", [draft["id"]])
    world.engine().sync_deletions(Z2X, "Invoices", [draft["id"]])
    statuses = sorted(i["Status"] for i in world.xero.all("Invoices"))
    assert statuses == ["DELETED", "VOIDED"]


def test_a_paid_invoice_is_never_deleted(world: World) -> None:
    world.settings = replace(world.settings, allow_voiding=True)
    _, invoice, xero_invoice = _authorised_invoice(world)
    world.xero.pay(xero_invoice["InvoiceID"], Decimal("120"))
    world.engine().sync_deletions(Z2X, "Invoices", [invoice["id"]])
    assert world.xero.all("Invoices")[0]["Status"] == "PAID"
    assert world.audit()[-1].reason == "cannot_delete_invoice"


def test_a_product_deleted_in_zoho_deletes_the_xero_item_and_delete_off_keeps_it(world: World) -> None:
    product = world.product("Widget", "W-1")
    world.push("Products")
    off = world.settings.with_module(Z2X, "Products", delete=False)
    world.engine(settings=off).sync_deletions(Z2X, "Products", [product["id"]])
    assert len(world.xero.all("Items")) == 1
    assert world.audit()[-1].reason == "action_off"
    world.engine().sync_deletions(Z2X, "Products", [product["id"]])
    assert world.xero.all("Items") == []


def test_a_contact_archived_in_xero_deletes_the_zoho_account(world: World) -> None:
    account = world.account("Zylker")
    world.push("Accounts")
    (contact,) = world.xero.all("Contacts")
    world.xero.edit("Contacts", contact["ContactID"], ContactStatus="ARCHIVED")
    world.pull("Contacts")
    assert world.zoho.all("Accounts") == []
    assert world.audit()[-1].action == "deleted"
    assert account["id"] in world.zoho.list_deleted("Accounts", None)
