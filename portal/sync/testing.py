"""In-memory fakes of both ports, for engine unit tests and the CPU benchmark.

They behave like the real services where the engine's correctness depends on it (FACTS.md): Xero computes
line amounts and tax per line, refuses edits to paid/voided invoices and documents dated on or before the lock
date, keeps contact names unique among active contacts and item codes unique, archives contacts instead of
deleting them, answers batches with one result per record (``summarizeErrors=false``) and replays a repeated
``Idempotency-Key``; Zoho refuses records without their mandatory fields, checks unique fields,
returns lookups as ``{"id", "name"}`` and does not echo written records. Both can inject call-level faults
(transient errors, rate limits, a lost response after the write happened) and per-record validation errors,
and count every call.

"Users" edit either side with :meth:`FakeXero.edit` / :meth:`FakeZoho.edit`, which bump the record's version
the way the real systems do.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from portal.connectors.errors import (
    ConnectorError,
    FieldError,
    Invalid,
    NotFound,
    RateLimited,
    Transient,
)
from portal.sync.engine import SyncEvent
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

CENT = Decimal("0.01")


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class FakeClock:
    """A clock that moves only when told to (or by one second per remote write, so versions are ordered)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1.0) -> datetime:
        self.now = self.now + timedelta(seconds=seconds)
        return self.now


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[SyncEvent] = []

    def emit(self, event: SyncEvent) -> None:
        self.events.append(event)

    def of_kind(self, kind: str) -> list[SyncEvent]:
        return [e for e in self.events if e.kind == kind]


@dataclass
class _Fault:
    kind: str  # transient | rate_limit | lost_response | auth
    op: str | None
    module: str | None
    times: int
    retry_after: float = 30.0


@dataclass
class _Base:
    clock: FakeClock
    calls: Counter[str] = field(default_factory=Counter)  # "create:Contacts" -> calls
    written: Counter[str] = field(default_factory=Counter)  # records written per "op:module"
    faults: list[_Fault] = field(default_factory=list)
    record_faults: list[tuple[Callable[[str, str, Record], bool], ConnectorError]] = field(
        default_factory=list
    )
    page_size: int = 100

    def fail_next(
        self,
        kind: str,
        *,
        op: str | None = None,
        module: str | None = None,
        times: int = 1,
        retry_after: float = 30.0,
    ) -> None:
        """The next ``times`` calls of ``op`` on ``module`` fail with ``kind``. ``lost_response`` performs the
        write and then fails, as a timeout after the server committed would."""
        self.faults.append(_Fault(kind, op, module, times, retry_after))

    def fail_records(self, predicate: Callable[[str, str, Record], bool], error: ConnectorError) -> None:
        """Records for which ``predicate(op, module, record)`` holds are refused with ``error``, each time."""
        self.record_faults.append((predicate, error))

    def _fault(self, op: str, module: str) -> _Fault | None:
        for fault in self.faults:
            if (fault.op in (None, op)) and (fault.module in (None, module)) and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _before(self, op: str, module: str) -> _Fault | None:
        self.calls[f"{op}:{module}"] += 1
        fault = self._fault(op, module)
        if fault is None:
            return None
        if fault.kind == "transient":
            raise Transient("503 Service Unavailable")
        if fault.kind == "rate_limit":
            raise RateLimited("429 Too Many Requests", retry_after=fault.retry_after)
        if fault.kind == "auth":
            from portal.connectors.errors import AuthExpired

            raise AuthExpired("TokenExpired: token expired")
        return fault  # lost_response: raised after the write

    def _record_fault(self, op: str, module: str, record: Record) -> ConnectorError | None:
        for predicate, error in self.record_faults:
            if predicate(op, module, record):
                return error
        return None

    @property
    def write_calls(self) -> int:
        return sum(n for k, n in self.calls.items() if k.split(":")[0] in ("create", "update", "remove"))

    @property
    def records_written(self) -> int:
        return sum(self.written.values())

    def _stamp(self) -> str:
        return self.clock.tick().isoformat()


# --- Xero ---------------------------------------------------------------------------------------------------


class FakeXero(_Base):
    max_write_batch = 50
    max_read_ids = 100

    def __init__(
        self,
        clock: FakeClock | None = None,
        tenant_id: str = "xero-org-1",
        *,
        period_lock_date: str | None = None,
        tax_rates: list[Record] | None = None,
    ) -> None:
        super().__init__(clock=clock or FakeClock())
        self.tenant_id = tenant_id
        self.data: dict[str, dict[str, Record]] = {m: {} for m in XERO_ID_FIELD}
        self.org: Record = {
            "OrganisationID": tenant_id,
            "Name": "Demo Ltd",
            "BaseCurrency": "GBP",
            "PeriodLockDate": period_lock_date,
            "EndOfYearLockDate": None,
            "DefaultSalesTax": "Tax Exclusive",
        }
        self.rates = (
            tax_rates
            if tax_rates is not None
            else [
                {
                    "Name": "20% (VAT on Income)",
                    "TaxType": "OUTPUT2",
                    "EffectiveRate": 20,
                    "Status": "ACTIVE",
                    "CanApplyToRevenue": True,
                },
                {
                    "Name": "5% (VAT on Income)",
                    "TaxType": "RROUTPUT",
                    "EffectiveRate": 5,
                    "Status": "ACTIVE",
                    "CanApplyToRevenue": True,
                },
                {
                    "Name": "Zero Rated Income",
                    "TaxType": "ZERORATEDOUTPUT",
                    "EffectiveRate": 0,
                    "Status": "ACTIVE",
                    "CanApplyToRevenue": True,
                },
                {
                    "Name": "No VAT",
                    "TaxType": "NONE",
                    "EffectiveRate": 0,
                    "Status": "ACTIVE",
                    "CanApplyToRevenue": True,
                },
            ]
        )
        self._ids = itertools.count(1)
        self._numbers = itertools.count(1)
        self._idempotency: dict[str, tuple[str, WriteResult]] = {}

    # reads --------------------------------------------------------------------------------------------------

    def organisation(self) -> Record:
        self.calls["get:Organisation"] += 1
        return copy.deepcopy(self.org)

    def tax_rates(self) -> list[Record]:
        self.calls["get:TaxRates"] += 1
        return copy.deepcopy(self.rates)

    def _visible(self, module: str) -> list[Record]:
        return sorted(
            self.data[module].values(), key=lambda r: (r["UpdatedDateUTC"], r[XERO_ID_FIELD[module]])
        )

    def list_changed(self, module: str, since: datetime | None, cursor: str | None) -> Page:
        self._before("list", module)
        records = [
            r
            for r in self._visible(module)
            if since is None or datetime.fromisoformat(r["UpdatedDateUTC"]) > since
        ]
        page = int(cursor or 1)
        chunk = records[(page - 1) * self.page_size : page * self.page_size]
        more = page * self.page_size < len(records)
        return Page([self._read(module, r) for r in chunk], str(page + 1) if more else None)

    def count(self, module: str, since: datetime | None) -> int:
        self._before("count", module)
        return sum(
            1
            for r in self.data[module].values()
            if since is None or datetime.fromisoformat(r["UpdatedDateUTC"]) > since
        )

    def get_by_ids(self, module: str, ids: Sequence[str]) -> list[Record]:
        self._before("get", module)
        return [self._read(module, self.data[module][i]) for i in ids if i in self.data[module]]

    def find(self, module: str, field_name: str, values: Sequence[str]) -> list[Record]:
        self._before("find", module)
        wanted = {str(v).casefold() for v in values}
        found = []
        for record in self.data[module].values():
            if module == "Contacts" and record.get("ContactStatus") != "ACTIVE":
                continue
            if str(record.get(field_name) or "").casefold() in wanted and record.get(field_name):
                found.append(self._read(module, record))
        return found

    def _read(self, module: str, record: Record) -> Record:
        result = copy.deepcopy(record)
        if module == "Contacts":
            result["Balances"] = self._balances(record["ContactID"])
        return result

    def _balances(self, contact_id: str) -> Record:
        today = self.clock().date().isoformat()
        outstanding = overdue = Decimal(0)
        for invoice in self.data["Invoices"].values():
            if (
                invoice.get("Contact", {}).get("ContactID") != contact_id
                or invoice.get("Status") != "AUTHORISED"
            ):
                continue
            due = _money(invoice.get("AmountDue"))
            outstanding += due
            if str(invoice.get("DueDate") or "9999")[:10] < today:
                overdue += due
        return {"AccountsReceivable": {"Outstanding": float(outstanding), "Overdue": float(overdue)}}

    # writes -------------------------------------------------------------------------------------------------

    def create(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        return self._write("create", module, requests)

    def update(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        return self._write("update", module, requests)

    def _write(self, op: str, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        if len(requests) > self.max_write_batch:
            raise Invalid(f"at most {self.max_write_batch} elements per request")
        fault = self._before(op, module)
        results = []
        for request in requests:
            fingerprint = json.dumps(request.record, sort_keys=True, default=str)
            # Xero: the same Idempotency-Key with the same request replays the stored response (FACTS.md §3).
            if request.idempotency_key in self._idempotency:
                stored_fingerprint, stored = self._idempotency[request.idempotency_key]
                if stored_fingerprint == fingerprint:
                    results.append(stored)
                    continue
                results.append(
                    WriteResult(
                        error=Invalid(
                            f"Idempotency Key: {request.idempotency_key} is used with a different request."
                        )
                    )
                )
                continue
            error = self._record_fault(op, module, request.record)
            if error is None:
                try:
                    saved = self._save(op, module, copy.deepcopy(request.record))
                    result = WriteResult(id=saved[XERO_ID_FIELD[module]], record=self._read(module, saved))
                    self.written[f"{op}:{module}"] += 1
                except ConnectorError as refused:
                    result = WriteResult(error=refused)
            else:
                result = WriteResult(error=error)
            if result.error is None or not result.error.retryable:
                # A transient failure is not kept for replay, so a retry with the same key can succeed.
                self._idempotency[request.idempotency_key] = (fingerprint, result)
            results.append(result)
        if fault is not None and fault.kind == "lost_response":
            raise Transient("timeout: the response was lost")
        return results

    def _save(self, op: str, module: str, record: Record) -> Record:
        id_field = XERO_ID_FIELD[module]
        if op == "update":
            existing = self.data[module].get(str(record.get(id_field)))
            if existing is None:
                raise NotFound(f"The resource you're looking for cannot be found ({record.get(id_field)})")
            merged = {**copy.deepcopy(existing), **record}
        else:
            record.pop(id_field, None)
            existing = None
            merged = record
            merged[id_field] = f"{module[:3].lower()}-{next(self._ids):06d}"
        getattr(self, f"_check_{module.lower()}")(merged, existing)
        merged["UpdatedDateUTC"] = self._stamp()
        self.data[module][merged[id_field]] = merged
        return merged

    def _check_contacts(self, contact: Record, existing: Record | None) -> None:
        name = str(contact.get("Name") or "").strip()
        if not name:
            raise Invalid(details=[FieldError("The contact name is required.", "Name")])
        contact.setdefault("ContactStatus", "ACTIVE")
        for other in self.data["Contacts"].values():
            if (
                other["ContactID"] != contact["ContactID"]
                and other.get("ContactStatus") == "ACTIVE"
                and str(other.get("Name", "")).casefold() == name.casefold()
                and contact["ContactStatus"] == "ACTIVE"
            ):
                raise Invalid(
                    details=[
                        FieldError(
                            f"The contact name {name} is already assigned to another contact. "
                            "The contact name must be unique across all active contacts.",
                            "Name",
                        )
                    ]
                )
        if len(contact.get("ContactPersons") or []) > 5:
            raise Invalid(
                details=[FieldError("A contact can have at most 5 contact persons.", "ContactPersons")]
            )

    def _check_items(self, item: Record, existing: Record | None) -> None:
        code = str(item.get("Code") or "")
        if not code or len(code) > 30:
            raise Invalid(details=[FieldError("Item code is required and at most 30 characters.", "Code")])
        if len(str(item.get("Name") or "")) > 50:
            raise Invalid(details=[FieldError("Item name must be at most 50 characters.", "Name")])
        for other in self.data["Items"].values():
            if other["ItemID"] != item["ItemID"] and other["Code"] == code:
                raise Invalid(
                    details=[FieldError(f"Price List Item with Code '{code}' already exists", "Code")]
                )

    def _check_accounts(self, account: Record, existing: Record | None) -> None:
        for other in self.data["Accounts"].values():
            if other["AccountID"] != account["AccountID"] and other.get("Status") != "DELETED":
                if other.get("Code") == account.get("Code"):
                    raise Invalid(details=[FieldError("Please enter a unique Code.", "Code")])
                if other.get("Name") == account.get("Name"):
                    raise Invalid(details=[FieldError("Please enter a unique Name.", "Name")])
        account.setdefault("Status", "ACTIVE")

    def _check_invoices(self, invoice: Record, existing: Record | None) -> None:
        if existing is not None:
            status = existing.get("Status")
            if _money(existing.get("AmountPaid")) > 0 or status == "PAID":
                raise Invalid(
                    "This document cannot be edited as it has a payment or credit note allocated to it."
                )
            if status in ("VOIDED", "DELETED"):
                raise Invalid("Invoice not of valid status for modification")
        contact_id = (invoice.get("Contact") or {}).get("ContactID")
        contact = self.data["Contacts"].get(str(contact_id))
        if contact is None:
            raise Invalid(
                "The Contact must contain at least 1 of the following elements to identify the contact: "
                "Name, ContactID, ContactNumber"
            )
        if contact.get("ContactStatus") == "ARCHIVED":
            raise Invalid(
                f"The contact {contact['Name']} has been archived. The contact must be un-archived before "
                "creating new invoices or credit notes."
            )
        invoice.setdefault("Type", "ACCREC")
        invoice.setdefault("Status", "DRAFT")
        invoice.setdefault("LineAmountTypes", "Exclusive")
        invoice.setdefault("Date", self.clock().date().isoformat())
        if invoice["Status"] not in ("DRAFT", "SUBMITTED"):
            # Xero: drafts reportedly still save inside a locked period (FACTS.md §4 Lock dates, verify).
            self._check_lock_date(str(invoice["Date"]))
        number = invoice.get("InvoiceNumber")
        if not number:
            invoice["InvoiceNumber"] = f"INV-{next(self._numbers):04d}"
        elif invoice["Type"] == "ACCREC":
            for other in self.data["Invoices"].values():
                if (
                    other["InvoiceID"] != invoice["InvoiceID"]
                    and other.get("InvoiceNumber") == number
                    and other.get("Type") == "ACCREC"
                ):
                    raise Invalid("Invoice # must be unique.")
        for code in [line.get("ItemCode") for line in invoice.get("LineItems") or [] if line.get("ItemCode")]:
            if not any(item["Code"] == code for item in self.data["Items"].values()):
                raise Invalid(f"Item code '{code}' is not valid")
        self._compute_totals(invoice)

    def _check_lock_date(self, document_date: str) -> None:
        lock = self.org.get("PeriodLockDate")
        if lock and date.fromisoformat(document_date[:10]) <= date.fromisoformat(lock):
            shown = date.fromisoformat(lock).strftime("%d-%b-%Y")
            raise Invalid(
                f"The document date cannot be before the period lock date, currently set at {shown}"
            )

    def _compute_totals(self, invoice: Record) -> None:
        """Xero: LineAmount per line, tax per line rounded to 2 dp, then summed (FACTS.md §4 Rounding)."""
        mode = invoice.get("LineAmountTypes", "Exclusive")
        rates = {r["TaxType"]: _money(r["EffectiveRate"]) / 100 for r in self.rates}
        sub_total = total_tax = Decimal(0)
        for line in invoice.get("LineItems") or []:
            line.setdefault("LineItemID", f"line-{next(self._ids):06d}")
            quantity = _money(line.get("Quantity") or 1)
            unit = _money(line.get("UnitAmount"))
            if line.get("DiscountRate"):
                amount = _round(quantity * unit * (100 - _money(line["DiscountRate"])) / 100)
            else:
                amount = _round(quantity * unit - _money(line.get("DiscountAmount")))
            rate = rates.get(str(line.get("TaxType")), Decimal(0)) if mode != "NoTax" else Decimal(0)
            tax = _round(amount * rate) if mode == "Exclusive" else _round(amount - amount / (1 + rate))
            line["LineAmount"] = float(amount)
            line["TaxAmount"] = float(tax)
            sub_total += amount if mode != "Inclusive" else amount - tax
            total_tax += tax
        total = sub_total + total_tax
        paid = _money(invoice.get("AmountPaid"))
        invoice.update(
            SubTotal=float(sub_total),
            TotalTax=float(total_tax),
            Total=float(total),
            AmountPaid=float(paid),
            AmountDue=float(total - paid),
        )

    def _check_payments(self, payment: Record, existing: Record | None) -> None:
        invoice = self.data["Invoices"].get(str((payment.get("Invoice") or {}).get("InvoiceID")))
        if invoice is None or invoice.get("Status") != "AUTHORISED":
            raise Invalid("Payments can only be made against Authorised documents")
        amount = _money(payment.get("Amount"))
        if amount > _money(invoice.get("AmountDue")):
            raise Invalid("Payment amount exceeds the amount outstanding on this document")
        self._check_lock_date(str(payment.get("Date") or self.clock().date().isoformat()))
        payment.setdefault("Status", "AUTHORISED")
        payment.setdefault("Date", self.clock().date().isoformat())
        payment["Invoice"] = {
            "InvoiceID": invoice["InvoiceID"],
            "InvoiceNumber": invoice["InvoiceNumber"],
            "Contact": {"ContactID": invoice["Contact"]["ContactID"]},
        }
        self._apply_payment(invoice, payment, amount)

    def _apply_payment(self, invoice: Record, payment: Record, amount: Decimal) -> None:
        paid = _money(invoice.get("AmountPaid")) + amount
        due = _money(invoice.get("Total")) - paid
        invoice["AmountPaid"], invoice["AmountDue"] = float(paid), float(due)
        payments = [p for p in invoice.get("Payments") or [] if p["PaymentID"] != payment["PaymentID"]]
        if payment.get("Status") != "DELETED":
            payments.append(
                {"PaymentID": payment["PaymentID"], "Date": payment["Date"], "Amount": payment["Amount"]}
            )
        invoice["Payments"] = payments
        if due == 0 and paid > 0:
            invoice["Status"] = "PAID"
            invoice["FullyPaidOnDate"] = max(p["Date"] for p in payments)
        elif invoice["Status"] == "PAID":
            invoice["Status"] = "AUTHORISED"
            invoice.pop("FullyPaidOnDate", None)
        invoice["UpdatedDateUTC"] = self._stamp()

    def remove(self, module: str, requests: Sequence[RemoveRequest]) -> list[WriteResult]:
        self._before("remove", module)
        results = []
        for request in requests:
            record = self.data[module].get(request.id)
            if record is None:
                results.append(WriteResult(error=NotFound(f"{module} {request.id} not found")))
                continue
            try:
                self._remove_one(module, record, request.action)
            except ConnectorError as error:
                results.append(WriteResult(error=error))
                continue
            self.written[f"remove:{module}"] += 1
            results.append(WriteResult(id=request.id, record=copy.deepcopy(record)))
        return results

    def _remove_one(self, module: str, record: Record, action: RemoveAction) -> None:
        if module in ("Contacts", "Accounts"):
            if action is not RemoveAction.ARCHIVE:
                raise Invalid(f"{module} cannot be deleted, only archived")
            record["ContactStatus" if module == "Contacts" else "Status"] = "ARCHIVED"
        elif module == "Invoices":
            status = record.get("Status")
            if action is RemoveAction.DELETE and status in ("DRAFT", "SUBMITTED"):
                record["Status"] = "DELETED"
            elif (
                action is RemoveAction.VOID
                and status == "AUTHORISED"
                and not _money(record.get("AmountPaid"))
            ):
                record["Status"] = "VOIDED"
            else:
                raise Invalid("Invoice not of valid status for modification")
        elif module == "Payments":
            record["Status"] = "DELETED"
            invoice = self.data["Invoices"][record["Invoice"]["InvoiceID"]]
            self._apply_payment(invoice, record, -_money(record["Amount"]))
        else:
            del self.data[module][record[XERO_ID_FIELD[module]]]
            return
        record["UpdatedDateUTC"] = self._stamp()

    # a user working in Xero ---------------------------------------------------------------------------------

    def add(self, module: str, record: Record) -> Record:
        """A record created by someone in Xero (validated like an API create)."""
        return self._read(module, self._save("create", module, copy.deepcopy(record)))

    def edit(self, module: str, record_id: str, **changes: Any) -> Record:
        record = self.data[module][record_id]
        record.update(copy.deepcopy(changes))
        if module == "Invoices":
            self._compute_totals(record)
        record["UpdatedDateUTC"] = self._stamp()
        return self._read(module, record)

    def pay(self, invoice_id: str, amount: Any, on: str | None = None) -> Record:
        """A payment entered in Xero against an authorised invoice."""
        return self.add(
            "Payments",
            {
                "Invoice": {"InvoiceID": invoice_id},
                "Amount": float(_money(amount)),
                "Date": on or self.clock().date().isoformat(),
                "Account": {"Code": "090"},
            },
        )

    def all(self, module: str, *, active_only: bool = False) -> list[Record]:
        records = list(self.data[module].values())
        if active_only and module == "Contacts":
            records = [r for r in records if r.get("ContactStatus") == "ACTIVE"]
        return [copy.deepcopy(r) for r in records]


# --- Zoho ---------------------------------------------------------------------------------------------------

# Zoho: system-mandatory fields (FACTS.md Zoho §3) and unique fields (§4).
ZOHO_MANDATORY = {
    "Accounts": ("Account_Name",),
    "Contacts": ("Last_Name",),
    "Products": ("Product_Name",),
    "Invoices": ("Subject", "Invoiced_Items"),
    "Deals": ("Deal_Name", "Stage"),
    "Xero_Accounts": ("Name",),
}
ZOHO_UNIQUE = {"Accounts": "Account_Name", "Products": "Product_Name"}
ZOHO_LOOKUPS = {"Account_Name": "Accounts", "Contact_Name": "Contacts", "Product_Name": "Products"}
ZOHO_NAME_FIELD = {
    "Accounts": "Account_Name",
    "Contacts": "Last_Name",
    "Products": "Product_Name",
    "Invoices": "Subject",
    "Deals": "Deal_Name",
    "Xero_Accounts": "Name",
}

ZOHO_FIELDS: dict[str, list[FieldInfo]] = {
    "Accounts": [
        FieldInfo("Account_Name", "text", mandatory=True),
        FieldInfo("Account_Number", "text"),
        FieldInfo("Phone", "phone"),
        FieldInfo("Fax", "phone"),
        FieldInfo("Website", "website"),
        *[
            FieldInfo(f"{p}_{s}", "text")
            for p in ("Billing", "Shipping")
            for s in ("Street", "City", "State", "Code", "Country")
        ],
        FieldInfo("Industry", "picklist", picklist_values=("Retail", "Services", "Manufacturing")),
        FieldInfo("Outstanding_Balance", "currency", custom=True),
        FieldInfo("Overdue_Balance", "currency", custom=True),
        FieldInfo("Last_Payment_Date", "date", custom=True),
        FieldInfo("Xero_Notes", "textarea", custom=True),
    ],
    "Contacts": [
        FieldInfo("First_Name", "text"),
        FieldInfo("Last_Name", "text", mandatory=True),
        FieldInfo("Full_Name", "text", read_only=True),
        FieldInfo("Email", "email"),
        FieldInfo("Phone", "phone"),
        FieldInfo("Mobile", "phone"),
        FieldInfo("Account_Name", "lookup", lookup_module="Accounts"),
        *[
            FieldInfo(f"{p}_{s}", "text")
            for p in ("Mailing", "Other")
            for s in ("Street", "City", "State", "Zip", "Country")
        ],
    ],
    "Products": [
        FieldInfo("Product_Name", "text", mandatory=True),
        FieldInfo("Product_Code", "text"),
        FieldInfo("Unit_Price", "currency"),
        FieldInfo("Description", "textarea"),
        FieldInfo("Product_Active", "boolean"),
    ],
    "Invoices": [
        FieldInfo("Subject", "text", mandatory=True),
        FieldInfo("Invoice_Number", "autonumber"),
        FieldInfo("Account_Name", "lookup", lookup_module="Accounts"),
        FieldInfo("Contact_Name", "lookup", lookup_module="Contacts"),
        FieldInfo("Invoice_Date", "date"),
        FieldInfo("Due_Date", "date"),
        FieldInfo(
            "Status",
            "picklist",
            picklist_values=(
                "Created",
                "Approved",
                "Delivered",
                "Paid",
                "Partially Paid",
                "Overdue",
                "Cancelled",
            ),
        ),
        FieldInfo("Currency", "picklist"),
        FieldInfo("Invoiced_Items", "subform", mandatory=True),
        FieldInfo("Grand_Total", "currency", read_only=True),
        FieldInfo("Adjustment", "currency"),
        FieldInfo("Amount_Paid", "currency", custom=True),
        FieldInfo("Amount_Due", "currency", custom=True),
        FieldInfo("Payment_Status", "picklist", custom=True,
                  picklist_values=("-None-", "Unpaid", "Partially Paid", "Paid", "Overdue", "Voided")),
        FieldInfo("Payment_Date", "date", custom=True),
    ],
    "Deals": [
        FieldInfo("Deal_Name", "text", mandatory=True),
        FieldInfo("Stage", "picklist", mandatory=True),
        FieldInfo("Amount", "currency"),
        FieldInfo("Closing_Date", "date"),
        FieldInfo("Account_Name", "lookup", lookup_module="Accounts"),
    ],
    "Xero_Accounts": [
        FieldInfo("Name", "text", mandatory=True),
        FieldInfo("Account_Code", "text"),
        FieldInfo("Account_Type", "picklist"),
        FieldInfo("Tax_Type", "text"),
        FieldInfo("Description", "textarea"),
    ],
}


class FakeZoho(_Base):
    max_write_batch = 100
    max_read_ids = 100

    def __init__(
        self,
        clock: FakeClock | None = None,
        org_id: str = "zoho-org-1",
        *,
        inclusive_prices: bool = False,
        search_lag: bool = False,
        taxes: Sequence[tuple[str, float]] = (("VAT", 20.0), ("Reduced VAT", 5.0)),
    ) -> None:
        super().__init__(clock=clock or FakeClock())
        self.org_id = org_id
        self.org_taxes = [{"name": name, "percentage": rate} for name, rate in taxes]
        self.data: dict[str, dict[str, Record]] = {m: {} for m in ZOHO_MANDATORY}
        self.deleted: dict[str, list[tuple[str, str]]] = {m: [] for m in ZOHO_MANDATORY}
        self.inclusive_prices = inclusive_prices
        self.search_lag = search_lag  # Zoho: just-written records may not be searchable yet (FACTS.md §8.11)
        self._unindexed: set[str] = set()
        self._ids = itertools.count(4150868000000225013)
        self._invoice_numbers = itertools.count(1)

    def fields(self, module: str) -> list[FieldInfo]:
        self._before("fields", module)
        return list(ZOHO_FIELDS.get(module, []))

    def taxes(self) -> list[Record]:
        self._before("taxes", "org")
        return copy.deepcopy(self.org_taxes)

    def list_changed(self, module: str, since: datetime | None, cursor: str | None) -> Page:
        self._before("list", module)
        records = sorted(self.data[module].values(), key=lambda r: (r["Modified_Time"], r["id"]))
        records = [r for r in records if since is None or datetime.fromisoformat(r["Modified_Time"]) > since]
        start = int(cursor or 0)
        chunk = records[start : start + self.page_size]
        more = start + self.page_size < len(records)
        return Page([copy.deepcopy(r) for r in chunk], str(start + self.page_size) if more else None)

    def count(self, module: str, since: datetime | None) -> int:
        self._before("count", module)
        return sum(
            1
            for r in self.data[module].values()
            if since is None or datetime.fromisoformat(r["Modified_Time"]) > since
        )

    def get_by_ids(self, module: str, ids: Sequence[str]) -> list[Record]:
        self._before("get", module)
        return [copy.deepcopy(self.data[module][i]) for i in ids if i in self.data[module]]

    def search(self, module: str, field_name: str, values: Sequence[str]) -> list[Record]:
        self._before("search", module)
        wanted = {str(v).casefold() for v in values}
        return [
            copy.deepcopy(r)
            for r in self.data[module].values()
            if r["id"] not in self._unindexed
            and str(r.get(field_name) or "").casefold() in wanted
            and r.get(field_name)
        ]

    def list_deleted(self, module: str, since: datetime | None) -> list[str]:
        self._before("deleted", module)
        return [i for i, at in self.deleted[module] if since is None or datetime.fromisoformat(at) > since]

    def create(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        return self._write("create", module, requests)

    def update(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        return self._write("update", module, requests)

    def _write(self, op: str, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        if len(requests) > self.max_write_batch:
            raise Invalid(f"at most {self.max_write_batch} records per request")
        fault = self._before(op, module)
        results = []
        for request in requests:
            error = self._record_fault(op, module, request.record)
            if error is not None:
                results.append(WriteResult(error=error))
                continue
            try:
                saved = self._save(op, module, copy.deepcopy(request.record))
            except ConnectorError as refused:
                results.append(WriteResult(error=refused))
                continue
            self.written[f"{op}:{module}"] += 1
            # Zoho answers with details only (id, Modified_Time), never the record (FACTS.md Zoho §3).
            results.append(
                WriteResult(
                    id=saved["id"], record={"id": saved["id"], "Modified_Time": saved["Modified_Time"]}
                )
            )
        if fault is not None and fault.kind == "lost_response":
            raise Transient("timeout: the response was lost")
        return results

    def _save(self, op: str, module: str, record: Record) -> Record:
        if op == "update":
            existing = self.data[module].get(str(record.get("id")))
            if existing is None:
                raise Invalid(
                    details=[FieldError("the related id given seems to be invalid", "id", "INVALID_DATA")]
                )
            merged = {**copy.deepcopy(existing), **record}
        else:
            merged = {**record, "id": str(next(self._ids))}
        for name in ZOHO_MANDATORY[module]:
            if merged.get(name) in (None, "", []):
                raise Invalid(details=[FieldError("required field not found", name, "MANDATORY_NOT_FOUND")])
        unique = ZOHO_UNIQUE.get(module)
        if unique:
            for other in self.data[module].values():
                if (
                    other["id"] != merged["id"]
                    and str(other.get(unique) or "").casefold() == str(merged.get(unique) or "").casefold()
                ):
                    raise Invalid(details=[FieldError("duplicate data", unique, "DUPLICATE_DATA")])
        self._resolve_lookups(merged)
        if module == "Invoices":
            merged.setdefault("Invoice_Number", f"ZI-{next(self._invoice_numbers):05d}")
            self._compute_totals(merged)
        merged["Modified_Time"] = self._stamp()
        self.data[module][merged["id"]] = merged
        if self.search_lag:
            self._unindexed.add(merged["id"])
        return merged

    def index(self) -> None:
        """Search catches up with the latest writes."""
        self._unindexed.clear()

    def _resolve_lookups(self, record: Record) -> None:
        for name, target in ZOHO_LOOKUPS.items():
            value = record.get(name)
            if isinstance(value, dict) and value.get("id"):
                referenced = self.data[target].get(str(value["id"]))
                if referenced is None:
                    raise Invalid(details=[FieldError("invalid lookup", name, "INVALID_DATA")])
                record[name] = {"id": referenced["id"], "name": referenced.get(ZOHO_NAME_FIELD[target])}
        for line in record.get("Invoiced_Items") or []:
            product = line.get("Product_Name")
            if not isinstance(product, dict) or not product.get("id"):
                raise Invalid(
                    details=[FieldError("required field not found", "Product_Name", "MANDATORY_NOT_FOUND")]
                )
            self._resolve_lookups(line)

    def _compute_totals(self, invoice: Record) -> None:
        sub_total = tax_total = Decimal(0)
        for line in invoice.get("Invoiced_Items") or []:
            total = _round(_money(line.get("Quantity") or 1) * _money(line.get("List_Price")))
            after_discount = total - _money(line.get("Discount"))
            rate = sum((_money(t.get("percentage")) for t in line.get("Line_Tax") or []), Decimal(0)) / 100
            tax = (
                _round(after_discount - after_discount / (1 + rate))
                if self.inclusive_prices
                else _round(after_discount * rate)
            )
            line.update(Total=float(total), Total_After_Discount=float(after_discount), Tax=float(tax))
            sub_total += after_discount
            tax_total += tax
        adjustment = _money(invoice.get("Adjustment"))
        grand = sub_total + adjustment + (Decimal(0) if self.inclusive_prices else tax_total)
        invoice.update(Sub_Total=float(sub_total), Tax=float(tax_total), Grand_Total=float(grand))

    def remove(self, module: str, requests: Sequence[RemoveRequest]) -> list[WriteResult]:
        self._before("remove", module)
        results = []
        for request in requests:
            if request.id not in self.data[module]:
                results.append(WriteResult(error=NotFound(f"record {request.id} not found")))
                continue
            del self.data[module][request.id]
            self.deleted[module].append((request.id, self._stamp()))
            self.written[f"remove:{module}"] += 1
            results.append(WriteResult(id=request.id))
        return results

    # a user working in Zoho CRM -----------------------------------------------------------------------------

    def add(self, module: str, record: Record) -> Record:
        return copy.deepcopy(self._save("create", module, copy.deepcopy(record)))

    def edit(self, module: str, record_id: str, **changes: Any) -> Record:
        return copy.deepcopy(self._save("update", module, {"id": record_id, **copy.deepcopy(changes)}))

    def delete(self, module: str, record_id: str) -> None:
        del self.data[module][record_id]
        self.deleted[module].append((record_id, self._stamp()))

    def all(self, module: str) -> list[Record]:
        return [copy.deepcopy(r) for r in self.data[module].values()]
