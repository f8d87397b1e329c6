"""The two connector-shaped interfaces the engine is driven through: one for Zoho CRM, one for Xero.

A connector adapter (portal/connectors/zoho, portal/connectors/xero) implements one of these Protocols; the
in-memory fakes in :mod:`portal.sync.testing` implement both for unit tests. Rules every implementation
follows:

* **Plain dicts in the remote system's own field names**: Zoho API names (``Account_Name``,
``Billing_Street``,
  ``Invoiced_Items``, lookups as ``{"id": ..., "name": ...}``), Xero names (``Name``, ``Addresses``,
  ``LineItems``, ``Contact: {"ContactID": ...}``). No mapping, nothing of the other system.
* **Normalised scalars**: dates as ``YYYY-MM-DD`` strings, instants as ISO-8601 strings with an offset
  (Xero's ``/Date(ms+0000)/`` is converted by the Xero connector: FACTS.md §3), numbers as JSON numbers or
  numeric strings (the engine reads them through ``Decimal(str(x))``), ids as strings (Zoho ids have 19
  digits).
* **Record identity and version**: Zoho records carry ``id`` and ``Modified_Time``; Xero records carry their
  ``<Entity>ID`` (``ContactID``, ``ItemID``, ``InvoiceID``, ``PaymentID``, ``AccountID``) and
  ``UpdatedDateUTC``.
* **Batches in, one result per record out, in input order.** Callers never pass more than ``max_write_batch``
  records (Xero 50 with ``summarizeErrors=false``; Zoho 100) or ``max_read_ids`` ids per call. A per-record
  refusal is a :class:`WriteResult` with ``error`` set (never an exception); a whole-call failure raises one
  of
  :mod:`portal.connectors.errors` (``RateLimited``, ``Transient``, ``AuthExpired``, ...).
* **Idempotency**: every :class:`WriteRequest`/:class:`RemoveRequest` carries ``idempotency_key``. The Xero
  connector sends it as the ``Idempotency-Key`` header (one key per HTTP call: derive it from the keys of the
  records in the batch, e.g. their sha256); the Zoho API has none, so the Zoho connector may ignore it.
* **Deletes follow each system's rules**, chosen by the engine and passed as :class:`RemoveAction`: Zoho
records
  are deleted; Xero contacts are archived (Contacts have no DELETE), invoices are set to DELETED
  (draft/submitted)
  or VOIDED (authorised, only when the tenant allows voiding), items and payments are deleted, accounts
  archived.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from portal.connectors.errors import ConnectorError

Record = dict[str, Any]

ZOHO_MODULES = ("Accounts", "Contacts", "Products", "Invoices", "Deals", "Xero_Accounts")
XERO_MODULES = ("Contacts", "Items", "Invoices", "Payments", "Accounts")

# Xero: the id field of each resource (OAS schemas).
XERO_ID_FIELD = {
    "Contacts": "ContactID",
    "Items": "ItemID",
    "Invoices": "InvoiceID",
    "Payments": "PaymentID",
    "Accounts": "AccountID",
}
XERO_VERSION_FIELD = "UpdatedDateUTC"
ZOHO_ID_FIELD = "id"
ZOHO_VERSION_FIELD = "Modified_Time"


class RemoveAction(enum.StrEnum):
    DELETE = "delete"  # Zoho records; Xero items and payments; Xero DRAFT/SUBMITTED invoices (Status DELETED)
    ARCHIVE = "archive"  # Xero contacts (ContactStatus ARCHIVED) and accounts (Status ARCHIVED)
    VOID = "void"  # Xero AUTHORISED invoices without payments (Status VOIDED)


@dataclass(frozen=True)
class WriteRequest:
    """One record to create or update. For updates, ``record`` holds the remote id (``id`` /
    ``ContactID``...)."""

    record: Record
    idempotency_key: str


@dataclass(frozen=True)
class RemoveRequest:
    id: str
    action: RemoveAction
    idempotency_key: str


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one record of a batch. ``record`` is what the remote saved when it echoes it (Xero does;
    Zoho returns ``details`` only, which the connector passes as ``{"id", "Modified_Time"}``)."""

    id: str | None = None
    record: Record | None = None
    error: ConnectorError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Page:
    """One page of a changed-records listing. ``next_cursor`` is opaque to the engine (a Xero page number, a
    Zoho
    ``page_token``...) and None on the last page; it is stored in a run's cursor so a run resumes after a
    crash."""

    records: list[Record]
    next_cursor: str | None = None


@dataclass(frozen=True)
class FieldInfo:
    """Field metadata in a neutral shape (Zoho ``/settings/fields``; Xero fields come from the OAS)."""

    api_name: str
    data_type: (
        str  # Zoho vocabulary: text, email, phone, website, picklist, double, currency, date, lookup, ...
    )
    label: str = ""
    custom: bool = False
    mandatory: bool = False
    read_only: bool = False
    picklist_values: tuple[str, ...] = ()
    lookup_module: str | None = None
    max_length: int | None = None


@runtime_checkable
class ZohoPort(Protocol):
    """Zoho CRM, in Zoho's terms. Modules: Accounts, Contacts, Products, Invoices, Deals, Xero_Accounts."""

    org_id: str  # the Zoho org id (GET /org -> org[0].id); stamped on record links to fence a reconnect
    max_write_batch: int  # 100 (FACTS.md §3 insert/update/delete)
    max_read_ids: int  # 100

    def list_changed(self, module: str, since: datetime | None, cursor: str | None) -> Page:
        """Records modified after ``since`` (If-Modified-Since), oldest first, ``fields`` chunked,
        per_page=200,
        ``page_token`` past 2,000 records. Invoices carry ``Invoiced_Items`` (the connector fetches them)."""
        ...

    def count(self, module: str, since: datetime | None) -> int:
        """How many records ``list_changed`` would return (for previews)."""
        ...

    def get_by_ids(self, module: str, ids: Sequence[str]) -> list[Record]:
        """The full records (subforms included) of the ids that exist; missing ids are simply absent."""
        ...

    def search(self, module: str, field: str, values: Sequence[str]) -> list[Record]:
        """Records whose ``field`` equals one of ``values`` (criteria ``(field:in:...)``, or the ``email``
        parameter for Email). Search may lag just-written records (FACTS.md §8.11): the engine never relies on
        it for its own writes, it uses record links for those."""
        ...

    def list_deleted(self, module: str, since: datetime | None) -> list[str]:
        """Ids deleted after ``since`` (GET /{module}/deleted)."""
        ...

    def create(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]: ...

    def update(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]: ...

    def remove(self, module: str, requests: Sequence[RemoveRequest]) -> list[WriteResult]: ...

    def fields(self, module: str) -> list[FieldInfo]:
        """Standard and custom fields with types and picklist values (GET /settings/fields?module=)."""
        ...

    def taxes(self) -> list[Record]:
        """The org's taxes as ``{"name", "percentage"}`` (GET /org/taxes): an invoice line may only name one
        of these in ``Line_Tax``."""
        ...


@runtime_checkable
class XeroPort(Protocol):
    """One Xero organisation, in Xero's terms. Modules: Contacts, Items, Invoices, Payments, Accounts."""

    tenant_id: str  # the Xero organisation's tenantId (xero-tenant-id header); stamped on record links
    max_write_batch: int  # 50 (FACTS.md §3: "about 50 elements per request")
    max_read_ids: int

    def list_changed(self, module: str, since: datetime | None, cursor: str | None) -> Page:
        """Records with UpdatedDateUTC after ``since`` (If-Modified-Since), archived contacts included,
        invoices
        with their LineItems (``page`` given, FACTS.md §3), largest page size."""
        ...

    def count(self, module: str, since: datetime | None) -> int: ...

    def get_by_ids(self, module: str, ids: Sequence[str]) -> list[Record]:
        """Full records (Contacts with ``Balances``) for ids that exist (``IDs=`` where Xero has it)."""
        ...

    def find(self, module: str, field: str, values: Sequence[str]) -> list[Record]:
        """Match lookups on the fields Xero filters efficiently: Contacts by ``Name``, ``EmailAddress``,
        ``AccountNumber``, ``ContactNumber``; Items and Accounts by ``Code``; Invoices by ``InvoiceNumber``.
        Active records only (an archived contact is no match: it cannot take new invoices, FACTS.md §4)."""
        ...

    def create(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]: ...

    def update(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]: ...

    def remove(self, module: str, requests: Sequence[RemoveRequest]) -> list[WriteResult]: ...

    def organisation(self) -> Record:
        """GET /Organisation: ``OrganisationID``, ``BaseCurrency``, ``PeriodLockDate``, ``EndOfYearLockDate``
        (``YYYY-MM-DD``), ``DefaultSalesTax``..."""
        ...

    def tax_rates(self) -> list[Record]:
        """GET /TaxRates: ``Name``, ``TaxType``, ``EffectiveRate``, ``Status``, ``CanApplyToRevenue``."""
        ...


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]
