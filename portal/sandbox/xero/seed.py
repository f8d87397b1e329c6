"""Deterministic volumes for benchmarks and demos: ``POST /xero/_sandbox/seed`` with
``{"org": "nz", "seed": 1, "contacts": 100000, "items": 500, "invoices": 20000, "payments": 8000}``.

Records are built in memory with the same line, tax and total arithmetic as the API and inserted in bulk, so
100,000 records take seconds. The same seed on a freshly reset sandbox gives the same ids, names and amounts
(dates are relative to the sandbox clock). Seeding raises no webhook events, like an import.
"""

from __future__ import annotations

import random
import sqlite3
from decimal import Decimal
from typing import Any

from portal.sandbox.xero import contacts, db, documents, payments
from portal.sandbox.xero.books import Org, WriteContext, cents, money
from portal.sandbox.xero.dates import add_days, date_string, iso_utc, ms_date
from portal.sandbox.xero.demo import id_stream

MAX_PER_KIND = 1_000_000
FIRST = ("Aroha", "Kowhai", "Harbour", "Summit", "Totara", "Pacific", "Southern", "Rimu", "Coastal", "Alpine",
         "Kauri", "Riverside", "Northern", "Matai", "Golden", "Silver", "Manuka", "Citrus", "Granite", "Willow")
SECOND = ("Plumbing", "Design", "Logistics", "Bakery", "Consulting", "Electrical", "Motors", "Studios", "Traders",
          "Engineering", "Cafe", "Builders", "Media", "Gardens", "Freight", "Dental", "Labs", "Outfitters")
KINDS = ("Ltd", "Limited", "& Co", "Group", "Partners", "Services", "Holdings", "Collective")
GIVEN = ("Ana", "Ben", "Chloe", "Daniel", "Ella", "Finn", "Grace", "Hemi", "Isla", "Jack", "Kiri", "Liam", "Mia",
         "Noah", "Olivia", "Paora", "Quinn", "Ruby", "Sam", "Tama")
FAMILY = ("Smith", "Ngata", "Brown", "Wilson", "Taylor", "Parata", "Walker", "Clark", "Te Rangi", "Young")
CITIES = ("Auckland", "Wellington", "Christchurch", "Dunedin", "Hamilton", "Tauranga", "Napier", "Nelson")
PRODUCTS = ("Widget", "Gadget", "Service hour", "Installation", "Subscription", "Support plan", "Cable", "Panel",
            "Licence", "Consultation", "Workshop", "Repair kit")
SALES_ACCOUNTS = ("200", "260")
PURCHASE_ACCOUNTS = ("300", "400", "429", "453", "489", "493")


def seed(conn: sqlite3.Connection, org: Org, now_ms: int, params: dict[str, Any]) -> dict[str, Any]:
    unknown = set(params) - {"org", "seed", "contacts", "items", "invoices", "payments"}
    if unknown:
        raise ValueError(f"unknown seed settings: {', '.join(sorted(unknown))}")
    number = int(params.get("seed", 1))
    counts = {kind: int(params.get(kind, 0)) for kind in ("contacts", "items", "invoices", "payments")}
    if any(not 0 <= count <= MAX_PER_KIND for count in counts.values()):
        raise ValueError(f"each count must be between 0 and {MAX_PER_KIND}")
    rng = random.Random(f"{org.id}/{number}")
    ids = id_stream("seed", org.id, str(number))
    ctx = WriteContext(conn=conn, org=org, now_ms=now_ms, ids=ids)
    today = org.today_ms(now_ms)

    new_contacts = [_contact(ctx, rng, number, index, now_ms) for index in range(counts["contacts"])]
    if new_contacts and conn.execute("SELECT 1 FROM xero_contact WHERE id = ?",
                                     (new_contacts[0]["ContactID"],)).fetchone():
        raise ValueError(f"seed {number} is already in {org.name}; reset first or use another seed number")
    new_items = [_item(ctx, rng, number, index, now_ms) for index in range(counts["items"])]
    if new_items:
        taken = {row["code"].upper() for row in conn.execute("SELECT code FROM xero_item WHERE org_id = ?",
                                                             (org.id,))}
        if any(item["Code"].upper() in taken for item in new_items):
            raise ValueError(f"seed {number} items are already in {org.name}; reset first or use another seed")
    ctx.items_by_code = {row["code"].upper(): db.loads(row["data"]) for row in conn.execute(
        "SELECT code, data FROM xero_item WHERE org_id = ?", (org.id,))}
    ctx.items_by_code.update({item["Code"].upper(): item for item in new_items})

    customers = new_contacts or [db.loads(row["data"]) for row in conn.execute(
        "SELECT data FROM xero_contact WHERE org_id = ? AND status = 'ACTIVE'", (org.id,))]
    if counts["invoices"] and not customers:
        raise ValueError("invoices need contacts: seed some contacts too")
    seeded_ids = {contact["ContactID"] for contact in new_contacts}
    roles: dict[str, set[str]] = {}
    invoices = []
    taken_numbers = {row["number"] for row in conn.execute(
        "SELECT number FROM xero_invoice WHERE org_id = ? AND type = 'ACCREC'", (org.id,))}
    next_number = 1
    for _ in range(counts["invoices"]):
        while f"INV-{next_number:04d}" in taken_numbers:
            next_number += 1
        invoice = _invoice(ctx, rng, customers, today, f"INV-{next_number:04d}")
        if invoice["Type"] == "ACCREC":
            taken_numbers.add(invoice["InvoiceNumber"])
        roles.setdefault(invoice["Contact"]["ContactID"], set()).add(invoice["Type"])
        invoices.append(invoice)
    created_payments = _payments(ctx, rng, invoices, counts["payments"], today)

    for contact in new_contacts:
        kinds = roles.get(contact["ContactID"], set())
        contact["IsCustomer"] = "ACCREC" in kinds
        contact["IsSupplier"] = "ACCPAY" in kinds
    _insert(conn, "xero_contact", [contacts.columns(org.id, contact, _updated(contact)) for contact in new_contacts])
    _insert(conn, "xero_item", [{"id": item["ItemID"], "org_id": org.id, "code": item["Code"],
                                 "name": item.get("Name"), "updated_ms": _updated(item), "data": db.dumps(item)}
                                for item in new_items])
    _insert(conn, "xero_invoice", [_invoice_columns(org, invoice) for invoice in invoices])
    _insert(conn, "xero_payment", [_payment_columns(org, payment) for payment in created_payments])
    for contact_id, kinds in roles.items():
        if contact_id not in seeded_ids:
            for kind in kinds:
                contacts.mark_role(ctx, contact_id, kind)
    counters = db.loads(conn.execute("SELECT counters FROM xero_org WHERE id = ?", (org.id,)).fetchone()["counters"])
    counters["InvoiceNumber"] = max(int(counters.get("InvoiceNumber", 1)), next_number + 1)
    conn.execute("UPDATE xero_org SET counters = ? WHERE id = ?", (db.dumps(counters), org.id))
    return {"org": org.id, "seed": number, "contacts": len(new_contacts), "items": len(new_items),
            "invoices": len(invoices), "payments": len(created_payments)}


def _updated(record: dict[str, Any]) -> int:
    return int(record["UpdatedDateUTC"][6:].split("+")[0])


def _insert(conn: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",  # noqa: S608
                     [tuple(row[name] for name in names) for row in rows])


def _past(rng: random.Random, now_ms: int, days: int = 365) -> int:
    return now_ms - rng.randint(0, days * 86_400) * 1000


def _contact(ctx: WriteContext, rng: random.Random, number: int, index: int, now_ms: int) -> dict[str, Any]:
    name = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {rng.choice(KINDS)} {number}-{index + 1:06d}"
    record = contacts.blank(ctx.new_id())
    slug = name.split(" ")[0].lower() + str(index + 1)
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    record.update({"Name": name, "FirstName": given, "LastName": family,
                   "EmailAddress": f"{given.lower()}.{family.lower().replace(' ', '')}@{slug}.example",
                   "ContactNumber": f"S{number}-{index + 1:06d}"})
    if rng.random() < 0.3:
        record["AccountNumber"] = f"A{rng.randint(10000, 99999)}"
    if rng.random() < 0.6:
        record["Addresses"] = [{"AddressType": "POBOX"}, {
            "AddressType": "STREET", "AddressLine1": f"{rng.randint(1, 400)} {rng.choice(FIRST)} Street",
            "City": rng.choice(CITIES), "PostalCode": str(rng.randint(1000, 9999)), "Country": "New Zealand"}]
    if rng.random() < 0.6:
        record["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": str(rng.randint(2000000, 9999999)),
                             "PhoneAreaCode": str(rng.randint(3, 9)), "PhoneCountryCode": "64"},
                            {"PhoneType": "DDI"}, {"PhoneType": "FAX"}, {"PhoneType": "MOBILE"}]
    if rng.random() < 0.03:
        record["ContactStatus"] = "ARCHIVED"
    record["UpdatedDateUTC"] = ms_date(_past(rng, now_ms))
    return record


def _item(ctx: WriteContext, rng: random.Random, number: int, index: int, now_ms: int) -> dict[str, Any]:
    product = rng.choice(PRODUCTS)
    price = round(rng.uniform(5, 900), 2)
    record: dict[str, Any] = {
        "ItemID": ctx.new_id(), "Code": f"S{number}-{index + 1:05d}",
        "Name": f"{product} {index + 1}"[:50], "Description": f"{product} ({rng.choice(FIRST)} range)",
        "IsSold": True, "IsPurchased": rng.random() < 0.6, "IsTrackedAsInventory": False,
        "SalesDetails": {"UnitPrice": price, "AccountCode": "200"}, "PurchaseDetails": {},
    }
    if record["IsPurchased"]:
        record["PurchaseDetails"] = {"UnitPrice": round(price * 0.6, 2), "AccountCode": "310"}
        record["PurchaseDescription"] = record["Description"]
    record["UpdatedDateUTC"] = ms_date(_past(rng, now_ms))
    return record


def _invoice(ctx: WriteContext, rng: random.Random, customers: list[dict[str, Any]], today: int,
             number: str) -> dict[str, Any]:
    sales = rng.random() < 0.8
    doc_type = "ACCREC" if sales else "ACCPAY"
    contact = rng.choice(customers)
    date_ms = add_days(today, -rng.randint(0, 365))
    status = rng.choices(("DRAFT", "SUBMITTED", "AUTHORISED", "VOIDED", "DELETED"), (10, 5, 75, 5, 5))[0]
    amount_types = rng.choices(("Exclusive", "Inclusive", "NoTax"), (80, 15, 5))[0]
    record: dict[str, Any] = {
        "Type": doc_type, "InvoiceID": ctx.new_id(), "Payments": [], "CreditNotes": [], "Prepayments": [],
        "Overpayments": [], "AmountDue": 0.0, "AmountPaid": 0.0, "AmountCredited": 0.0, "SentToContact": False,
        "CurrencyRate": 1.0, "IsDiscounted": False, "HasAttachments": False, "HasErrors": False,
        "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
        "Date": ms_date(date_ms), "DateString": date_string(date_ms),
        "DueDate": ms_date(add_days(date_ms, 30)), "DueDateString": date_string(add_days(date_ms, 30)),
        "Status": status, "LineAmountTypes": amount_types, "LineItems": [],
        "CurrencyCode": ctx.org.base_currency,
    }
    if sales:
        record["InvoiceNumber"] = number
        record["Reference"] = f"PO {rng.randint(1000, 99999)}"
    else:
        record["InvoiceNumber"] = f"B{rng.randint(100000, 999999)}"
    item_codes = list(ctx.items_by_code or {})
    lines = []
    for _ in range(rng.randint(1, 4)):
        if sales and item_codes and rng.random() < 0.5:
            lines.append({"ItemCode": rng.choice(item_codes), "Quantity": rng.randint(1, 10)})
        else:
            lines.append({"Description": rng.choice(PRODUCTS), "Quantity": rng.randint(1, 10),
                          "UnitAmount": round(rng.uniform(10, 2000), 2),
                          "AccountCode": rng.choice(SALES_ACCOUNTS if sales else PURCHASE_ACCOUNTS)})
    record["LineItems"] = [documents.compute_line(ctx, line, sales, amount_types, set(), False) for line in lines]
    documents.compute_totals(documents.INVOICE, record)
    updated = min(add_days(date_ms, rng.randint(0, 5)) + rng.randint(0, 86_399_000), ctx.now_ms)
    record["UpdatedDateUTC"] = ms_date(updated)
    record["UpdatedDateUTCString"] = iso_utc(updated)
    return record


def _payments(ctx: WriteContext, rng: random.Random, invoices: list[dict[str, Any]], count: int,
              today: int) -> list[dict[str, Any]]:
    payable = [invoice for invoice in invoices if invoice["Status"] == "AUTHORISED" and invoice["AmountDue"] > 0]
    chosen = rng.sample(payable, min(count, len(payable)))
    bank = ctx.accounts().get("090")
    created = []
    for invoice in chosen:
        due = Decimal(str(invoice["AmountDue"]))
        amount = due if rng.random() < 0.7 else cents(due * Decimal(str(round(rng.uniform(0.2, 0.8), 2))))
        invoice_date = int(invoice["Date"][6:].split("+")[0])
        date_ms = min(add_days(invoice_date, rng.randint(0, 40)), today)
        payment_id = ctx.new_id()
        payment = {
            "PaymentID": payment_id, "Date": ms_date(date_ms), "BankAmount": money(amount), "Amount": money(amount),
            "CurrencyRate": 1.0, "PaymentType": payments.PAYMENT_TYPES[invoice["Type"]], "Status": "AUTHORISED",
            "UpdatedDateUTC": invoice["UpdatedDateUTC"], "UpdatedDateUTCString": invoice["UpdatedDateUTCString"],
            "HasAccount": True, "IsReconciled": False, "HasValidationErrors": False,
            "Account": {"AccountID": bank.id if bank else "", "Code": "090"},
            "Invoice": {"Type": invoice["Type"], "InvoiceID": invoice["InvoiceID"],
                        "InvoiceNumber": invoice.get("InvoiceNumber", ""), "Contact": dict(invoice["Contact"]),
                        "CurrencyCode": invoice["CurrencyCode"], "IsDiscounted": invoice["IsDiscounted"],
                        "HasErrors": False},
        }
        invoice["Payments"] = [{"PaymentID": payment_id, "Date": payment["Date"], "Amount": payment["Amount"],
                                "CurrencyRate": 1.0, "HasAccount": False, "HasValidationErrors": False}]
        invoice["AmountPaid"] = money(amount)
        documents.recompute_due(documents.INVOICE, invoice)
        if invoice["AmountDue"] == 0:
            invoice["Status"] = "PAID"
            invoice["FullyPaidOnDate"] = payment["Date"]
        created.append(payment)
    return created


def _invoice_columns(org: Org, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["InvoiceID"], "org_id": org.id, "type": record["Type"], "status": record["Status"],
        "number": record.get("InvoiceNumber"), "reference": record.get("Reference"),
        "contact_id": record["Contact"]["ContactID"], "date_ms": int(record["Date"][6:].split("+")[0]),
        "due_ms": int(record["DueDate"][6:].split("+")[0]), "updated_ms": _updated(record),
        "total": record["Total"], "amount_due": record["AmountDue"], "amount_paid": record["AmountPaid"],
        "currency": record["CurrencyCode"], "created_by": None, "data": db.dumps(record),
    }


def _payment_columns(org: Org, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["PaymentID"], "org_id": org.id, "invoice_id": record["Invoice"]["InvoiceID"],
        "credit_note_id": None, "account_id": record["Account"]["AccountID"], "status": record["Status"],
        "payment_type": record["PaymentType"], "date_ms": int(record["Date"][6:].split("+")[0]),
        "updated_ms": _updated(record), "amount": record["Amount"], "data": db.dumps(record),
    }
