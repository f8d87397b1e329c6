"""A tenant's Zoho and Xero metadata, read from the remote systems and cached per tenant with an expiry.

What is cached (one :class:`~portal.models.metadata.MetadataCache` row per side and kind):

* Zoho: ``modules`` (GET /settings/modules) and ``fields:<Module>`` (GET /settings/fields?module=, with custom
  fields and picklist values), kept in Zoho's own shape, trimmed to what the portal reads;
* Xero: ``accounts``, ``tax_rates``, ``currencies`` and ``organisation``.

A page asks for one kind; a missing or expired row (older than ``metadata_cache_ttl_seconds``, 6 hours by default)
is read again from the remote side at that moment, so a page costs at most one call per kind and 6 hours. When the
read fails (rate limit, expired grant, outage) the page gets the stale copy with the error to show, or nothing, and
falls back to the built-in field catalogue (:data:`portal.sync.mapping_defaults.ZOHO_FIELDS`) or free entry.
:func:`refresh` reads every kind again at once (the mapping page's Refresh button).

Why the database and not Redis: see :mod:`portal.models.metadata`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.connectors.errors import ConnectorError
from portal.extensions import db
from portal.models import Connection, MetadataCache, Side, Tenant, utcnow
from portal.services import connections
from portal.services.ports import normalise_xero, zoho_field_info
from portal.sync.mapping_defaults import ZOHO_FIELDS
from portal.sync.ports import FieldInfo

ZOHO_MODULES = ("Accounts", "Contacts", "Products", "Invoices", "Deals", "Xero_Accounts")
XERO_KINDS = ("accounts", "tax_rates", "currencies", "organisation")

# What the portal reads of each remote shape; the rest of Zoho's large field objects is not worth keeping.
_ZOHO_FIELD_KEYS = ("api_name", "data_type", "field_label", "display_label", "custom_field", "system_mandatory",
                    "read_only", "length")
_XERO_KEEP = {
    "accounts": ("AccountID", "Code", "Name", "Type", "Class", "TaxType", "Status", "EnablePaymentsToAccount"),
    "tax_rates": ("Name", "TaxType", "EffectiveRate", "DisplayTaxRate", "Status", "CanApplyToRevenue"),
    "currencies": ("Code", "Description"),
    "organisation": ("OrganisationID", "Name", "BaseCurrency", "CountryCode", "DefaultSalesTax", "SalesTaxBasis",
                     "PeriodLockDate", "EndOfYearLockDate"),
}


@dataclass(frozen=True)
class Cached:
    """One kind of metadata as a page sees it: the value, when it was read, and why it may be old."""

    value: Any
    fetched_at: datetime
    error: str | None = None  # the remote error of a failed re-read: ``value`` is then the last good copy


@dataclass(frozen=True)
class FieldList:
    """The Zoho fields of one module the editor offers: the org's own, or the built-in catalogue."""

    module: str
    fields: tuple[FieldInfo, ...]
    from_zoho: bool
    fetched_at: datetime | None = None
    error: str | None = None

    def by_name(self) -> dict[str, FieldInfo]:
        return {field.api_name: field for field in self.fields}


# --- reading from the remote systems ---------------------------------------------------------------------------


def _trim_zoho_field(field: Mapping[str, Any]) -> dict[str, Any]:
    trimmed = {key: field[key] for key in _ZOHO_FIELD_KEYS if key in field}
    values = field.get("pick_list_values") or []
    if values:
        trimmed["pick_list_values"] = [{"display_value": v.get("display_value"),
                                        "actual_value": v.get("actual_value")} for v in values]
    lookup = field.get("lookup")
    if isinstance(lookup, dict) and isinstance(lookup.get("module"), dict):
        trimmed["lookup"] = {"module": {"api_name": lookup["module"].get("api_name")}}
    return trimmed


def _read_zoho(connection: Connection, kind: str) -> Any:
    client = connections.zoho_client(connection)
    if kind == "modules":
        return [{key: module.get(key) for key in ("api_name", "module_name", "plural_label", "api_supported",
                                                    "generated_type")} for module in client.modules()]
    module = kind.removeprefix("fields:")
    return [_trim_zoho_field(field) for field in client.fields(module)]


def _read_xero(connection: Connection, kind: str) -> Any:
    client = connections.xero_client(connection)
    keep = _XERO_KEEP[kind]
    if kind == "organisation":
        organisation = normalise_xero(client.organisation())
        return {key: organisation.get(key) for key in keep if key in organisation}
    resource = {"accounts": "Accounts", "tax_rates": "TaxRates", "currencies": "Currencies"}[kind]
    return [{key: record.get(key) for key in keep if key in record} for record in client.all(resource)]


_READERS: dict[Side, Callable[[Connection, str], Any]] = {Side.ZOHO: _read_zoho, Side.XERO: _read_xero}


# --- the cache -----------------------------------------------------------------------------------------------


def _ttl() -> timedelta:
    return timedelta(seconds=connections.settings().metadata_cache_ttl_seconds)


def _connected(tenant: Tenant, side: Side) -> Connection | None:
    connection = connections.connection_for(tenant, side)
    return connection if connection.is_connected and connection.remote_org_id else None


def _row(tenant: Tenant, side: Side, kind: str) -> MetadataCache | None:
    return db.session.scalar(select(MetadataCache).where(
        MetadataCache.tenant_id == tenant.id, MetadataCache.side == side.value, MetadataCache.kind == kind))


def _store(tenant: Tenant, side: Side, kind: str, org_id: str, payload: Any) -> MetadataCache:
    row = _row(tenant, side, kind)
    if row is None:
        try:
            with db.session.begin_nested():
                row = MetadataCache(tenant_id=tenant.id, side=side.value, kind=kind, remote_org_id=org_id,
                                    payload=payload, fetched_at=utcnow())
                db.session.add(row)
        except IntegrityError:
            # Another request read the same kind at the same moment: keep one row, with the newer copy.
            row = _row(tenant, side, kind)
    if row is not None:
        row.remote_org_id, row.payload, row.fetched_at = org_id, payload, utcnow()
    db.session.commit()
    assert row is not None
    return row


def get(tenant: Tenant, side: Side, kind: str, *, force: bool = False) -> Cached | None:
    """The cached ``kind`` of ``side``, read again when missing, expired or ``force``d; None when the side is
    not connected (or never answered)."""
    connection = _connected(tenant, side)
    if connection is None:
        return None
    org_id = connection.remote_org_id or ""
    row = _row(tenant, side, kind)
    if row is not None and row.remote_org_id != org_id:
        row = None  # read from an organisation the tenant is no longer connected to
    if row is not None and not force and utcnow() - row.fetched_at < _ttl():
        return Cached(row.payload, row.fetched_at)
    try:
        payload = _READERS[side](connection, kind)
    except ConnectorError as error:
        db.session.rollback()
        if row is None:
            return Cached(None, utcnow(), error=error.message)
        return Cached(row.payload, row.fetched_at, error=error.message)
    row = _store(tenant, side, kind, org_id, payload)
    return Cached(row.payload, row.fetched_at)


def refresh(tenant: Tenant) -> list[str]:
    """Read every kind of both connected sides again now; the errors met, for the page to show."""
    errors: list[str] = []
    kinds = {Side.ZOHO: ("modules", *(f"fields:{m}" for m in ZOHO_MODULES)), Side.XERO: XERO_KINDS}
    for side, side_kinds in kinds.items():
        for kind in side_kinds:
            cached = get(tenant, side, kind, force=True)
            if cached is not None and cached.error:
                errors.append(cached.error)
                break  # the rest of this side would fail the same way and spend the budget for nothing
    return list(dict.fromkeys(errors))


def last_refreshed(tenant: Tenant) -> datetime | None:
    rows = db.session.scalars(select(MetadataCache.fetched_at).where(MetadataCache.tenant_id == tenant.id)).all()
    return min(rows) if rows else None


# --- what pages use ------------------------------------------------------------------------------------------


def zoho_fields(tenant: Tenant, module: str) -> FieldList:
    """The fields of a Zoho module: the org's own (custom fields and picklists included) when Zoho CRM is
    connected and answers, else the built-in catalogue of standard fields."""
    catalogue = ZOHO_FIELDS.get(module, ())
    cached = get(tenant, Side.ZOHO, f"fields:{module}")
    if cached is None or cached.value is None:
        return FieldList(module, _with_record_id(catalogue), from_zoho=False, error=cached.error if cached else None)
    fields = tuple(zoho_field_info(field) for field in cached.value if field.get("api_name"))
    return FieldList(module, _with_record_id(fields), from_zoho=True, fetched_at=cached.fetched_at,
                     error=cached.error)


def _with_record_id(fields: tuple[FieldInfo, ...]) -> tuple[FieldInfo, ...]:
    # Every Zoho record has its id, though /settings/fields does not list it; the defaults copy it to Xero.
    if any(field.api_name == "id" for field in fields):
        return fields
    return (FieldInfo("id", "text", label="Record Id", read_only=True), *fields)


def zoho_picklist(tenant: Tenant, module: str, field_name: str) -> tuple[str, ...] | None:
    """The values of a Zoho picklist as the connected org has them; None when not connected."""
    fields = zoho_fields(tenant, module)
    if not fields.from_zoho:
        return None
    field = fields.by_name().get(field_name)
    return field.picklist_values if field is not None else None


def zoho_module_names(tenant: Tenant) -> set[str] | None:
    cached = get(tenant, Side.ZOHO, "modules")
    if cached is None or cached.value is None:
        return None
    return {str(module.get("api_name")) for module in cached.value}


def xero(tenant: Tenant, kind: str) -> Cached | None:
    """Xero ``accounts``, ``tax_rates``, ``currencies`` or ``organisation`` (None when Xero is not connected)."""
    if kind not in XERO_KINDS:
        raise ValueError(f"unknown Xero metadata {kind!r}")
    return get(tenant, Side.XERO, kind)


def sales_accounts(tenant: Tenant) -> list[dict[str, Any]] | None:
    """Active Xero accounts an invoice line can be posted to (revenue class), or None when unknown."""
    cached = xero(tenant, "accounts")
    if cached is None or cached.value is None:
        return None
    return [a for a in cached.value if a.get("Status", "ACTIVE") == "ACTIVE" and a.get("Code")
            and (a.get("Class") == "REVENUE" or a.get("Type") in ("REVENUE", "SALES", "OTHERINCOME"))]


def sales_tax_rates(tenant: Tenant) -> list[dict[str, Any]] | None:
    """Active Xero tax rates that apply to sales, or None when unknown."""
    cached = xero(tenant, "tax_rates")
    if cached is None or cached.value is None:
        return None
    return [t for t in cached.value if t.get("Status", "ACTIVE") == "ACTIVE" and t.get("TaxType")
            and t.get("CanApplyToRevenue", True)]


def xero_currency_codes(tenant: Tenant) -> tuple[str, ...] | None:
    cached = xero(tenant, "currencies")
    if cached is None or cached.value is None:
        return None
    return tuple(str(c["Code"]) for c in cached.value if c.get("Code"))
