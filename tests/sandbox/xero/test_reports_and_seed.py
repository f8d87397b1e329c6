"""Reports computed from the sandbox's own books (in Xero's Rows/Cells shape), deterministic seeding, and a check
that the OAS validator used everywhere really catches an answer Xero would not give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.sandbox.xero.helpers import NZ


def today(sandbox):
    return datetime.fromtimestamp(sandbox.xero.clock()["epoch"], UTC).date()


def rows_by_title(report: dict) -> dict[str, dict]:
    return {section.get("Title", ""): section for section in report["Rows"] if section["RowType"] == "Section"}


def cells(row: dict) -> list[str]:
    return [cell["Value"] for cell in row["Cells"]]


def test_profit_and_loss_from_the_demo_books(sandbox, xero):
    day = today(sandbox)
    params = {"fromDate": (day - timedelta(days=60)).isoformat(), "toDate": day.isoformat()}
    report = xero.ok(xero.get("/Reports/ProfitAndLoss", params=params))["Reports"][0]
    assert report["ReportID"] == "ProfitAndLoss" and report["ReportTitles"][:2] == ["Profit & Loss",
                                                                                      "Demo Company (NZ)"]
    assert report["Rows"][0]["RowType"] == "Header"
    sections = rows_by_title(report)
    income = sections["Income"]["Rows"]
    # Sales: 3 days of development (1,500.00) + books 179.55 incl. GST (156.13 excl.); Travel 120.50 on 260.
    assert [cells(row) for row in income] == [["Sales", "1656.13"], ["Other Revenue", "120.50"],
                                             ["Total Income", "1776.63"]]
    assert income[0]["Cells"][0]["Attributes"][0]["Id"] == "account"
    assert [cells(row) for row in sections["Less Operating Expenses"]["Rows"]] == [
        ["General Expenses", "230.00"], ["Total Operating Expenses", "230.00"]]
    net = [cells(section["Rows"][0]) for section in report["Rows"]
           if section["RowType"] == "Section" and section["Title"] == ""]
    assert net == [["Gross Profit", "1776.63"], ["Net Profit", "1546.63"]]

    cash = xero.ok(xero.get("/Reports/ProfitAndLoss", params={**params, "paymentsOnly": "true"}))["Reports"][0]
    share = Decimal(500) / Decimal("1863.58")  # INV-0002 is paid 500 of 1863.58; the book sale is paid in full
    expected = (Decimal("156.13") + Decimal(1500) * share).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert cells(rows_by_title(cash)["Income"]["Rows"][0]) == ["Sales", f"{expected}"]

    monthly = xero.ok(xero.get("/Reports/ProfitAndLoss", params={"periods": 2, "timeframe": "MONTH"}))["Reports"][0]
    assert len(monthly["Rows"][0]["Cells"]) == 4  # label + this month + two earlier months
    assert xero.get("/Reports/ProfitAndLoss", params={"timeframe": "DECADE"}).status_code == 400


def test_bank_summary_from_payments(sandbox, xero):
    day = today(sandbox)
    report = xero.ok(xero.get("/Reports/BankSummary", params={"fromDate": (day - timedelta(days=60)).isoformat(),
                                                              "toDate": day.isoformat()}))["Reports"][0]
    assert cells(report["Rows"][0]) == ["Bank Accounts", "Opening Balance", "Cash Received", "Cash Spent",
                                        "Closing Balance"]
    body = report["Rows"][1]["Rows"]
    assert cells(body[0]) == ["Business Bank Account", "0.00", "679.55", "0.00", "679.55"]
    assert body[0]["Cells"][0]["Attributes"] == [{"Value": body[0]["Cells"][0]["Attributes"][0]["Value"],
                                                  "Id": "accountID"}]
    assert cells(body[-1]) == ["Total", "0.00", "679.55", "0.00", "679.55"]


def test_aged_receivables_by_contact(sandbox, xero):
    ridgeway = xero.ok(xero.get("/Contacts", params={"where": 'Name=="Ridgeway University"'}))["Contacts"][0]
    report = xero.ok(xero.get("/Reports/AgedReceivablesByContact",
                              params={"contactId": ridgeway["ContactID"]}))["Reports"][0]
    assert report["ReportTitles"][:2] == ["Invoices", "Ridgeway University"]
    invoice_rows = report["Rows"][2]["Rows"]
    assert cells(invoice_rows[0])[1:] == ["INV-0002", cells(invoice_rows[0])[2], "15 days overdue", "1863.58",
                                          "500.00", "0.00", "1363.58"]
    assert cells(report["Rows"][3]["Rows"][0])[-1] == "1363.58"  # Closing Balance
    assert xero.get("/Reports/AgedReceivablesByContact").status_code == 400  # contactId is required (OAS)


def test_seeding_is_deterministic_and_fast_enough_for_the_suite(sandbox, mint):
    xero = mint()
    first = sandbox.xero.seed(org="nz", seed=3, contacts=300, items=20, invoices=200, payments=80)
    assert {k: first[k] for k in ("contacts", "items", "invoices", "payments")} == {
        "contacts": 300, "items": 20, "invoices": 200, "payments": 80}
    page = xero.ok(xero.get("/Invoices?page=1&pageSize=50", params={"order": "InvoiceNumber"}))
    ids = [invoice["InvoiceID"] for invoice in page["Invoices"]]
    with pytest.raises(RuntimeError, match="already in Demo Company"):
        sandbox.xero.seed(org="nz", seed=3, contacts=1)

    sandbox.reset()
    xero = mint()  # reset forgets every token
    again = sandbox.xero.seed(org=NZ, seed=3, contacts=300, items=20, invoices=200, payments=80)
    assert again["invoices"] == 200
    assert [invoice["InvoiceID"] for invoice in xero.ok(xero.get("/Invoices?page=1&pageSize=50", params={
        "order": "InvoiceNumber"}))["Invoices"]] == ids
    paid = xero.ok(xero.get("/Invoices", params={"Statuses": "PAID", "where": 'Type=="ACCREC"'}))["Invoices"]
    assert paid and all(invoice["AmountDue"] == 0 for invoice in paid)
    assert xero.ok(xero.get("/Payments?page=1"))["pagination"]["itemCount"] == 80 + 2


def test_the_validator_rejects_answers_outside_the_spec(xero_specs):
    good = (b'{"Contacts":[{"ContactID":"6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b01","Name":"A",'
            b'"ContactStatus":"ACTIVE"}]}')
    xero_specs.validate_parts("GET", "http://x/xero/api.xro/2.0/Contacts", 200, good, "application/json", NZ)
    for bad in (good.replace(b"ACTIVE", b"LIVELY"), good.replace(b"6e9b2a5c-0b1d", b"not-a-uuid")):
        with pytest.raises(AssertionError, match="outside the OAS"):
            xero_specs.validate_parts("GET", "http://x/xero/api.xro/2.0/Contacts", 200, bad, "application/json", NZ)
