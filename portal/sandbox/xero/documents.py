"""Invoices and credit notes: line items, tax and totals, statuses, numbers and lock dates (FACTS.md §4).

- Lines: ``LineAmount = Quantity x UnitAmount x (100 - DiscountRate)/100`` (or ``- DiscountAmount``), 2 dp;
  ``Quantity`` 4 dp; ``UnitAmount`` 2 dp, or 4 dp with ``unitdp=4``. A supplied ``LineAmount`` that disagrees
  with that is refused.
- Tax is computed per line and rounded to 2 dp, then summed (Xero's rounding guide): Exclusive adds tax on top,
  Inclusive takes it out of the line, NoTax has none. A line's tax type is its own, else its item's, else its
  account's. ``TaxAmount`` may be overridden.
- Totals (``SubTotal``, ``TotalTax``, ``Total``, ``AmountDue``…) are read-only: a supplied ``Total`` is ignored.
- Statuses: create as DRAFT, SUBMITTED or AUTHORISED; DRAFT ⇄ SUBMITTED → AUTHORISED; DRAFT/SUBMITTED → DELETED;
  AUTHORISED → VOIDED without payments or credit; PAID follows from payments; VOIDED and DELETED are final.
- ``InvoiceNumber`` is unique for ACCREC ("Invoice # must be unique.") and generated when omitted (INV-0001…);
  credit notes likewise (CN-0001…).
- Lock dates: an approved document dated on or before the period or end-of-year lock date is refused with Xero's
  messages; drafts still save (FACTS.md §4, "Lock dates").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from portal.sandbox.xero import contacts, db
from portal.sandbox.xero.books import (
    CENT,
    UNIT4,
    ZERO,
    WriteContext,
    bool_of,
    cents,
    decimal_of,
    is_guid,
    money,
    text_of,
)
from portal.sandbox.xero.dates import (
    DateFormatError,
    date_string,
    iso_utc,
    lock_date_text,
    ms_date,
    parse_request_day,
)
from portal.sandbox.xero.errors import Invalid
from portal.sandbox.xero.query import Queryable, column, json_field

LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
CREATABLE = ("DRAFT", "SUBMITTED", "AUTHORISED")
APPROVED = ("AUTHORISED", "PAID")
CURRENCY_RATES = {"USD": Decimal("0.60"), "EUR": Decimal("0.55"), "GBP": Decimal("0.48"), "AUD": Decimal("0.92"),
                  "NZD": Decimal("1.00")}


@dataclass(frozen=True)
class Kind:
    label: str            # "Invoice" / "Credit Note", in messages
    plural: str           # collection key in bodies and responses
    id_key: str
    number_key: str
    table: str
    types: tuple[str, str]
    numbered_type: str    # the type whose numbers Xero generates and keeps unique
    number_prefix: str
    number_message: str
    category: str         # webhook category

    @property
    def is_invoice(self) -> bool:
        return self.plural == "Invoices"


INVOICE = Kind("Invoice", "Invoices", "InvoiceID", "InvoiceNumber", "xero_invoice", ("ACCREC", "ACCPAY"),
               "ACCREC", "INV-", "Invoice # must be unique.", "INVOICE")
CREDIT_NOTE = Kind("Credit Note", "CreditNotes", "CreditNoteID", "CreditNoteNumber", "xero_creditnote",
                   ("ACCRECCREDIT", "ACCPAYCREDIT"), "ACCRECCREDIT", "CN-", "Credit Note # must be unique.",
                   "CREDITNOTE")

INVOICE_QUERY = Queryable(
    type_name="Invoice",
    fields={
        "invoiceid": column("id", "guid"),
        "type": column("type"),
        "status": column("status"),
        "invoicenumber": column("number"),
        "reference": column("reference"),
        "contact.contactid": column("contact_id", "guid"),
        "contactid": column("contact_id", "guid"),
        # the contact's current name, as Xero filters on it
        "contact.name": column("(SELECT c.name FROM xero_contact c WHERE c.id = contact_id)"),
        "contact.contactnumber": column("(SELECT c.contact_number FROM xero_contact c WHERE c.id = contact_id)"),
        "date": column("date_ms", "date"),
        "duedate": column("due_ms", "date"),
        "updateddateutc": column("updated_ms", "date"),
        "total": column("total", "number"),
        "amountdue": column("amount_due", "number"),
        "amountpaid": column("amount_paid", "number"),
        "currencycode": column("currency"),
        "subtotal": json_field("SubTotal", "number"),
        "totaltax": json_field("TotalTax", "number"),
        "amountcredited": json_field("AmountCredited", "number"),
        "lineamounttypes": json_field("LineAmountTypes"),
        "senttocontact": json_field("SentToContact", "bool"),
        "hasattachments": json_field("HasAttachments", "bool"),
        "fullypaidondate": column(
            "(CASE WHEN json_extract(data, '$.FullyPaidOnDate') IS NULL THEN NULL ELSE "
            "CAST(substr(json_extract(data, '$.FullyPaidOnDate'), 7, 13) AS INTEGER) END)", "date"),
    },
    default_order="date_ms ASC, number COLLATE NOCASE ASC",
)

CREDIT_NOTE_QUERY = Queryable(
    type_name="CreditNote",
    fields={
        "creditnoteid": column("id", "guid"),
        "type": column("type"),
        "status": column("status"),
        "creditnotenumber": column("number"),
        "reference": column("reference"),
        "contact.contactid": column("contact_id", "guid"),
        "contact.name": column("(SELECT c.name FROM xero_contact c WHERE c.id = contact_id)"),
        "date": column("date_ms", "date"),
        "updateddateutc": column("updated_ms", "date"),
        "total": column("total", "number"),
        "remainingcredit": column("remaining", "number"),
        "currencycode": column("currency"),
    },
    default_order="date_ms ASC, number COLLATE NOCASE ASC",
)


def not_valid_status(kind: Kind) -> str:
    return f"{kind.label} not of valid status for modification"


PAID_MESSAGE = "This document cannot be edited as it has a payment or credit note allocated to it."


def find(ctx: WriteContext, kind: Kind, key: str) -> dict[str, Any] | None:
    """By id or, as Xero also allows on the by-id path, by number."""
    if is_guid(key):
        row = ctx.conn.execute(f"SELECT data FROM {kind.table} WHERE id = ? AND org_id = ?",  # noqa: S608
                               (key.lower(), ctx.org.id)).fetchone()
        if row is not None:
            return db.record(row)
    row = ctx.conn.execute(f"SELECT data FROM {kind.table} WHERE org_id = ? AND number = ? "  # noqa: S608
                           "ORDER BY status IN ('DELETED', 'VOIDED') LIMIT 1", (ctx.org.id, key)).fetchone()
    return db.record(row)


def save(ctx: WriteContext, kind: Kind, element: object, mode: str, path_id: str | None = None) -> dict[str, Any]:
    if not isinstance(element, dict):
        raise Invalid(f"An {kind.label.lower()} must be an object")
    existing: dict[str, Any] | None = None
    given_id = element.get(kind.id_key)
    if path_id is not None:
        existing = find(ctx, kind, path_id)
    elif given_id:
        if not is_guid(given_id):
            raise Invalid(f"'{given_id}' is not a valid {kind.id_key}")
        existing = find(ctx, kind, str(given_id))
        if existing is None:
            raise Invalid(f"{kind.label} with {kind.id_key} {given_id} could not be found")
        if mode == "create":
            raise Invalid(f"An {kind.label.lower()} with {kind.id_key} {given_id} already exists. "
                          "Use POST to update it.")
    elif mode == "upsert" and kind.is_invoice and element.get("InvoiceNumber") and \
            element.get("Type", "ACCREC") == "ACCREC":
        existing = find(ctx, kind, str(element["InvoiceNumber"]))
    return _update(ctx, kind, existing, element) if existing else _create(ctx, kind, element)


def _create(ctx: WriteContext, kind: Kind, element: dict[str, Any]) -> dict[str, Any]:
    errors: list[str] = []
    doc_type = element.get("Type")
    if doc_type not in kind.types:
        raise Invalid(f"The {kind.label} Type must be {' or '.join(kind.types)}"
                      if doc_type else f"{kind.label} Type must be specified")
    status = element.get("Status", "DRAFT") or "DRAFT"
    if status not in CREATABLE:
        raise Invalid(f"{kind.label} not of valid status for creation")
    record: dict[str, Any] = {"Type": doc_type, kind.id_key: ctx.new_id()}
    if kind.is_invoice:
        record.update({"Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [],
                       "AmountDue": 0.0, "AmountPaid": 0.0, "AmountCredited": 0.0})
    else:
        record.update({"Payments": [], "Allocations": [], "RemainingCredit": 0.0, "AppliedAmount": 0.0})
    record.update({"SentToContact": False, "CurrencyRate": 1.0, "IsDiscounted": False, "HasAttachments": False,
                   "HasErrors": False, "Status": status, "LineAmountTypes": "Exclusive", "LineItems": []})
    _fill(ctx, kind, record, element, errors, creating=True)
    if errors:
        raise Invalid(*errors)
    return _finish(ctx, kind, record, created=True)


def _update(ctx: WriteContext, kind: Kind, existing: dict[str, Any], element: dict[str, Any]) -> dict[str, Any]:
    current = existing["Status"]
    target = element.get("Status", current) or current
    if "Type" in element and element["Type"] != existing["Type"]:
        raise Invalid(f"The {kind.label} Type cannot be changed")
    paid = (existing.get("AmountPaid") or 0) > 0 or (existing.get("AmountCredited") or 0) > 0 or \
        (not kind.is_invoice and (existing.get("AppliedAmount") or 0) > 0)
    if current in ("VOIDED", "DELETED"):
        raise Invalid(not_valid_status(kind))
    if current == "PAID" or (current == "AUTHORISED" and paid):
        raise Invalid(PAID_MESSAGE)
    allowed = {
        "DRAFT": ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"),
        "SUBMITTED": ("SUBMITTED", "DRAFT", "AUTHORISED", "DELETED"),
        "AUTHORISED": ("AUTHORISED", "VOIDED"),
    }[current]
    if target not in allowed:
        raise Invalid(not_valid_status(kind))
    record = dict(existing)
    if target in ("VOIDED", "DELETED"):
        _check_lock(ctx, record, target)
        record["Status"] = target
        if kind.is_invoice:
            record["AmountDue"] = 0.0
        else:
            record["RemainingCredit"] = 0.0
        return _finish(ctx, kind, record, created=False)
    record["Status"] = target
    errors: list[str] = []
    if current in APPROVED:
        # An approved document must not be moved back into (or already sit in) a locked period.
        try:
            _check_lock(ctx, existing, current)
        except Invalid as invalid:
            errors.extend(invalid.messages)
    _fill(ctx, kind, record, element, errors, creating=False)
    if errors:
        raise Invalid(*errors)
    return _finish(ctx, kind, record, created=False)


def _fill(ctx: WriteContext, kind: Kind, record: dict[str, Any], element: dict[str, Any], errors: list[str],
          creating: bool) -> None:
    def attempt(action: Any) -> None:
        try:
            action()
        except Invalid as invalid:
            errors.extend(invalid.messages)

    if "Contact" in element or creating:
        def set_contact() -> None:
            contact = contacts.resolve_for_document(ctx, element.get("Contact"))
            record["Contact"] = {"ContactID": contact["ContactID"], "Name": contact["Name"]}
        attempt(set_contact)

    if "LineAmountTypes" in element:
        def set_amount_types() -> None:
            value = element["LineAmountTypes"]
            if value not in LINE_AMOUNT_TYPES:
                raise Invalid(f"'{value}' is not a valid LineAmountTypes value; use Exclusive, Inclusive or NoTax")
            record["LineAmountTypes"] = value
        attempt(set_amount_types)

    for name in ("Date", "DueDate", "ExpectedPaymentDate", "PlannedPaymentDate"):
        if name in element and element[name] not in (None, ""):
            def set_date(name: str = name) -> None:
                try:
                    day = parse_request_day(element[name])
                except DateFormatError as error:
                    raise Invalid(f"{name}: {error}") from None
                record[name] = ms_date(day)
                if name in ("Date", "DueDate"):
                    record[f"{name}String"] = date_string(day)
            attempt(set_date)
    if "Date" not in record:
        # Xero: a missing Date defaults to today in the organisation's timezone.
        today = ctx.org.today_ms(ctx.now_ms)
        record["Date"] = ms_date(today)
        record["DateString"] = date_string(today)

    if kind.number_key in element:
        attempt(lambda: _set_number(ctx, kind, record, element[kind.number_key]))
    if "Reference" in element:
        def set_reference() -> None:
            value = text_of(element, "Reference", 255)
            if value:
                record["Reference"] = value
            else:
                record.pop("Reference", None)
        attempt(set_reference)
    if "Url" in element:
        def set_url() -> None:
            value = text_of(element, "Url", 2000)
            if value:
                record["Url"] = value
            else:
                record.pop("Url", None)
        attempt(set_url)
    if "SentToContact" in element:
        def set_sent() -> None:
            sent = bool_of(element["SentToContact"], "SentToContact")
            if sent and record["Status"] not in APPROVED:
                raise Invalid("SentToContact can only be set on approved documents")
            record["SentToContact"] = sent
        attempt(set_sent)

    if "CurrencyCode" in element or creating:
        attempt(lambda: _set_currency(ctx, record, element))

    if "LineItems" in element:
        attempt(lambda: _set_lines(ctx, kind, record, element["LineItems"]))
    elif "LineAmountTypes" in element or "CurrencyCode" in element:
        attempt(lambda: _set_lines(ctx, kind, record, record.get("LineItems", []), keep_amounts=True))
    if errors:
        return

    status = record["Status"]
    if status != "DRAFT":
        if not record.get("LineItems"):
            errors.append(f"{kind.label}s must have at least one line item to be {status.lower()}")
        for line in record.get("LineItems", []):
            if not line.get("AccountCode") and (line.get("LineAmount") or 0) != 0:
                errors.append("Account code must be specified")
                break
        if kind.is_invoice and not record.get("DueDate") and status in (*APPROVED, "SUBMITTED"):
            errors.append("The document DueDate field must be specified.")
    if status in APPROVED:
        try:
            _check_lock(ctx, record, status)
        except Invalid as invalid:
            errors.extend(invalid.messages)
    if record["Type"] == kind.numbered_type and not record.get(kind.number_key) and not errors:
        record[kind.number_key] = _next_number(ctx, kind)


def _set_number(ctx: WriteContext, kind: Kind, record: dict[str, Any], value: object) -> None:
    if value in (None, ""):
        if record["Type"] != kind.numbered_type:
            record.pop(kind.number_key, None)
        return
    number = text_of({"n": value}, "n", 255)
    assert number is not None
    if record["Type"] == kind.numbered_type:
        clash = ctx.conn.execute(
            f"SELECT id FROM {kind.table} WHERE org_id = ? AND type = ? AND number = ?",  # noqa: S608
            (ctx.org.id, kind.numbered_type, number)).fetchone()
        if clash is not None and clash["id"] != record[kind.id_key]:
            raise Invalid(kind.number_message)
    record[kind.number_key] = number


def _next_number(ctx: WriteContext, kind: Kind) -> str:
    row = ctx.conn.execute("SELECT counters FROM xero_org WHERE id = ?", (ctx.org.id,)).fetchone()
    counters = db.loads(row["counters"])
    sequence = int(counters.get(kind.number_key, 1))
    while True:
        candidate = f"{kind.number_prefix}{sequence:04d}"
        taken = ctx.conn.execute(f"SELECT 1 FROM {kind.table} WHERE org_id = ? AND type = ? AND number = ?",  # noqa: S608
                                 (ctx.org.id, kind.numbered_type, candidate)).fetchone()
        sequence += 1
        if not taken:
            break
    counters[kind.number_key] = sequence
    ctx.conn.execute("UPDATE xero_org SET counters = ? WHERE id = ?", (db.dumps(counters), ctx.org.id))
    return candidate


def _set_currency(ctx: WriteContext, record: dict[str, Any], element: dict[str, Any]) -> None:
    code = element.get("CurrencyCode") or record.get("CurrencyCode") or ctx.org.base_currency
    known = ctx.conn.execute("SELECT 1 FROM xero_currency WHERE org_id = ? AND code = ?",
                             (ctx.org.id, code)).fetchone()
    if not known:
        raise Invalid(f"The currency {code} is not set up for this organisation.")
    record["CurrencyCode"] = code
    if code == ctx.org.base_currency:
        record["CurrencyRate"] = 1.0
    elif element.get("CurrencyRate") not in (None, 0):
        rate = decimal_of(element["CurrencyRate"], "CurrencyRate")
        if rate <= 0:
            raise Invalid("CurrencyRate must be greater than zero")
        record["CurrencyRate"] = float(rate)
    elif "CurrencyRate" not in record or record["CurrencyRate"] == 1.0:
        base_per_nzd = CURRENCY_RATES.get(ctx.org.base_currency, Decimal(1))
        record["CurrencyRate"] = float((CURRENCY_RATES.get(code, Decimal(1)) / base_per_nzd).quantize(
            Decimal("0.000001")))


def _set_lines(ctx: WriteContext, kind: Kind, record: dict[str, Any], given: object,
               keep_amounts: bool = False) -> None:
    if not isinstance(given, list):
        raise Invalid("LineItems must be a list")
    sales = record["Type"] in ("ACCREC", "ACCRECCREDIT")
    amount_types = record["LineAmountTypes"]
    existing_ids = {line.get("LineItemID") for line in record.get("LineItems", [])}
    lines: list[dict[str, Any]] = []
    errors: list[str] = []
    for index, entry in enumerate(given):
        if not isinstance(entry, dict):
            errors.append("LineItems must be a list of objects")
            continue
        try:
            lines.append(compute_line(ctx, entry, sales, amount_types, existing_ids, keep_amounts))
        except Invalid as invalid:
            errors.extend(f"Line {index + 1}: {message}" if len(given) > 1 else message
                          for message in invalid.messages)
    if errors:
        raise Invalid(*errors)
    record["LineItems"] = lines
    compute_totals(kind, record)


def compute_line(ctx: WriteContext, entry: dict[str, Any], sales: bool, amount_types: str, existing_ids: set[Any],
          keep_amounts: bool) -> dict[str, Any]:
    line: dict[str, Any] = {}
    line_id = entry.get("LineItemID")
    line["LineItemID"] = str(line_id).lower() if line_id and is_guid(line_id) and line_id in existing_ids \
        else ctx.new_id()
    item: dict[str, Any] | None = None
    if entry.get("ItemCode"):
        if ctx.items_by_code is not None:
            item = ctx.items_by_code.get(str(entry["ItemCode"]).upper())
        else:
            row = ctx.conn.execute("SELECT data FROM xero_item WHERE org_id = ? AND code = ?",
                                   (ctx.org.id, str(entry["ItemCode"]))).fetchone()
            item = db.record(row)
        if item is None:
            raise Invalid(f"Item code '{entry['ItemCode']}' is not valid")
        line["ItemCode"] = item["Code"]
        line["Item"] = {"ItemID": item["ItemID"], "Name": item.get("Name", ""), "Code": item["Code"]}
    details = (item or {}).get("SalesDetails" if sales else "PurchaseDetails", {})

    description = entry.get("Description")
    if description is None and item is not None:
        description = item.get("Description" if sales else "PurchaseDescription") or item.get("Description")
    if description is not None:
        line["Description"] = str(description)[:4000]

    unit_places = UNIT4 if ctx.unitdp == 4 else CENT
    quantity = decimal_of(entry["Quantity"], "Quantity").quantize(UNIT4, ROUND_HALF_UP) \
        if entry.get("Quantity") is not None else None
    unit = decimal_of(entry["UnitAmount"], "UnitAmount").quantize(unit_places, ROUND_HALF_UP) \
        if entry.get("UnitAmount") is not None else None
    if unit is None and details.get("UnitPrice") is not None and entry.get("LineAmount") is None:
        unit = Decimal(str(details["UnitPrice"])).quantize(unit_places, ROUND_HALF_UP)
    given_amount = cents(decimal_of(entry["LineAmount"], "LineAmount")) \
        if entry.get("LineAmount") is not None else None
    discount_rate = decimal_of(entry["DiscountRate"], "DiscountRate") \
        if entry.get("DiscountRate") is not None else None
    discount_amount = cents(decimal_of(entry["DiscountAmount"], "DiscountAmount")) \
        if entry.get("DiscountAmount") is not None else None
    if (discount_rate is not None or discount_amount is not None) and not sales:
        raise Invalid("Discounts are only available on sales documents")
    if discount_rate is not None and discount_amount is not None:
        raise Invalid("Specify either DiscountRate or DiscountAmount, not both")
    if discount_rate is not None and not ZERO <= discount_rate <= 100:
        raise Invalid("DiscountRate must be between 0 and 100")

    if quantity is None:
        quantity = Decimal(1) if (unit is not None or given_amount is not None) else ZERO
    if unit is None:
        if given_amount is not None and quantity != 0:
            unit = (given_amount / quantity).quantize(unit_places, ROUND_HALF_UP)
        else:
            unit = ZERO
    gross = quantity * unit
    if discount_rate is not None:
        amount = cents(gross * (Decimal(100) - discount_rate) / Decimal(100))
    elif discount_amount is not None:
        amount = cents(gross - discount_amount)
    else:
        amount = cents(gross)
    if given_amount is not None and not keep_amounts and abs(given_amount - amount) > CENT:
        raise Invalid(f"The LineAmount {given_amount} does not match the expected line amount {amount} "
                      "(Quantity x UnitAmount less discount)")

    account_code = entry.get("AccountCode") or details.get("AccountCode")
    account = None
    if entry.get("AccountID") and not account_code:
        account = ctx.accounts().get(str(entry["AccountID"]).lower())
        if account is None:
            raise Invalid(f"Account with AccountID {entry['AccountID']} could not be found")
    elif account_code:
        account = ctx.accounts().get(str(account_code).upper())
    if account_code and (account is None or account.status != "ACTIVE" or account.system or account.type == "BANK"):
        raise Invalid(f"Account code '{account_code}' is not a valid code for this document.")
    if account is not None:
        line["AccountCode"] = account.code
        line["AccountID"] = account.id

    tax_type = entry.get("TaxType") or details.get("TaxType") or (account.tax_type if account else None)
    rate = ZERO
    if amount_types == "NoTax":
        tax_type = "NONE" if account is not None or entry.get("TaxType") else None
    if tax_type:
        tax = ctx.tax_rates().get(str(tax_type).upper())
        if tax is None or tax.status != "ACTIVE" or tax.applies_to not in ("both", "sales" if sales else "purchases"):
            raise Invalid(f"The TaxType code {tax_type} does not exist or cannot be used for this type of "
                          "transaction.")
        line["TaxType"] = tax.tax_type
        rate = tax.rate if amount_types != "NoTax" else ZERO
    if amount_types == "Exclusive":
        tax_amount = cents(amount * rate / Decimal(100))
    elif amount_types == "Inclusive":
        tax_amount = cents(amount * rate / (Decimal(100) + rate))
    else:
        tax_amount = ZERO
    if entry.get("TaxAmount") is not None and amount_types != "NoTax" and not keep_amounts:
        tax_amount = cents(decimal_of(entry["TaxAmount"], "TaxAmount"))

    line["UnitAmount"] = float(unit)
    line["TaxAmount"] = money(tax_amount)
    line["LineAmount"] = money(amount)
    line["Tracking"] = entry.get("Tracking") if isinstance(entry.get("Tracking"), list) else []
    line["Quantity"] = float(quantity)
    if discount_rate is not None:
        line["DiscountRate"] = float(discount_rate)
    if discount_amount is not None:
        line["DiscountAmount"] = money(discount_amount)
    return line


def compute_totals(kind: Kind, record: dict[str, Any]) -> None:
    lines = record["LineItems"]
    line_sum = sum((Decimal(str(line["LineAmount"])) for line in lines), ZERO)
    tax_sum = sum((Decimal(str(line["TaxAmount"])) for line in lines), ZERO)
    discount = sum((cents(Decimal(str(line["Quantity"])) * Decimal(str(line["UnitAmount"])))
                    - Decimal(str(line["LineAmount"])) for line in lines
                    if "DiscountRate" in line or "DiscountAmount" in line), ZERO)
    if record["LineAmountTypes"] == "Inclusive":
        total = line_sum
        subtotal = line_sum - tax_sum
    else:
        subtotal = line_sum
        total = line_sum + tax_sum
    record["SubTotal"] = money(subtotal)
    record["TotalTax"] = money(tax_sum)
    record["Total"] = money(total)
    record["IsDiscounted"] = discount != 0
    if discount:
        record["TotalDiscount"] = money(discount)
    else:
        record.pop("TotalDiscount", None)
    recompute_due(kind, record)


def recompute_due(kind: Kind, record: dict[str, Any]) -> None:
    total = Decimal(str(record.get("Total", 0)))
    if kind.is_invoice:
        paid = Decimal(str(record.get("AmountPaid", 0)))
        credited = Decimal(str(record.get("AmountCredited", 0)))
        record["AmountDue"] = money(total - paid - credited) if record["Status"] not in ("VOIDED", "DELETED") \
            else 0.0
    else:
        applied = Decimal(str(record.get("AppliedAmount", 0)))
        record["RemainingCredit"] = money(total - applied) if record["Status"] not in ("VOIDED", "DELETED") \
            else 0.0


def _check_lock(ctx: WriteContext, record: dict[str, Any], status: str) -> None:
    if status in ("DRAFT", "SUBMITTED", "DELETED") and record.get("Status") not in APPROVED:
        return
    date_ms = _ms(record.get("Date"))
    if date_ms is None:
        return
    check_lock_date(ctx, date_ms, "document")


def check_lock_date(ctx: WriteContext, date_ms: int, what: str) -> None:
    end_of_year = ctx.org.end_of_year_lock_ms
    period = ctx.org.period_lock_ms
    if end_of_year is not None and date_ms <= end_of_year:
        raise Invalid(f"The {what} date cannot be before the end of year lock date, currently set at "
                      f"{lock_date_text(end_of_year)}")
    if period is not None and date_ms <= period:
        raise Invalid(f"The {what} date cannot be before the period lock date, currently set at "
                      f"{lock_date_text(period)}")


MS_IN_DATE = re.compile(r"/Date\((-?\d+)")


def _ms(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    match = MS_IN_DATE.match(value)
    return int(match.group(1)) if match else None


def _finish(ctx: WriteContext, kind: Kind, record: dict[str, Any], created: bool) -> dict[str, Any]:
    recompute_due(kind, record)
    record["UpdatedDateUTC"] = ms_date(ctx.now_ms)
    record["UpdatedDateUTCString"] = iso_utc(ctx.now_ms)
    write(ctx, kind, record)
    contacts.mark_role(ctx, record["Contact"]["ContactID"], record["Type"])
    ctx.written += 1
    ctx.event(kind.category, "CREATE" if created else "UPDATE", record[kind.id_key])
    return record


def write(ctx: WriteContext, kind: Kind, record: dict[str, Any]) -> None:
    common = {
        "id": record[kind.id_key], "org_id": ctx.org.id, "type": record["Type"], "status": record["Status"],
        "number": record.get(kind.number_key), "reference": record.get("Reference"),
        "contact_id": record["Contact"]["ContactID"], "date_ms": _ms(record["Date"]),
        "updated_ms": _ms(record["UpdatedDateUTC"]), "total": record.get("Total", 0.0),
        "currency": record["CurrencyCode"], "data": db.dumps(record),
    }
    if kind.is_invoice:
        common.update({"due_ms": _ms(record.get("DueDate")), "amount_due": record["AmountDue"],
                       "amount_paid": record["AmountPaid"], "created_by": ctx.client_id})
    else:
        common["remaining"] = record["RemainingCredit"]
    db.upsert(ctx.conn, kind.table, common)


def touch(ctx: WriteContext, kind: Kind, record: dict[str, Any]) -> None:
    """Save a change made by a payment or an allocation (read-only amounts, status)."""
    recompute_due(kind, record)
    record["UpdatedDateUTC"] = ms_date(ctx.now_ms)
    record["UpdatedDateUTCString"] = iso_utc(ctx.now_ms)
    write(ctx, kind, record)
    ctx.event(kind.category, "UPDATE", record[kind.id_key])


def date_ms_of(record: dict[str, Any], name: str = "Date") -> int | None:
    return _ms(record.get(name))


def present(conn: Any, records: list[dict[str, Any]], unitdp: int, with_lines: bool,
            summary_only: bool = False) -> list[dict[str, Any]]:
    """Documents as Xero answers them: the contact as it is now, lines only when asked for, unit amounts at 2 dp
    unless ``unitdp=4``."""
    contact_ids = list({record["Contact"]["ContactID"] for record in records})
    current: dict[str, dict[str, Any]] = {}
    for start in range(0, len(contact_ids), 500):
        chunk = contact_ids[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        for row in conn.execute(f"SELECT data FROM xero_contact WHERE id IN ({marks})", chunk):  # noqa: S608
            contact = db.loads(row["data"])
            current[contact["ContactID"]] = contact
    presented = []
    for record in records:
        result = dict(record)
        contact = current.get(record["Contact"]["ContactID"])
        if contact is not None:
            result["Contact"] = contacts.summary(contact)
        if not with_lines or summary_only:
            result.pop("LineItems", None)
        elif unitdp != 4:
            result["LineItems"] = [
                {**line, "UnitAmount": float(Decimal(str(line["UnitAmount"])).quantize(CENT, ROUND_HALF_UP))}
                for line in record.get("LineItems", [])
            ]
        if summary_only:
            for heavy in ("Payments", "CreditNotes", "Prepayments", "Overpayments", "Allocations"):
                result.pop(heavy, None)
        presented.append(result)
    return presented


def echo_with_errors(kind: Kind, element: object, messages: list[str]) -> dict[str, Any]:
    echoed = dict(element) if isinstance(element, dict) else {}
    echoed["HasErrors"] = True
    echoed["ValidationErrors"] = [{"Message": message} for message in messages]
    return echoed
