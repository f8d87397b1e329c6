"""The engine's two ports (portal/sync/ports.py) implemented over the HTTP connectors.

Adapters translate between the engine's neutral conventions (ISO dates, one WriteResult per record, opaque
cursors) and each API's own ways (Xero's /Date()/ values and where-filters, Zoho's mandatory ``fields``, page
tokens and subforms that lists leave out). They hold no business rules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from portal.connectors.errors import ConnectorError, FieldError, Invalid, NotFound
from portal.connectors.results import RecordResult
from portal.connectors.xero.client import MAX_PAGE_SIZE, PAGED_RESOURCES, XeroClient
from portal.connectors.xero.dates import parse_xero_datetime
from portal.connectors.zoho.client import DISCRETE_PAGE_LIMIT, PER_PAGE, ZohoClient
from portal.sync.ports import (
    XERO_ID_FIELD,
    FieldInfo,
    Page,
    Record,
    RemoveAction,
    RemoveRequest,
    WriteRequest,
    WriteResult,
)

# --- Xero ----------------------------------------------------------------------------------------------------

# Xero date-only fields are midnight UTC (FACTS.md §3); everything else that is a /Date()/ is an instant.
XERO_DATE_ONLY = frozenset({"Date", "DueDate", "FullyPaidOnDate", "ExpectedPaymentDate", "PlannedPaymentDate",
                            "PeriodLockDate", "EndOfYearLockDate", "DateString", "DueDateString"})
_MS_DATE = re.compile(r"^/Date\(-?\d+([+-]\d{4})?\)/$")


def normalise_xero(value: Any, key: str = "") -> Any:
    """Xero's Microsoft JSON dates become ``YYYY-MM-DD`` (date fields) or ISO-8601 instants, recursively."""
    if isinstance(value, dict):
        return {k: normalise_xero(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_xero(v, key) for v in value]
    if isinstance(value, str) and _MS_DATE.match(value):
        parsed = parse_xero_datetime(value)
        if parsed is None:
            return value
        return parsed.astimezone(UTC).date().isoformat() if key in XERO_DATE_ONLY else \
            parsed.astimezone(UTC).isoformat()
    return value


def _quote(value: str) -> str:
    """A C#-style string literal for Xero's ``where`` expressions."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Match lookups: at most this many OR'ed comparisons in one ``where`` keep the URL short.
WHERE_CHUNK = 20
XERO_REMOVE = {
    ("Contacts", RemoveAction.ARCHIVE): {"ContactStatus": "ARCHIVED"},
    ("Invoices", RemoveAction.DELETE): {"Status": "DELETED"},
    ("Invoices", RemoveAction.VOID): {"Status": "VOIDED"},
    ("Accounts", RemoveAction.ARCHIVE): {"Status": "ARCHIVED"},
    ("Payments", RemoveAction.DELETE): {"Status": "DELETED"},
}


class XeroPortAdapter:
    max_write_batch = 50  # Xero advises about 50 elements per request (FACTS.md §2)
    max_read_ids = 100

    def __init__(self, client: XeroClient) -> None:
        self.client = client
        self.tenant_id = client.xero_tenant_id
        self._unpaged_cache: dict[str, list[Record]] = {}

    def _params(self, module: str) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if module == "Contacts":
            params["includeArchived"] = "true"  # archiving is an update the sync must see
        if module in ("Invoices", "Items"):
            params["unitdp"] = 4  # unit prices keep their 4 decimals instead of Xero's default 2
        return params

    def list_changed(self, module: str, since: datetime | None, cursor: str | None) -> Page:
        headers_since = since
        if module not in PAGED_RESOURCES:
            records = self.client.all(module, modified_since=headers_since, params=self._params(module),
                                      order="UpdatedDateUTC ASC" if module != "Accounts" else None)
            return Page([normalise_xero(r) for r in records], None)
        page = int(cursor or 1)
        data = self.client.fetch(module, {**self._params(module), "page": page, "pageSize": MAX_PAGE_SIZE,
                                         "order": "UpdatedDateUTC ASC"},
                                {"If-Modified-Since": _xero_since(since)} if since else {})
        records = [normalise_xero(r) for r in data.get(module, [])]
        page_count = (data.get("pagination") or {}).get("pageCount")
        more = len(records) == MAX_PAGE_SIZE and (page_count is None or page < page_count)
        return Page(records, str(page + 1) if more else None)

    def count(self, module: str, since: datetime | None) -> int:
        if module not in PAGED_RESOURCES:
            return len(self.client.all(module, modified_since=since, params=self._params(module)))
        # One call: the pagination block of a one-record page carries the total (itemCount).
        data = self.client.fetch(module, {**self._params(module), "page": 1, "pageSize": 1},
                                {"If-Modified-Since": _xero_since(since)} if since else {})
        pagination = data.get("pagination") or {}
        if "itemCount" in pagination:
            return int(pagination["itemCount"])
        return sum(len(page) for page in self.client.pages(module, modified_since=since, params=self._params(module)))

    def get_by_ids(self, module: str, ids: Sequence[str]) -> list[Record]:
        if not ids:
            return []
        if module in ("Contacts", "Invoices", "Payments", "CreditNotes"):
            records = self.client.by_ids(module, ids, params=self._params(module))
        else:
            wanted = set(ids)
            records = [r for r in self._unpaged(module) if r.get(XERO_ID_FIELD.get(module, "")) in wanted]
            missing = wanted - {r.get(XERO_ID_FIELD.get(module, "")) for r in records}
            for record_id in missing:  # not in the (possibly stale) list: ask for each by id
                try:
                    records.append(self.client.get(module, record_id, params=self._params(module)))
                except NotFound:
                    continue
        return [normalise_xero(r) for r in records]

    def _unpaged(self, module: str) -> list[Record]:
        """Items and Accounts come whole in one call (never paged): read them once per adapter."""
        if module not in self._unpaged_cache:
            self._unpaged_cache[module] = self.client.all(module, params=self._params(module))
        return self._unpaged_cache[module]

    def find(self, module: str, field: str, values: Sequence[str]) -> list[Record]:
        values = [v for v in dict.fromkeys(str(v) for v in values) if v]
        if not values:
            return []
        if module in ("Items", "Accounts"):
            wanted = {v.casefold() for v in values}
            found = [r for r in self._unpaged(module) if str(r.get(field) or "").casefold() in wanted
                     and r.get("Status", "ACTIVE") == "ACTIVE"]
            return [normalise_xero(r) for r in found]
        if module == "Invoices" and field == "InvoiceNumber":
            found = []
            for start in range(0, len(values), 50):
                found.extend(self.client.all("Invoices", params={**self._params("Invoices"),
                                                                "InvoiceNumbers": ",".join(values[start:start + 50])}))
            return [normalise_xero(r) for r in found if r.get("Status") not in ("DELETED", "VOIDED")]
        found = []
        for start in range(0, len(values), WHERE_CHUNK):
            chunk = values[start:start + WHERE_CHUNK]
            where = " OR ".join(f"{field}=={_quote(v)}" for v in chunk)
            if module == "Contacts":
                where = f'ContactStatus=="ACTIVE" AND ({where})'
            found.extend(self.client.all(module, where=where, params=self._params(module)
                                         if module != "Contacts" else {}))
        return [normalise_xero(r) for r in found]

    def create(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        if module == "Accounts":
            # Xero creates accounts one bare object at a time (PUT /Accounts, FACTS.md §4).
            results = [_write_result(self.client.put_one("Accounts", _xero_body(r.record)), normalise=True)
                       for r in requests]
            self._unpaged_cache.pop("Accounts", None)
            return results
        return self._save(module, requests, "PUT" if module == "Payments" else "POST")

    def update(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        if module == "Accounts":
            # ... and updates them one at a time too (POST /Accounts/{AccountID}).
            results = [_write_result(self.client.save_one("Accounts", str(r.record["AccountID"]),
                                                          _xero_body(r.record)), normalise=True) for r in requests]
            self._unpaged_cache.pop("Accounts", None)
            return results
        return self._save(module, requests, "POST")

    def _save(self, module: str, requests: Sequence[WriteRequest], method: str) -> list[WriteResult]:
        if not requests:
            return []
        records = [_xero_body(r.record) for r in requests]
        key = "zx-" + hashlib.sha256("|".join(r.idempotency_key for r in requests).encode()).hexdigest()
        results = self.client.save_batch(module, records, method=method, idempotency_key=key,
                                         params=self._params(module))
        if module in ("Items", "Accounts"):
            self._unpaged_cache.pop(module, None)
        return [_write_result(result, normalise=True) for result in results]

    def remove(self, module: str, requests: Sequence[RemoveRequest]) -> list[WriteResult]:
        results: list[WriteResult] = []
        if module == "Items":
            for request in requests:
                try:
                    self.client.delete("Items", request.id)
                    results.append(WriteResult(id=request.id))
                except NotFound:
                    results.append(WriteResult(id=request.id))  # already gone: the goal is reached
                except (Invalid, ConnectorError) as error:
                    if not error.retryable:
                        results.append(WriteResult(error=error))
                    else:
                        raise
            self._unpaged_cache.pop("Items", None)
            return results
        id_field = XERO_ID_FIELD[module]
        body = []
        for request in requests:
            change = XERO_REMOVE.get((module, request.action))
            if change is None:
                raise ValueError(f"Xero cannot {request.action} {module}")
            body.append({id_field: request.id, **change})
        if module in ("Payments", "Accounts"):
            # One object per call: POST /Payments/{id} and POST /Accounts/{id} (FACTS.md §4).
            for request, item in zip(requests, body, strict=True):
                result = self.client.save_one(module, request.id, item)
                results.append(_write_result(result, normalise=True))
            return results
        key = "zx-" + hashlib.sha256("|".join(r.idempotency_key for r in requests).encode()).hexdigest()
        saved = self.client.save_batch(module, body, method="POST", idempotency_key=key)
        return [_write_result(result, normalise=True) for result in saved]

    def organisation(self) -> Record:
        organisation: Record = normalise_xero(self.client.organisation())
        return organisation

    def tax_rates(self) -> list[Record]:
        rates: list[Record] = normalise_xero(self.client.all("TaxRates"))
        return rates


def _xero_since(since: datetime) -> str:
    from portal.connectors.xero.dates import if_modified_since_header

    return if_modified_since_header(since)


def _xero_body(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the engine builds is already in Xero's field names; only drop values Xero computes itself."""
    return {k: v for k, v in record.items() if k not in ("UpdatedDateUTC", "HasValidationErrors")}


def _write_result(result: RecordResult, normalise: bool = False) -> WriteResult:
    if result.ok:
        record = normalise_xero(result.record) if (normalise and result.record) else result.record
        return WriteResult(id=result.remote_id, record=record)
    message = result.message or "refused"
    return WriteResult(error=Invalid(message, tuple(result.errors)))


# --- Zoho ----------------------------------------------------------------------------------------------------

# Fields the engine reads directly, beyond those the mapping names (portal/sync/engine.py, specs.py).
ZOHO_BASELINE_FIELDS: dict[str, tuple[str, ...]] = {
    "Accounts": ("Account_Name", "Account_Number", "Modified_Time"),
    "Contacts": ("First_Name", "Last_Name", "Email", "Account_Name", "Modified_Time"),
    "Products": ("Product_Name", "Product_Code", "Unit_Price", "Modified_Time"),
    "Invoices": ("Subject", "Invoice_Number", "Status", "Grand_Total", "Sub_Total", "Adjustment", "Discount",
                 "Invoice_Date", "Due_Date", "Account_Name", "Contact_Name", "Modified_Time"),
    "Deals": ("Deal_Name", "Stage", "Amount", "Closing_Date", "Account_Name", "Contact_Name", "Modified_Time"),
    "Xero_Accounts": ("Name", "Modified_Time"),
}
# Upsert keys that make a repeated create harmless (the system-unique fields, FACTS.md §3 "Upsert").
ZOHO_UPSERT_KEYS: dict[str, tuple[str, ...]] = {
    "Accounts": ("Account_Name",),
    "Contacts": ("Email",),
    "Products": ("Product_Name",),
    "Invoices": ("Subject",),
    "Deals": ("Deal_Name",),
    "Xero_Accounts": ("Name",),
}
# Modules whose records carry data that list calls leave out: fetched record by record.
ZOHO_SUBFORM_MODULES = frozenset({"Invoices"})
SUBFORM_TYPES = frozenset({"subform", "multi_module_lookup"})


class ZohoPortAdapter:
    max_write_batch = 100
    max_read_ids = 100

    def __init__(self, client: ZohoClient, org_id: str, *, mapped_fields: Mapping[str, Iterable[str]] | None = None,
                 won_deal_stage: str = "Closed Won") -> None:
        self.client = client
        self.org_id = org_id
        self.mapped_fields = {module: set(fields) for module, fields in (mapped_fields or {}).items()}
        self.won_deal_stage = won_deal_stage
        self._field_cache: dict[str, list[dict[str, Any]]] = {}

    def _metadata(self, module: str) -> list[dict[str, Any]]:
        if module not in self._field_cache:
            self._field_cache[module] = self.client.fields(module)
        return self._field_cache[module]

    def _fields(self, module: str) -> list[str]:
        """The fields to ask for: what the engine and the mapping read, that the org's metadata knows,
        without subforms (lists leave those out; they come with the record-by-record read)."""
        known = {f["api_name"]: f for f in self._metadata(module)}
        wanted = set(ZOHO_BASELINE_FIELDS.get(module, ())) | self.mapped_fields.get(module, set())
        top = {name.split(".", 1)[0].split("[", 1)[0] for name in wanted if not name.startswith("$")}
        return sorted(name for name in top if name in known and known[name].get("data_type") not in SUBFORM_TYPES)

    def list_changed(self, module: str, since: datetime | None, cursor: str | None) -> Page:
        params: dict[str, Any] = {"fields": ",".join(["id", *self._fields(module)]), "per_page": PER_PAGE,
                                  "sort_by": "Modified_Time", "sort_order": "asc"}
        page_number, token = _zoho_cursor(cursor)
        params.update({"page_token": token} if token else {"page": page_number})
        headers = {"If-Modified-Since": since.isoformat()} if since else {}
        data = self.client.fetch(module, params, headers, endpoint=f"GET {module}")
        records = data.get("data", [])
        info = data.get("info") or {}
        next_cursor = None
        if info.get("more_records"):
            if token or page_number >= DISCRETE_PAGE_LIMIT:
                next_token = info.get("next_page_token")
                next_cursor = f"t:{next_token}" if next_token else None
            else:
                next_cursor = f"p:{page_number + 1}"
        return Page(self._complete(module, records), next_cursor)

    def _complete(self, module: str, records: list[Record]) -> list[Record]:
        """Add what a list call leaves out: invoice line items, and the products of won deals."""
        if module in ZOHO_SUBFORM_MODULES:
            return [self.client.get(module, str(record["id"])) for record in records]
        if module == "Deals":
            for record in records:
                if record.get("Stage") == self.won_deal_stage and "Products" not in record:
                    record["Products"] = self._deal_products(str(record["id"]))
        return records

    def _deal_products(self, deal_id: str) -> list[Record]:
        data = self.client.fetch(f"Deals/{deal_id}/Products",
                                 {"fields": "Product_Name,Product_Code,Unit_Price,Description"},
                                 {}, endpoint="GET Deals/{id}/Products")
        products: list[Record] = data.get("data", [])
        return products

    def count(self, module: str, since: datetime | None) -> int:
        headers = {"If-Modified-Since": since.isoformat()} if since else {}
        data = self.client.fetch(f"{module}/actions/count", {}, headers, endpoint=f"GET {module}/actions/count")
        return int(data.get("count", 0))

    def get_by_ids(self, module: str, ids: Sequence[str]) -> list[Record]:
        if not ids:
            return []
        if module in ZOHO_SUBFORM_MODULES:
            found = []
            for record_id in ids:
                try:
                    found.append(self.client.get(module, str(record_id)))
                except NotFound:
                    continue
            return found
        return self._complete(module, self.client.by_ids(module, [str(i) for i in ids], self._fields(module)))

    def search(self, module: str, field: str, values: Sequence[str]) -> list[Record]:
        values = [v for v in dict.fromkeys(str(v) for v in values) if v]
        found: list[Record] = []
        for start in range(0, len(values), 100):  # `in` takes at most 100 values (FACTS.md §3)
            chunk = values[start:start + 100]
            criteria = f"({field}:in:{','.join(_escape_criteria(v) for v in chunk)})"
            found.extend(self.client.search(module, criteria=criteria, fields=["id", *self._fields(module)]))
        # Zoho's `equals` behaves like contains on text: keep exact (case-insensitive) matches only.
        wanted = {v.casefold() for v in values}
        return [r for r in found if str(_top(r.get(field)) or "").casefold() in wanted]

    def list_deleted(self, module: str, since: datetime | None) -> list[str]:
        return [str(item["id"]) for item in self.client.deleted(module, modified_since=since)]

    def _typed(self, module: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Zoho refuses numbers sent as strings (INVALID_DATA, expected_data_type currency): write each value in
        its field's JSON type, subform lines included."""
        types = {f["api_name"]: f.get("data_type") for f in self._metadata(module)}
        typed: dict[str, Any] = {}
        for key, value in record.items():
            kind = types.get(key)
            if kind == "subform" and isinstance(value, list):
                typed[key] = [self._typed(key, line) if isinstance(line, Mapping) else line for line in value]
            elif kind == "linetax" and isinstance(value, list):
                typed[key] = [{**tax, "percentage": _zoho_value("double", tax.get("percentage"))}
                              if isinstance(tax, Mapping) else tax for tax in value]
            else:
                typed[key] = _zoho_value(kind, value)
        return typed

    def create(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        records = [self._typed(module, r.record) for r in requests]
        keys = ZOHO_UPSERT_KEYS.get(module)
        if keys and all(record.get(keys[0]) for record in records):
            # Zoho has no idempotency key: an upsert on the system-unique field makes a repeated create (after a
            # lost answer) update the record it created instead of adding a second one.
            results = self.client.upsert(module, records, duplicate_check_fields=keys)
        else:
            results = self.client.create(module, records)
        return self._read_back(module, [_zoho_result(result) for result in results])

    def update(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        records = [self._typed(module, r.record) for r in requests]
        return self._read_back(module, [_zoho_result(result) for result in self.client.update(module, records)])

    def _read_back(self, module: str, results: list[WriteResult]) -> list[WriteResult]:
        """Zoho answers writes with ids only, and may store something else than what was sent (autonumbers such
        as Invoice_Number, rounding, formulas): read the written records back, so that the engine's idea of
        "what Zoho holds now" is what Zoho holds. One call per 100 records (per invoice, for its lines)."""
        ids = [result.id for result in results if result.ok and result.id]
        if not ids:
            return results
        stored = {str(record["id"]): record for record in self.get_by_ids(module, ids)}
        return [WriteResult(id=r.id, record=stored.get(str(r.id), r.record)) if r.ok else r for r in results]

    def remove(self, module: str, requests: Sequence[RemoveRequest]) -> list[WriteResult]:
        results = self.client.delete(module, [r.id for r in requests])
        return [_zoho_result(result) for result in results]

    def fields(self, module: str) -> list[FieldInfo]:
        return [zoho_field_info(field) for field in self._metadata(module)]

    def taxes(self) -> list[Record]:
        return [{"name": tax["name"], "percentage": tax.get("value")} for tax in self.client.taxes()]


ZOHO_DECIMAL_TYPES = frozenset({"double", "currency", "percent", "decimal"})
ZOHO_INTEGER_TYPES = frozenset({"integer", "bigint"})


def _zoho_value(kind: str | None, value: Any) -> Any:
    if value is None or isinstance(value, bool) or kind is None:
        return value
    try:
        if kind in ZOHO_DECIMAL_TYPES and isinstance(value, str | Decimal):
            return float(value)
        if kind in ZOHO_INTEGER_TYPES and isinstance(value, str | Decimal | float):
            return int(Decimal(str(value)))
    except (ValueError, ArithmeticError):
        return value  # let Zoho say what is wrong with it, in its own words
    return value


def _zoho_cursor(cursor: str | None) -> tuple[int, str | None]:
    if not cursor:
        return 1, None
    kind, _, value = cursor.partition(":")
    return (1, value) if kind == "t" else (int(value), None)


def _escape_criteria(value: str) -> str:
    # Zoho: commas, parentheses and a trailing backslash are escaped with a backslash (FACTS.md §3 "Search").
    escaped = value.replace("\\", "\\\\").replace(",", "\\,").replace("(", "\\(").replace(")", "\\)")
    return escaped


def _top(value: Any) -> Any:
    return value.get("name") if isinstance(value, dict) else value


def _zoho_result(result: RecordResult) -> WriteResult:
    if result.ok:
        details = result.record or {}
        return WriteResult(id=result.remote_id, record={"id": result.remote_id,
                                                        "Modified_Time": details.get("Modified_Time")})
    first = result.errors[0] if result.errors else FieldError("refused")
    return WriteResult(error=Invalid(result.message or first.message, tuple(result.errors), code=first.code))


def zoho_field_info(field: Mapping[str, Any]) -> FieldInfo:
    lookup = field.get("lookup") or {}
    return FieldInfo(
        api_name=str(field["api_name"]),
        data_type=str(field.get("data_type", "text")),
        label=str(field.get("field_label") or field.get("display_label") or field["api_name"]),
        custom=bool(field.get("custom_field")),
        mandatory=bool(field.get("system_mandatory")),
        read_only=bool(field.get("read_only")),
        picklist_values=tuple(str(v.get("display_value")) for v in field.get("pick_list_values") or []),
        lookup_module=(lookup.get("module") or {}).get("api_name") if isinstance(lookup, dict) else None,
        max_length=field.get("length"),
    )
