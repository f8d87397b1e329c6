"""Payments and credit-note allocations (FACTS.md §4 "Payments", "CreditNotes").

A payment applies to an AUTHORISED invoice (or credit note), into a BANK account or one with
``EnablePaymentsToAccount``, for at most the amount due ("Payment amount exceeds the amount outstanding on this
document"). The document's ``AmountPaid`` goes up, ``AmountDue`` down, and at zero it becomes PAID with
``FullyPaidOnDate``. Payments cannot be edited, only deleted (``POST /Payments/{id}`` with ``Status: DELETED``),
which reverses all of it. Lock dates apply to the payment date.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from portal.sandbox.xero import db, documents
from portal.sandbox.xero.books import WriteContext, bool_of, cents, decimal_of, is_guid, money, text_of
from portal.sandbox.xero.dates import DateFormatError, date_string, iso_utc, ms_date, parse_request_day
from portal.sandbox.xero.documents import CREDIT_NOTE, INVOICE, Kind
from portal.sandbox.xero.errors import Invalid
from portal.sandbox.xero.query import Queryable, column, json_field

QUERY = Queryable(
    type_name="Payment",
    fields={
        "paymentid": column("id", "guid"),
        "status": column("status"),
        "paymenttype": column("payment_type"),
        "date": column("date_ms", "date"),
        "updateddateutc": column("updated_ms", "date"),
        "amount": column("amount", "number"),
        "invoice.invoiceid": column("invoice_id", "guid"),
        "creditnote.creditnoteid": column("credit_note_id", "guid"),
        "account.accountid": column("account_id", "guid"),
        "reference": json_field("Reference"),
        "isreconciled": json_field("IsReconciled", "bool"),
        "invoice.invoicenumber": json_field("Invoice.InvoiceNumber"),
        "invoice.contact.contactid": json_field("Invoice.Contact.ContactID", "guid"),
    },
    default_order="date_ms ASC, id ASC",
)

PAYMENT_TYPES = {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT", "ACCRECCREDIT": "ARCREDITPAYMENT",
                 "ACCPAYCREDIT": "APCREDITPAYMENT"}


def find(ctx: WriteContext, payment_id: str) -> dict[str, Any] | None:
    if not is_guid(payment_id):
        return None
    row = ctx.conn.execute("SELECT data FROM xero_payment WHERE id = ? AND org_id = ?",
                           (payment_id.lower(), ctx.org.id)).fetchone()
    return db.record(row)


def _document(ctx: WriteContext, element: dict[str, Any]) -> tuple[Kind, dict[str, Any]]:
    for kind, key in ((INVOICE, "Invoice"), (CREDIT_NOTE, "CreditNote")):
        given = element.get(key)
        if given is None:
            continue
        if not isinstance(given, dict):
            raise Invalid(f"{key} must be an object")
        ref = given.get(kind.id_key) or given.get(kind.number_key)
        if not ref and key == "Invoice" and element.get("InvoiceNumber"):
            ref = element["InvoiceNumber"]
        if not ref:
            raise Invalid(f"The {kind.label} must be identified by {kind.id_key} or {kind.number_key}")
        found = documents.find(ctx, kind, str(ref))
        if found is None:
            raise Invalid(f"{kind.label} could not be found")
        return kind, found
    if element.get("InvoiceNumber"):
        found = documents.find(ctx, INVOICE, str(element["InvoiceNumber"]))
        if found is None:
            raise Invalid("Invoice could not be found")
        return INVOICE, found
    raise Invalid("An Invoice or a CreditNote must be specified for a payment")


def _account(ctx: WriteContext, given: object) -> Any:
    if not isinstance(given, dict) or not (given.get("AccountID") or given.get("Code")):
        raise Invalid("An Account (AccountID or Code) must be specified for a payment")
    accounts = ctx.accounts()
    account = accounts.get(str(given["AccountID"]).lower()) if given.get("AccountID") else \
        accounts.get(str(given["Code"]).upper())
    if account is None or account.status != "ACTIVE":
        raise Invalid("Account could not be found")
    if account.type != "BANK" and not account.payments_enabled:
        raise Invalid(f"Account {account.code} is not a bank account and does not have EnablePaymentsToAccount "
                      "set, so payments cannot be made to it")
    return account


def create(ctx: WriteContext, element: object) -> dict[str, Any]:
    if not isinstance(element, dict):
        raise Invalid("A payment must be an object")
    if element.get("PaymentID") and find(ctx, str(element["PaymentID"])) is not None:
        raise Invalid("Payments cannot be edited, only deleted")
    errors: list[str] = []
    kind: Kind | None = None
    document: dict[str, Any] | None = None
    account = None
    try:
        kind, document = _document(ctx, element)
    except Invalid as invalid:
        errors.extend(invalid.messages)
    try:
        account = _account(ctx, element.get("Account"))
    except Invalid as invalid:
        errors.extend(invalid.messages)
    date_ms: int | None = None
    if element.get("Date") in (None, ""):
        errors.append("The payment Date must be specified")
    else:
        try:
            date_ms = parse_request_day(element["Date"])
        except DateFormatError as error:
            errors.append(f"Date: {error}")
    amount = Decimal(0)
    try:
        amount = cents(decimal_of(element.get("Amount"), "Amount"))
        if amount <= 0:
            errors.append("The payment Amount must be greater than zero")
    except Invalid as invalid:
        errors.extend(invalid.messages)
    if errors:
        raise Invalid(*errors)
    assert kind is not None and document is not None and date_ms is not None and account is not None
    if document["Status"] != "AUTHORISED":
        raise Invalid(f"{kind.label} not of valid status for payment; it must be AUTHORISED")
    due_key = "AmountDue" if kind.is_invoice else "RemainingCredit"
    if amount > Decimal(str(document[due_key])):
        raise Invalid("Payment amount exceeds the amount outstanding on this document")
    documents.check_lock_date(ctx, date_ms, "payment")

    rate = element.get("CurrencyRate")
    currency_rate = float(decimal_of(rate, "CurrencyRate")) if rate not in (None, 0) else \
        float(document.get("CurrencyRate", 1.0))
    payment_id = ctx.new_id()
    reference = text_of(element, "Reference", 255)
    payment: dict[str, Any] = {
        "PaymentID": payment_id,
        "Date": ms_date(date_ms),
        "BankAmount": money(amount / Decimal(str(currency_rate))) if currency_rate else money(amount),
        "Amount": money(amount),
        "CurrencyRate": currency_rate,
        "PaymentType": PAYMENT_TYPES[document["Type"]],
        "Status": "AUTHORISED",
        "UpdatedDateUTC": ms_date(ctx.now_ms),
        "UpdatedDateUTCString": iso_utc(ctx.now_ms),
        "HasAccount": True,
        "IsReconciled": bool_of(element.get("IsReconciled", False), "IsReconciled"),
        "HasValidationErrors": False,
        "Account": {"AccountID": account.id, "Code": account.code},
    }
    if reference:
        payment["Reference"] = reference
    document_key = "Invoice" if kind.is_invoice else "CreditNote"
    payment[document_key] = {
        "Type": document["Type"],
        kind.id_key: document[kind.id_key],
        kind.number_key: document.get(kind.number_key, ""),
        "Contact": dict(document["Contact"]),
        "CurrencyCode": document["CurrencyCode"],
        "IsDiscounted": document.get("IsDiscounted", False),
        "HasErrors": False,
    }
    _write(ctx, payment, kind)

    summary = {"PaymentID": payment_id, "Date": payment["Date"], "Amount": payment["Amount"],
               "CurrencyRate": currency_rate, "HasAccount": False, "HasValidationErrors": False}
    if reference:
        summary["Reference"] = reference
    updated = dict(document)
    updated["Payments"] = [*document.get("Payments", []), summary]
    if kind.is_invoice:
        updated["AmountPaid"] = money(Decimal(str(document.get("AmountPaid", 0))) + amount)
    else:
        updated["AppliedAmount"] = money(Decimal(str(document.get("AppliedAmount", 0))) + amount)
    _settle(ctx, kind, updated, date_ms)
    ctx.written += 1
    return payment


def _settle(ctx: WriteContext, kind: Kind, document: dict[str, Any], on_ms: int | None) -> None:
    """PAID when nothing is due (with FullyPaidOnDate), back to AUTHORISED when something is again."""
    documents.recompute_due(kind, document)
    due = document["AmountDue"] if kind.is_invoice else document["RemainingCredit"]
    if due == 0 and document["Status"] == "AUTHORISED":
        document["Status"] = "PAID"
        if on_ms is not None:
            document["FullyPaidOnDate"] = ms_date(on_ms)
    elif due > 0 and document["Status"] == "PAID":
        document["Status"] = "AUTHORISED"
        document.pop("FullyPaidOnDate", None)
    documents.touch(ctx, kind, document)


def delete(ctx: WriteContext, payment: dict[str, Any], element: object) -> dict[str, Any]:
    if not isinstance(element, dict) or element.get("Status") != "DELETED" or \
            any(key not in ("Status", "PaymentID") for key in element):
        raise Invalid("Payments cannot be edited, only deleted (POST Status DELETED)")
    if payment["Status"] == "DELETED":
        raise Invalid("This payment has already been deleted")
    date_ms = documents.date_ms_of(payment)
    if date_ms is not None:
        documents.check_lock_date(ctx, date_ms, "payment")
    kind = INVOICE if "Invoice" in payment else CREDIT_NOTE
    document_key = "Invoice" if kind.is_invoice else "CreditNote"
    document = documents.find(ctx, kind, payment[document_key][kind.id_key])
    if document is not None:
        amount = Decimal(str(payment["Amount"]))
        updated = dict(document)
        updated["Payments"] = [entry for entry in document.get("Payments", [])
                               if entry["PaymentID"] != payment["PaymentID"]]
        if kind.is_invoice:
            updated["AmountPaid"] = money(Decimal(str(document.get("AmountPaid", 0))) - amount)
        else:
            updated["AppliedAmount"] = money(Decimal(str(document.get("AppliedAmount", 0))) - amount)
        _settle(ctx, kind, updated, None)
    deleted = dict(payment)
    deleted["Status"] = "DELETED"
    deleted["UpdatedDateUTC"] = ms_date(ctx.now_ms)
    deleted["UpdatedDateUTCString"] = iso_utc(ctx.now_ms)
    _write(ctx, deleted, kind)
    ctx.written += 1
    return deleted


def _write(ctx: WriteContext, payment: dict[str, Any], kind: Kind) -> None:
    document = payment.get("Invoice") or payment.get("CreditNote") or {}
    db.upsert(ctx.conn, "xero_payment", {
        "id": payment["PaymentID"], "org_id": ctx.org.id,
        "invoice_id": document.get("InvoiceID") if kind.is_invoice else None,
        "credit_note_id": document.get("CreditNoteID") if not kind.is_invoice else None,
        "account_id": payment["Account"]["AccountID"], "status": payment["Status"],
        "payment_type": payment["PaymentType"], "date_ms": documents.date_ms_of(payment),
        "updated_ms": ctx.now_ms, "amount": payment["Amount"], "data": db.dumps(payment),
    })


def allocate(ctx: WriteContext, credit_note: dict[str, Any], element: object) -> dict[str, Any]:
    """``PUT /CreditNotes/{id}/Allocations``: apply credit to an invoice of the same contact."""
    if not isinstance(element, dict):
        raise Invalid("An allocation must be an object")
    if credit_note["Status"] != "AUTHORISED":
        raise Invalid("Credit Note not of valid status for allocation; it must be AUTHORISED")
    given = element.get("Invoice")
    if not isinstance(given, dict) or not (given.get("InvoiceID") or given.get("InvoiceNumber")):
        raise Invalid("An Invoice must be specified for an allocation")
    invoice = documents.find(ctx, INVOICE, str(given.get("InvoiceID") or given.get("InvoiceNumber")))
    if invoice is None:
        raise Invalid("Invoice could not be found")
    if invoice["Status"] != "AUTHORISED":
        raise Invalid("Invoice not of valid status for allocation; it must be AUTHORISED")
    if invoice["Type"] != credit_note["Type"].removesuffix("CREDIT"):
        raise Invalid("A credit note can only be allocated to an invoice of the same type")
    if invoice["Contact"]["ContactID"] != credit_note["Contact"]["ContactID"]:
        raise Invalid("The invoice and the credit note must be for the same contact")
    amount = cents(decimal_of(element.get("Amount"), "Amount"))
    if amount <= 0:
        raise Invalid("The allocation Amount must be greater than zero")
    if amount > Decimal(str(credit_note["RemainingCredit"])) or amount > Decimal(str(invoice["AmountDue"])):
        raise Invalid("The allocation amount exceeds the amount outstanding on this document")
    try:
        date_ms = parse_request_day(element["Date"]) if element.get("Date") else \
            documents.date_ms_of(credit_note) or 0
    except DateFormatError as error:
        raise Invalid(f"Date: {error}") from None
    documents.check_lock_date(ctx, date_ms, "allocation")
    allocation = {"AllocationID": ctx.new_id(), "Amount": money(amount), "Date": ms_date(date_ms),
                  "Invoice": {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice.get("InvoiceNumber", "")},
                  "IsDeleted": False}
    updated_note = dict(credit_note)
    updated_note["Allocations"] = [*credit_note.get("Allocations", []), allocation]
    updated_note["AppliedAmount"] = money(Decimal(str(credit_note.get("AppliedAmount", 0))) + amount)
    _settle(ctx, CREDIT_NOTE, updated_note, date_ms)
    updated_invoice = dict(invoice)
    updated_invoice["CreditNotes"] = [*invoice.get("CreditNotes", []), {
        "CreditNoteID": credit_note["CreditNoteID"], "CreditNoteNumber": credit_note.get("CreditNoteNumber", ""),
        "AppliedAmount": money(amount), "Date": ms_date(date_ms), "DateString": date_string(date_ms),
        "Total": credit_note["Total"], "HasErrors": False,
    }]
    updated_invoice["AmountCredited"] = money(Decimal(str(invoice.get("AmountCredited", 0))) + amount)
    _settle(ctx, INVOICE, updated_invoice, date_ms)
    ctx.written += 1
    return allocation
