"""The scheduled pull: every 10 minutes per tenant, what changed in Xero since each module's watermark is synced
to Zoho; Zoho deletions are swept on the same beat while on-save is on.

- **Spread**: tenant ``t`` pulls in the minutes where ``minute % 10 == t.id % 10``. One dispatcher job runs every
  minute and enqueues only the tenants whose slot it is (and any tenant whose last pull is overdue, after an
  outage), so the load is flat instead of every tenant at once.
- **Watermarks** (:class:`PullWatermark`) are per tenant, side, remote organisation and module. A pull asks for
  records modified since ``watermark - OVERLAP`` (``If-Modified-Since``; the overlap absorbs clock skew between
  us and Xero and late commits on Xero's side; records read twice are skipped by the engine's hash check), and
  moves the watermark to the newest ``UpdatedDateUTC`` it synced, only when the whole module went through.
  A module that fails keeps its watermark and is read again next time.
- A new organisation (first connection, or a reset) starts at the time it was connected: what happened before is
  the historical sync's job, not the pull's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.connectors.errors import AuthError, ConnectorError
from portal.extensions import db
from portal.models import Connection, ConnectionStatus, PullWatermark, RecordLink, Side, Tenant, ZohoChannel, utcnow
from portal.models.sync import SyncConfig
from portal.services import settings as tenant_settings
from portal.services.inbound import TRIGGER_PULL, changed_since_last_sync, instant
from portal.services.sync_runner import build_engine, live_connections
from portal.sync.ports import XERO_ID_FIELD, XERO_VERSION_FIELD, Record
from portal.sync.settings import ZOHO_TO_XERO_MODULES, Direction, SyncSettings
from portal.sync.specs import entity_for

log = logging.getLogger(__name__)

PULL_INTERVAL_MINUTES = 10
OVERLAP = timedelta(minutes=2)
OVERDUE_AFTER = timedelta(minutes=2 * PULL_INTERVAL_MINUTES + 5)
# Xero → Zoho modules in dependency order; Xero has no webhooks for Items, Payments and Accounts (FACTS.md §5).
PULL_MODULES = ("Accounts", "Contacts", "Items", "Invoices", "Payments")


def slot(tenant_id: int) -> int:
    return tenant_id % PULL_INTERVAL_MINUTES


def _pulls(settings: SyncSettings) -> bool:
    return settings.allow_xero_to_zoho or settings.on_save


def due_tenants(now: datetime) -> list[int]:
    """Tenants whose slot is this minute, or whose last pull is overdue; all with Xero connected and something
    for the pull to do (Allow sync on, or on-save on for the deletion sweep)."""
    minute_slot = (now.hour * 60 + now.minute) % PULL_INTERVAL_MINUTES
    connected = set(db.session.scalars(select(Connection.tenant_id).where(
        Connection.side == Side.XERO.value, Connection.status == ConnectionStatus.CONNECTED.value)))
    last_runs: dict[int, datetime] = {}
    for tenant_id, last_run in db.session.execute(select(PullWatermark.tenant_id, PullWatermark.last_run_at)):
        if last_run is not None and (tenant_id not in last_runs or last_run < last_runs[tenant_id]):
            last_runs[tenant_id] = last_run
    due = []
    for config in db.session.scalars(select(SyncConfig).where(SyncConfig.tenant_id.in_(connected))):
        if not _pulls(SyncSettings.from_json(config.settings)):
            continue
        last = last_runs.get(config.tenant_id)
        if slot(config.tenant_id) == minute_slot or (last is not None and now - last > OVERDUE_AFTER):
            due.append(config.tenant_id)
    return sorted(due)


@dataclass
class PullReport:
    records: dict[str, int] = field(default_factory=dict)
    deletions: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def _watermark(tenant: Tenant, side: Side, org_id: str, module: str, start: datetime) -> PullWatermark:
    row = db.session.scalar(select(PullWatermark).where(
        PullWatermark.tenant_id == tenant.id, PullWatermark.side == side.value,
        PullWatermark.remote_org_id == org_id, PullWatermark.module == module))
    if row is None:
        row = PullWatermark(tenant_id=tenant.id, side=side.value, remote_org_id=org_id, module=module,
                            watermark=start)
        db.session.add(row)
        db.session.flush()
    return row


def pull(tenant: Tenant, *, now: datetime | None = None) -> PullReport:
    """One pull of one tenant. Commits after every page and every watermark."""
    now = now or utcnow()
    report = PullReport()
    settings = tenant_settings.current(tenant).settings
    if not _pulls(settings):
        return report
    linked = live_connections(tenant)
    engine = build_engine(db.session(), tenant, trigger=TRIGGER_PULL)
    if settings.allow_xero_to_zoho:
        xero_org = linked.xero.remote_org_id or ""
        start = linked.xero.connected_at or now
        modules = [m for m in PULL_MODULES if settings.switches(Direction.XERO_TO_ZOHO, m).enabled]
        for module in modules:
            mark = _watermark(tenant, Side.XERO, xero_org, module, start)
            mark.last_run_at = now
            newest, count = mark.watermark, 0
            seen: dict[str, datetime] = {}
            id_field = XERO_ID_FIELD[module]
            try:
                cursor: str | None = None
                while True:
                    page = engine.xero.list_changed(module, mark.watermark - OVERLAP, cursor)
                    fresh = [r for r in page.records if not _in_boundary(mark.boundary, r, id_field)]
                    fresh = changed_since_last_sync(tenant.id, settings, Direction.XERO_TO_ZOHO, module, fresh,
                                                    linked.zoho.remote_org_id or "", xero_org)
                    engine.sync_batch(Direction.XERO_TO_ZOHO, module, fresh)
                    count += len(fresh)
                    for record in page.records:
                        updated = instant(record.get(XERO_VERSION_FIELD))
                        if updated is not None:
                            seen[str(record.get(id_field))] = updated
                            newest = max(newest, updated)
                    cursor = page.next_cursor
                    if not cursor:
                        break
            except ConnectorError as error:
                db.session.rollback()
                _record_failure(tenant, Side.XERO, xero_org, module, now, error, report)
                if isinstance(error, AuthError):
                    return report
                continue
            mark.watermark = newest
            mark.boundary = {record_id: version.isoformat() for record_id, version in seen.items()
                             if version >= newest - OVERLAP}
            mark.last_success_at = now
            mark.last_count = count
            mark.last_error = None
            db.session.commit()
            report.records[module] = count
    if settings.on_save:
        _sweep_zoho_deletions(tenant, engine, settings, linked.zoho.remote_org_id or "", linked.xero.remote_org_id
                              or "", now, report)
    return report


def _in_boundary(boundary: dict[str, str], record: Record, id_field: str) -> bool:
    """Read at the end of the last pull, at this same version: the overlap brought it back, nothing changed."""
    version = boundary.get(str(record.get(id_field)))
    return version is not None and instant(version) == instant(record.get(XERO_VERSION_FIELD))


def _record_failure(tenant: Tenant, side: Side, org_id: str, module: str, now: datetime, error: BaseException,
                    report: PullReport) -> None:
    mark = _watermark(tenant, side, org_id, module, now)
    mark.last_run_at = now
    mark.last_error = str(error)[:2000]
    db.session.commit()
    report.failed[module] = str(error)
    log.warning("pull of %s %s for tenant %s failed (watermark kept): %s", side.value, module, tenant.id, error)


def _sweep_zoho_deletions(tenant: Tenant, engine: object, settings: SyncSettings, zoho_org: str, xero_org: str,
                          now: datetime, report: PullReport) -> None:
    """A notification Zoho failed to deliver (Zoho does not retry) must not leave a deleted record alive in Xero:
    for each module with a live channel, the deleted-records list since the watermark is compared with the links,
    and only records still linked are passed on (a deletion already propagated is not audited again)."""
    from portal.sync.engine import SyncEngine

    assert isinstance(engine, SyncEngine)
    # The modules whose notification channels Zoho accepted: a module the org does not have is not swept.
    watched = set(db.session.scalars(select(ZohoChannel.module).where(
        ZohoChannel.tenant_id == tenant.id, ZohoChannel.zoho_org_id == zoho_org, ZohoChannel.status == "active")))
    for module in ZOHO_TO_XERO_MODULES:
        if module not in watched or not settings.allows(Direction.ZOHO_TO_XERO, module, "delete"):
            continue
        entity = entity_for(settings, Direction.ZOHO_TO_XERO, module)
        if entity is None:
            continue
        mark = _watermark(tenant, Side.ZOHO, zoho_org, f"deleted:{module}", tenant_connected_at(tenant, now))
        mark.last_run_at = now
        try:
            deleted = engine.zoho.list_deleted(module, mark.watermark - OVERLAP)
        except ConnectorError as error:
            db.session.rollback()
            _record_failure(tenant, Side.ZOHO, zoho_org, f"deleted:{module}", now, error, report)
            continue
        linked = _still_linked(tenant.id, entity, zoho_org, xero_org, deleted)
        if linked:
            engine.sync_deletions(Direction.ZOHO_TO_XERO, module, linked)
        mark.watermark = now
        mark.last_success_at = now
        mark.last_count = len(linked)
        mark.last_error = None
        db.session.commit()
        report.deletions[module] = len(linked)


def tenant_connected_at(tenant: Tenant, default: datetime) -> datetime:
    zoho = db.session.scalar(select(Connection).where(Connection.tenant_id == tenant.id,
                                                      Connection.side == Side.ZOHO.value))
    return (zoho.connected_at if zoho is not None else None) or default


def _still_linked(tenant_id: int, entity: str, zoho_org: str, xero_org: str, ids: Sequence[str]) -> list[str]:
    if not ids:
        return []
    linked: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        linked.extend(str(i) for i in db.session.scalars(select(RecordLink.zoho_id).where(
            RecordLink.tenant_id == tenant_id, RecordLink.entity == entity, RecordLink.zoho_org_id == zoho_org,
            RecordLink.xero_tenant_id == xero_org, RecordLink.state == "linked", RecordLink.zoho_id.in_(chunk))))
    return linked


def pull_status(tenant: Tenant) -> list[PullWatermark]:
    return list(db.session.scalars(select(PullWatermark).where(PullWatermark.tenant_id == tenant.id)
                                   .order_by(PullWatermark.side, PullWatermark.module)))
