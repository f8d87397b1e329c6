"""The sync engine: moves batches of records between Zoho CRM and Xero through the two ports.

One :class:`SyncEngine` serves one job for one tenant. It takes a SQLAlchemy ``Session`` (never Flask's
``db``),
the two ports, the settings snapshot, the pinned mappings, a clock, a sleep function and an event sink. Entry
points for jobs: :meth:`SyncEngine.sync_records` (on-save, webhooks, "Send to Xero", resync of one record),
:meth:`SyncEngine.sync_batch` (records already read), :meth:`SyncEngine.sync_deletions`,
:meth:`SyncEngine.run_chunk` (one page of a resumable historical run or pull), :meth:`SyncEngine.preview`
(how many records each module would sync) and :meth:`SyncEngine.apply_review`. ``dry_run=True`` goes through
the same decisions and writes nothing (no remote writes, no links, no audit rows); the counts are in
:attr:`SyncEngine.report`.

For each record: read -> skip if its mapped payload hash is the one stored on its link (echo suppression)
-> sync its dependencies -> match a counterpart before the first write -> three-way merge against the last
synced values -> guardrails -> batched, idempotent, retried writes -> link and audit row saved in one commit.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.connectors.errors import AuthError, ConnectorError, RateLimited
from portal.models.base import utcnow
from portal.models.sync import RecordLink, ReviewItem
from portal.sync import invoices
from portal.sync import mapping_defaults as defaults
from portal.sync.audit import AuditLog
from portal.sync.mapping import (
    PairMapping,
    Rule,
    TransformError,
    canonical,
    digest,
    get_path,
    set_path,
    to_decimal,
    top_key,
)
from portal.sync.mapping_store import MappingSet
from portal.sync.messages import N_, Msg, label, msg, skip
from portal.sync.ports import (
    XERO_ID_FIELD,
    XERO_VERSION_FIELD,
    ZOHO_VERSION_FIELD,
    Page,
    Record,
    RemoveAction,
    RemoveRequest,
    WriteRequest,
    WriteResult,
    XeroPort,
    ZohoPort,
    chunks,
)
from portal.sync.settings import ConflictPolicy, Direction, SyncSettings
from portal.sync.specs import EntitySpec, entity_for, entity_specs, with_dependencies

Z2X = Direction.ZOHO_TO_XERO
X2Z = Direction.XERO_TO_ZOHO
MAX_ATTEMPTS = 3  # issue 7: "up to 3 attempts in all"
BACKOFF_SECONDS = (2.0, 8.0)  # waits before attempts 2 and 3
LINK_QUERY_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit
REMOVED_STATUSES = {
    "Contacts": ("ContactStatus", {"ARCHIVED", "GDPRREQUEST"}),
    "Invoices": ("Status", {"DELETED", "VOIDED"}),
    "Accounts": ("Status", {"ARCHIVED", "DELETED"}),
}


# --- events ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncEvent:
    """Something admins must hear about. ``kind``: ``record_failed`` (after the last attempt, once per record
    and run), ``totals_mismatch`` (an invoice whose Xero total differs from the CRM's), ``review_needed``."""

    kind: str
    tenant_id: int
    direction: str
    module: str
    record_name: str
    zoho_id: str | None
    xero_id: str | None
    message: str
    run_id: str | None = None


class EventSink(Protocol):
    def emit(self, event: SyncEvent) -> None: ...


class NullSink:
    def emit(self, event: SyncEvent) -> None:
        return None


# --- cursor ------------------------------------------------------------------------------------------------


@dataclass
class Cursor:
    """Where a chunked run is: JSON-serialisable, stored by the job after every chunk."""

    direction: str
    modules: list[str]
    index: int = 0
    page: str | None = None
    since: str | None = None
    until: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "modules": list(self.modules),
            "index": self.index,
            "page": self.page,
            "since": self.since,
            "until": self.until,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cursor:
        return cls(
            direction=str(data["direction"]),
            modules=list(data["modules"]),
            index=int(data.get("index", 0)),
            page=data.get("page"),
            since=data.get("since"),
            until=data.get("until"),
        )

    @property
    def module(self) -> str | None:
        return self.modules[self.index] if self.index < len(self.modules) else None


@dataclass(frozen=True)
class ChunkResult:
    module: str | None
    records: int
    cursor: Cursor | None  # None when the run is finished


# --- per-record work ---------------------------------------------------------------------------------------


@dataclass
class _Work:
    spec: EntitySpec
    direction: Direction
    source: Record
    source_id: str
    name: str
    zoho: Record | None = None
    xero: Record | None = None
    link: RecordLink | None = None
    new_link: bool = False
    to_xero: dict[str, Any] = field(default_factory=dict)  # rule key -> Xero value to write
    to_zoho: dict[str, Any] = field(default_factory=dict)  # rule key -> Zoho value to write
    payload: Record | None = None  # the create payload for the target side
    changes: list[dict[str, Any]] = field(default_factory=list)
    note: Msg | None = None
    finished: bool = False
    failed: bool = False

    @property
    def zoho_id(self) -> str | None:
        if self.zoho is not None and self.zoho.get("id"):
            return str(self.zoho["id"])
        return self.link.zoho_id if self.link is not None else None

    @property
    def xero_id(self) -> str | None:
        field_name = XERO_ID_FIELD.get(self.spec.xero_module, "")
        if self.xero is not None and self.xero.get(field_name):
            return str(self.xero[field_name])
        return self.link.xero_id if self.link is not None else None


def idempotency_key(
    tenant_id: int, module: str, source_id: str, source_version: str, payload: Any, op: str
) -> str:
    """Same record, same version, same payload -> same key, so a retried job replays instead of duplicating.
    The payload digest is part of it because Xero refuses a reused key with a different request (FACTS.md
    §3)."""
    raw = f"{tenant_id}:{module}:{source_id}:{source_version}:{op}:{digest(payload)}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _short(value: Any) -> Any:
    if isinstance(value, list):
        return f"{len(value)} lines" if value and isinstance(value[0], dict) else ", ".join(map(str, value))
    return value


def _parse_instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


class SyncEngine:
    def __init__(
        self,
        session: Session,
        zoho: ZohoPort,
        xero: XeroPort,
        *,
        tenant_id: int,
        settings: SyncSettings,
        mappings: MappingSet | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        sink: EventSink | None = None,
        run_id: str | None = None,
        trigger: str = "",
        dry_run: bool = False,
    ) -> None:
        self.session = session
        self.zoho = zoho
        self.xero = xero
        self.tenant_id = tenant_id
        self.settings = settings
        self.mappings = mappings or MappingSet(customer_module=settings.customer_module)
        self.clock = clock
        self.sleep = sleep
        self.sink: EventSink = sink or NullSink()
        self.run_id = run_id
        self.dry_run = dry_run
        self.specs = entity_specs(settings)
        self.audit = AuditLog(
            session,
            tenant_id,
            clock=clock,
            run_id=run_id,
            trigger=trigger,
            zoho_org_id=zoho.org_id,
            xero_tenant_id=xero.tenant_id,
            enabled=not dry_run,
        )
        self._links: dict[tuple[str, str, str], RecordLink] = {}
        self._taxes: invoices.TaxTable | None = None
        self._zoho_taxes: dict[Decimal, str] | None = None
        self._organisation: Record | None = None
        self._forced: dict[tuple[str, str], dict[str, Any]] = {}
        self._failed_notified: set[tuple[str, str]] = set()
        self._depth = 0

    # --- reports -------------------------------------------------------------------------------------------

    @property
    def report(self) -> Counter[tuple[str, str]]:
        """Final outcomes so far by (module, action): created, updated, linked, skipped, failed..."""
        return self.audit.totals

    def counts(self, module: str | None = None) -> Counter[str]:
        result: Counter[str] = Counter()
        for (mod, action), count in self.audit.totals.items():
            if module is None or mod == module:
                result[action] += count
        return result

    # --- entry points --------------------------------------------------------------------------------------

    def sync_records(
        self, direction: Direction, module: str, ids: Sequence[str], *, force: bool = False
    ) -> None:
        """Read ``ids`` of ``module`` on the source side of ``direction`` (batched) and sync them."""
        port: ZohoPort | XeroPort = self.zoho if direction is Z2X else self.xero
        records: list[Record] = []
        for chunk in chunks(list(dict.fromkeys(ids)), port.max_read_ids):
            records.extend(port.get_by_ids(module, chunk))
        self.sync_batch(direction, module, records, force=force)

    def sync_batch(
        self, direction: Direction, module: str, records: Sequence[Record], *, force: bool = False
    ) -> None:
        if not records:
            return
        self._depth += 1
        try:
            entity = entity_for(self.settings, direction, module)
            if entity == "payments":
                self._sync_payments(list(records))
            elif entity is None:
                for record in records:
                    self._record_skip(
                        direction,
                        module,
                        "",
                        str(record.get("id") or ""),
                        None,
                        "not_synced_module",
                        skip("not_synced_module", module=module),
                    )
            elif entity == "person":
                self._sync_persons(list(records), force=force)
            elif entity == "deal":
                self._sync_deals(list(records))
            else:
                self._sync_generic(self.specs[entity], direction, list(records), force=force)
            self._commit()
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._release_memory()

    def sync_deletions(self, direction: Direction, module: str, ids: Sequence[str]) -> None:
        """Propagate deletions of ``ids`` (deleted on the source side) to their linked counterparts."""
        entity = entity_for(self.settings, direction, module)
        if entity is None or entity == "payments":
            return
        spec = self.specs[entity]
        side = "z" if direction is Z2X else "x"
        links = self._load_links(spec.name, side, ids)
        works = []
        for source_id in ids:
            link = links.get(source_id)
            work = _Work(spec, direction, {}, source_id, link.record_name if link else source_id, link=link)
            if link is None or link.state != "linked":
                self._finish_skip(work, "no_counterpart", skip("no_counterpart", action=label("delete")))
                continue
            works.append(work)
        if entity == "person":
            self._remove_persons(works)
        else:
            self._remove(works)
        self._commit()
        if self._depth == 0:
            self._release_memory()

    def start(
        self,
        direction: Direction,
        modules: Iterable[str],
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Cursor:
        ordered = with_dependencies(self.settings, direction, modules)
        return Cursor(
            direction=str(direction),
            modules=ordered,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
        )

    def run_chunk(self, cursor: Cursor) -> ChunkResult:
        """Sync one page of the cursor's current module and return where to continue (None: finished).
        Re-running a chunk after a crash is harmless: synced records are skipped by hash, unconfirmed creates
        reuse their idempotency key."""
        direction = Direction(cursor.direction)
        module = cursor.module
        if module is None:
            return ChunkResult(None, 0, None)
        port: ZohoPort | XeroPort = self.zoho if direction is Z2X else self.xero
        since = datetime.fromisoformat(cursor.since) if cursor.since else None
        until = _parse_instant(cursor.until) if cursor.until else None
        page: Page = port.list_changed(module, since, cursor.page)
        records = page.records
        if until is not None:
            version_field = ZOHO_VERSION_FIELD if direction is Z2X else XERO_VERSION_FIELD
            records = [r for r in records if (_parse_instant(r.get(version_field)) or until) <= until]
        self.sync_batch(direction, module, records)
        following = Cursor(**{**cursor.to_json(), "modules": list(cursor.modules)})
        if page.next_cursor:
            following.page = page.next_cursor
        else:
            following.index += 1
            following.page = None
        return ChunkResult(module, len(records), following if following.module is not None else None)

    def preview(
        self, direction: Direction, modules: Iterable[str], since: datetime | None = None
    ) -> dict[str, int]:
        """How many records of each module a run would consider (dependencies included, in run order)."""
        port: ZohoPort | XeroPort = self.zoho if direction is Z2X else self.xero
        return {
            module: port.count(module, since)
            for module in with_dependencies(self.settings, direction, modules)
        }

    def apply_review(
        self, item: ReviewItem, choices: Mapping[str, Any], *, user_id: int | None = None
    ) -> None:
        """Apply an admin's decision: for a match, ``{"counterpart": id}`` or ``{"create": True}``; for a
        conflict, ``{rule_key: "zoho" | "xero"}`` per field. The record is then synced at once."""
        direction = Direction(item.direction)
        source_id = item.zoho_id if direction is Z2X else item.xero_id
        if source_id is None:
            raise ValueError("review item without a source record")
        item.resolution = dict(choices)
        item.resolved_by_id = user_id
        item.resolved_at = self.clock()
        item.status = "applied"
        self._forced[(item.entity, source_id)] = dict(choices)
        module = item.zoho_module if direction is Z2X else item.xero_module
        self.sync_records(direction, module, [source_id], force=True)
        self._forced.pop((item.entity, source_id), None)

    # --- the generic pipeline ------------------------------------------------------------------------------

    def _sync_generic(
        self, spec: EntitySpec, direction: Direction, records: list[Record], *, force: bool
    ) -> None:
        mapping = self.mappings.get(spec.pair)
        source_module = spec.zoho_module if direction is Z2X else (spec.x2z_module or spec.xero_module)
        works = [self._make_work(spec, direction, record) for record in records]
        if not self._gate(direction, source_module, works):
            return
        if direction is X2Z and spec.xero_module == "Invoices":
            for work in works:
                if work.source.get("Type", "ACCREC") != "ACCREC":
                    self._finish_skip(work, "not_sales_invoice", skip("not_sales_invoice"))
        works = [w for w in works if not w.finished]
        side = "z" if direction is Z2X else "x"
        links = self._load_links(spec.name, side, [w.source_id for w in works])
        for work in works:
            work.link = links.get(work.source_id)
        if direction is X2Z and source_module in REMOVED_STATUSES:
            status_field, removed = REMOVED_STATUSES[source_module]
            gone = [w for w in works if str(w.source.get(status_field) or "") in removed]
            for work in gone:
                if work.link is None or work.link.state != "linked":
                    self._finish_skip(work, "source_removed", skip("source_removed", system="Xero"))
            self._remove([w for w in gone if not w.finished])
            works = [w for w in works if not w.finished and w not in gone]

        # Change detection: the mapped payload hash against the link's (this is also the echo suppression).
        for work in works:
            link = work.link
            if link is None or link.state == "creating":
                continue
            if link.state == "removed":
                self._finish_skip(work, "counterpart_removed", skip("counterpart_removed"))
                continue
            view = self._view(mapping, direction, work.source)
            stored = link.zoho_hash if direction is Z2X else link.xero_hash
            if not force and digest(view) == stored:
                self._finish_skip(work, "unchanged", skip("unchanged"))
        works = [w for w in works if not w.finished]
        if not works:
            return

        self._resolve_dependencies(spec, direction, mapping, works)
        works = [w for w in works if not w.finished]

        linked = [
            w
            for w in works
            if w.link is not None
            and w.link.state == "linked"
            and (w.link.xero_id if direction is Z2X else w.link.zoho_id)
        ]
        self._load_counterparts(spec, direction, linked)
        unlinked = [
            w
            for w in works
            if not w.finished
            and (
                w.link is None
                or w.link.state != "linked"
                or not (w.xero_id if direction is Z2X else w.zoho_id)
            )
        ]
        self._match(spec, direction, mapping, unlinked)

        for work in works:
            if work.finished or work.payload is not None:
                continue
            self._merge(spec, direction, mapping, work)
        self._guard_invoices(spec, direction, works)
        self._write(spec, direction, mapping, [w for w in works if not w.finished])

    def _make_work(self, spec: EntitySpec, direction: Direction, record: Record) -> _Work:
        if direction is Z2X:
            return _Work(
                spec, direction, record, str(record.get("id")), spec.zoho_display(record), zoho=record
            )
        id_field = XERO_ID_FIELD[spec.xero_module]
        return _Work(
            spec, direction, record, str(record.get(id_field)), spec.xero_display(record), xero=record
        )

    def _gate(self, direction: Direction, module: str, works: list[_Work]) -> bool:
        """Module off or Allow sync off: every record is audited as skipped, with the reason."""
        if direction is X2Z and not self.settings.allow_xero_to_zoho:
            for work in works:
                self._finish_skip(work, "allow_sync_off", skip("allow_sync_off"))
            return False
        if not self.settings.switches(direction, module).enabled:
            for work in works:
                self._finish_skip(work, "module_off", skip("module_off", module=module))
            return False
        return True

    # --- views and conversions -----------------------------------------------------------------------------

    def _zraw(self, mapping: PairMapping, rule_: Rule, record: Mapping[str, Any]) -> Any:
        if rule_.kind == "lines":
            lines = self._zoho_lines(mapping, record)
            return invoices.zoho_lines_view(lines, mapping.line_rules) or None
        return rule_.zoho_raw(record)

    def _xraw(self, mapping: PairMapping, rule_: Rule, record: Mapping[str, Any]) -> Any:
        if rule_.kind == "lines":
            return invoices.xero_lines_view(get_path(record, rule_.xero), mapping.line_rules) or None
        return rule_.xero_raw(record)

    def _zoho_lines(self, mapping: PairMapping, record: Mapping[str, Any]) -> list[Any]:
        if mapping.pair == defaults.DEALS:
            return invoices.deal_as_zoho_lines(record)
        rule_ = next(r for r in mapping.rules if r.kind == "lines")
        return list(get_path(record, rule_.zoho[0]) or [])

    def zoho_view(self, mapping: PairMapping, record: Mapping[str, Any]) -> dict[str, Any]:
        return {r.key: self._zraw(mapping, r, record) for r in mapping.rules if r.zoho}

    def xero_view(self, mapping: PairMapping, record: Mapping[str, Any]) -> dict[str, Any]:
        return {r.key: self._xraw(mapping, r, record) for r in mapping.rules if r.xero}

    def _view(self, mapping: PairMapping, direction: Direction, record: Mapping[str, Any]) -> dict[str, Any]:
        return self.zoho_view(mapping, record) if direction is Z2X else self.xero_view(mapping, record)

    def _line_context(self) -> invoices.LineContext:
        return invoices.LineContext(
            item_code_for=lambda product_id: self._code_ref("item", product_id),
            product_id_for=lambda code: self._zoho_by_code("item", code),
            taxes=self.taxes,
            treatment=self.settings.tax_treatment,
            sales_account=self.settings.default_sales_account,
            zoho_tax_for=self._zoho_tax_for,
        )

    def _zoho_tax_for(self, rate: Decimal) -> str | None:
        if self._zoho_taxes is None:
            self._zoho_taxes = {}
            for tax in self.zoho.taxes():
                self._zoho_taxes.setdefault(Decimal(str(tax.get("percentage") or 0)), str(tax["name"]))
        return self._zoho_taxes.get(rate)

    def _forward(self, mapping: PairMapping, rule_: Rule, zoho: Mapping[str, Any]) -> Any:
        """The Xero value of a rule for a Zoho record, in the form :meth:`_xraw` reads."""
        if rule_.kind == "ref":
            source_id = rule_.zoho_raw(zoho)
            return None if source_id is None else self._xero_ref(rule_.ref or "", str(source_id))
        if rule_.kind == "lines":
            lines = invoices.zoho_lines_to_xero(
                self._zoho_lines(mapping, zoho), mapping.line_rules, self._line_context()
            )
            adjustment = invoices.adjustment_line(zoho, self.settings.default_sales_account)
            if adjustment is not None:
                lines.append(adjustment)
            return lines or None
        return rule_.forward(rule_.zoho_raw(zoho))

    def _backward(self, mapping: PairMapping, rule_: Rule, xero: Mapping[str, Any]) -> Any:
        if rule_.kind == "ref":
            source_id = rule_.xero_raw(xero)
            return None if source_id is None else self._zoho_ref(rule_.ref or "", str(source_id))
        if rule_.kind == "lines":
            lines = [ln for ln in get_path(xero, rule_.xero) or [] if not _is_adjustment(ln)]
            return invoices.xero_lines_to_zoho(lines, mapping.line_rules, self._line_context()) or None
        return rule_.backward(rule_.xero_raw(xero))

    def _as_xraw(self, mapping: PairMapping, rule_: Rule, value: Any) -> Any:
        if rule_.kind == "lines":
            return invoices.xero_lines_view(value, mapping.line_rules) or None
        return value

    def _as_zraw(self, mapping: PairMapping, rule_: Rule, value: Any) -> Any:
        if rule_.kind == "lines":
            return invoices.zoho_lines_view(value, mapping.line_rules) or None
        if rule_.kind == "ref":
            return value
        return canonical(value, rule_.family)

    def _create_payload(self, mapping: PairMapping, direction: Direction, work: _Work) -> Record:
        payload: Record = {}
        if direction is Z2X:
            assert work.zoho is not None
            for rule_ in mapping.rules:
                if rule_.arrow.to_xero and rule_.xero:
                    value = self._forward(mapping, rule_, work.zoho)
                    if value is not None:
                        set_path(payload, rule_.xero, value)
            self._xero_create_defaults(work.spec, work, payload)
        else:
            assert work.xero is not None
            for rule_ in mapping.rules:
                if rule_.arrow.to_zoho and len(rule_.zoho) == 1 and rule_.zoho[0] != "id":
                    value = self._backward(mapping, rule_, work.xero)
                    if value is not None:
                        set_path(payload, rule_.zoho[0], value)
            if work.spec.xero_module == "Invoices" and not payload.get("Subject"):
                # Zoho: Subject is mandatory on invoices (FACTS.md Zoho §3).
                payload["Subject"] = (
                    work.xero.get("Reference") or work.xero.get("InvoiceNumber") or work.source_id
                )
        return payload

    def _xero_create_defaults(self, spec: EntitySpec, work: _Work, payload: Record) -> None:
        if spec.xero_module == "Items" and not payload.get("Code"):
            # Xero: Code is required and unique (FACTS.md §4 Items); the Zoho id (19 digits) fits its 30.
            payload["Code"] = work.source_id
        if spec.xero_module == "Items" and self.settings.default_sales_account:
            payload.setdefault("SalesDetails", {}).setdefault(
                "AccountCode", self.settings.default_sales_account
            )
        if spec.xero_module == "Invoices":
            payload["Type"] = "ACCREC"
            payload["Status"] = str(self.settings.new_invoice_status)
            payload["LineAmountTypes"] = str(self.settings.tax_treatment)

    # --- links ---------------------------------------------------------------------------------------------

    def _link_select(self, entity: str) -> Any:
        return select(RecordLink).where(
            RecordLink.tenant_id == self.tenant_id,
            RecordLink.zoho_org_id == self.zoho.org_id,
            RecordLink.xero_tenant_id == self.xero.tenant_id,
            RecordLink.entity == entity,
        )

    def _cache(self, link: RecordLink) -> None:
        if link.zoho_id:
            self._links[(link.entity, "z", link.zoho_id)] = link
        if link.xero_id:
            self._links[(link.entity, "x", link.xero_id)] = link
        if link.xero_code:
            self._links[(link.entity, "code", link.xero_code)] = link

    def _load_links(self, entity: str, side: str, ids: Iterable[str]) -> dict[str, RecordLink]:
        wanted = [i for i in dict.fromkeys(ids) if i]
        found = {i: self._links[(entity, side, i)] for i in wanted if (entity, side, i) in self._links}
        missing = [i for i in wanted if i not in found]
        column = {"z": RecordLink.zoho_id, "x": RecordLink.xero_id, "code": RecordLink.xero_code}[side]
        for chunk in chunks(missing, LINK_QUERY_CHUNK):
            for link in self.session.scalars(self._link_select(entity).where(column.in_(list(chunk)))):
                self._cache(link)
                key = {"z": link.zoho_id, "x": link.xero_id, "code": link.xero_code}[side]
                if key is not None:
                    found[key] = link
        return found

    def _linked_value(self, entity: str, by: str, key: str, wanted: str) -> str:
        """The counterpart's id (or Xero code) of a linked record, found by Zoho id, Xero id or Xero code."""
        link = self._load_links(entity, by, [key]).get(key)
        value = getattr(link, wanted) if link is not None and link.state == "linked" else None
        if not value:
            raise invoices.UnresolvedReference(entity, key)
        return str(value)

    def _xero_ref(self, entity: str, zoho_id: str) -> str:
        return self._linked_value(entity, "z", zoho_id, "xero_id")

    def _zoho_ref(self, entity: str, xero_id: str) -> str:
        return self._linked_value(entity, "x", xero_id, "zoho_id")

    def _code_ref(self, entity: str, zoho_id: str) -> str:
        return self._linked_value(entity, "z", zoho_id, "xero_code")

    def _zoho_by_code(self, entity: str, code: str) -> str:
        return self._linked_value(entity, "code", code, "zoho_id")

    def _new_link(self, work: _Work) -> RecordLink:
        link = RecordLink(
            tenant_id=self.tenant_id,
            entity=work.spec.name,
            zoho_org_id=self.zoho.org_id,
            xero_tenant_id=self.xero.tenant_id,
            zoho_id=work.zoho_id,
            xero_id=work.xero_id,
            state="linked",
            record_name=work.name[:255],
            base={},
            mapping_version=0,
        )
        if not self.dry_run:
            self.session.add(link)
        return link

    # --- dependencies --------------------------------------------------------------------------------------

    def _reference_ids(
        self, spec: EntitySpec, direction: Direction, mapping: PairMapping, work: _Work
    ) -> dict[str, set[str]]:
        needed: dict[str, set[str]] = defaultdict(set)
        for rule_ in mapping.rules:
            if rule_.kind == "ref" and rule_.ref:
                value = rule_.zoho_raw(work.source) if direction is Z2X else rule_.xero_raw(work.source)
                if value:
                    needed[rule_.ref].add(str(value))
            if rule_.kind == "lines":
                if direction is Z2X:
                    lines = self._zoho_lines(mapping, work.source)
                    for line_rule in mapping.line_rules:
                        if line_rule.kind == "ref" and line_rule.ref:
                            for line in lines:
                                value = get_path(line, line_rule.zoho[0])
                                if value:
                                    needed[line_rule.ref].add(str(value))
                else:
                    for line in get_path(work.source, rule_.xero) or []:
                        if line.get("ItemCode"):
                            needed["item:code"].add(str(line["ItemCode"]))
        return needed

    def _resolve_dependencies(
        self, spec: EntitySpec, direction: Direction, mapping: PairMapping, works: list[_Work]
    ) -> None:
        """Link what these records refer to before mapping them: an invoice's customer and items are synced in
        the same run, first, when they are not linked yet."""
        per_work = {id(w): self._reference_ids(spec, direction, mapping, w) for w in works}
        wanted: dict[str, set[str]] = defaultdict(set)
        for needed in per_work.values():
            for entity, ids in needed.items():
                wanted[entity] |= ids
        for entity, ids in wanted.items():
            by_code = entity.endswith(":code")
            name = entity.split(":")[0]
            side = "code" if by_code else ("z" if direction is Z2X else "x")
            known = self._load_links(name, side, ids)
            missing = sorted(i for i in ids if i not in known or known[i].state != "linked")
            if not missing:
                continue
            dep_spec = self.specs[name]
            if direction is Z2X:
                self.sync_records(Z2X, dep_spec.zoho_module, missing)
            elif by_code:
                found = self.xero.find(dep_spec.xero_module, "Code", missing)
                self.sync_batch(X2Z, dep_spec.x2z_module or dep_spec.xero_module, found)
            else:
                self.sync_records(X2Z, dep_spec.x2z_module or dep_spec.xero_module, missing)
        for work in works:
            for entity, ids in per_work[id(work)].items():
                name = entity.split(":")[0]
                side = "code" if entity.endswith(":code") else ("z" if direction is Z2X else "x")
                known = self._load_links(name, side, ids)
                absent = [i for i in ids if i not in known or known[i].state != "linked"]
                if absent:
                    self._finish_skip(
                        work,
                        "dependency_missing",
                        skip("dependency_missing", what=label(name), detail=", ".join(sorted(absent))),
                    )
                    break

    # --- counterparts and matching -------------------------------------------------------------------------

    def _load_counterparts(self, spec: EntitySpec, direction: Direction, works: list[_Work]) -> None:
        if not works:
            return
        if direction is Z2X:
            by_id = {w.link.xero_id: w for w in works if w.link and w.link.xero_id}
            port_read: Callable[[str, Sequence[str]], list[Record]] = self.xero.get_by_ids
            module, id_field, limit = (
                spec.xero_module,
                XERO_ID_FIELD[spec.xero_module],
                self.xero.max_read_ids,
            )
        else:
            by_id = {w.link.zoho_id: w for w in works if w.link and w.link.zoho_id}
            port_read = self.zoho.get_by_ids
            module, id_field, limit = spec.zoho_module, "id", self.zoho.max_read_ids
        found: dict[str, Record] = {}
        for chunk in chunks(list(by_id), limit):
            for record in port_read(module, chunk):
                found[str(record.get(id_field))] = record
        for target_id, work in by_id.items():
            counterpart = found.get(target_id)
            if counterpart is None:
                # The counterpart is gone: forget the stale link and match again, rather than write into
                # nothing.
                if work.link is not None and not self.dry_run:
                    self.session.delete(work.link)
                    self.session.flush()
                work.link = None
                continue
            if direction is Z2X:
                work.xero = counterpart
            else:
                work.zoho = counterpart

    def _match(
        self, spec: EntitySpec, direction: Direction, mapping: PairMapping, works: list[_Work]
    ) -> None:
        """Find each unlinked record's counterpart before the first write: one -> link, several -> review
        queue, none -> create."""
        if not works:
            return
        source_module = spec.zoho_module if direction is Z2X else (spec.x2z_module or spec.xero_module)
        for work in works:
            try:
                work.payload = self._create_payload(mapping, direction, work)
            except invoices.UnresolvedReference as error:
                self._finish_skip(
                    work,
                    "dependency_missing",
                    skip("dependency_missing", what=label(error.entity), detail=error.source_id),
                )
            except (invoices.RecordRefused, TransformError) as error:
                message = error.msg if isinstance(error, invoices.RecordRefused) else msg(str(error))
                self._finish_failed(work, message.render(), attempt=1, kind="refused", message=message)
        works = [w for w in works if not w.finished]
        if direction is Z2X:
            candidates = self._xero_candidates(spec, works)
            target_id_field = XERO_ID_FIELD[spec.xero_module]
        else:
            candidates = self._zoho_candidates(spec, mapping, works)
            target_id_field = "id"
        claimed: set[str] = set()
        all_ids = {str(c.get(target_id_field)) for found in candidates.values() for c in found}
        taken = self._load_links(spec.name, "x" if direction is Z2X else "z", all_ids)
        for work in works:
            forced = self._forced.get((spec.name, work.source_id), {})
            found = [
                c
                for c in candidates.get(id(work), [])
                if str(c.get(target_id_field)) not in claimed
                and (
                    str(c.get(target_id_field)) not in taken
                    or taken[str(c.get(target_id_field))].state != "linked"
                )
            ]
            if forced.get("counterpart"):
                found = [c for c in found if str(c.get(target_id_field)) == str(forced["counterpart"])]
            elif forced.get("create"):
                found = []
            if len(found) > 1:
                self._queue_review(
                    "match",
                    work,
                    candidates=[
                        {
                            "id": str(c.get(target_id_field)),
                            "name": spec.xero_display(c) if direction is Z2X else spec.zoho_display(c),
                        }
                        for c in found
                    ],
                )
                self._finish_skip(work, "ambiguous_match", skip("ambiguous_match"))
                continue
            if len(found) == 1:
                counterpart = found[0]
                claimed.add(str(counterpart.get(target_id_field)))
                if direction is Z2X:
                    work.xero = counterpart
                else:
                    work.zoho = counterpart
                work.payload = None
                if work.link is None:
                    work.link = self._new_link(work)
                work.link.state = "linked"
                work.link.xero_id, work.link.zoho_id = work.xero_id, work.zoho_id
                work.new_link = True
                self._cache(work.link)
                continue
            if not self.settings.allows(direction, source_module, "create"):
                self._finish_skip(
                    work, "action_off", skip("action_off", action=label("create"), module=source_module)
                )

    def _xero_candidates(self, spec: EntitySpec, works: list[_Work]) -> dict[int, list[Record]]:
        wanted: dict[str, set[str]] = defaultdict(set)
        for work in works:
            for field_name in spec.xero_match:
                value = (work.payload or {}).get(field_name)
                if value:
                    wanted[field_name].add(str(value))
        index: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for field_name, values in wanted.items():
            for chunk in chunks(sorted(values), self.xero.max_read_ids):
                for record in self.xero.find(spec.xero_module, field_name, chunk):
                    value = record.get(field_name)
                    if value:
                        index[(field_name, str(value).casefold())].append(record)
        return self._candidates_by_work(
            works, spec.xero_match, index, XERO_ID_FIELD[spec.xero_module], strong="ContactNumber"
        )

    def _zoho_candidates(
        self, spec: EntitySpec, mapping: PairMapping, works: list[_Work]
    ) -> dict[int, list[Record]]:
        index: dict[tuple[str, str], list[Record]] = defaultdict(list)
        # Our own Zoho id written into the Xero record (ContactNumber) is the strongest key there is.
        strong_rule = next((r for r in mapping.rules if r.zoho == ("id",)), None)
        if strong_rule is not None:
            ids = [str(v) for w in works if (v := get_path(w.source, strong_rule.xero)) and str(v).isdigit()]
            for chunk in chunks(ids, self.zoho.max_read_ids):
                for record in self.zoho.get_by_ids(spec.zoho_module, chunk):
                    index[("id", str(record["id"]))].append(record)
        wanted: dict[str, set[str]] = defaultdict(set)
        for work in works:
            for field_name in spec.zoho_match:
                value = (work.payload or {}).get(field_name)
                if value:
                    wanted[field_name].add(str(value))
        for field_name, values in wanted.items():
            for chunk in chunks(sorted(values), self.zoho.max_read_ids):
                for record in self.zoho.search(spec.zoho_module, field_name, chunk):
                    value = record.get(field_name)
                    if value:
                        index[(field_name, str(value).casefold())].append(record)
        if strong_rule is not None:
            for work in works:
                value = get_path(work.source, strong_rule.xero)
                if value and ("id", str(value)) in index:
                    (work.payload or {})["id"] = str(value)
        return self._candidates_by_work(works, ("id", *spec.zoho_match), index, "id", strong="id")

    @staticmethod
    def _candidates_by_work(
        works: list[_Work],
        fields: Sequence[str],
        index: Mapping[tuple[str, str], list[Record]],
        id_field: str,
        strong: str,
    ) -> dict[int, list[Record]]:
        result: dict[int, list[Record]] = {}
        for work in works:
            payload = work.payload or {}
            strong_value = payload.get(strong)
            if strong_value and (strong, str(strong_value).casefold()) in index:
                result[id(work)] = index[(strong, str(strong_value).casefold())][:1]
                continue
            seen: dict[str, Record] = {}
            for field_name in fields:
                value = payload.get(field_name)
                if value:
                    for record in index.get((field_name, str(value).casefold()), []):
                        seen[str(record.get(id_field))] = record
            result[id(work)] = list(seen.values())
        return result

    # --- merge ---------------------------------------------------------------------------------------------

    def _merge(self, spec: EntitySpec, direction: Direction, mapping: PairMapping, work: _Work) -> None:
        """Three-way merge against the values of the last sync: a field changed on one side goes to the other;
        changed on both sides to different values follows the conflict policy."""
        zoho, xero, link = work.zoho, work.xero, work.link
        if zoho is None or xero is None or link is None:
            return
        base: Mapping[str, Any] = link.base or {}
        base_z: Mapping[str, Any] = base.get("z") or {}
        base_x: Mapping[str, Any] = base.get("x") or {}
        first = not base
        forced = self._forced.get((spec.name, work.source_id), {})
        conflicts = []
        try:
            for rule_ in mapping.rules:
                if rule_.is_fixed or not rule_.zoho or not rule_.xero:
                    continue
                key = rule_.key
                z = self._zraw(mapping, rule_, zoho)
                x = self._xraw(mapping, rule_, xero)
                if first:
                    # A fresh link: the side the run comes from is the one that changed.
                    z_changed, x_changed = direction is Z2X, direction is X2Z
                else:
                    z_changed, x_changed = z != base_z.get(key), x != base_x.get(key)
                if not (z_changed or x_changed):
                    continue
                to_xero = self._forward(mapping, rule_, zoho) if rule_.arrow.to_xero else None
                to_zoho = (
                    self._backward(mapping, rule_, xero)
                    if rule_.arrow.to_zoho and len(rule_.zoho) == 1
                    else None
                )
                if rule_.arrow.to_xero and self._as_xraw(mapping, rule_, to_xero) == x:
                    continue  # already equal: converged (also our own write coming back)
                if (
                    not rule_.arrow.to_xero
                    and rule_.arrow.to_zoho
                    and self._as_zraw(mapping, rule_, to_zoho) == z
                ):
                    continue
                winner = None
                if z_changed and not x_changed:
                    winner = "zoho"
                elif x_changed and not z_changed:
                    winner = "xero"
                else:
                    winner = forced.get(key) or self._policy_winner(zoho, xero)
                    if winner is None:
                        conflicts.append(
                            {
                                "rule": key,
                                "label": rule_.label or f"{'+'.join(rule_.zoho)} / {rule_.xero}",
                                "base_zoho": _short(base_z.get(key)),
                                "base_xero": _short(base_x.get(key)),
                                "zoho": _short(z),
                                "xero": _short(x),
                            }
                        )
                        continue
                if winner == "zoho" and rule_.arrow.to_xero and not rule_.create_only:
                    work.to_xero[key] = to_xero
                    work.changes.append(
                        {"field": rule_.xero, "side": "xero", "old": _short(x), "new": _short(to_xero)}
                    )
                elif winner == "xero" and rule_.arrow.to_zoho and len(rule_.zoho) == 1:
                    work.to_zoho[key] = to_zoho
                    work.changes.append(
                        {"field": rule_.zoho[0], "side": "zoho", "old": _short(z), "new": _short(to_zoho)}
                    )
        except invoices.UnresolvedReference as error:
            self._finish_skip(
                work,
                "dependency_missing",
                skip("dependency_missing", what=label(error.entity), detail=error.source_id),
            )
            return
        except (invoices.RecordRefused, TransformError) as error:
            message = error.msg if isinstance(error, invoices.RecordRefused) else msg(str(error))
            self._finish_failed(work, message.render(), attempt=1, kind="refused", message=message)
            return
        if conflicts:
            self._queue_review("conflict", work, fields=conflicts)
            self._finish_skip(work, "awaiting_review", skip("awaiting_review"))
            return
        xero_module = spec.xero_module
        zoho_module = spec.zoho_module
        if work.to_xero and not self.settings.allows(Z2X, zoho_module, "update"):
            work.to_xero.clear()
        if work.to_zoho and not self.settings.allows(X2Z, spec.x2z_module or xero_module, "update"):
            work.to_zoho.clear()
        work.changes = [
            c
            for c in work.changes
            if (c["side"] == "xero" and work.to_xero) or (c["side"] == "zoho" and work.to_zoho)
        ]

    def _policy_winner(self, zoho: Mapping[str, Any], xero: Mapping[str, Any]) -> str | None:
        policy = self.settings.conflict_policy
        if policy is ConflictPolicy.ZOHO_WINS:
            return "zoho"
        if policy is ConflictPolicy.XERO_WINS:
            return "xero"
        if policy is ConflictPolicy.NEWEST_WINS:
            zoho_time = _parse_instant(zoho.get(ZOHO_VERSION_FIELD))
            xero_time = _parse_instant(xero.get(XERO_VERSION_FIELD))
            if zoho_time and xero_time:
                return "zoho" if zoho_time >= xero_time else "xero"
        return None  # ask, or newest-wins without both timestamps: an admin decides

    def _queue_review(
        self,
        kind: str,
        work: _Work,
        *,
        candidates: list[dict[str, Any]] | None = None,
        fields: list[dict[str, Any]] | None = None,
    ) -> None:
        if self.dry_run:
            return
        spec = work.spec
        query = select(ReviewItem).where(
            ReviewItem.tenant_id == self.tenant_id,
            ReviewItem.status == "open",
            ReviewItem.entity == spec.name,
            ReviewItem.zoho_org_id == self.zoho.org_id,
            ReviewItem.xero_tenant_id == self.xero.tenant_id,
        )
        if work.direction is Z2X:
            query = query.where(ReviewItem.zoho_id == work.source_id)
        else:
            query = query.where(ReviewItem.xero_id == work.source_id)
        item = self.session.scalars(query).first()
        if item is None:
            item = ReviewItem(
                tenant_id=self.tenant_id,
                entity=spec.name,
                zoho_org_id=self.zoho.org_id,
                xero_tenant_id=self.xero.tenant_id,
                status="open",
            )
            self.session.add(item)
            self.sink.emit(
                SyncEvent(
                    "review_needed",
                    self.tenant_id,
                    str(work.direction),
                    spec.zoho_module,
                    work.name,
                    work.zoho_id,
                    work.xero_id,
                    kind,
                    self.run_id,
                )
            )
        item.kind = kind
        item.direction = str(work.direction)
        item.zoho_module = spec.zoho_module
        item.xero_module = spec.x2z_module or spec.xero_module
        item.zoho_id = work.zoho_id
        item.xero_id = work.xero_id
        item.record_name = work.name[:255]
        item.candidates = candidates or []
        item.fields = fields or []
        item.status = "open"

    # --- guardrails ----------------------------------------------------------------------------------------

    @property
    def organisation(self) -> Record:
        if self._organisation is None:
            self._organisation = self.xero.organisation()
        return self._organisation

    @property
    def taxes(self) -> invoices.TaxTable:
        if self._taxes is None:
            self._taxes = invoices.TaxTable(self.xero.tax_rates(), self.settings.default_tax_type)
        return self._taxes

    def _guard_invoices(self, spec: EntitySpec, direction: Direction, works: list[_Work]) -> None:
        """Never edit an invoice Xero no longer lets you edit: say why in the audit log instead."""
        if spec.xero_module != "Invoices":
            return
        for work in works:
            if work.finished:
                continue
            writes_xero = bool(work.to_xero) or (work.payload is not None and direction is Z2X)
            if not writes_xero:
                continue
            if work.payload is not None and direction is Z2X:
                if str(self.settings.new_invoice_status) == "DRAFT":
                    continue
                refusal = invoices.edit_refusal(None, work.payload.get("Date"), self.organisation)
            else:
                new_date = work.to_xero.get(
                    next((r.key for r in self.mappings.get(spec.pair).rules if r.xero == "Date"), "")
                )
                refusal = invoices.edit_refusal(work.xero, new_date, self.organisation)
            if refusal is not None:
                reason, message = refusal
                if work.to_zoho and direction is X2Z:
                    work.to_xero.clear()  # the Zoho side may still take Xero's values
                    continue
                self._finish_skip(work, reason, message)

    def _totals_note(self, work: _Work, lines: list[dict[str, Any]] | None) -> Msg | None:
        """Report, never hide, a cent the CRM and Xero will disagree on."""
        if work.zoho is None or not lines:
            return None
        expected = invoices.xero_totals(lines, self.settings.tax_treatment, self.taxes)
        difference = invoices.unreconciled_difference(work.zoho, expected)
        if difference == 0:
            return None
        note = msg(
            N_("Totals differ: the CRM shows %(crm)s, Xero will show %(xero)s (%(difference)s)."),
            crm=str(work.zoho.get("Grand_Total")),
            xero=str(expected.total),
            difference=str(difference),
        )
        self.sink.emit(
            SyncEvent(
                "totals_mismatch",
                self.tenant_id,
                str(work.direction),
                work.spec.zoho_module,
                work.name,
                work.zoho_id,
                work.xero_id,
                note.render(),
                self.run_id,
            )
        )
        return note

    # --- writes --------------------------------------------------------------------------------------------

    def _write(
        self, spec: EntitySpec, direction: Direction, mapping: PairMapping, works: list[_Work]
    ) -> None:
        creates = [w for w in works if w.payload is not None]
        xero_updates = [w for w in works if w.payload is None and w.to_xero]
        zoho_updates = [w for w in works if w.payload is None and w.to_zoho]
        for work in works:
            if spec.xero_module == "Invoices" and (work.to_xero or (work.payload and direction is Z2X)):
                lines = (
                    (work.payload or {}).get("LineItems")
                    if work.payload
                    else next((v for k, v in work.to_xero.items() if k.endswith("|LineItems")), None)
                )
                work.note = self._totals_note(work, lines)
        if creates:
            self._create(spec, direction, mapping, creates)
        if xero_updates:
            self._update(spec, "xero", mapping, xero_updates)
        if zoho_updates:
            self._update(spec, "zoho", mapping, [w for w in zoho_updates if not w.failed])
        for work in works:
            if work.finished or work.failed:
                continue
            if work.payload is not None:
                continue  # audited by _create
            self._save_link(mapping, work)
            if work.to_xero or work.to_zoho:
                self._finish(
                    work, "linked" if work.new_link else "updated", changes=work.changes, message=work.note
                )
            elif work.new_link:
                self._finish(work, "linked")
            else:
                self._finish_skip(work, "unchanged", skip("unchanged"))
        self._commit()

    def _create(
        self, spec: EntitySpec, direction: Direction, mapping: PairMapping, works: list[_Work]
    ) -> None:
        port: ZohoPort | XeroPort = self.xero if direction is Z2X else self.zoho
        module = spec.xero_module if direction is Z2X else spec.zoho_module
        id_field = XERO_ID_FIELD.get(module, "id") if direction is Z2X else "id"
        for chunk in chunks(works, port.max_write_batch):
            requests = []
            for work in chunk:
                assert work.payload is not None
                version = str(
                    work.source.get(ZOHO_VERSION_FIELD if direction is Z2X else XERO_VERSION_FIELD) or ""
                )
                key = (
                    work.link.pending_key
                    if work.link is not None and work.link.state == "creating" and work.link.pending_key
                    else idempotency_key(
                        self.tenant_id, module, work.source_id, version, work.payload, "create"
                    )
                )
                requests.append(WriteRequest(work.payload, key))
                if self.dry_run:
                    continue
                if work.link is None:
                    work.link = self._new_link(work)
                work.link.state = "creating"
                work.link.pending_key = key
            if self.dry_run:
                for work in chunk:
                    code_source = work.payload if direction is Z2X else work.source
                    code = get_path(code_source, spec.xero_code) if spec.xero_code else None
                    placeholder = RecordLink(
                        entity=spec.name,
                        zoho_id=work.zoho_id or f"dry-run:{work.source_id}",
                        xero_id=work.xero_id or f"dry-run:{work.source_id}",
                        state="linked",
                        xero_code=str(code) if code else None,
                    )
                    self._cache(placeholder)
                    self._finish(work, "created")
                continue
            self.session.flush()
            self._commit()  # the pending links are durable before the remote call
            outcomes = self._call(
                port.create,
                module,
                chunk,
                requests,
                spec.zoho_module if direction is Z2X else spec.x2z_module or spec.xero_module,
            )
            for work, request, outcome in zip(chunk, requests, outcomes, strict=True):
                result, attempt = outcome
                if isinstance(result, ConnectorError):
                    if not result.retryable and work.link is not None:
                        # Refused for good: nothing was created, so nothing is pending.
                        self.session.delete(work.link)
                        self._forget(work.link)
                        work.link = None
                    self._finish_failed(work, str(result), attempt=attempt, kind=type(result).__name__)
                    continue
                saved = dict(result.record or {})
                if direction is X2Z or not saved:
                    # Zoho answers a write with ids only: what was sent stands for what was saved, unless the
                    # connector read the record back. Xero echoes the saved record, which is authoritative: a
                    # value Xero dropped (a read-only field) must not look like a change on the next sync.
                    for key, value in request.record.items():
                        saved.setdefault(key, value)
                saved[id_field] = result.id or saved.get(id_field)
                if direction is Z2X:
                    work.xero = saved
                else:
                    work.zoho = saved
                assert work.link is not None
                work.link.xero_id, work.link.zoho_id = work.xero_id, work.zoho_id
                work.link.pending_key = None
                work.link.state = "linked"
                self._save_link(mapping, work)
                self._finish(work, "created", message=work.note)
            self._commit()

    def _update(self, spec: EntitySpec, side: str, mapping: PairMapping, works: list[_Work]) -> None:
        if not works:
            return
        if side == "xero":
            port: ZohoPort | XeroPort = self.xero
            module, id_field = spec.xero_module, XERO_ID_FIELD[spec.xero_module]
        else:
            port, module, id_field = self.zoho, spec.zoho_module, "id"
        rules = {r.key: r for r in mapping.rules}
        for chunk in chunks(works, port.max_write_batch):
            requests = []
            for work in chunk:
                current = (work.xero if side == "xero" else work.zoho) or {}
                values = work.to_xero if side == "xero" else work.to_zoho
                paths = [rules[k].xero if side == "xero" else rules[k].zoho[0] for k in values]
                # Lists (Addresses, Phones) are sent whole: start from the current ones so others survive.
                payload = {k: copy.deepcopy(current[k]) for k in {top_key(p) for p in paths} if k in current}
                for key, value in values.items():
                    set_path(payload, rules[key].xero if side == "xero" else rules[key].zoho[0], value)
                payload[id_field] = work.xero_id if side == "xero" else work.zoho_id
                version = str(
                    work.source.get(ZOHO_VERSION_FIELD if work.direction is Z2X else XERO_VERSION_FIELD) or ""
                )
                key = idempotency_key(self.tenant_id, module, work.source_id, version, payload, "update")
                requests.append(WriteRequest(payload, key))
            if self.dry_run:
                continue
            audit_module = (
                spec.zoho_module if chunk[0].direction is Z2X else spec.x2z_module or spec.xero_module
            )
            outcomes = self._call(port.update, module, chunk, requests, audit_module)
            for work, request, outcome in zip(chunk, requests, outcomes, strict=True):
                result, attempt = outcome
                if isinstance(result, ConnectorError):
                    self._finish_failed(work, str(result), attempt=attempt, kind=type(result).__name__)
                    continue
                current = (work.xero if side == "xero" else work.zoho) or {}
                sent = request.record if side == "zoho" or not result.record else {}
                merged = {**current, **sent, **(result.record or {})}
                if side == "xero":
                    work.xero = merged
                else:
                    work.zoho = merged

    def _call(
        self,
        method: Callable[[str, Sequence[Any]], list[WriteResult]],
        module: str,
        works: Sequence[_Work],
        requests: list[Any],
        audit_module: str,
    ) -> list[tuple[WriteResult | ConnectorError, int]]:
        """One batched write with retries: transient errors and rate limits are retried (3 attempts in all,
        with
        backoff), everything else is final at once. Each failed attempt gets its own audit row."""
        results: list[tuple[WriteResult | ConnectorError, int] | None] = [None] * len(requests)
        pending = list(range(len(requests)))
        attempt = 1
        while pending:
            try:
                answers: list[WriteResult | ConnectorError] = list(
                    method(module, [requests[i] for i in pending])
                )
                if len(answers) != len(pending):
                    raise RuntimeError("a connector must return one result per record")
                outcomes: dict[int, WriteResult | ConnectorError] = {
                    i: (a.error if isinstance(a, WriteResult) and a.error is not None else a)
                    for i, a in zip(pending, answers, strict=True)
                }
            except AuthError:
                raise
            except ConnectorError as error:
                outcomes = {i: error for i in pending}
            retry = []
            delay = 0.0
            for i, outcome in outcomes.items():
                if isinstance(outcome, ConnectorError) and outcome.retryable and attempt < MAX_ATTEMPTS:
                    retry.append(i)
                    work = works[i]
                    self.audit.record(
                        direction=str(work.direction),
                        module=audit_module,
                        entity=work.spec.name,
                        action="failed",
                        record_name=work.name,
                        zoho_id=work.zoho_id,
                        xero_id=work.xero_id,
                        reason=type(outcome).__name__,
                        error_text=str(outcome),
                        attempt=attempt,
                        final=False,
                    )
                    wait = BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)]
                    if isinstance(outcome, RateLimited):
                        wait = max(wait, outcome.retry_after)
                    delay = max(delay, wait)
                else:
                    results[i] = (outcome, attempt)
            if retry:
                self.sleep(delay)
                attempt += 1
            pending = retry
        return [r for r in results if r is not None]

    def _save_link(self, mapping: PairMapping, work: _Work) -> None:
        if self.dry_run or work.zoho is None or work.xero is None:
            return
        link = work.link
        if link is None:
            link = work.link = self._new_link(work)
        zoho_view = self.zoho_view(mapping, work.zoho)
        xero_view = self.xero_view(mapping, work.xero)
        link.zoho_id, link.xero_id = work.zoho_id, work.xero_id
        link.state = "linked"
        link.zoho_hash = digest(zoho_view)
        link.xero_hash = digest(xero_view)
        link.base = {"z": zoho_view, "x": xero_view}
        link.zoho_version = str(work.zoho.get(ZOHO_VERSION_FIELD) or "")[:40] or None
        link.xero_version = str(work.xero.get(XERO_VERSION_FIELD) or "")[:40] or None
        link.record_name = work.name[:255]
        link.mapping_version = mapping.version
        link.last_synced_at = self.clock()
        if work.spec.xero_code:
            code = get_path(work.xero, work.spec.xero_code)
            link.xero_code = str(code) if code else None
        self._cache(link)

    def _forget(self, link: RecordLink) -> None:
        for key in [k for k, v in self._links.items() if v is link]:
            del self._links[key]

    # --- removal -------------------------------------------------------------------------------------------

    def _remove(self, works: list[_Work]) -> None:
        """Deletes follow each system's rules: Zoho records are deleted; Xero contacts and accounts archived,
        draft invoices deleted, authorised ones voided only when the tenant allows it, items deleted."""
        if not works:
            return
        spec, direction = works[0].spec, works[0].direction
        source_module = spec.zoho_module if direction is Z2X else (spec.x2z_module or spec.xero_module)
        allowed = []
        for work in works:
            if not self.settings.allows(direction, source_module, "delete"):
                reason = (
                    "allow_sync_off"
                    if direction is X2Z and not self.settings.allow_xero_to_zoho
                    else "action_off"
                )
                self._finish_skip(
                    work,
                    reason,
                    skip("allow_sync_off")
                    if reason == "allow_sync_off"
                    else skip("action_off", action=label("delete"), module=source_module),
                )
            else:
                allowed.append(work)
        if not allowed:
            return
        requests: list[tuple[_Work, RemoveRequest, str]] = []
        if direction is Z2X:
            module = spec.xero_module
            statuses: dict[str, str] = {}
            if module == "Invoices":
                ids = [w.link.xero_id for w in allowed if w.link and w.link.xero_id]
                for chunk in chunks(ids, self.xero.max_read_ids):
                    for record in self.xero.get_by_ids(module, chunk):
                        statuses[str(record["InvoiceID"])] = str(record.get("Status") or "")
            for work in allowed:
                assert work.link is not None and work.link.xero_id
                target = work.link.xero_id
                if module in ("Contacts", "Accounts"):
                    action, verb = RemoveAction.ARCHIVE, "archived"
                elif module == "Invoices":
                    status = statuses.get(target, "")
                    if status in ("DRAFT", "SUBMITTED"):
                        action, verb = RemoveAction.DELETE, "deleted"
                    elif status == "AUTHORISED" and self.settings.allow_voiding:
                        action, verb = RemoveAction.VOID, "voided"
                    elif status in ("DELETED", "VOIDED"):
                        self._mark_removed(work, "deleted" if status == "DELETED" else "voided")
                        continue
                    else:
                        self._finish_skip(
                            work, "cannot_delete_invoice", skip("cannot_delete_invoice", status=status or "?")
                        )
                        continue
                else:
                    action, verb = RemoveAction.DELETE, "deleted"
                key = idempotency_key(self.tenant_id, module, work.source_id, "", target, str(action))
                requests.append((work, RemoveRequest(target, action, key), verb))
            port: ZohoPort | XeroPort = self.xero
        else:
            module = spec.zoho_module
            for work in allowed:
                assert work.link is not None and work.link.zoho_id
                key = idempotency_key(self.tenant_id, module, work.source_id, "", work.link.zoho_id, "delete")
                requests.append((work, RemoveRequest(work.link.zoho_id, RemoveAction.DELETE, key), "deleted"))
            port = self.zoho
        for chunk in chunks(requests, port.max_write_batch):
            if self.dry_run:
                for work, _, verb in chunk:
                    self._finish(work, verb)
                continue
            outcomes = self._call(
                port.remove, module, [c[0] for c in chunk], [c[1] for c in chunk], source_module
            )
            for (work, _, verb), (result, attempt) in zip(chunk, outcomes, strict=True):
                if isinstance(result, ConnectorError):
                    self._finish_failed(work, str(result), attempt=attempt, kind=type(result).__name__)
                else:
                    self._mark_removed(work, verb)
            self._commit()

    def _mark_removed(self, work: _Work, verb: str) -> None:
        if work.link is not None and not self.dry_run:
            work.link.state = "removed"
            work.link.last_synced_at = self.clock()
        self._finish(work, verb)

    # --- won deals -----------------------------------------------------------------------------------------

    def _sync_deals(self, records: list[Record]) -> None:
        spec = self.specs["deal"]
        mapping = self.mappings.get(spec.pair)
        works = [self._make_work(spec, Z2X, r) for r in records]
        if not self._gate(Z2X, "Deals", works):
            return
        links = self._load_links("deal", "z", [w.source_id for w in works])
        stage = self.settings.won_deal_stage
        for work in works:
            work.link = links.get(work.source_id)
            if work.link is not None and work.link.state in ("linked", "removed"):
                # Never a second invoice for the same deal, whatever happens to the deal afterwards.
                self._finish_skip(work, "deal_invoiced", skip("deal_invoiced"))
            elif str(work.source.get("Stage") or "") != stage:
                self._finish_skip(work, "deal_not_won", skip("deal_not_won", stage=stage))
            elif not self.settings.allows(Z2X, "Deals", "create"):
                self._finish_skip(
                    work, "action_off", skip("action_off", action=label("create"), module="Deals")
                )
        works = [w for w in works if not w.finished]
        if not works:
            return
        self._resolve_dependencies(spec, Z2X, mapping, works)
        works = [w for w in works if not w.finished]
        for work in works:
            try:
                work.payload = self._create_payload(mapping, Z2X, work)
            except invoices.UnresolvedReference as error:
                self._finish_skip(
                    work,
                    "dependency_missing",
                    skip("dependency_missing", what=label(error.entity), detail=error.source_id),
                )
            except invoices.RecordRefused as error:
                self._finish_failed(work, error.msg.render(), attempt=1, kind="refused", message=error.msg)
        works = [w for w in works if not w.finished]
        self._guard_invoices(spec, Z2X, works)
        self._write(spec, Z2X, mapping, [w for w in works if not w.finished])

    # --- contact persons -----------------------------------------------------------------------------------

    def _sync_persons(self, records: list[Record], *, force: bool) -> None:
        """Zoho contacts of an account become contact persons of the account's Xero contact."""
        spec = self.specs["person"]
        mapping = self.mappings.get(spec.pair)
        works = [self._make_work(spec, Z2X, r) for r in records]
        if not self._gate(Z2X, "Contacts", works):
            return
        links = self._load_links("person", "z", [w.source_id for w in works])
        for work in works:
            work.link = links.get(work.source_id)
            view = self.zoho_view(mapping, work.source)
            if work.link is not None and not force and work.link.zoho_hash == digest(view):
                self._finish_skip(work, "unchanged", skip("unchanged"))
            elif not get_path(work.source, "Account_Name.id"):
                self._finish_skip(work, "person_without_customer", skip("person_without_customer"))
        works = [w for w in works if not w.finished]
        if not works:
            return
        customers = {str(get_path(w.source, "Account_Name.id")) for w in works}
        known = self._load_links("customer", "z", customers)
        missing = sorted(c for c in customers if c not in known or known[c].state != "linked")
        if missing:
            self.sync_records(Z2X, self.specs["customer"].zoho_module, missing)
            known = self._load_links("customer", "z", customers)
        by_contact: dict[str, list[_Work]] = defaultdict(list)
        for work in works:
            link = known.get(str(get_path(work.source, "Account_Name.id")))
            if link is None or link.state != "linked" or not link.xero_id:
                self._finish_skip(
                    work,
                    "dependency_missing",
                    skip(
                        "dependency_missing",
                        what=label("customer"),
                        detail=str(get_path(work.source, "Account_Name.id")),
                    ),
                )
                continue
            by_contact[link.xero_id].append(work)
        if not by_contact:
            return
        contacts: dict[str, Record] = {}
        for chunk in chunks(list(by_contact), self.xero.max_read_ids):
            for record in self.xero.get_by_ids("Contacts", chunk):
                contacts[str(record["ContactID"])] = record
        requests, groups = [], []
        for contact_id, group in by_contact.items():
            contact = contacts.get(contact_id)
            if contact is None:
                for work in group:
                    self._finish_skip(
                        work,
                        "dependency_missing",
                        skip("dependency_missing", what=label("customer"), detail=contact_id),
                    )
                continue
            persons = [dict(p) for p in contact.get("ContactPersons") or []]
            for work in group:
                person: Record = {}
                for rule_ in mapping.rules:
                    value = rule_.forward(rule_.zoho_raw(work.source))
                    if value is not None:
                        set_path(person, rule_.xero, value)
                old_key = work.link.xero_id.split("/", 1)[1] if work.link and work.link.xero_id else None
                new_key = _person_key(person)
                persons = [p for p in persons if _person_key(p) not in (old_key, new_key)]
                persons.append(person)
                work.xero = {"ContactID": contact_id, "person_key": new_key}
            if len(persons) > 5:
                for work in group:
                    self._finish_failed(
                        work,
                        skip("too_many_persons").render(),
                        attempt=1,
                        kind="refused",
                        message=skip("too_many_persons"),
                    )
                continue
            payload = {"ContactID": contact_id, "ContactPersons": persons}
            version = "|".join(str(w.source.get(ZOHO_VERSION_FIELD) or "") for w in group)
            requests.append(
                WriteRequest(
                    payload,
                    idempotency_key(self.tenant_id, "ContactPersons", contact_id, version, payload, "update"),
                )
            )
            groups.append(group)
        for chunk_index in range(0, len(requests), self.xero.max_write_batch):
            chunk_requests = requests[chunk_index : chunk_index + self.xero.max_write_batch]
            chunk_groups = groups[chunk_index : chunk_index + self.xero.max_write_batch]
            if self.dry_run:
                for group in chunk_groups:
                    for work in group:
                        self._finish(work, "updated" if work.link else "created")
                continue
            firsts = [g[0] for g in chunk_groups]
            outcomes = self._call(self.xero.update, "Contacts", firsts, chunk_requests, "Contacts")
            for group, (result, attempt) in zip(chunk_groups, outcomes, strict=True):
                for work in group:
                    if isinstance(result, ConnectorError):
                        self._finish_failed(work, str(result), attempt=attempt, kind=type(result).__name__)
                        continue
                    assert work.xero is not None
                    xero_id = f"{work.xero['ContactID']}/{work.xero['person_key']}"
                    action = "updated" if work.link else "created"
                    if work.link is None:
                        work.link = self._new_link(work)
                    work.link.xero_id = xero_id[:64]
                    work.link.zoho_hash = digest(self.zoho_view(mapping, work.source))
                    work.link.state = "linked"
                    work.link.last_synced_at = self.clock()
                    self._finish(work, action)
            self._commit()

    def _remove_persons(self, works: list[_Work]) -> None:
        allowed = [w for w in works if self.settings.allows(Z2X, "Contacts", "delete")]
        for work in works:
            if work not in allowed:
                self._finish_skip(
                    work, "action_off", skip("action_off", action=label("delete"), module="Contacts")
                )
        by_contact: dict[str, list[_Work]] = defaultdict(list)
        for work in allowed:
            assert work.link is not None and work.link.xero_id
            by_contact[work.link.xero_id.split("/", 1)[0]].append(work)
        contacts: dict[str, Record] = {}
        for chunk in chunks(list(by_contact), self.xero.max_read_ids):
            for record in self.xero.get_by_ids("Contacts", chunk):
                contacts[str(record["ContactID"])] = record
        for contact_id, group in by_contact.items():
            gone = {w.link.xero_id.split("/", 1)[1] for w in group if w.link and w.link.xero_id}
            persons = [
                p
                for p in (contacts.get(contact_id) or {}).get("ContactPersons") or []
                if _person_key(p) not in gone
            ]
            payload = {"ContactID": contact_id, "ContactPersons": persons}
            request = WriteRequest(
                payload, idempotency_key(self.tenant_id, "ContactPersons", contact_id, "", payload, "update")
            )
            if self.dry_run:
                for work in group:
                    self._finish(work, "deleted")
                continue
            ((result, attempt),) = self._call(self.xero.update, "Contacts", group[:1], [request], "Contacts")
            for work in group:
                if isinstance(result, ConnectorError):
                    self._finish_failed(work, str(result), attempt=attempt, kind=type(result).__name__)
                else:
                    self._mark_removed(work, "deleted")

    # --- payments ------------------------------------------------------------------------------------------

    def _sync_payments(self, records: list[Record]) -> None:
        """Xero payments update the Zoho invoice (paid, due, status, payment date) and the customer's
        outstanding and overdue totals and last payment date."""
        invoice_spec = self.specs["invoice"]
        spec = EntitySpec(
            "payment",
            "Invoices",
            "Payments",
            defaults.PAYMENTS,
            ("Subject",),
            "PaymentID",
            x2z_module="Payments",
        )
        works = [
            _Work(
                spec,
                X2Z,
                r,
                str(r.get("PaymentID")),
                str(get_path(r, "Invoice.InvoiceNumber") or r.get("PaymentID")),
            )
            for r in records
        ]
        if not self._gate(X2Z, "Payments", works):
            return
        for work in works:
            action = "delete" if work.source.get("Status") == "DELETED" else "update"
            if not self.settings.allows(X2Z, "Payments", action):
                self._finish_skip(
                    work, "action_off", skip("action_off", action=label(action), module="Payments")
                )
        works = [w for w in works if not w.finished]
        invoice_ids = sorted(
            {
                str(get_path(w.source, "Invoice.InvoiceID"))
                for w in works
                if get_path(w.source, "Invoice.InvoiceID")
            }
        )
        links = self._load_links(invoice_spec.name, "x", invoice_ids)
        xero_invoices: dict[str, Record] = {}
        linked_ids = [
            i for i in invoice_ids if i in links and links[i].state == "linked" and links[i].zoho_id
        ]
        for chunk in chunks(linked_ids, self.xero.max_read_ids):
            for record in self.xero.get_by_ids("Invoices", chunk):
                xero_invoices[str(record["InvoiceID"])] = record
        zoho_invoices: dict[str, Record] = {}
        zoho_ids = [str(links[i].zoho_id) for i in linked_ids]
        for chunk in chunks(zoho_ids, self.zoho.max_read_ids):
            for record in self.zoho.get_by_ids("Invoices", chunk):
                zoho_invoices[str(record["id"])] = record
        payments_mapping = self.mappings.get(defaults.PAYMENTS)
        updates: dict[str, tuple[_Work, Record]] = {}
        last_payment: dict[str, str] = {}
        for work in works:
            invoice_id = str(get_path(work.source, "Invoice.InvoiceID") or "")
            link = links.get(invoice_id)
            invoice = xero_invoices.get(invoice_id)
            contact_id = get_path(invoice, "Contact.ContactID") if invoice else None
            if contact_id and work.source.get("Status") != "DELETED" and work.source.get("Date"):
                day = str(work.source["Date"])[:10]
                last_payment[str(contact_id)] = max(last_payment.get(str(contact_id), ""), day)
            if link is None or invoice is None or str(link.zoho_id) not in zoho_invoices:
                self._finish_skip(work, "no_counterpart", skip("no_counterpart", action=label("update")))
                continue
            work.link = link
            work.xero = payment_view(invoice, self.clock())
            work.zoho = zoho_invoices[str(link.zoho_id)]
            if invoice_id in updates:
                # Several payments of one invoice in one batch: one write carries them all.
                updates[invoice_id][0].changes.append({"payment": work.source_id})
                self._finish(work, "updated", zoho_id=work.zoho_id, xero_id=invoice_id)
                continue
            payload = self._backward_payload(payments_mapping, work.xero, work.zoho, work)
            updates[invoice_id] = (work, payload)
        self._apply_zoho_updates("Invoices", list(updates.values()), "Payments")
        self._sync_balances(last_payment)

    def _backward_payload(self, mapping: PairMapping, xero: Record, zoho: Record, work: _Work) -> Record:
        payload: Record = {}
        for rule_ in mapping.rules:
            if not rule_.arrow.to_zoho or len(rule_.zoho) != 1:
                continue
            value = rule_.backward(rule_.xero_raw(xero))
            if value is None or value == rule_.zoho_raw(zoho):
                continue
            set_path(payload, rule_.zoho[0], value)
            work.changes.append(
                {"field": rule_.zoho[0], "side": "zoho", "old": rule_.zoho_raw(zoho), "new": value}
            )
        return payload

    def _apply_zoho_updates(
        self, module: str, updates: list[tuple[_Work, Record]], audit_module: str
    ) -> None:
        writes = [(w, p) for w, p in updates if p]
        for work, payload in updates:
            if not payload:
                self._finish_skip(work, "unchanged", skip("unchanged"), module=audit_module)
        for chunk in chunks(writes, self.zoho.max_write_batch):
            requests = []
            for work, payload in chunk:
                payload = {**payload, "id": work.zoho_id}
                version = str(work.source.get(XERO_VERSION_FIELD) or "")
                requests.append(
                    WriteRequest(
                        payload,
                        idempotency_key(self.tenant_id, module, work.source_id, version, payload, "update"),
                    )
                )
            if self.dry_run:
                for work, _ in chunk:
                    self._finish(work, "updated", module=audit_module)
                continue
            outcomes = self._call(self.zoho.update, module, [w for w, _ in chunk], requests, audit_module)
            for (work, _), (result, attempt) in zip(chunk, outcomes, strict=True):
                if isinstance(result, ConnectorError):
                    self._finish_failed(
                        work, str(result), attempt=attempt, kind=type(result).__name__, module=audit_module
                    )
                else:
                    self._finish(work, "updated", changes=work.changes, module=audit_module)
            self._commit()

    def _sync_balances(self, last_payment: Mapping[str, str]) -> None:
        if not last_payment:
            return
        customer = self.specs["customer"]
        links = self._load_links("customer", "x", list(last_payment))
        linked = [c for c in last_payment if c in links and links[c].state == "linked" and links[c].zoho_id]
        contacts: dict[str, Record] = {}
        for chunk in chunks(linked, self.xero.max_read_ids):
            for record in self.xero.get_by_ids("Contacts", chunk):
                contacts[str(record["ContactID"])] = record
        zoho_records: dict[str, Record] = {}
        for chunk in chunks([str(links[c].zoho_id) for c in linked], self.zoho.max_read_ids):
            for record in self.zoho.get_by_ids(customer.zoho_module, chunk):
                zoho_records[str(record["id"])] = record
        mapping = self.mappings.get(defaults.BALANCES)
        updates = []
        for contact_id in linked:
            contact = contacts.get(contact_id)
            zoho = zoho_records.get(str(links[contact_id].zoho_id))
            if contact is None or zoho is None:
                continue
            view = {
                **contact,
                "$LastPaymentDate": max(
                    last_payment[contact_id], str(get_path(zoho, "Last_Payment_Date") or "")
                ),
            }
            work = _Work(
                customer,
                X2Z,
                view,
                contact_id,
                customer.xero_display(contact),
                zoho=zoho,
                xero=contact,
                link=links[contact_id],
            )
            updates.append((work, self._backward_payload(mapping, view, zoho, work)))
        self._apply_zoho_updates(customer.zoho_module, updates, customer.zoho_module)

    # --- audit helpers -------------------------------------------------------------------------------------

    def _audit_module(self, work: _Work) -> str:
        if work.direction is Z2X:
            return work.spec.zoho_module
        return work.spec.x2z_module or work.spec.xero_module

    def _finish(
        self,
        work: _Work,
        action: str,
        *,
        changes: list[dict[str, Any]] | None = None,
        message: Msg | None = None,
        module: str | None = None,
        zoho_id: str | None = None,
        xero_id: str | None = None,
    ) -> None:
        work.finished = True
        self.audit.record(
            direction=str(work.direction),
            module=module or self._audit_module(work),
            entity=work.spec.name,
            action=action,
            record_name=work.name,
            zoho_id=zoho_id or work.zoho_id,
            xero_id=xero_id or work.xero_id,
            message=message,
            changes=changes,
        )

    def _finish_skip(self, work: _Work, reason: str, message: Msg, *, module: str | None = None) -> None:
        work.finished = True
        self.audit.record(
            direction=str(work.direction),
            module=module or self._audit_module(work),
            entity=work.spec.name,
            action="skipped",
            record_name=work.name,
            zoho_id=work.zoho_id,
            xero_id=work.xero_id,
            reason=reason,
            message=message,
        )

    def _record_skip(
        self,
        direction: Direction,
        module: str,
        entity: str,
        name: str,
        zoho_id: str | None,
        reason: str,
        message: Msg,
    ) -> None:
        self.audit.record(
            direction=str(direction),
            module=module,
            entity=entity,
            action="skipped",
            record_name=name,
            zoho_id=zoho_id,
            reason=reason,
            message=message,
        )

    def _finish_failed(
        self,
        work: _Work,
        error_text: str,
        *,
        attempt: int,
        kind: str,
        message: Msg | None = None,
        module: str | None = None,
    ) -> None:
        work.finished = True
        work.failed = True
        audit_module = module or self._audit_module(work)
        self.audit.record(
            direction=str(work.direction),
            module=audit_module,
            entity=work.spec.name,
            action="failed",
            record_name=work.name,
            zoho_id=work.zoho_id,
            xero_id=work.xero_id,
            reason=kind,
            message=message,
            error_text=error_text,
            attempt=attempt,
        )
        notified = (work.spec.name, work.source_id)
        if notified not in self._failed_notified and not self.dry_run:
            self._failed_notified.add(notified)
            self.sink.emit(
                SyncEvent(
                    "record_failed",
                    self.tenant_id,
                    str(work.direction),
                    audit_module,
                    work.name,
                    work.zoho_id,
                    work.xero_id,
                    error_text,
                    self.run_id,
                )
            )

    def _commit(self) -> None:
        if self.dry_run:
            return
        self.audit.flush()
        self.session.commit()

    def _release_memory(self) -> None:
        """Between top-level batches nothing is kept: a 100,000-record run holds one page at a time (the
        session's identity map only holds weak references to committed, unmodified rows). A dry run keeps its
        planned links: later modules must see the customers and items it would have created."""
        if not self.dry_run:
            self._links.clear()


def _person_key(person: Mapping[str, Any]) -> str:
    email = str(person.get("EmailAddress") or "").strip().casefold()
    if email:
        return email
    return " ".join(str(person.get(k) or "").strip() for k in ("FirstName", "LastName")).casefold()


def _is_adjustment(line: Mapping[str, Any]) -> bool:
    return (
        not line.get("ItemCode") and line.get("Description") == "Adjustment" and line.get("TaxType") == "NONE"
    )


def payment_view(invoice: Mapping[str, Any], now: datetime) -> Record:
    """A Xero invoice with the virtual fields the payment mapping reads: $PaymentStatus, $LastPaymentDate."""
    paid = to_decimal(invoice.get("AmountPaid")) or invoices.ZERO
    due = to_decimal(invoice.get("AmountDue")) or invoices.ZERO
    status = str(invoice.get("Status") or "")
    due_date = str(invoice.get("DueDate") or "")[:10]
    if status == "PAID" or (paid > 0 and due == 0):
        payment_status = "Paid"
    elif due > 0 and due_date and due_date < now.date().isoformat():
        payment_status = "Overdue"
    elif paid > 0:
        payment_status = "PartiallyPaid"
    else:
        payment_status = None
    dates = [
        str(p.get("Date"))[:10]
        for p in invoice.get("Payments") or []
        if p.get("Date") and p.get("Status", "AUTHORISED") != "DELETED"
    ]
    return {
        **invoice,
        "$PaymentStatus": payment_status,
        "$LastPaymentDate": max(dates) if dates else invoice.get("FullyPaidOnDate"),
    }
