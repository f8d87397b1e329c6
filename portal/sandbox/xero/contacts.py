"""Contacts (FACTS.md §4 "Contacts"; OAS ``Contact``).

- Name is required and unique across *active* contacts, with Xero's message; archiving is ``ContactStatus:
  ARCHIVED`` (there is no DELETE); archived contacts are left out of lists unless ``includeArchived=true``.
- ``IsCustomer``/``IsSupplier`` are read-only: an ACCREC/ACCPAY document sets them.
- Like Xero, every contact answers with both address types (POBOX, STREET) and the four phone types (DEFAULT,
  DDI, FAX, MOBILE), filled or empty; a write updates the types it names and keeps the others.
- ``PUT`` creates only; ``POST /Contacts`` updates by ``ContactID``, else by ``ContactNumber``, else creates;
  omitted fields keep their values.
"""

from __future__ import annotations

import re
from typing import Any

from portal.sandbox.xero import db
from portal.sandbox.xero.books import WriteContext, bool_of, echo, is_guid, text_of
from portal.sandbox.xero.dates import ms_date
from portal.sandbox.xero.errors import Invalid
from portal.sandbox.xero.query import Queryable, column, json_field

ADDRESS_TYPES = ("POBOX", "STREET")
PHONE_TYPES = ("DEFAULT", "DDI", "FAX", "MOBILE")
ALL_PHONE_TYPES = (*PHONE_TYPES, "OFFICE")
CONTACT_STATUSES = ("ACTIVE", "ARCHIVED", "GDPRREQUEST")
MAX_CONTACT_PERSONS = 5
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ADDRESS_LIMITS = {"AddressLine1": 500, "AddressLine2": 500, "AddressLine3": 500, "AddressLine4": 500,
                  "City": 255, "Region": 255, "PostalCode": 50, "Country": 50, "AttentionTo": 255}
PHONE_LIMITS = {"PhoneNumber": 50, "PhoneAreaCode": 10, "PhoneCountryCode": 20}
TEXT_LIMITS = {"ContactNumber": 50, "AccountNumber": 50, "FirstName": 255, "LastName": 255, "CompanyNumber": 50,
               "EmailAddress": 255, "TaxNumber": 50, "BankAccountDetails": 255}
PLAIN_TEXT = ("AccountsReceivableTaxType", "AccountsPayableTaxType", "SalesDefaultAccountCode",
              "PurchasesDefaultAccountCode")

QUERY = Queryable(
    type_name="Contact",
    fields={
        "contactid": column("id", "guid"),
        "name": column("name"),
        "firstname": column("first_name"),
        "lastname": column("last_name"),
        "emailaddress": column("email"),
        "contactnumber": column("contact_number"),
        "accountnumber": column("account_number"),
        "contactstatus": column("status"),
        "iscustomer": column("is_customer", "bool"),
        "issupplier": column("is_supplier", "bool"),
        "updateddateutc": column("updated_ms", "date"),
        "companynumber": json_field("CompanyNumber"),
        "taxnumber": json_field("TaxNumber"),
        "defaultcurrency": json_field("DefaultCurrency"),
        "bankaccountdetails": json_field("BankAccountDetails"),
        "hasattachments": json_field("HasAttachments", "bool"),
    },
    default_order="name COLLATE NOCASE ASC",
)

# Xero: summaryOnly leaves out the computation-heavy parts of a contact.
SUMMARY_ONLY_DROPS = ("Addresses", "Phones", "ContactPersons", "ContactGroups", "Balances", "PaymentTerms")


def duplicate_name_message(name: str) -> str:
    return (f"The contact name {name} is already assigned to another contact. "
            "The contact name must be unique across all active contacts.")


def find(ctx: WriteContext, contact_id: str) -> dict[str, Any] | None:
    row = ctx.conn.execute("SELECT data FROM xero_contact WHERE id = ? AND org_id = ?",
                           (contact_id.lower(), ctx.org.id)).fetchone()
    return db.record(row)


def find_by_number(ctx: WriteContext, number: str) -> dict[str, Any] | None:
    row = ctx.conn.execute("SELECT data FROM xero_contact WHERE org_id = ? AND contact_number = ? "
                           "ORDER BY status = 'ACTIVE' DESC LIMIT 1", (ctx.org.id, number)).fetchone()
    return db.record(row)


def find_active_by_name(ctx: WriteContext, name: str) -> dict[str, Any] | None:
    row = ctx.conn.execute("SELECT data FROM xero_contact WHERE org_id = ? AND name = ? AND status = 'ACTIVE'",
                           (ctx.org.id, name.strip())).fetchone()
    return db.record(row)


def _find_archived_by_name(ctx: WriteContext, name: str) -> dict[str, Any] | None:
    row = ctx.conn.execute("SELECT data FROM xero_contact WHERE org_id = ? AND name = ? AND status != 'ACTIVE' "
                           "ORDER BY updated_ms DESC LIMIT 1", (ctx.org.id, name.strip())).fetchone()
    return db.record(row)


def blank(contact_id: str) -> dict[str, Any]:
    return {
        "ContactID": contact_id,
        "ContactStatus": "ACTIVE",
        "Name": "",
        "EmailAddress": "",
        "BankAccountDetails": "",
        "Addresses": [{"AddressType": kind} for kind in ADDRESS_TYPES],
        "Phones": [{"PhoneType": kind} for kind in PHONE_TYPES],
        "UpdatedDateUTC": "",
        "ContactGroups": [],
        "IsSupplier": False,
        "IsCustomer": False,
        "ContactPersons": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
    }


def save(ctx: WriteContext, element: object, mode: str, path_id: str | None = None) -> dict[str, Any]:
    """Create or update one contact. ``mode``: ``create`` (PUT), ``upsert`` (POST /Contacts) or ``update``
    (POST /Contacts/{id}, the existing record's id in ``path_id``)."""
    if not isinstance(element, dict):
        raise Invalid("A contact must be an object")
    existing: dict[str, Any] | None = None
    given_id = element.get("ContactID")
    if path_id is not None:
        existing = find(ctx, path_id)
    elif given_id:
        if not is_guid(given_id):
            raise Invalid(f"'{given_id}' is not a valid ContactID")
        existing = find(ctx, str(given_id))
        if existing is None:
            raise Invalid(f"Contact with ContactID {given_id} could not be found")
        if mode == "create":
            raise Invalid(f"A contact with ContactID {given_id} already exists. Use POST to update it.")
    elif mode == "upsert" and element.get("ContactNumber"):
        existing = find_by_number(ctx, str(element["ContactNumber"]))

    record = dict(existing) if existing else blank(ctx.new_id())
    errors: list[str] = []
    _apply(ctx, record, element, creating=existing is None, errors=errors)
    if errors:
        raise Invalid(*errors)
    record["UpdatedDateUTC"] = ms_date(ctx.now_ms)
    write(ctx, record)
    ctx.written += 1
    ctx.event("CONTACT", "UPDATE" if existing else "CREATE", record["ContactID"])
    return record


def _apply(ctx: WriteContext, record: dict[str, Any], element: dict[str, Any], creating: bool,
           errors: list[str]) -> None:
    def attempt(action: Any) -> None:
        try:
            action()
        except Invalid as invalid:
            errors.extend(invalid.messages)

    if "Name" in element or creating:
        def set_name() -> None:
            name = (text_of(element, "Name", 255) or "").strip()
            if not name:
                raise Invalid("The Name field is mandatory.")
            record["Name"] = name
        attempt(set_name)

    for name, limit in TEXT_LIMITS.items():
        if name in element:
            def set_text(name: str = name, limit: int = limit) -> None:
                value = text_of(element, name, limit)
                if name == "EmailAddress" and value and not EMAIL.match(value.strip()):
                    raise Invalid("Email address must be valid.")
                if value is None or value == "":
                    if name in ("EmailAddress", "BankAccountDetails"):
                        record[name] = ""
                    else:
                        record.pop(name, None)
                else:
                    record[name] = value.strip() if name == "EmailAddress" else value
            attempt(set_text)
    for name in PLAIN_TEXT:
        if name in element:
            def set_plain(name: str = name) -> None:
                value = text_of(element, name, 50)
                if value:
                    record[name] = value
                else:
                    record.pop(name, None)
            attempt(set_plain)

    if "ContactStatus" in element:
        def set_status() -> None:
            status = element["ContactStatus"]
            if status not in CONTACT_STATUSES:
                raise Invalid(f"'{status}' is not a valid ContactStatus")
            record["ContactStatus"] = status
        attempt(set_status)

    if "DefaultCurrency" in element:
        def set_currency() -> None:
            code = element["DefaultCurrency"]
            known = ctx.conn.execute("SELECT 1 FROM xero_currency WHERE org_id = ? AND code = ?",
                                     (ctx.org.id, code)).fetchone()
            if not known:
                raise Invalid(f"The currency {code} is not set up for this organisation.")
            record["DefaultCurrency"] = code
        attempt(set_currency)

    if "Addresses" in element:
        attempt(lambda: _merge_typed(record, "Addresses", "AddressType", ADDRESS_TYPES, ADDRESS_LIMITS,
                                     element["Addresses"]))
    if "Phones" in element:
        attempt(lambda: _merge_typed(record, "Phones", "PhoneType", ALL_PHONE_TYPES, PHONE_LIMITS,
                                     element["Phones"]))
    if "ContactPersons" in element:
        attempt(lambda: _set_persons(record, element["ContactPersons"]))
    if "PaymentTerms" in element and isinstance(element["PaymentTerms"], dict):
        record["PaymentTerms"] = element["PaymentTerms"]

    if record.get("ContactStatus") == "ACTIVE" and record.get("Name"):
        clash = find_active_by_name(ctx, record["Name"])
        if clash is not None and clash["ContactID"] != record["ContactID"]:
            errors.append(duplicate_name_message(record["Name"]))


def _merge_typed(record: dict[str, Any], key: str, type_key: str, types: tuple[str, ...],
                 limits: dict[str, int], given: object) -> None:
    if not isinstance(given, list):
        raise Invalid(f"{key} must be a list")
    current = {entry[type_key]: entry for entry in record.get(key, [])}
    for entry in given:
        if not isinstance(entry, dict):
            raise Invalid(f"{key} must be a list of objects")
        kind = entry.get(type_key) or types[0]
        if kind not in types:
            raise Invalid(f"'{kind}' is not a valid {type_key}")
        cleaned: dict[str, Any] = {type_key: kind}
        for name, limit in limits.items():
            value = text_of(entry, name, limit)
            if value:
                cleaned[name] = value
        current[kind] = cleaned
    record[key] = [current[kind] for kind in types if kind in current] + \
        [entry for kind, entry in current.items() if kind not in types]


def _set_persons(record: dict[str, Any], given: object) -> None:
    if not isinstance(given, list):
        raise Invalid("ContactPersons must be a list")
    if len(given) > MAX_CONTACT_PERSONS:
        raise Invalid(f"A contact can have at most {MAX_CONTACT_PERSONS} contact persons.")
    persons = []
    for entry in given:
        if not isinstance(entry, dict):
            raise Invalid("ContactPersons must be a list of objects")
        person: dict[str, Any] = {}
        for name in ("FirstName", "LastName", "EmailAddress"):
            value = text_of(entry, name, 255)
            if value:
                person[name] = value
        if person.get("EmailAddress") and not EMAIL.match(person["EmailAddress"]):
            raise Invalid("Email address must be valid.")
        person["IncludeInEmails"] = bool_of(entry.get("IncludeInEmails", False), "IncludeInEmails")
        persons.append(person)
    record["ContactPersons"] = persons


def columns(org_id: str, record: dict[str, Any], updated_ms: int) -> dict[str, Any]:
    return {
        "id": record["ContactID"],
        "org_id": org_id,
        "name": record["Name"],
        "first_name": record.get("FirstName"),
        "last_name": record.get("LastName"),
        "email": record.get("EmailAddress") or None,
        "contact_number": record.get("ContactNumber"),
        "account_number": record.get("AccountNumber"),
        "status": record["ContactStatus"],
        "is_customer": int(bool(record.get("IsCustomer"))),
        "is_supplier": int(bool(record.get("IsSupplier"))),
        "updated_ms": updated_ms,
        "data": db.dumps(record),
    }


def write(ctx: WriteContext, record: dict[str, Any]) -> None:
    db.upsert(ctx.conn, "xero_contact", columns(ctx.org.id, record, ctx.now_ms))


def mark_role(ctx: WriteContext, contact_id: str, document_type: str) -> None:
    """Xero sets IsCustomer/IsSupplier once an ACCREC/ACCPAY document exists for the contact."""
    flag, column_name = ("IsCustomer", "is_customer") if document_type.startswith("ACCREC") else \
        ("IsSupplier", "is_supplier")
    row = ctx.conn.execute(f"SELECT data, {column_name} AS flag FROM xero_contact WHERE id = ?",  # noqa: S608
                           (contact_id,)).fetchone()
    if row is None or row["flag"]:
        return
    record = db.loads(row["data"])
    record[flag] = True
    ctx.conn.execute(f"UPDATE xero_contact SET {column_name} = 1, data = ? WHERE id = ?",  # noqa: S608
                     (db.dumps(record), contact_id))


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """How a contact appears inside an invoice, credit note or payment."""
    result: dict[str, Any] = {"ContactID": record["ContactID"]}
    if record.get("ContactNumber"):
        result["ContactNumber"] = record["ContactNumber"]
    result.update({"ContactStatus": record["ContactStatus"], "Name": record["Name"]})
    for name in ("FirstName", "LastName", "EmailAddress"):
        if record.get(name):
            result[name] = record[name]
    result.update({"Addresses": record.get("Addresses", []), "Phones": record.get("Phones", []),
                   "ContactGroups": [], "ContactPersons": record.get("ContactPersons", []),
                   "HasValidationErrors": False})
    return result


def resolve_for_document(ctx: WriteContext, given: object) -> dict[str, Any]:
    """The contact a document names: by ContactID, ContactNumber or Name; an unknown Name creates the contact,
    as Xero does."""
    if not isinstance(given, dict) or not given:
        raise Invalid("A Contact must be specified for this type of transaction")
    if not any(given.get(key) for key in ("ContactID", "ContactNumber", "Name")):
        raise Invalid("The Contact must contain at least 1 of the following elements to identify the contact: "
                      "Name, ContactID, ContactNumber")
    found: dict[str, Any] | None = None
    if given.get("ContactID"):
        if is_guid(given["ContactID"]):
            found = find(ctx, str(given["ContactID"]))
        if found is None:
            raise Invalid(f"Contact with ContactID {given['ContactID']} could not be found")
    elif given.get("ContactNumber"):
        found = find_by_number(ctx, str(given["ContactNumber"]))
        if found is None and not given.get("Name"):
            raise Invalid(f"Contact with ContactNumber {given['ContactNumber']} could not be found")
    if found is None and given.get("Name"):
        found = find_active_by_name(ctx, str(given["Name"])) or _find_archived_by_name(ctx, str(given["Name"]))
        if found is None:
            found = save(ctx, {key: value for key, value in given.items() if key != "ContactID"}, "create")
    assert found is not None
    if found["ContactStatus"] == "ARCHIVED":
        raise Invalid(f"The contact {found['Name']} has been archived. The contact must be un-archived before "
                      "creating new invoices or credit notes.")
    return found


def present(record: dict[str, Any], summary_only: bool = False) -> dict[str, Any]:
    if not summary_only:
        return record
    return {key: value for key, value in record.items() if key not in SUMMARY_ONLY_DROPS}


def echo_with_errors(element: object, messages: list[str]) -> dict[str, Any]:
    echoed = echo(element)
    echoed["HasValidationErrors"] = True
    echoed["ValidationErrors"] = [{"Message": message} for message in messages]
    return echoed
