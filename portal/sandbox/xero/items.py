"""Items (FACTS.md §4 "Items"; OAS ``Item``).

``Code`` is required, at most 30 characters and unique ("Price List Item with Code 'abc' already exists");
``POST /Items`` updates the item with the given ``ItemID`` or ``Code``; ``DELETE /Items/{id}`` answers 204;
``UnitPrice`` keeps 2 decimals unless ``unitdp=4``; lists are never paged.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from portal.sandbox.xero import db
from portal.sandbox.xero.books import UNIT4, WriteContext, bool_of, decimal_of, is_guid, text_of
from portal.sandbox.xero.dates import ms_date
from portal.sandbox.xero.errors import Invalid
from portal.sandbox.xero.query import Queryable, column, json_field

QUERY = Queryable(
    type_name="Item",
    fields={
        "itemid": column("id", "guid"),
        "code": column("code"),
        "name": column("name"),
        "updateddateutc": column("updated_ms", "date"),
        "description": json_field("Description"),
        "purchasedescription": json_field("PurchaseDescription"),
        "issold": json_field("IsSold", "bool"),
        "ispurchased": json_field("IsPurchased", "bool"),
        "istrackedasinventory": json_field("IsTrackedAsInventory", "bool"),
        "salesdetails.unitprice": json_field("SalesDetails.UnitPrice", "number"),
        "salesdetails.accountcode": json_field("SalesDetails.AccountCode"),
        "purchasedetails.unitprice": json_field("PurchaseDetails.UnitPrice", "number"),
        "purchasedetails.accountcode": json_field("PurchaseDetails.AccountCode"),
    },
    default_order="code COLLATE NOCASE ASC",
)


def duplicate_code_message(code: str) -> str:
    return f"Price List Item with Code '{code}' already exists"


def find(ctx: WriteContext, key: str) -> dict[str, Any] | None:
    """By ItemID or, as Xero also allows, by Code."""
    if is_guid(key):
        row = ctx.conn.execute("SELECT data FROM xero_item WHERE id = ? AND org_id = ?",
                               (key.lower(), ctx.org.id)).fetchone()
        if row is not None:
            return db.record(row)
    row = ctx.conn.execute("SELECT data FROM xero_item WHERE org_id = ? AND code = ?", (ctx.org.id, key)).fetchone()
    return db.record(row)


def save(ctx: WriteContext, element: object, mode: str, path_id: str | None = None) -> dict[str, Any]:
    if not isinstance(element, dict):
        raise Invalid("An item must be an object")
    existing: dict[str, Any] | None = None
    if path_id is not None:
        existing = find(ctx, path_id)
    elif element.get("ItemID"):
        if not is_guid(element["ItemID"]):
            raise Invalid(f"'{element['ItemID']}' is not a valid ItemID")
        existing = find(ctx, str(element["ItemID"]))
        if existing is None:
            raise Invalid(f"Item with ItemID {element['ItemID']} could not be found")
        if mode == "create":
            raise Invalid(f"An item with ItemID {element['ItemID']} already exists. Use POST to update it.")
    elif mode == "upsert" and isinstance(element.get("Code"), str):
        existing = find(ctx, element["Code"])

    record: dict[str, Any] = dict(existing) if existing else {
        "ItemID": ctx.new_id(), "Code": "", "IsSold": True, "IsPurchased": True, "IsTrackedAsInventory": False,
        "PurchaseDetails": {}, "SalesDetails": {},
    }
    errors: list[str] = []

    def attempt(action: Any) -> None:
        try:
            action()
        except Invalid as invalid:
            errors.extend(invalid.messages)

    if "Code" in element or existing is None:
        def set_code() -> None:
            code = (text_of(element, "Code", 30) or "").strip()
            if not code:
                raise Invalid("The Code field is mandatory.")
            clash = ctx.conn.execute("SELECT id FROM xero_item WHERE org_id = ? AND code = ?",
                                     (ctx.org.id, code)).fetchone()
            if clash is not None and clash["id"] != record["ItemID"]:
                raise Invalid(duplicate_code_message(code))
            record["Code"] = code
        attempt(set_code)
    for name, limit in (("Name", 50), ("Description", 4000), ("PurchaseDescription", 4000)):
        if name in element:
            def set_text(name: str = name, limit: int = limit) -> None:
                value = text_of(element, name, limit)
                if value:
                    record[name] = value
                else:
                    record.pop(name, None)
            attempt(set_text)
    for name in ("IsSold", "IsPurchased"):
        if name in element:
            def set_flag(name: str = name) -> None:
                record[name] = bool_of(element[name], name)
            attempt(set_flag)
    for name, sales in (("SalesDetails", True), ("PurchaseDetails", False)):
        if name in element:
            def set_details(name: str = name, sales: bool = sales) -> None:
                record[name] = _details(ctx, element[name], record.get(name, {}), sales)
            attempt(set_details)
    if "InventoryAssetAccountCode" in element:
        def set_inventory() -> None:
            code = text_of(element, "InventoryAssetAccountCode")
            if code:
                account = ctx.accounts().get(code.upper())
                if account is None or account.type != "INVENTORY":
                    raise Invalid(f"Account code '{code}' is not a valid inventory asset account.")
                record["InventoryAssetAccountCode"] = account.code
            else:
                record.pop("InventoryAssetAccountCode", None)
        attempt(set_inventory)

    if errors:
        raise Invalid(*errors)
    tracked = bool(record.get("InventoryAssetAccountCode") and record["PurchaseDetails"].get("COGSAccountCode"))
    record["IsTrackedAsInventory"] = tracked
    if tracked:
        record.setdefault("TotalCostPool", 0.0)
        record.setdefault("QuantityOnHand", 0.0)
    record["UpdatedDateUTC"] = ms_date(ctx.now_ms)
    write(ctx, record)
    ctx.written += 1
    return record


def _details(ctx: WriteContext, given: object, current: dict[str, Any], sales: bool) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise Invalid("SalesDetails and PurchaseDetails must be objects")
    details = dict(current)
    if "UnitPrice" in given:
        if given["UnitPrice"] is None:
            details.pop("UnitPrice", None)
        else:
            price = decimal_of(given["UnitPrice"], "UnitPrice")
            places = UNIT4 if ctx.unitdp == 4 else Decimal("0.01")
            details["UnitPrice"] = float(price.quantize(places, rounding=ROUND_HALF_UP))
    for key in ("AccountCode", "COGSAccountCode"):
        if key in given:
            code = given[key]
            if code in (None, ""):
                details.pop(key, None)
                continue
            account = ctx.accounts().get(str(code).upper())
            if account is None or account.status != "ACTIVE":
                raise Invalid(f"Account code '{code}' is not a valid code for this document.")
            details[key] = account.code
    if "TaxType" in given:
        tax_type = given["TaxType"]
        if tax_type in (None, ""):
            details.pop("TaxType", None)
        else:
            rate = ctx.tax_rates().get(str(tax_type).upper())
            if rate is None or rate.status != "ACTIVE" or rate.applies_to not in ("both",
                                                                                  "sales" if sales else "purchases"):
                raise Invalid(f"The TaxType code {tax_type} does not exist or cannot be used for this type of "
                              "transaction.")
            details["TaxType"] = rate.tax_type
    return details


def write(ctx: WriteContext, record: dict[str, Any]) -> None:
    db.upsert(ctx.conn, "xero_item", {
        "id": record["ItemID"], "org_id": ctx.org.id, "code": record["Code"], "name": record.get("Name"),
        "updated_ms": ctx.now_ms, "data": db.dumps(record),
    })


def delete(ctx: WriteContext, record: dict[str, Any]) -> None:
    if record.get("IsTrackedAsInventory"):
        used = ctx.conn.execute("SELECT 1 FROM xero_invoice WHERE org_id = ? AND instr(data, ?) LIMIT 1",
                                (ctx.org.id, f'"ItemCode":{db.dumps(record["Code"])}')).fetchone()
        if used:
            raise Invalid(f"The item {record['Code']} is tracked and has been used in transactions, so it cannot "
                          "be deleted.")
    ctx.conn.execute("DELETE FROM xero_item WHERE id = ?", (record["ItemID"],))


def present(record: dict[str, Any], unitdp: int) -> dict[str, Any]:
    if unitdp == 4:
        return record
    result = dict(record)
    for name in ("SalesDetails", "PurchaseDetails"):
        details = record.get(name)
        if isinstance(details, dict) and "UnitPrice" in details:
            result[name] = {**details, "UnitPrice": float(Decimal(str(details["UnitPrice"])).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP))}
    return result
