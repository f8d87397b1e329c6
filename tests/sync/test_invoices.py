"""Invoices: dependencies in the same run, Xero's rounding, the accounting guardrails."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from portal.sync import invoices
from portal.sync.settings import TaxTreatment
from portal.sync.testing import FakeZoho
from tests.sync.conftest import World


def test_an_invoice_brings_its_customer_and_items_along_in_order(world: World) -> None:
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1", 12.5)
    gadget = world.product("Gadget", "G-1", 3)
    invoice = world.invoice(account, [(widget, 2, 12.5), (gadget, 1, 3)], Invoice_Number="INV-100")
    world.push("Invoices", [invoice["id"]])
    (xero_invoice,) = world.xero.all("Invoices")
    (contact,) = world.xero.all("Contacts")
    assert xero_invoice["Contact"]["ContactID"] == contact["ContactID"]
    assert [(ln["ItemCode"], ln["Quantity"], ln["UnitAmount"], ln["TaxType"]) for ln in xero_invoice["LineItems"]] == [
        ("W-1", "2", "12.5", "OUTPUT2"),
        ("G-1", "1", "3", "OUTPUT2"),
    ]
    assert (xero_invoice["InvoiceNumber"], xero_invoice["Status"], xero_invoice["Type"]) == (
        "INV-100",
        "DRAFT",
        "ACCREC",
    )
    assert Decimal(str(xero_invoice["Total"])) == Decimal(str(invoice["Grand_Total"])) == Decimal("33.60")
    modules = [row.module for row in world.audit() if row.action == "created"]
    assert modules == ["Accounts", "Products", "Products", "Invoices"]


def test_an_invoice_whose_customer_cannot_be_synced_is_skipped_with_the_reason(world: World) -> None:
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1")
    invoice = world.invoice(account, [(widget, 1, 10)])
    world.xero.fail_records(
        lambda op, module, record: module == "Contacts",
        __import__("portal.connectors.errors", fromlist=["Invalid"]).Invalid("Name is invalid"),
    )
    world.push("Invoices", [invoice["id"]])
    assert world.xero.all("Invoices") == []
    last = world.audit()[-1]
    assert (last.module, last.action, last.reason) == ("Invoices", "skipped", "dependency_missing")
    assert last.message["params"]["what"] == "customer"


@pytest.mark.parametrize("status", ["PAID", "VOIDED"])
def test_a_paid_or_voided_invoice_is_never_edited(world: World, status: str) -> None:
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1")
    invoice = world.invoice(account, [(widget, 1, 10)])
    world.push("Invoices", [invoice["id"]])
    (xero_invoice,) = world.xero.all("Invoices")
    world.xero.edit("Invoices", xero_invoice["InvoiceID"], Status=status)
    world.zoho.edit("Invoices", invoice["id"], Subject="Changed")
    writes = world.xero.write_calls
    world.push("Invoices", [invoice["id"]])
    assert world.xero.write_calls == writes
    row = world.audit()[-1]
    assert (row.action, row.reason) == ("skipped", "invoice_locked")
    assert status in row.message["params"]["status"]


def test_an_invoice_dated_on_or_before_the_lock_date_is_left_alone_with_a_clear_message(world: World) -> None:
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1")
    invoice = world.invoice(account, [(widget, 1, 10)], Invoice_Date="2026-01-15")
    world.push("Invoices", [invoice["id"]])
    world.xero.org["PeriodLockDate"] = "2026-01-31"
    world.zoho.edit("Invoices", invoice["id"], Subject="Changed")
    world.push("Invoices", [invoice["id"]])
    row = world.audit()[-1]
    assert (row.reason, row.message["params"]) == (
        "lock_date",
        {"date": "2026-01-15", "lock_date": "2026-01-31"},
    )
    assert "lock date" in row.message["msgid"]


def test_one_refused_invoice_never_fails_the_rest_of_its_batch(world: World) -> None:
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1")
    good = [world.invoice(account, [(widget, 1, 10)], Subject=f"Good {i}") for i in range(3)]
    bad = world.invoice(account, [(widget, 1, 10)], Subject="Bad")
    world.xero.fail_records(
        lambda op, module, record: record.get("Reference") == "Bad",
        __import__("portal.connectors.errors", fromlist=["Invalid"]).Invalid(
            "Account code '999' is not a valid code for this document."
        ),
    )
    world.push("Invoices", [bad["id"], *(g["id"] for g in good)])
    assert sorted(i["Reference"] for i in world.xero.all("Invoices")) == ["Good 0", "Good 1", "Good 2"]
    failed = world.audit(action="failed")
    assert [(r.record_name, r.error_text) for r in failed] == [
        ("Bad", "Account code '999' is not a valid code for this document.")
    ]


def test_authorised_invoices_go_in_the_status_the_tenant_chose(world: World) -> None:
    world.settings = replace(world.settings, new_invoice_status="AUTHORISED")
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1")
    world.invoice(account, [(widget, 1, 10)])
    world.push("Invoices")
    assert world.xero.all("Invoices")[0]["Status"] == "AUTHORISED"


LINES = [(3, "19.99", 20), (7, "0.35", 20), (1, "1.05", 5), (13, "2.17", 20)]


@pytest.mark.parametrize("treatment", [TaxTreatment.EXCLUSIVE, TaxTreatment.INCLUSIVE])
def test_totals_in_xero_are_exactly_the_crm_totals(session, treatment: TaxTreatment) -> None:
    world = World(session)
    world.zoho = FakeZoho(world.clock, inclusive_prices=treatment is TaxTreatment.INCLUSIVE)
    world.settings = replace(world.settings, tax_treatment=treatment)
    account = world.account("Zylker")
    lines = []
    for index, (quantity, price, rate) in enumerate(LINES):
        product = world.product(f"P{index}", f"P-{index}", float(price))
        lines.append(
            {
                "Product_Name": {"id": product["id"]},
                "Quantity": quantity,
                "List_Price": float(price),
                "Line_Tax": [{"name": "VAT", "percentage": rate}],
            }
        )
    invoice = world.zoho.add(
        "Invoices", {"Subject": "Rounding", "Account_Name": {"id": account["id"]}, "Invoiced_Items": lines}
    )
    world.push("Invoices")
    (xero_invoice,) = world.xero.all("Invoices")
    assert xero_invoice["LineAmountTypes"] == str(treatment)
    assert Decimal(str(xero_invoice["Total"])) == Decimal(str(invoice["Grand_Total"]))
    assert world.sink.of_kind("totals_mismatch") == []


def test_a_cent_that_cannot_be_reconciled_is_reported_not_hidden(world: World) -> None:
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1")
    invoice = world.invoice(account, [(widget, 3, 3.33)])
    # The CRM was told a total that per-line rounding cannot produce (e.g. a header-level rounding rule).
    world.zoho.data["Invoices"][invoice["id"]]["Grand_Total"] = 12.00
    world.push("Invoices", [invoice["id"]])
    row = world.audit(module="Invoices")[-1]
    assert row.action == "created"
    assert row.message["params"] == {"crm": "12.0", "xero": "11.99", "difference": "0.01"}
    (event,) = world.sink.of_kind("totals_mismatch")
    assert "11.99" in event.message


def test_zoho_adjustment_becomes_a_line_so_totals_agree(world: World) -> None:
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1")
    invoice = world.invoice(account, [(widget, 1, 10)], Adjustment=-0.5)
    world.push("Invoices", [invoice["id"]])
    (xero_invoice,) = world.xero.all("Invoices")
    assert Decimal(str(xero_invoice["Total"])) == Decimal(str(invoice["Grand_Total"])) == Decimal("11.50")
    assert world.sink.of_kind("totals_mismatch") == []


def test_a_line_discount_is_a_rate_when_exact_and_an_amount_otherwise() -> None:
    assert invoices._discount_fields(Decimal("100"), Decimal("12.5")) == {"DiscountRate": "12.5"}
    assert invoices._discount_fields(Decimal("3"), Decimal("1")) == {"DiscountRate": "33.33"}  # 2.0001 -> 2.00
    assert invoices._discount_fields(Decimal("300"), Decimal("100")) == {"DiscountAmount": "100"}
    assert invoices._discount_fields(Decimal("3"), Decimal("0")) == {}


def test_a_zoho_tax_without_a_xero_rate_refuses_the_invoice_with_a_clear_message(world: World) -> None:
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1")
    invoice = world.zoho.add(
        "Invoices",
        {
            "Subject": "Odd tax",
            "Account_Name": {"id": account["id"]},
            "Invoiced_Items": [
                {
                    "Product_Name": {"id": widget["id"]},
                    "Quantity": 1,
                    "List_Price": 10,
                    "Line_Tax": [{"name": "Odd", "percentage": 7}],
                }
            ],
        },
    )
    world.push("Invoices", [invoice["id"]])
    row = world.audit(action="failed")[-1]
    assert row.message["params"] == {"rate": "7", "name": "Odd"}
    assert world.xero.all("Invoices") == []


def test_a_xero_invoice_becomes_a_zoho_invoice_with_its_lines(world: World) -> None:
    contact = world.xero.add("Contacts", {"Name": "Globex"})
    world.xero.add("Items", {"Code": "W-1", "Name": "Widget", "SalesDetails": {"UnitPrice": 10}})
    world.xero.add(
        "Invoices",
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact["ContactID"]},
            "Date": "2026-02-10",
            "InvoiceNumber": "INV-7",
            "LineItems": [
                {"ItemCode": "W-1", "Quantity": 2, "UnitAmount": 10, "TaxType": "OUTPUT2", "DiscountRate": 10}
            ],
        },
    )
    world.pull("Invoices")
    (zoho_invoice,) = world.zoho.all("Invoices")
    (account,) = world.zoho.all("Accounts")
    (product,) = world.zoho.all("Products")
    assert zoho_invoice["Account_Name"]["id"] == account["id"]
    assert zoho_invoice["Invoice_Number"] == "INV-7"
    (line,) = zoho_invoice["Invoiced_Items"]
    assert (line["Product_Name"]["id"], line["Quantity"], line["List_Price"], line["Discount"]) == (
        product["id"],
        "2",
        "10",
        "2",
    )
    # Zoho lines name the org's own tax of that percentage, not Xero's tax name.
    assert line["Line_Tax"] == [{"name": "VAT", "percentage": "20"}]
    assert zoho_invoice["Grand_Total"] == world.xero.all("Invoices")[0]["Total"]
    # Bills are not sales: they are skipped with the reason.
    world.xero.add("Invoices", {"Type": "ACCPAY", "Contact": {"ContactID": contact["ContactID"]}, "LineItems": []})
    world.pull("Invoices")
    assert [r.reason for r in world.audit()[-2:]] == ["not_sales_invoice", "unchanged"]


def test_an_invoice_line_edited_in_zoho_replaces_the_xero_lines(world: World) -> None:
    account = world.account("Zylker")
    widget = world.product("Widget", "W-1")
    invoice = world.invoice(account, [(widget, 1, 10)])
    world.push("Invoices", [invoice["id"]])
    items = world.zoho.all("Invoices")[0]["Invoiced_Items"]
    items[0]["Quantity"] = 4
    world.zoho.edit("Invoices", invoice["id"], Invoiced_Items=items)
    world.push("Invoices", [invoice["id"]])
    (xero_invoice,) = world.xero.all("Invoices")
    assert [ln["Quantity"] for ln in xero_invoice["LineItems"]] == ["4"]
    assert Decimal(str(xero_invoice["Total"])) == Decimal("48.00")
    writes = world.xero.write_calls
    world.pull("Invoices")
    world.push("Invoices", [invoice["id"]])
    assert world.xero.write_calls == writes
