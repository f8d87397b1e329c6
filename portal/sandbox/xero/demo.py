"""The demo organisations that ``reset`` restores: fixed ids, a chart of accounts, the tax rates of each
organisation's country (NZ and UK: OUTPUT2/INPUT2/NONE…; AU: OUTPUT/INPUT/EXEMPTOUTPUT/BASEXCLUDED…),
currencies, and a few contacts, items, invoices and a payment, built through the same code the API uses.

"Starter Co (AU)" is on Xero's Starter tier: 1,000 API calls a day instead of 5,000 (FACTS.md §2).
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from portal.sandbox.xero import contacts, db, documents, items, payments, settings
from portal.sandbox.xero.books import Org, WriteContext, load_org
from portal.sandbox.xero.dates import add_days, floor_day_ms, ms_date

DEMO_USER = {"id": "0f3e3c2b-7a4d-4e55-8b8e-9d1c2a3b4c5d", "email": "demo@sandbox.example",
             "given_name": "Demo", "family_name": "User"}


@dataclass(frozen=True)
class DemoOrg:
    key: str
    id: str
    name: str
    country: str
    currency: str
    version: str
    timezone: str
    org_class: str
    daily_limit: int
    short_code: str
    year_end: tuple[int, int]  # day, month
    sales_tax_basis: str
    sales_tax_period: str
    tax_word: str          # GST / VAT, in account and rate names
    extra_currencies: tuple[str, ...]


DEMO_ORGS = (
    DemoOrg("nz", "6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b01", "Demo Company (NZ)", "NZ", "NZD", "NZ",
            "NEWZEALANDSTANDARDTIME", "PREMIUM", 5000, "!nzdmo", (31, 3), "INVOICE", "TWOMONTHS", "GST",
            ("USD", "AUD")),
    DemoOrg("uk", "6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b02", "Demo Company (UK)", "GB", "GBP", "UK",
            "GMTSTANDARDTIME", "PREMIUM", 5000, "!ukdmo", (31, 12), "ACCRUAL", "QUARTERLY1", "VAT", ("EUR", "USD")),
    DemoOrg("au", "6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b03", "Starter Co (AU)", "AU", "AUD", "AU",
            "AUSEASTERNSTANDARDTIME", "STARTER", 1000, "!austr", (30, 6), "CASH", "QUARTERLY", "GST", ()),
)
DEMO_BY_KEY = {org.key: org for org in DEMO_ORGS}
DEMO_BY_ID = {org.id: org for org in DEMO_ORGS}

# (name, tax type, rate %, report tax type, applies to)
TAX_RATES: dict[str, list[tuple[str, str, float, str, str]]] = {
    "NZ": [("GST on Income", "OUTPUT2", 15.0, "OUTPUT", "sales"),
           ("GST on Expenses", "INPUT2", 15.0, "INPUT", "purchases"),
           ("GST on Imports", "GSTONIMPORTS", 0.0, "GSTONIMPORTS", "purchases"),
           ("Zero Rated", "ZERORATED", 0.0, "ZERORATEDOUTPUT", "both"),
           ("No GST", "NONE", 0.0, "NONE", "both")],
    "GB": [("20% (VAT on Income)", "OUTPUT2", 20.0, "OUTPUT", "sales"),
           ("20% (VAT on Expenses)", "INPUT2", 20.0, "INPUT", "purchases"),
           ("5% (VAT on Income)", "RROUTPUT", 5.0, "OUTPUT", "sales"),
           ("5% (VAT on Expenses)", "RRINPUT", 5.0, "INPUT", "purchases"),
           ("Zero Rated Income", "ZERORATEDOUTPUT", 0.0, "ZERORATEDOUTPUT", "sales"),
           ("Zero Rated Expenses", "ZERORATEDINPUT", 0.0, "ZERORATEDINPUT", "purchases"),
           ("Exempt Income", "EXEMPTOUTPUT", 0.0, "EXEMPTOUTPUT", "sales"),
           ("Exempt Expenses", "EXEMPTINPUT", 0.0, "EXEMPTINPUT", "purchases"),
           ("No VAT", "NONE", 0.0, "NONE", "both")],
    "AU": [("GST on Income", "OUTPUT", 10.0, "OUTPUT", "sales"),
           ("GST on Expenses", "INPUT", 10.0, "INPUT", "purchases"),
           ("GST Free Income", "EXEMPTOUTPUT", 0.0, "EXEMPTOUTPUT", "sales"),
           ("GST Free Expenses", "EXEMPTEXPENSES", 0.0, "EXEMPTEXPENSES", "purchases"),
           ("GST on Imports", "GSTONIMPORTS", 0.0, "GSTONIMPORTS", "purchases"),
           ("BAS Excluded", "BASEXCLUDED", 0.0, "BASEXCLUDED", "both")],
}
SALES_TAX = {"NZ": "OUTPUT2", "GB": "OUTPUT2", "AU": "OUTPUT"}
PURCHASE_TAX = {"NZ": "INPUT2", "GB": "INPUT2", "AU": "INPUT"}
NO_TAX = {"NZ": "NONE", "GB": "NONE", "AU": "BASEXCLUDED"}

# (code, name, type, tax: "sales"/"purchases"/"none", system account, payments enabled)
CHART: list[tuple[str | None, str, str, str, str | None, bool]] = [
    ("090", "Business Bank Account", "BANK", "none", None, True),
    ("091", "Business Savings Account", "BANK", "none", None, True),
    ("200", "Sales", "REVENUE", "sales", None, False),
    ("260", "Other Revenue", "REVENUE", "sales", None, False),
    ("270", "Interest Income", "OTHERINCOME", "none", None, False),
    ("300", "Purchases", "DIRECTCOSTS", "purchases", None, False),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "purchases", None, False),
    ("400", "Advertising", "OVERHEADS", "purchases", None, False),
    ("404", "Bank Fees", "OVERHEADS", "none", None, False),
    ("412", "Consulting & Accounting", "EXPENSE", "purchases", None, False),
    ("420", "Entertainment", "OVERHEADS", "purchases", None, False),
    ("429", "General Expenses", "OVERHEADS", "purchases", None, False),
    ("433", "Insurance", "OVERHEADS", "purchases", None, False),
    ("453", "Office Expenses", "OVERHEADS", "purchases", None, False),
    ("469", "Rent", "OVERHEADS", "purchases", None, False),
    ("485", "Subscriptions", "OVERHEADS", "purchases", None, False),
    ("489", "Telephone & Internet", "OVERHEADS", "purchases", None, False),
    ("493", "Travel - National", "OVERHEADS", "purchases", None, False),
    ("610", "Accounts Receivable", "CURRENT", "none", "DEBTORS", False),
    ("620", "Prepayments", "CURRENT", "none", None, False),
    ("630", "Inventory", "INVENTORY", "none", None, False),
    ("710", "Office Equipment", "FIXED", "purchases", None, False),
    ("800", "Accounts Payable", "CURRLIAB", "none", "CREDITORS", False),
    ("820", "{tax}", "CURRLIAB", "none", "GST", False),
    ("860", "Rounding", "CURRLIAB", "none", "ROUNDING", False),
    ("877", "Tracking Transfers", "CURRLIAB", "none", "TRACKINGTRANSFERS", False),
    ("960", "Retained Earnings", "EQUITY", "none", "RETAINEDEARNINGS", False),
    ("970", "Owner A Funds Introduced", "EQUITY", "none", None, False),
]

SAMPLE_CONTACTS: list[dict[str, Any]] = [
    {"Name": "Bayside Club", "FirstName": "Bob", "LastName": "Partridge", "EmailAddress": "secretary@bayside.example",
     "ContactNumber": "BAY-001", "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "2024418",
                                              "PhoneAreaCode": "9", "PhoneCountryCode": "64"}],
     "Addresses": [{"AddressType": "STREET", "AddressLine1": "148 Bay Harbour Road", "City": "Ridge Heights",
                    "PostalCode": "1234", "Country": "New Zealand"}]},
    {"Name": "Ridgeway University", "EmailAddress": "accounts@ridgeway.example", "ContactNumber": "RID-002",
     "ContactPersons": [{"FirstName": "Ana", "LastName": "Kahu", "EmailAddress": "ana@ridgeway.example",
                         "IncludeInEmails": True}]},
    {"Name": "City Agency", "EmailAddress": "hello@cityagency.example"},
    {"Name": "Marine Systems", "FirstName": "Mere", "LastName": "Tane", "EmailAddress": "mere@marine.example"},
    {"Name": "PowerDirect", "EmailAddress": "billing@powerdirect.example", "AccountNumber": "PD-7788"},
    {"Name": "Old Timber Yard", "ContactStatus": "ARCHIVED"},
]
SAMPLE_ITEMS: list[dict[str, Any]] = [
    {"Code": "DEVD", "Name": "Development work", "Description": "Development work - developer onsite per day",
     "SalesDetails": {"UnitPrice": 500.0, "AccountCode": "200"},
     "PurchaseDetails": {"UnitPrice": 300.0, "AccountCode": "300"}},
    {"Code": "TRAIN", "Name": "Training", "Description": "Half-day training course",
     "SalesDetails": {"UnitPrice": 350.0, "AccountCode": "200"}, "IsPurchased": False},
    {"Code": "BOOK", "Name": "Fiction book", "Description": "Fiction paperback",
     "SalesDetails": {"UnitPrice": 19.95, "AccountCode": "200"},
     "PurchaseDetails": {"UnitPrice": 9.5, "AccountCode": "310"}},
]


def id_stream(*parts: str) -> Any:
    """A deterministic id generator, so that reset gives the same ids on every run."""
    generator = random.Random("/".join(parts))

    def next_id() -> str:
        return str(uuid.UUID(int=generator.getrandbits(128), version=4))
    return next_id


def create_orgs(conn: sqlite3.Connection, now_ms: int) -> list[Org]:
    created = []
    for position, demo in enumerate(DEMO_ORGS):
        day, month = demo.year_end
        data = {
            "APIKey": "", "Name": demo.name, "LegalName": demo.name.replace("Demo Company", "Demo Company Limited"),
            "PaysTax": True, "Version": demo.version, "OrganisationType": "COMPANY",
            "BaseCurrency": demo.currency, "CountryCode": demo.country, "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE", "FinancialYearEndDay": day, "FinancialYearEndMonth": month,
            "SalesTaxBasis": demo.sales_tax_basis, "SalesTaxPeriod": demo.sales_tax_period,
            "DefaultSalesTax": "Tax Exclusive", "DefaultPurchasesTax": "Tax Inclusive",
            "CreatedDateUTC": ms_date(floor_day_ms(now_ms) - 400 * 86_400_000), "OrganisationEntityType": "COMPANY",
            "Timezone": demo.timezone, "ShortCode": demo.short_code, "OrganisationID": demo.id,
            "Edition": "BUSINESS", "Class": demo.org_class, "LineOfBusiness": "Professional services",
            "Addresses": [], "Phones": [], "ExternalLinks": [], "PaymentTerms": {},
        }
        conn.execute("INSERT INTO xero_org (id, position, name, country, daily_limit, data) VALUES (?, ?, ?, ?, ?, ?)",
                     (demo.id, position, demo.name, demo.country, demo.daily_limit, db.dumps(data)))
        org = load_org(conn, demo.id)
        assert org is not None
        created.append(org)
    return created


def populate(conn: sqlite3.Connection, org: Org, now_ms: int) -> None:
    demo = DEMO_BY_ID[org.id]
    ids = id_stream("demo", demo.key)
    for position, (name, tax_type, rate, report, applies_to) in enumerate(TAX_RATES[demo.country]):
        record = settings.tax_rate_record(name, tax_type, rate, report, applies_to, demo.tax_word)
        settings.write_tax_rate(conn, org.id, record, applies_to, position)
    tax_by_use = {"sales": SALES_TAX[demo.country], "purchases": PURCHASE_TAX[demo.country],
                  "none": NO_TAX[demo.country]}
    for code, name, account_type, tax_use, system, enable_payments in CHART:
        record = settings.account_record(
            ids(), code, name.format(tax=demo.tax_word), account_type, tax_by_use[tax_use], system=system,
            bank_number="12-3456-0123456-00" if account_type == "BANK" else None,
            currency=org.base_currency if account_type == "BANK" else None, payments=enable_payments,
            updated_ms=now_ms)
        settings.write_account(conn, org.id, record, now_ms)
    for code in (demo.currency, *demo.extra_currencies):
        currency = {"Code": code, "Description": settings.CURRENCY_NAMES[code]}
        db.upsert(conn, "xero_currency", {"org_id": org.id, "code": code, "data": db.dumps(currency)},
                  key=("org_id", "code"))

    ctx = WriteContext(conn=conn, org=org, now_ms=now_ms, ids=ids)
    saved_contacts = [contacts.save(ctx, dict(sample), "create") for sample in SAMPLE_CONTACTS]
    for sample in SAMPLE_ITEMS:
        items.save(ctx, dict(sample), "create")

    today = org.today_ms(now_ms)
    customer, university, agency, _, supplier = (contact["ContactID"] for contact in saved_contacts[:5])
    documents.save(ctx, documents.INVOICE, {
        "Type": "ACCREC", "Contact": {"ContactID": customer}, "Status": "DRAFT", "Reference": "Club fees",
        "Date": ms_date(add_days(today, -3)), "DueDate": ms_date(add_days(today, 27)),
        "LineItems": [{"ItemCode": "TRAIN", "Quantity": 2}]}, "create")
    authorised = documents.save(ctx, documents.INVOICE, {
        "Type": "ACCREC", "Contact": {"ContactID": university}, "Status": "AUTHORISED", "Reference": "Semester 1",
        "Date": ms_date(add_days(today, -45)), "DueDate": ms_date(add_days(today, -15)),
        "LineItems": [{"ItemCode": "DEVD", "Quantity": 3},
                      {"Description": "Travel", "Quantity": 1, "UnitAmount": 120.5, "AccountCode": "260"}]},
        "create")
    paid = documents.save(ctx, documents.INVOICE, {
        "Type": "ACCREC", "Contact": {"ContactID": agency}, "Status": "AUTHORISED",
        "Date": ms_date(add_days(today, -20)), "DueDate": ms_date(add_days(today, 10)),
        "LineAmountTypes": "Inclusive",
        "LineItems": [{"ItemCode": "BOOK", "Quantity": 10, "DiscountRate": 10}]}, "create")
    payments.create(ctx, {"Invoice": {"InvoiceID": paid["InvoiceID"]}, "Account": {"Code": "090"},
                          "Date": ms_date(add_days(today, -5)), "Amount": paid["AmountDue"],
                          "Reference": "Direct credit"})
    payments.create(ctx, {"Invoice": {"InvoiceID": authorised["InvoiceID"]}, "Account": {"Code": "090"},
                          "Date": ms_date(add_days(today, -10)), "Amount": 500, "Reference": "Part payment"})
    documents.save(ctx, documents.INVOICE, {
        "Type": "ACCPAY", "Contact": {"ContactID": supplier}, "Status": "AUTHORISED", "InvoiceNumber": "PD-55012",
        "Date": ms_date(add_days(today, -12)), "DueDate": ms_date(add_days(today, 8)),
        "LineItems": [{"Description": "Electricity", "Quantity": 1, "UnitAmount": 230, "AccountCode": "429"}]},
        "create")
