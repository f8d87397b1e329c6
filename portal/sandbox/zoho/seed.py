"""Deterministic data: the demo orgs that ``reset`` restores, and the volumes that ``seed`` adds.

Demo orgs are written through the same validated write path as the API. Volumes are written in bulk (one
transaction, prepared statements) so that 100,000 records take seconds; they are generated from a seed, so
two runs with the same parameters produce the same records.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

from portal.sandbox.zoho import catalog
from portal.sandbox.zoho.records import display_of
from portal.sandbox.zoho.services import Zoho
from portal.sandbox.zoho.state import Org, field_to_json, zid

DEMO_ORGS: tuple[dict[str, Any], ...] = (
    {"prefix": 4150868, "dc": "us", "company_name": "Zylker Inc.", "time_zone": "America/Los_Angeles",
     "currency": "USD", "country_code": "US", "edition": "Enterprise"},
    {"prefix": 5725767, "dc": "eu", "company_name": "Zylker GmbH", "time_zone": "Europe/Berlin",
     "currency": "EUR", "country_code": "DE", "edition": "Professional"},
    {"prefix": 3652397, "dc": "in", "company_name": "Zylker India Pvt Ltd", "time_zone": "Asia/Kolkata",
     "currency": "INR", "country_code": "IN", "edition": "Standard"},
    {"prefix": 2883756, "dc": "au", "company_name": "Zylker Pty Ltd", "time_zone": "Australia/Sydney",
     "currency": "AUD", "country_code": "AU", "edition": "Free"},
)
DEMO_USER = {"first_name": "Patricia", "last_name": "Boyle", "email": "demo@zylker.example"}
SECOND_USER = {"first_name": "Ryan", "last_name": "Dahl", "email": "ryan@zylker.example"}

COMPANIES = ("Zylker", "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka",
             "Tyrell", "Cyberdyne", "Soylent", "Massive Dynamic", "Pied Piper", "Aperture", "Gringotts", "Monarch")
SUFFIXES = ("Ltd", "Inc.", "GmbH", "Pty Ltd", "LLC", "Co.", "Group", "Partners", "Holdings", "Labs")
FIRST_NAMES = ("Ana", "Ben", "Chloé", "David", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kavya", "Liam",
               "Mia", "Noah", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Viktor", "Wei", "Yara", "Zoe")
LAST_NAMES = ("Schmidt", "Okafor", "Nakamura", "García", "Patel", "Smith", "Müller", "Rossi", "Dubois", "Kowalski",
              "Andersson", "O'Brien", "Haddad", "Silva", "Novak", "Chen", "Kumar", "Brown", "Ivanova", "Moreau")
PRODUCTS = ("Widget", "Gadget", "Sprocket", "Licence", "Support Plan", "Installation", "Sensor", "Gateway", "Cable",
            "Training Day", "Consulting Hour", "Subscription")
CITIES = (("Berlin", "DE"), ("Munich", "DE"), ("Austin", "US"), ("Seattle", "US"), ("Chennai", "IN"),
          ("Sydney", "AU"), ("London", "GB"), ("Paris", "FR"), ("Tokyo", "JP"), ("Toronto", "CA"))
YEAR = 365 * 24 * 3600


def demo_orgs(zoho: Zoho) -> list[Org]:
    orgs = []
    for position, spec in enumerate(DEMO_ORGS):
        prefix = spec["prefix"]
        users = [_user(prefix, 225_001, DEMO_USER, "Administrator", "CEO"),
                 _user(prefix, 225_002, SECOND_USER, "Standard", "Manager")]
        org = Org(id=zid(prefix, 13_001), prefix=prefix, dc=spec["dc"], company_name=spec["company_name"],
                  time_zone=spec["time_zone"], currency=spec["currency"], country_code=spec["country_code"],
                  edition=spec["edition"], users=users,
                  custom_fields=_sync_custom_fields(prefix),
                  meta_seq=900_001 + sum(len(f) for f in catalog.SYNC_CUSTOM_FIELDS.values()),
                  meta_modified_at=zoho.clock.now())
        zoho.orgs.add(org, position)
        orgs.append(org)
        _demo_records(zoho, org, position)
    return orgs


def _sync_custom_fields(prefix: int) -> dict[str, list[dict[str, Any]]]:
    fields: dict[str, list[dict[str, Any]]] = {}
    number = 900_001
    for module, definitions in catalog.SYNC_CUSTOM_FIELDS.items():
        for definition in definitions:
            fields.setdefault(module, []).append(field_to_json(_custom(prefix, number, definition)))
            number += 1
    return fields


def _user(prefix: int, number: int, person: dict[str, str], profile: str, role: str) -> dict[str, Any]:
    return {"id": zid(prefix, number), "zuid": str(60_000_000 + prefix % 10_000_000 + number % 1000),
            "first_name": person["first_name"], "last_name": person["last_name"],
            "full_name": f"{person['first_name']} {person['last_name']}", "email": person["email"],
            "profile": profile, "role": role}


def _custom(prefix: int, number: int, f: catalog.FieldDef) -> catalog.FieldDef:
    from dataclasses import replace

    return replace(f, id=zid(prefix, number))


def _demo_records(zoho: Zoho, org: Org, position: int) -> None:
    """A little data per org: enough to click through the editor and run a first sync."""
    user = org.current_user["id"]
    metadata = zoho.orgs.metadata(org)
    rng = random.Random(position)

    def write(module: str, items: list[dict[str, Any]]) -> list[str]:
        outcome = zoho.records.write(org, metadata.modules[module], items, "insert", user)
        failed = [result for result in outcome.results if result["status"] != "success"]
        if failed:
            raise RuntimeError(f"demo data for {module} rejected: {failed}")
        return [result["details"]["id"] for result in outcome.results]

    city, country = CITIES[position % len(CITIES)]
    accounts = write("Accounts", [
        {"Account_Name": f"{name} {org.company_name.split()[-1]}", "Phone": f"+1 555 01{index:02d}",
         "Website": f"https://{name.lower()}.example", "Account_Type": "Customer", "Industry": "Large Enterprise",
         "Billing_Street": f"{10 + index} Main Street", "Billing_City": city, "Billing_Country": country,
         "Billing_Code": f"{10_000 + index * 7}", "Currency": org.currency}
        for index, name in enumerate(COMPANIES[:5])])
    contacts = write("Contacts", [
        {"First_Name": FIRST_NAMES[index], "Last_Name": LAST_NAMES[index],
         "Email": f"{FIRST_NAMES[index].lower()}.{index}@{COMPANIES[index % 5].lower()}.example",
         "Phone": f"+1 555 02{index:02d}", "Account_Name": {"id": accounts[index % 5]}, "Title": "Buyer"}
        for index in range(8)])
    products = write("Products", [
        {"Product_Name": name, "Product_Code": f"P-{index + 1:03d}", "Unit_Price": float(25 * (index + 1)),
         "Product_Active": True, "Taxable": True, "Tax": ["VAT"], "Usage_Unit": "Each"}
        for index, name in enumerate(PRODUCTS[:5])])
    deals = write("Deals", [
        {"Deal_Name": f"{COMPANIES[index]} renewal", "Stage": stage, "Amount": float(1000 * (index + 1)),
         "Closing_Date": f"2025-0{index + 3}-15", "Account_Name": {"id": accounts[index]},
         "Contact_Name": {"id": contacts[index]}}
        for index, stage in enumerate(("Qualification", "Negotiation/Review", "Closed Won", "Closed Lost"))])
    zoho.records.link(org, int(deals[2]), "Products", [int(products[0]), int(products[1])])
    write("Invoices", [
        {"Subject": f"INV for {COMPANIES[index]}", "Account_Name": {"id": accounts[index]},
         "Contact_Name": {"id": contacts[index]}, "Invoice_Date": "2025-04-01", "Due_Date": "2025-05-01",
         "Status": status, "Deal_Name": {"id": deals[2]} if index == 0 else None,
         "Invoiced_Items": [{"Product_Name": {"id": products[(index + line) % 5]},
                             "Quantity": float(rng.randint(1, 5)),
                             "Line_Tax": [{"name": "VAT", "percentage": 20.0}]} for line in range(2)]}
        for index, status in enumerate(("Created", "Approved", "Delivered"))])


def seed_volume(zoho: Zoho, params: dict[str, Any]) -> dict[str, Any]:
    """Add deterministic volumes to an org: ``{"org_id", "seed", "records"}`` (split over the modules) or the
    counts ``accounts``, ``contacts``, ``products``, ``deals``, ``invoices``, ``lines_per_invoice``."""
    known = {"org_id", "seed", "records", "accounts", "contacts", "products", "deals", "invoices",
             "lines_per_invoice"}
    unknown = set(params) - known
    if unknown:
        raise ValueError(f"unknown seed settings: {', '.join(sorted(unknown))}")
    org = zoho.orgs.get(str(params["org_id"])) if params.get("org_id") else zoho.orgs.all()[0]
    if org is None:
        raise ValueError("org_id: no such org")
    counts = _counts(params)
    lines = int(params.get("lines_per_invoice", 3))
    if not 1 <= lines <= 20:
        raise ValueError("lines_per_invoice must be between 1 and 20")
    started = time.perf_counter()
    rng = random.Random(int(params.get("seed", 1)))
    now = zoho.clock.now()
    users = [user["id"] for user in org.users]
    metadata = zoho.orgs.metadata(org)
    vat_id = zid(org.prefix, 800_001 + [name for name, _ in catalog.TAXES].index("VAT"))
    with zoho.store.transaction() as connection:
        ids = zoho.orgs.allocate_ids(connection, org, sum(counts.values()) + counts["invoices"] * lines)
        # Unique names must not collide with an earlier seed of the same org; the id range tells seeds apart
        # and is itself deterministic after a reset.
        tag = f"{int(params.get('seed', 1))}-{ids[0] % 10**7}"
        cursor = iter(ids)
        rows: list[tuple[Any, ...]] = []
        unique_rows: list[tuple[Any, ...]] = []

        def add(module: str, data: dict[str, Any]) -> int:
            record_id = next(cursor)
            created = now - rng.random() * YEAR
            modified = min(now, created + rng.random() * YEAR / 4)
            user = users[rng.randrange(len(users))]
            data.setdefault("Owner", user)
            definition = metadata.modules[module]
            rows.append((record_id, org.id, module, display_of(definition, data), json.dumps(data), created,
                         modified, user, user))
            for f in definition.fields:
                if f.unique and data.get(f.api_name):
                    unique_rows.append((org.id, module, f.api_name, str(data[f.api_name]).lower(), record_id))
            return record_id

        accounts = [add("Accounts", _account(rng, index, tag, org)) for index in range(counts["accounts"])]
        contacts = [add("Contacts", _contact(rng, index, tag, accounts)) for index in range(counts["contacts"])]
        products = [add("Products", _product(rng, index, tag)) for index in range(counts["products"])]
        relations: list[tuple[Any, ...]] = []
        for index in range(counts["deals"]):
            deal = add("Deals", _deal(rng, index, accounts, contacts))
            # Deals list the products they are about (the Deals -> Products related list).
            for product in rng.sample(products, min(len(products), rng.randint(1, 3))) if products else []:
                relations.append((org.id, deal, "Products", product, now))
        for index in range(counts["invoices"]):
            add("Invoices", _invoice(rng, index, tag, accounts, contacts, products, lines, cursor, vat_id))
        connection.executemany(
            "INSERT INTO zoho_record (id, org_id, module, display, data, created_at, modified_at, created_by, "
            "modified_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        connection.executemany(
            "INSERT INTO zoho_unique (org_id, module, field, value, record_id) VALUES (?, ?, ?, ?, ?)", unique_rows)
        connection.executemany(
            "INSERT OR IGNORE INTO zoho_relation (org_id, record_id, related_module, related_id, linked_at) "
            "VALUES (?, ?, ?, ?, ?)", relations)
    return {"org_id": org.id, "created": counts, "lines_per_invoice": lines,
            "seconds": round(time.perf_counter() - started, 3)}


def _counts(params: dict[str, Any]) -> dict[str, int]:
    if "records" in params:
        total = int(params["records"])
        if not 0 < total <= 1_000_000:
            raise ValueError("records must be between 1 and 1,000,000")
        shares = {"accounts": 0.2, "contacts": 0.3, "products": 0.05, "deals": 0.2, "invoices": 0.25}
        counts = {name: int(total * share) for name, share in shares.items()}
        counts["contacts"] += total - sum(counts.values())
    else:
        counts = {name: int(params.get(name, 0)) for name in ("accounts", "contacts", "products", "deals", "invoices")}
    if any(value < 0 for value in counts.values()) or sum(counts.values()) == 0:
        raise ValueError("nothing to seed: give records or per-module counts")
    if (counts["deals"] or counts["contacts"] or counts["invoices"]) and not counts["accounts"]:
        counts["accounts"] = 1
    if counts["invoices"] and not counts["products"]:
        counts["products"] = 1
    return counts


def _account(rng: random.Random, index: int, tag: str, org: Org) -> dict[str, Any]:
    city, country = CITIES[rng.randrange(len(CITIES))]
    name = f"{COMPANIES[index % len(COMPANIES)]} {SUFFIXES[(index // len(COMPANIES)) % len(SUFFIXES)]} {tag}-{index}"
    return {"Account_Name": name, "Account_Number": f"A-{index:07d}", "Phone": f"+1 555 {rng.randrange(10**7):07d}",
            "Website": f"https://a{index}.example", "Account_Type": rng.choice(("Customer", "Prospect", "Partner")),
            "Industry": rng.choice(catalog.INDUSTRIES[1:]), "Employees": rng.randrange(1, 5000),
            "Annual_Revenue": round(rng.random() * 10**7, 2), "Billing_Street": f"{rng.randrange(1, 999)} High Street",
            "Billing_City": city, "Billing_State": None, "Billing_Code": f"{rng.randrange(10**5):05d}",
            "Billing_Country": country, "Shipping_City": city, "Shipping_Country": country,
            "Description": "Seeded account", "Currency": org.currency}


def _contact(rng: random.Random, index: int, tag: str, accounts: list[int]) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return {"First_Name": first, "Last_Name": last, "Full_Name": f"{first} {last}",
            "Email": f"c{index}.{tag}@example.com", "Phone": f"+44 20 {rng.randrange(10**8):08d}",
            "Mobile": f"+44 7{rng.randrange(10**9):09d}", "Title": rng.choice(("Buyer", "CFO", "Accountant", "CEO")),
            "Department": rng.choice(("Finance", "Purchasing", "Operations")),
            "Account_Name": str(accounts[rng.randrange(len(accounts))]), "Mailing_City": rng.choice(CITIES)[0],
            "Lead_Source": rng.choice(catalog.LEAD_SOURCES[1:]), "Email_Opt_Out": rng.random() < 0.1}


def _product(rng: random.Random, index: int, tag: str) -> dict[str, Any]:
    return {"Product_Name": f"{PRODUCTS[index % len(PRODUCTS)]} {tag}-{index}", "Product_Code": f"SKU-{index:06d}",
            "Unit_Price": round(5 + rng.random() * 995, 2), "Product_Active": rng.random() < 0.9,
            "Product_Category": rng.choice(("Hardware", "Software", "Services")), "Taxable": True,
            "Tax": [rng.choice(("VAT", "GST", "Sales Tax"))], "Usage_Unit": "Each",
            "Qty_in_Stock": float(rng.randrange(0, 500))}


def _deal(rng: random.Random, index: int, accounts: list[int], contacts: list[int]) -> dict[str, Any]:
    stage = rng.choice(catalog.DEAL_STAGES)
    amount = round(rng.random() * 50_000, 2)
    probability = catalog.STAGE_PROBABILITY[stage]
    data: dict[str, Any] = {
        "Deal_Name": f"Deal {index}", "Stage": stage, "Amount": amount, "Probability": probability,
        "Expected_Revenue": round(amount * probability / 100, 2),
        "Closing_Date": f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "Account_Name": str(accounts[rng.randrange(len(accounts))]),
        "Type": rng.choice(("New Business", "Existing Business"))}
    if contacts:
        data["Contact_Name"] = str(contacts[rng.randrange(len(contacts))])
    return data


def _invoice(rng: random.Random, index: int, tag: str, accounts: list[int], contacts: list[int],
             products: list[int], lines: int, ids: Any, vat_id: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for line in range(lines):
        quantity = float(rng.randrange(1, 10))
        price = round(5 + rng.random() * 500, 2)
        total = round(quantity * price, 2)
        discount = round(total * rng.choice((0, 0, 0.05, 0.1)), 2)
        after = round(total - discount, 2)
        tax = round(after * 0.2, 2)
        items.append({"id": str(next(ids)), "Product_Name": str(products[rng.randrange(len(products))]),
                      "Quantity": quantity, "List_Price": price, "Discount": discount, "Total": total,
                      "Total_After_Discount": after, "Tax": tax, "Net_Total": round(after + tax, 2),
                      "Line_Tax": [{"name": "VAT", "percentage": 20.0, "id": vat_id, "value": tax}],
                      "Sequence_Number": line + 1})
    sub_total = round(sum(float(item["Net_Total"]) for item in items), 2)
    data: dict[str, Any] = {
        "Subject": f"Invoice {tag}-{index}", "Invoice_Number": f"INV-S{index:07d}",
        "Invoice_Date": f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "Due_Date": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "Status": rng.choice(catalog.INVOICE_STATUSES), "Account_Name": str(accounts[rng.randrange(len(accounts))]),
        "Invoiced_Items": items, "Sub_Total": sub_total, "Discount": 0.0, "Tax": 0.0, "Adjustment": 0.0,
        "Grand_Total": sub_total, "Billing_City": rng.choice(CITIES)[0]}
    if contacts:
        data["Contact_Name"] = str(contacts[rng.randrange(len(contacts))])
    return data
