"""Reports computed from the sandbox's own books, in Xero's report shape (OAS ``ReportWithRows``):
``Reports[0].Rows`` holds a ``Header`` row, ``Section`` rows (each with ``Rows`` of ``Row``/``SummaryRow``) and
cells ``{"Value": "...", "Attributes": [{"Id": "account", "Value": <AccountID>}]}``, amounts as "1234.50".

- ProfitAndLoss: accrual basis by default (approved invoices and credit notes by date, tax excluded, in the base
  currency), or cash basis with ``paymentsOnly=true``; ``periods``/``timeframe`` add earlier comparison columns.
- BankSummary: per bank account, opening balance, cash received and spent (payments), closing balance.
- AgedReceivablesByContact: one contact's outstanding sales invoices (``contactId`` is required, as in the OAS).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from portal.sandbox.xero import db
from portal.sandbox.xero.books import Org, cents, is_guid
from portal.sandbox.xero.dates import DAY_MS, date_of_ms, day_ms, months_before, ms_date

INCOME_TYPES = ("REVENUE", "SALES")
COST_TYPES = ("DIRECTCOSTS",)
OTHER_INCOME_TYPES = ("OTHERINCOME",)
EXPENSE_TYPES = ("EXPENSE", "OVERHEADS", "DEPRECIATN")
APPROVED = ("AUTHORISED", "PAID")
CREDIT_SIGN = {"ACCREC": 1, "ACCPAY": -1, "ACCRECCREDIT": -1, "ACCPAYCREDIT": 1}


class ReportParameterError(ValueError):
    pass


def _day(args: Mapping[str, str], name: str) -> date | None:
    value = args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ReportParameterError(f"The {name} '{value}' is not a valid date (YYYY-MM-DD)") from None


def _amount(value: Decimal) -> str:
    return f"{cents(value):.2f}"


def _long(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def _month_end(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1) - timedelta(days=1)


def _report(report_id: str, name: str, titles: list[str], rows: list[dict[str, Any]], now_ms: int) -> dict[str, Any]:
    return {"ReportID": report_id, "ReportName": name, "ReportType": report_id, "ReportTitles": titles,
            "ReportDate": _long(date_of_ms(now_ms)), "UpdatedDateUTC": ms_date(now_ms), "Fields": [], "Rows": rows}


def _cell(value: str, account_id: str | None = None, attribute: str = "account") -> dict[str, Any]:
    cell: dict[str, Any] = {"Value": value}
    if account_id:
        cell["Attributes"] = [{"Value": account_id, "Id": attribute}]
    return cell


def _accounts(conn: sqlite3.Connection, org: Org) -> dict[str, dict[str, Any]]:
    return {row["id"]: db.loads(row["data"])
            for row in conn.execute("SELECT id, data FROM xero_account WHERE org_id = ?", (org.id,))}


# --- Profit and Loss --------------------------------------------------------------------------------------------

def _line_amounts(document: dict[str, Any]) -> list[tuple[str, Decimal]]:
    """(AccountID, amount excluding tax, in the base currency) for each line of a document."""
    rate = Decimal(str(document.get("CurrencyRate") or 1))
    inclusive = document.get("LineAmountTypes") == "Inclusive"
    amounts = []
    for line in document.get("LineItems", []):
        if not line.get("AccountID"):
            continue
        amount = Decimal(str(line["LineAmount"]))
        if inclusive:
            amount -= Decimal(str(line.get("TaxAmount", 0)))
        amounts.append((line["AccountID"], amount / rate))
    return amounts


def _profit_and_loss_column(conn: sqlite3.Connection, org: Org, start_ms: int, end_ms: int,
                            cash: bool) -> dict[str, Decimal]:
    """Net credit per account: sales (ACCREC) credit their accounts, bills (ACCPAY) debit theirs, credit notes the
    reverse. Income accounts show the net credit, expense accounts its negation."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    if cash:
        rows = conn.execute(
            "SELECT p.amount, p.invoice_id, p.credit_note_id FROM xero_payment p WHERE p.org_id = ? AND "
            "p.status = 'AUTHORISED' AND p.date_ms BETWEEN ? AND ?", (org.id, start_ms, end_ms)).fetchall()
        for row in rows:
            table = "xero_invoice" if row["invoice_id"] else "xero_creditnote"
            document_row = conn.execute(f"SELECT data FROM {table} WHERE id = ?",  # noqa: S608
                                        (row["invoice_id"] or row["credit_note_id"],)).fetchone()
            if document_row is None:
                continue
            document = db.loads(document_row["data"])
            total = Decimal(str(document.get("Total") or 0))
            if total == 0:
                continue
            share = Decimal(str(row["amount"])) / total
            sign = CREDIT_SIGN[document["Type"]]
            for account_id, amount in _line_amounts(document):
                totals[account_id] += sign * amount * share
        return totals
    for table in ("xero_invoice", "xero_creditnote"):
        rows = conn.execute(f"SELECT data FROM {table} WHERE org_id = ? AND status IN ('AUTHORISED', 'PAID') "  # noqa: S608
                            "AND date_ms BETWEEN ? AND ?", (org.id, start_ms, end_ms)).fetchall()
        for row in rows:
            document = db.loads(row["data"])
            sign = CREDIT_SIGN[document["Type"]]
            for account_id, amount in _line_amounts(document):
                totals[account_id] += sign * amount
    return totals


def profit_and_loss(conn: sqlite3.Connection, org: Org, now_ms: int, args: Mapping[str, str]) -> dict[str, Any]:
    today = date_of_ms(org.today_ms(now_ms))
    from_day = _day(args, "fromDate")
    to_day = _day(args, "toDate")
    if from_day is None:
        from_day = (to_day or today).replace(day=1)
    if to_day is None:
        to_day = _month_end(from_day)
    if to_day < from_day:
        raise ReportParameterError("fromDate must be on or before toDate")
    periods = 0
    if args.get("periods"):
        try:
            periods = int(args["periods"])
        except ValueError:
            raise ReportParameterError("periods must be a number from 1 to 11") from None
        if not 1 <= periods <= 11:
            raise ReportParameterError("periods must be a number from 1 to 11")
    timeframe = (args.get("timeframe") or "MONTH").upper()
    step = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}.get(timeframe)
    if step is None:
        raise ReportParameterError("timeframe must be MONTH, QUARTER or YEAR")
    cash = (args.get("paymentsOnly") or "").lower() == "true"
    columns = [(from_day, to_day)] + [
        (months_before(from_day, step * n), months_before(to_day, step * n)) for n in range(1, periods + 1)]
    values = [_profit_and_loss_column(conn, org, day_ms(start), day_ms(end) + DAY_MS - 1, cash)
              for start, end in columns]
    accounts = _accounts(conn, org)

    def section(title: str, types: tuple[str, ...], total_title: str, sign: int) -> tuple[dict[str, Any] | None,
                                                                                           list[Decimal]]:
        members = sorted((account for account in accounts.values() if account["Type"] in types
                          and any(column.get(account["AccountID"]) for column in values)),
                         key=lambda account: account.get("Code") or "")
        totals = [sum((sign * column.get(account["AccountID"], Decimal(0)) for account in members), Decimal(0))
                  for column in values]
        if not members:
            return None, totals
        rows: list[dict[str, Any]] = [{"RowType": "Row", "Cells": [
            _cell(account["Name"], account["AccountID"]),
            *(_cell(_amount(sign * column.get(account["AccountID"], Decimal(0))), account["AccountID"])
              for column in values)]} for account in members]
        rows.append({"RowType": "SummaryRow", "Cells": [_cell(total_title), *(_cell(_amount(t)) for t in totals)]})
        return {"RowType": "Section", "Title": title, "Rows": rows}, totals

    income, income_totals = section("Income", INCOME_TYPES, "Total Income", 1)
    costs, cost_totals = section("Less Cost of Sales", COST_TYPES, "Total Cost of Sales", -1)
    other, other_totals = section("Plus Other Income", OTHER_INCOME_TYPES, "Total Other Income", 1)
    expenses, expense_totals = section("Less Operating Expenses", EXPENSE_TYPES, "Total Operating Expenses", -1)
    gross = [i - c for i, c in zip(income_totals, cost_totals, strict=True)]
    net = [g + o - e for g, o, e in zip(gross, other_totals, expense_totals, strict=True)]

    def line(title: str, amounts: list[Decimal]) -> dict[str, Any]:
        return {"RowType": "Section", "Title": "", "Rows": [
            {"RowType": "Row", "Cells": [_cell(title), *(_cell(_amount(amount)) for amount in amounts)]}]}

    rows: list[dict[str, Any]] = [{"RowType": "Header", "Cells": [
        _cell(""), *(_cell(end.strftime("%d %b %y")) for _, end in columns)]}]
    rows.append(income or {"RowType": "Section", "Title": "Income", "Rows": [
        {"RowType": "SummaryRow", "Cells": [_cell("Total Income"), *(_cell("0.00") for _ in columns)]}]})
    if costs:
        rows.append(costs)
    rows.append(line("Gross Profit", gross))
    if other:
        rows.append(other)
    rows.append(expenses or {"RowType": "Section", "Title": "Less Operating Expenses", "Rows": [
        {"RowType": "SummaryRow", "Cells": [_cell("Total Operating Expenses"), *(_cell("0.00") for _ in columns)]}]})
    rows.append(line("Net Profit", net))
    titles = ["Profit & Loss", org.name, f"{_long(from_day)} to {_long(to_day)}"]
    return _report("ProfitAndLoss", "Profit and Loss", titles, rows, now_ms)


# --- Bank Summary -----------------------------------------------------------------------------------------------

def bank_summary(conn: sqlite3.Connection, org: Org, now_ms: int, args: Mapping[str, str]) -> dict[str, Any]:
    today = date_of_ms(org.today_ms(now_ms))
    from_day = _day(args, "fromDate") or today.replace(day=1)
    to_day = _day(args, "toDate") or _month_end(from_day)
    if to_day < from_day:
        raise ReportParameterError("fromDate must be on or before toDate")
    start_ms, end_ms = day_ms(from_day), day_ms(to_day) + DAY_MS - 1
    banks = [account for account in _accounts(conn, org).values()
             if account["Type"] == "BANK" and account["Status"] != "DELETED"]
    banks.sort(key=lambda account: (account.get("Code") or "", account["Name"]))
    money_in = ("ACCRECPAYMENT", "APCREDITPAYMENT")
    rows: list[dict[str, Any]] = [{"RowType": "Header", "Cells": [
        _cell("Bank Accounts"), _cell("Opening Balance"), _cell("Cash Received"), _cell("Cash Spent"),
        _cell("Closing Balance")]}]
    body: list[dict[str, Any]] = []
    totals = [Decimal(0)] * 4
    for bank in banks:
        opening = received = spent = Decimal(0)
        for row in conn.execute("SELECT payment_type, date_ms, data FROM xero_payment WHERE org_id = ? AND "
                                "account_id = ? AND status = 'AUTHORISED' AND date_ms <= ?",
                                (org.id, bank["AccountID"], end_ms)):
            amount = Decimal(str(db.loads(row["data"]).get("BankAmount", 0)))
            signed = amount if row["payment_type"] in money_in else -amount
            if row["date_ms"] < start_ms:
                opening += signed
            elif signed >= 0:
                received += signed
            else:
                spent -= signed
        closing = opening + received - spent
        figures = [opening, received, spent, closing]
        totals = [total + figure for total, figure in zip(totals, figures, strict=True)]
        body.append({"RowType": "Row", "Cells": [
            _cell(bank["Name"], bank["AccountID"], "accountID"), _cell(_amount(opening)),
            _cell(_amount(received), bank["AccountID"]), _cell(_amount(spent), bank["AccountID"]),
            _cell(_amount(closing))]})
    body.append({"RowType": "SummaryRow", "Cells": [_cell("Total"), *(_cell(_amount(total)) for total in totals)]})
    rows.append({"RowType": "Section", "Title": "", "Rows": body})
    titles = ["Bank Summary", org.name, f"From {_long(from_day)} to {_long(to_day)}"]
    return _report("BankSummary", "Bank Summary", titles, rows, now_ms)


# --- Aged Receivables By Contact --------------------------------------------------------------------------------

def aged_receivables_by_contact(conn: sqlite3.Connection, org: Org, now_ms: int,
                                args: Mapping[str, str]) -> dict[str, Any]:
    contact_id = (args.get("contactId") or "").lower()
    if not is_guid(contact_id):
        raise ReportParameterError("A valid contactId is required for AgedReceivablesByContact")
    contact_row = conn.execute("SELECT name FROM xero_contact WHERE id = ? AND org_id = ?",
                               (contact_id, org.id)).fetchone()
    if contact_row is None:
        raise ReportParameterError(f"Contact {contact_id} could not be found")
    report_day = _day(args, "date") or _day(args, "toDate") or date_of_ms(org.today_ms(now_ms))
    report_end_ms = day_ms(report_day) + DAY_MS - 1
    invoices = [db.loads(row["data"]) for row in conn.execute(
        "SELECT data FROM xero_invoice WHERE org_id = ? AND contact_id = ? AND type = 'ACCREC' AND "
        "status IN ('AUTHORISED', 'PAID') AND date_ms <= ? ORDER BY date_ms, number", (org.id, contact_id,
                                                                                      report_end_ms))]
    first_day = date_of_ms(_ms(invoices[0]["Date"])) if invoices else report_day
    from_day = _day(args, "fromDate") or first_day
    from_ms = day_ms(from_day)
    opening = Decimal(0)
    rows: list[dict[str, Any]] = []
    totals = [Decimal(0)] * 4
    for invoice in invoices:
        total = Decimal(str(invoice["Total"]))
        paid = sum((Decimal(str(payment["Amount"])) for payment in invoice.get("Payments", [])
                    if _ms(payment["Date"]) <= report_end_ms), Decimal(0))
        credited = sum((Decimal(str(credit["AppliedAmount"])) for credit in invoice.get("CreditNotes", [])
                        if _ms(credit.get("Date", "")) <= report_end_ms), Decimal(0))
        due = total - paid - credited
        if due <= 0:
            continue
        date_ms = _ms(invoice["Date"])
        if date_ms < from_ms:
            opening += due
            continue
        due_ms = _ms(invoice.get("DueDate", "")) if invoice.get("DueDate") else None
        overdue_days = (report_end_ms - DAY_MS + 1 - due_ms) // DAY_MS if due_ms is not None else 0
        invoice_id = invoice["InvoiceID"]
        figures = [total, paid, credited, due]
        totals = [sum_ + figure for sum_, figure in zip(totals, figures, strict=True)]
        rows.append({"RowType": "Row", "Cells": [
            _cell(_iso_day(date_ms), invoice_id, "invoiceID"),
            _cell(invoice.get("InvoiceNumber", ""), invoice_id, "invoiceID"),
            _cell(_iso_day(due_ms) if due_ms is not None else "", invoice_id, "invoiceID"),
            _cell(f"{overdue_days} days overdue" if overdue_days > 0 else "", invoice_id, "invoiceID"),
            *(_cell(_amount(figure), invoice_id, "invoiceID") for figure in figures)]})
    blank = [_cell("")] * 3
    result_rows: list[dict[str, Any]] = [
        {"RowType": "Header", "Cells": [_cell("Date"), _cell("Number"), _cell("Due Date"), _cell(""),
                                        _cell("Total"), _cell("Paid"), _cell("Credited"), _cell("Due")]},
        {"RowType": "Section", "Title": "", "Rows": [{"RowType": "Row", "Cells": [
            _cell(f"{from_day.isoformat()} 00:00:00"), _cell("Opening Balance"), *blank, *blank[:2],
            _cell(_amount(opening))]}]},
        {"RowType": "Section", "Title": "", "Rows": [*rows, {"RowType": "SummaryRow", "Cells": [
            _cell("Total"), *blank, *(_cell(_amount(total)) for total in totals)]}]},
        {"RowType": "Section", "Title": "", "Rows": [{"RowType": "SummaryRow", "Cells": [
            _cell("Closing Balance"), *blank, _cell(_amount(totals[0])), _cell(_amount(totals[1])),
            _cell(_amount(totals[2])), _cell(_amount(totals[3] + opening))]}]},
    ]
    titles = ["Invoices", contact_row["name"], f"From {_long(from_day)} to {_long(report_day)}",
              f"Showing payments to {_long(report_day)}"]
    return _report("AgedReceivablesByContact", "Aged Receivables By Contact", titles, result_rows, now_ms)


def _ms(value: str) -> int:
    return int(value[6:].split("+")[0].split(")")[0]) if value.startswith("/Date(") else 0


def _iso_day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d 00:00:00")


REPORTS: dict[str, Callable[[sqlite3.Connection, Org, int, Mapping[str, str]], dict[str, Any]]] = {
    "ProfitAndLoss": profit_and_loss,
    "BankSummary": bank_summary,
    "AgedReceivablesByContact": aged_receivables_by_contact,
}
