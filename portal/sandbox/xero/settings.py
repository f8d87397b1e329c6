"""Organisation settings: the chart of accounts, tax rates, currencies and the Organisation itself
(FACTS.md §4 "Accounts", "TaxRates", "Organisation"; OAS ``Account``, ``TaxRate``, ``Currency``, ``Organisation``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from portal.sandbox.xero import db
from portal.sandbox.xero.books import Org, WriteContext, bool_of, decimal_of, is_guid, text_of
from portal.sandbox.xero.dates import ms_date
from portal.sandbox.xero.errors import Invalid
from portal.sandbox.xero.query import Queryable, column, json_field

ACCOUNT_TYPES = ("BANK", "CURRENT", "CURRLIAB", "DEPRECIATN", "DIRECTCOSTS", "EQUITY", "EXPENSE", "FIXED",
                 "INVENTORY", "LIABILITY", "NONCURRENT", "OTHERINCOME", "OVERHEADS", "PREPAYMENT", "REVENUE",
                 "SALES", "TERMLIAB", "PAYG")
ACCOUNT_CLASSES = {
    "BANK": "ASSET", "CURRENT": "ASSET", "FIXED": "ASSET", "INVENTORY": "ASSET", "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET", "CURRLIAB": "LIABILITY", "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY", "EQUITY": "EQUITY", "REVENUE": "REVENUE", "SALES": "REVENUE", "OTHERINCOME": "REVENUE",
    "EXPENSE": "EXPENSE", "OVERHEADS": "EXPENSE", "DIRECTCOSTS": "EXPENSE", "DEPRECIATN": "EXPENSE",
}
ACCOUNT_QUERY = Queryable(
    type_name="Account",
    fields={
        "accountid": column("id", "guid"),
        "code": column("code"),
        "name": column("name"),
        "type": column("type"),
        "status": column("status"),
        "updateddateutc": column("updated_ms", "date"),
        "class": json_field("Class"),
        "taxtype": json_field("TaxType"),
        "systemaccount": json_field("SystemAccount"),
        "bankaccountnumber": json_field("BankAccountNumber"),
        "currencycode": json_field("CurrencyCode"),
        "enablepaymentstoaccount": json_field("EnablePaymentsToAccount", "bool"),
        "showinexpenseclaims": json_field("ShowInExpenseClaims", "bool"),
        "reportingcode": json_field("ReportingCode"),
    },
    default_order="code COLLATE NOCASE ASC, name COLLATE NOCASE ASC",
)
TAX_RATE_QUERY = Queryable(
    type_name="TaxRate",
    fields={
        "name": column("name"),
        "taxtype": column("tax_type"),
        "status": column("status"),
        "effectiverate": column("rate", "number"),
        "displaytaxrate": column("rate", "number"),
        "reporttaxtype": json_field("ReportTaxType"),
        "canapplytorevenue": json_field("CanApplyToRevenue", "bool"),
        "canapplytoexpenses": json_field("CanApplyToExpenses", "bool"),
        "canapplytoassets": json_field("CanApplyToAssets", "bool"),
        "canapplytoliabilities": json_field("CanApplyToLiabilities", "bool"),
        "canapplytoequity": json_field("CanApplyToEquity", "bool"),
    },
    default_order="position ASC",
)
CURRENCY_QUERY = Queryable(
    type_name="Currency",
    fields={"code": column("code"), "description": json_field("Description")},
    default_order="code ASC",
)


# --- accounts --------------------------------------------------------------------------------------------------

def account_record(account_id: str, code: str | None, name: str, account_type: str, tax_type: str, *,
                   system: str | None = None, bank_number: str | None = None, currency: str | None = None,
                   description: str | None = None, payments: bool = False, updated_ms: int = 0) -> dict[str, Any]:
    record: dict[str, Any] = {"AccountID": account_id}
    if code is not None:
        record["Code"] = code
    record.update({"Name": name, "Status": "ACTIVE", "Type": account_type, "TaxType": tax_type})
    if description:
        record["Description"] = description
    record["Class"] = ACCOUNT_CLASSES[account_type]
    if system:
        record["SystemAccount"] = system
    record["EnablePaymentsToAccount"] = payments
    record["ShowInExpenseClaims"] = account_type in ("EXPENSE", "OVERHEADS", "DIRECTCOSTS")
    record["BankAccountType"] = "BANK" if account_type == "BANK" else ""
    if account_type == "BANK":
        record["BankAccountNumber"] = bank_number or ""
        if currency:
            record["CurrencyCode"] = currency
    record["ReportingCode"] = {"ASSET": "ASS", "LIABILITY": "LIA", "EQUITY": "EQU", "REVENUE": "REV",
                               "EXPENSE": "EXP"}[record["Class"]]
    record["ReportingCodeName"] = record["Class"].capitalize()
    record["HasAttachments"] = False
    record["UpdatedDateUTC"] = ms_date(updated_ms)
    record["AddToWatchlist"] = False
    return record


def write_account(conn: Any, org_id: str, record: dict[str, Any], updated_ms: int) -> None:
    db.upsert(conn, "xero_account", {
        "id": record["AccountID"], "org_id": org_id, "code": record.get("Code"), "name": record["Name"],
        "type": record["Type"], "status": record["Status"], "updated_ms": updated_ms, "data": db.dumps(record),
    })


def find_account(ctx: WriteContext, account_id: str) -> dict[str, Any] | None:
    if not is_guid(account_id):
        return None
    row = ctx.conn.execute("SELECT data FROM xero_account WHERE id = ? AND org_id = ?",
                           (account_id.lower(), ctx.org.id)).fetchone()
    return db.record(row)


def save_account(ctx: WriteContext, element: object, existing: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(element, dict):
        raise Invalid("An account must be an object")
    record = dict(existing) if existing else {}
    errors: list[str] = []

    def attempt(action: Any) -> None:
        try:
            action()
        except Invalid as invalid:
            errors.extend(invalid.messages)

    account_type = element.get("Type", record.get("Type"))
    if existing is None:
        if account_type not in ACCOUNT_TYPES:
            raise Invalid(f"'{account_type}' is not a valid account Type" if account_type
                          else "The account Type must be specified")
        record = account_record(ctx.new_id(), None, "", account_type, "NONE", updated_ms=ctx.now_ms)
    elif "Type" in element and element["Type"] != existing["Type"]:
        if existing.get("SystemAccount"):
            raise Invalid("The Type of a system account cannot be changed")
        if element["Type"] not in ACCOUNT_TYPES or "BANK" in (element["Type"], existing["Type"]):
            raise Invalid(f"An account cannot be changed to Type '{element['Type']}'")
        record["Type"] = element["Type"]
        record["Class"] = ACCOUNT_CLASSES[element["Type"]]

    if "Code" in element or (existing is None and account_type != "BANK"):
        def set_code() -> None:
            code = (text_of(element, "Code") or "").strip()
            if len(code) > 10:
                raise Invalid("Account Code is too long. Maximum of 10 characters allowed")
            if not code:
                if account_type != "BANK":
                    raise Invalid("Please enter a Code.")
                record.pop("Code", None)
                return
            clash = ctx.conn.execute("SELECT id FROM xero_account WHERE org_id = ? AND code = ? AND status != "
                                     "'DELETED'", (ctx.org.id, code)).fetchone()
            if clash is not None and clash["id"] != record["AccountID"]:
                raise Invalid("Please enter a unique Code.")
            record["Code"] = code
        attempt(set_code)
    if "Name" in element or existing is None:
        def set_name() -> None:
            name = (text_of(element, "Name", 150) or "").strip()
            if not name:
                raise Invalid("Please enter a Name.")
            clash = ctx.conn.execute("SELECT id FROM xero_account WHERE org_id = ? AND name = ? AND status != "
                                     "'DELETED'", (ctx.org.id, name)).fetchone()
            if clash is not None and clash["id"] != record["AccountID"]:
                raise Invalid("Please enter a unique Name.")
            record["Name"] = name
        attempt(set_name)
    if "Description" in element:
        def set_description() -> None:
            value = text_of(element, "Description", 4000)
            if value:
                record["Description"] = value
            else:
                record.pop("Description", None)
        attempt(set_description)
    if "TaxType" in element:
        def set_tax() -> None:
            rate = ctx.tax_rates().get(str(element["TaxType"]).upper())
            if rate is None or rate.status != "ACTIVE":
                raise Invalid(f"The TaxType code {element['TaxType']} does not exist or cannot be used for this "
                              "account.")
            record["TaxType"] = rate.tax_type
        attempt(set_tax)
    for flag in ("EnablePaymentsToAccount", "ShowInExpenseClaims"):
        if flag in element:
            def set_flag(flag: str = flag) -> None:
                record[flag] = bool_of(element[flag], flag)
            attempt(set_flag)
    if record["Type"] == "BANK":
        if "BankAccountNumber" in element:
            record["BankAccountNumber"] = text_of(element, "BankAccountNumber", 50) or ""
        if not record.get("BankAccountNumber"):
            errors.append("Bank Account Number must be specified for a BANK account.")
        if "CurrencyCode" in element:
            record["CurrencyCode"] = element["CurrencyCode"]
        record.setdefault("CurrencyCode", ctx.org.base_currency)
    if "Status" in element and existing is not None:
        status = element["Status"]
        if status not in ("ACTIVE", "ARCHIVED"):
            errors.append(f"An account's Status can be ACTIVE or ARCHIVED, not '{status}' (DELETE it instead)")
        elif status == "ARCHIVED" and record.get("SystemAccount"):
            errors.append("System accounts cannot be archived.")
        else:
            record["Status"] = status
    if errors:
        raise Invalid(*errors)
    record["UpdatedDateUTC"] = ms_date(ctx.now_ms)
    write_account(ctx.conn, ctx.org.id, record, ctx.now_ms)
    ctx.forget_settings()
    ctx.written += 1
    return record


def delete_account(ctx: WriteContext, record: dict[str, Any]) -> dict[str, Any]:
    if record.get("SystemAccount"):
        raise Invalid("System accounts cannot be deleted.")
    used = ctx.conn.execute(
        "SELECT 1 FROM xero_invoice WHERE org_id = ? AND instr(data, ?) "
        "UNION ALL SELECT 1 FROM xero_payment WHERE org_id = ? AND account_id = ? LIMIT 1",
        (ctx.org.id, f'"AccountID":"{record["AccountID"]}"', ctx.org.id, record["AccountID"])).fetchone()
    if used:
        raise Invalid("This account has transactions and cannot be deleted. Archive it instead.")
    deleted = dict(record)
    deleted["Status"] = "DELETED"
    deleted["UpdatedDateUTC"] = ms_date(ctx.now_ms)
    write_account(ctx.conn, ctx.org.id, deleted, ctx.now_ms)
    ctx.forget_settings()
    ctx.written += 1
    return deleted


# --- tax rates -------------------------------------------------------------------------------------------------

def tax_rate_record(name: str, tax_type: str, rate: float, report_tax_type: str, applies_to: str,
                    component: str) -> dict[str, Any]:
    return {
        "Name": name,
        "TaxType": tax_type,
        "ReportTaxType": report_tax_type,
        "CanApplyToAssets": applies_to in ("purchases", "both"),
        "CanApplyToEquity": applies_to == "both",
        "CanApplyToExpenses": applies_to in ("purchases", "both"),
        "CanApplyToLiabilities": applies_to == "both",
        "CanApplyToRevenue": applies_to in ("sales", "both"),
        "DisplayTaxRate": float(rate),
        "EffectiveRate": float(rate),
        "Status": "ACTIVE",
        "TaxComponents": [{"Name": component, "Rate": float(rate), "IsCompound": False, "IsNonRecoverable": False}],
    }


def write_tax_rate(conn: Any, org_id: str, record: dict[str, Any], applies_to: str, position: int) -> None:
    db.upsert(conn, "xero_taxrate", {
        "org_id": org_id, "tax_type": record["TaxType"], "name": record["Name"], "status": record["Status"],
        "rate": record["EffectiveRate"], "applies_to": applies_to, "position": position, "data": db.dumps(record),
    }, key=("org_id", "tax_type"))


def save_tax_rate(ctx: WriteContext, element: object, update: bool) -> dict[str, Any]:
    """PUT creates a custom rate (TaxType TAX001, TAX002, … as Xero names them); POST updates one by TaxType or
    Name."""
    if not isinstance(element, dict):
        raise Invalid("A tax rate must be an object")
    name = (text_of(element, "Name", 100) or "").strip()
    existing_row = None
    if element.get("TaxType"):
        existing_row = ctx.conn.execute("SELECT * FROM xero_taxrate WHERE org_id = ? AND tax_type = ?",
                                        (ctx.org.id, element["TaxType"])).fetchone()
    elif name:
        existing_row = ctx.conn.execute("SELECT * FROM xero_taxrate WHERE org_id = ? AND name = ?",
                                        (ctx.org.id, name)).fetchone()
    if update and existing_row is None:
        raise Invalid("Tax rate could not be found")
    if not update and existing_row is not None:
        raise Invalid("A tax rate with this name already exists" if not element.get("TaxType")
                      else f"Tax rate {element['TaxType']} already exists")
    record: dict[str, Any]
    if existing_row is not None:
        record = db.loads(existing_row["data"])
        if not record["TaxType"].startswith("TAX"):
            raise Invalid("System tax rates cannot be changed")
        applies_to, position = existing_row["applies_to"], existing_row["position"]
    else:
        if not name:
            raise Invalid("Please enter a Name.")
        count = ctx.conn.execute("SELECT COUNT(*) AS n FROM xero_taxrate WHERE org_id = ? AND tax_type LIKE "
                                 "'TAX%'", (ctx.org.id,)).fetchone()["n"]
        record = tax_rate_record(name, f"TAX{count + 1:03d}", 0, element.get("ReportTaxType") or "OUTPUT",
                                 "both", name)
        applies_to = "both"
        position = 1000 + count
    if name:
        record["Name"] = name
    if "TaxComponents" in element:
        components = element["TaxComponents"]
        if not isinstance(components, list) or not components:
            raise Invalid("A tax rate needs at least one TaxComponent")
        cleaned = []
        total = Decimal(0)
        for component in components:
            if not isinstance(component, dict):
                raise Invalid("TaxComponents must be objects")
            rate = decimal_of(component.get("Rate", 0), "Rate")
            total += rate
            cleaned.append({"Name": str(component.get("Name") or record["Name"]), "Rate": float(rate),
                            "IsCompound": bool(component.get("IsCompound", False)),
                            "IsNonRecoverable": bool(component.get("IsNonRecoverable", False))})
        record["TaxComponents"] = cleaned
        record["EffectiveRate"] = record["DisplayTaxRate"] = float(total)
    if "Status" in element:
        if element["Status"] not in ("ACTIVE", "DELETED", "ARCHIVED"):
            raise Invalid(f"'{element['Status']}' is not a valid tax rate Status")
        record["Status"] = element["Status"]
    write_tax_rate(ctx.conn, ctx.org.id, record, applies_to, position)
    ctx.forget_settings()
    ctx.written += 1
    return record


# --- currencies and the organisation ---------------------------------------------------------------------------

CURRENCY_NAMES = {"NZD": "New Zealand Dollar", "AUD": "Australian Dollar", "GBP": "Pound Sterling",
                  "USD": "United States Dollar", "EUR": "Euro", "CAD": "Canadian Dollar", "JPY": "Japanese Yen",
                  "SGD": "Singapore Dollar", "ZAR": "South African Rand", "CHF": "Swiss Franc"}


def save_currency(ctx: WriteContext, element: object) -> dict[str, Any]:
    if not isinstance(element, dict) or not isinstance(element.get("Code"), str):
        raise Invalid("A currency needs a Code")
    code = element["Code"].upper()
    if code not in CURRENCY_NAMES:
        raise Invalid(f"The sandbox knows the currencies {', '.join(sorted(CURRENCY_NAMES))}, not {code}")
    record = {"Code": code, "Description": CURRENCY_NAMES[code]}
    db.upsert(ctx.conn, "xero_currency", {"org_id": ctx.org.id, "code": code, "data": db.dumps(record)},
              key=("org_id", "code"))
    ctx.written += 1
    return record


def present_organisation(org: Org) -> dict[str, Any]:
    data = dict(org.data)
    if org.period_lock_ms is not None:
        data["PeriodLockDate"] = ms_date(org.period_lock_ms)
    if org.end_of_year_lock_ms is not None:
        data["EndOfYearLockDate"] = ms_date(org.end_of_year_lock_ms)
    return data
