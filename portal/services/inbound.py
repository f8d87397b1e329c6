"""Inbound events: stored before they are answered, woken through Redis, claimed and synced by a worker.

The path of one event (ARCHITECTURE.md, "How a record travels"):

1. A hook stores an :class:`InboundEvent` (deduplicated per tenant) and commits, then :func:`wake` sets a per
   tenant-and-lane flag in Redis and, if the flag was not already set, enqueues ``process_events``. Redis down:
   the event stays stored and :func:`requeue_stored` (a periodic job) wakes its lane later.
2. The job clears the flag first, then :func:`claim` takes every pending event of the lane (a lease, so two jobs
   never take the same event, and a crashed job's events come back). An event stored before the flag was cleared
   is seen by this job; one stored after sets the flag again and gets a job of its own: nothing waits unseen.
3. :func:`process_claimed` groups the claimed events by module and operation, so several saves of one record
   become one sync of the current state (a burst costs one read and at most one write), and fences events that
   arrived under an older connection generation.

Lanes are the side whose records changed: ``zoho`` (Zoho → Xero) and ``xero`` (Xero → Zoho).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.connectors.errors import ConnectorError
from portal.extensions import db, redis_connection
from portal.jobs.queues import enqueue
from portal.models import AuditEntry, Connection, InboundEvent, RecordLink, Side, Tenant, utcnow
from portal.services import settings as tenant_settings
from portal.services.sync_runner import NotConnected, build_engine, live_connections
from portal.sync.ports import (
    XERO_ID_FIELD,
    XERO_VERSION_FIELD,
    ZOHO_ID_FIELD,
    ZOHO_VERSION_FIELD,
    Record,
    chunks,
)
from portal.sync.settings import Direction, SyncSettings
from portal.sync.specs import entity_for

log = logging.getLogger(__name__)

LANES = ("zoho", "xero")
DIRECTIONS = {"zoho": Direction.ZOHO_TO_XERO, "xero": Direction.XERO_TO_ZOHO}
# Audit trigger names: the "why" of a sync on the audit page.
TRIGGER_ON_SAVE = "on_save"
TRIGGER_SEND = "send_to_xero"
TRIGGER_XERO_WEBHOOK = "xero_webhook"
TRIGGER_PULL = "scheduled_pull"
TRIGGERS = {"notification": TRIGGER_ON_SAVE, "workflow": TRIGGER_ON_SAVE, "send_button": TRIGGER_SEND,
            "send_portal": TRIGGER_SEND, "webhook": TRIGGER_XERO_WEBHOOK}
SEND_KINDS = frozenset({"send_button", "send_portal"})

WAKE_FLAG_SECONDS = 120  # a flag whose job was lost stops blocking new jobs after this
CLAIM_LEASE = timedelta(minutes=10)  # longer than a job may run (jobs time out at 10 minutes)
CLAIM_BATCH = 500
COALESCE_SECONDS = 0.5  # a job waits until the newest event is this old, so a burst of saves syncs once
STALE_AFTER = timedelta(seconds=20)  # unclaimed this long: its wake-up was lost (Redis down); wake it again
MAX_ATTEMPTS = 5
KEEP_PROCESSED = timedelta(days=14)  # long enough to explain "what happened to my save?"; the audit log keeps more
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30))


# --- storing and waking ---------------------------------------------------------------------------------------


def current_generations(tenant_id: int) -> tuple[int, int]:
    rows = db.session.execute(
        select(Connection.side, Connection.generation).where(Connection.tenant_id == tenant_id)
    ).all()
    by_side = {str(side): int(generation) for side, generation in rows}
    return by_side.get(Side.ZOHO.value, 0), by_side.get(Side.XERO.value, 0)


@dataclass(frozen=True)
class NewEvent:
    kind: str
    module: str
    record_ids: Sequence[str]
    dedupe_key: str
    operation: str = "upsert"
    payload: dict[str, Any] | None = None


def store(tenant_id: int, source: str, events: Iterable[NewEvent], *, now: datetime | None = None) -> int:
    """Store events, skipping those already stored (same dedupe key); commits. Returns how many were new."""
    if source not in LANES:
        raise ValueError(f"unknown source {source!r}")
    now = now or utcnow()
    zoho_generation, xero_generation = current_generations(tenant_id)
    rows = [{"tenant_id": tenant_id, "source": source, "kind": event.kind, "module": event.module,
             "operation": event.operation, "record_ids": [str(i) for i in event.record_ids],
             "payload": event.payload, "dedupe_key": event.dedupe_key[:128], "zoho_generation": zoho_generation,
             "xero_generation": xero_generation, "received_at": now, "next_attempt_at": now, "attempts": 0}
            for event in events]
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    # Duplicate deliveries are harmless: the first copy is kept, later ones do nothing.
    statement = upsert(InboundEvent).on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
    result = db.session.execute(statement.returning(InboundEvent.id), rows)
    stored = len(result.all())
    db.session.commit()
    return stored


def store_one(tenant_id: int, source: str, event: NewEvent, *, requested_by_id: int | None = None) -> InboundEvent:
    """Store one event that must exist afterwards (a Send to Xero request); commits and returns it."""
    zoho_generation, xero_generation = current_generations(tenant_id)
    now = utcnow()
    row = InboundEvent(tenant_id=tenant_id, source=source, kind=event.kind, module=event.module,
                       operation=event.operation, record_ids=[str(i) for i in event.record_ids],
                       payload=event.payload, dedupe_key=event.dedupe_key, zoho_generation=zoho_generation,
                       xero_generation=xero_generation, received_at=now, next_attempt_at=now,
                       requested_by_id=requested_by_id)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise
    return row


def _flag(tenant_id: int, lane: str) -> str:
    return f"portal:inbound:wake:{tenant_id}:{lane}"


def wake(tenant_id: int, lane: str, *, force: bool = False) -> bool:
    """Make sure a job will process the lane's pending events. False when Redis cannot be reached: the events
    are stored, and :func:`requeue_stored` wakes the lane once Redis answers again."""
    try:
        connection = redis_connection()
        if force:
            connection.set(_flag(tenant_id, lane), "1", ex=WAKE_FLAG_SECONDS)
            # One sweep job per lane at a time, however long the queue is.
            enqueue("portal.jobs.triggers.process_events", tenant_id, lane,
                    job_id=f"inbound-sweep-{tenant_id}-{lane}")
        elif connection.set(_flag(tenant_id, lane), "1", nx=True, ex=WAKE_FLAG_SECONDS):
            enqueue("portal.jobs.triggers.process_events", tenant_id, lane)
        return True
    except RedisError as error:
        log.warning("could not wake the %s lane of tenant %s (stored, retried later): %s", lane, tenant_id, error)
        return False


def clear_wake_flag(tenant_id: int, lane: str) -> None:
    try:
        redis_connection().delete(_flag(tenant_id, lane))
    except RedisError as error:
        log.warning("could not clear the wake flag of tenant %s: %s", tenant_id, error)


def requeue_stored(now: datetime | None = None) -> int:
    """Wake every lane with events that nobody is processing: their wake-up was lost (Redis was down, a job
    crashed) or their retry is due. Returns the number of lanes woken."""
    now = now or utcnow()
    lanes = db.session.execute(
        select(InboundEvent.tenant_id, InboundEvent.source).where(
            InboundEvent.processed_at.is_(None),
            InboundEvent.next_attempt_at <= now,
            InboundEvent.received_at <= now - STALE_AFTER,
            or_(InboundEvent.claimed_at.is_(None), InboundEvent.claimed_at < now - CLAIM_LEASE),
        ).distinct()
    ).all()
    woken = 0
    for tenant_id, lane in lanes:
        woken += wake(tenant_id, lane, force=True)
    return woken


# --- claiming ---------------------------------------------------------------------------------------------------


def _claimable(tenant_id: int, lane: str, now: datetime) -> Any:
    return (
        (InboundEvent.tenant_id == tenant_id)
        & (InboundEvent.source == lane)
        & InboundEvent.processed_at.is_(None)
        & (InboundEvent.next_attempt_at <= now)
        & or_(InboundEvent.claimed_at.is_(None), InboundEvent.claimed_at < now - CLAIM_LEASE)
    )


def wait_for_quiet(tenant_id: int, lane: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
    """Coalescing window: when the newest pending event is younger than COALESCE_SECONDS, wait until it is not,
    so that the rest of a burst (several saves, a notification and a workflow call for one save) joins it."""
    newest = db.session.scalar(select(func.max(InboundEvent.received_at)).where(_claimable(tenant_id, lane, utcnow())))
    db.session.rollback()  # end the read transaction before waiting (SQLite readers hold a snapshot)
    if newest is None:
        return
    age = (utcnow() - newest).total_seconds()
    if 0 <= age < COALESCE_SECONDS:
        sleep(COALESCE_SECONDS - age)


def claim(tenant_id: int, lane: str, *, event_ids: Sequence[int] | None = None,
          now: datetime | None = None) -> list[InboundEvent]:
    """Take the lane's pending events (or only ``event_ids``) under a lease; commits."""
    now = now or utcnow()
    token = uuid.uuid4().hex
    condition = _claimable(tenant_id, lane, now)
    if event_ids is not None:
        condition = condition & InboundEvent.id.in_(list(event_ids))
    chosen = select(InboundEvent.id).where(condition).order_by(InboundEvent.id).limit(CLAIM_BATCH)
    # The condition is repeated in the UPDATE: of two jobs claiming at once, the second re-checks each row after
    # the first committed (PostgreSQL re-evaluates the WHERE on the updated row) and takes none of the same.
    db.session.execute(
        update(InboundEvent).where(InboundEvent.id.in_(chosen.scalar_subquery()), condition)
        .values(claim_token=token, claimed_at=now, attempts=InboundEvent.attempts + 1),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return list(db.session.scalars(
        select(InboundEvent).where(InboundEvent.claim_token == token).order_by(InboundEvent.id)
    ))


# --- processing -------------------------------------------------------------------------------------------------


def _finish(events: Iterable[InboundEvent], outcome: dict[str, Any], now: datetime) -> None:
    for event in events:
        event.processed_at = now
        event.claim_token = None
        event.last_error = None
        event.outcome = dict(outcome)


def _retry_later(events: Iterable[InboundEvent], error: BaseException, now: datetime) -> None:
    for event in events:
        event.last_error = str(error)[:2000]
        event.claim_token = None
        event.claimed_at = None
        if event.attempts >= MAX_ATTEMPTS:
            event.processed_at = now
            event.outcome = {"status": "failed", "error_text": str(error)[:2000]}
        else:
            event.next_attempt_at = now + RETRY_DELAYS[min(event.attempts, len(RETRY_DELAYS)) - 1]


def _ignored_reason(event: InboundEvent, settings: SyncSettings) -> str | None:
    """Automatic events the tenant's settings say nothing about are dropped without an audit row (the audit log
    would otherwise fill with skips for every save); a Send to Xero always reaches the engine, which audits why
    it skipped, so the person who asked sees the reason."""
    if event.kind in SEND_KINDS:
        return None
    direction = DIRECTIONS[event.source]
    if direction is Direction.ZOHO_TO_XERO and not settings.on_save:
        return "on_save_off"
    if direction is Direction.XERO_TO_ZOHO and not settings.allow_xero_to_zoho:
        return "allow_sync_off"
    if not settings.switches(direction, event.module).enabled:
        return "module_off"
    return None


def instant(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def changed_since_last_sync(tenant_id: int, settings: SyncSettings, direction: Direction, module: str,
                            records: Sequence[Record], zoho_org: str, xero_org: str) -> list[Record]:
    """The records whose version (Zoho ``Modified_Time``, Xero ``UpdatedDateUTC``) is not the one their link
    recorded at the last sync. The others are our own writes coming back (a notification of the record we just
    wrote, the pull reading it) or a change already synced (a duplicate event, the pull's overlap): nothing to
    do, and nothing worth an audit row. The engine's hash check remains the guard for everything else."""
    entity = entity_for(settings, direction, module)
    if entity is None or entity == "payments" or not records:
        return list(records)
    if direction is Direction.ZOHO_TO_XERO:
        id_field, version_field, link_id, link_version = (
            ZOHO_ID_FIELD, ZOHO_VERSION_FIELD, RecordLink.zoho_id, RecordLink.zoho_version)
    else:
        id_field, version_field, link_id, link_version = (
            XERO_ID_FIELD[module], XERO_VERSION_FIELD, RecordLink.xero_id, RecordLink.xero_version)
    ids = [str(record.get(id_field)) for record in records if record.get(id_field)]
    versions: dict[str, datetime | None] = {}
    for start in range(0, len(ids), 500):
        rows = db.session.execute(select(link_id, link_version).where(
            RecordLink.tenant_id == tenant_id, RecordLink.entity == entity, RecordLink.zoho_org_id == zoho_org,
            RecordLink.xero_tenant_id == xero_org, RecordLink.state == "linked", link_id.in_(ids[start:start + 500])))
        versions.update({str(record_id): instant(version) for record_id, version in rows})
    changed = []
    for record in records:
        synced = versions.get(str(record.get(id_field)))
        current = instant(record.get(version_field))
        if synced is None or current is None or synced != current:
            changed.append(record)
    return changed


def process_claimed(tenant: Tenant, events: list[InboundEvent], *, now: datetime | None = None) -> None:
    """Sync what the claimed events ask for; every event ends processed or scheduled for a retry. Commits."""
    if not events:
        return
    now = now or utcnow()
    try:
        linked = live_connections(tenant)
    except NotConnected as error:
        _finish(events, {"status": "ignored", "reason": "not_connected", "error_text": str(error)}, now)
        db.session.commit()
        return
    live = []
    for event in events:
        if event.attempts > MAX_ATTEMPTS:
            # Claimed again and again without finishing (its job kept dying): stop trying.
            _finish([event], {"status": "failed", "error_text": event.last_error or "gave up"}, now)
        elif (event.zoho_generation, event.xero_generation) != linked.generation:
            # Received for an organisation that was reset or replaced since: never applied to the new one.
            _finish([event], {"status": "ignored", "reason": "connection_reset"}, now)
        else:
            live.append(event)
    settings = tenant_settings.current(tenant).settings
    groups: dict[tuple[str, str, str], list[InboundEvent]] = defaultdict(list)
    for event in live:
        reason = _ignored_reason(event, settings)
        if reason:
            _finish([event], {"status": "ignored", "reason": reason}, now)
        else:
            groups[(TRIGGERS.get(event.kind, event.kind), event.module, event.operation)].append(event)
    db.session.commit()
    engines: dict[str, Any] = {}
    for (trigger, module, operation), group in groups.items():
        direction = DIRECTIONS[group[0].source]
        ids = list(dict.fromkeys(record_id for event in group for record_id in event.record_ids))
        before = _last_audit_id(tenant.id)
        try:
            engine = engines.get(trigger)
            if engine is None:
                engine = engines[trigger] = build_engine(db.session(), tenant, trigger=trigger)
            if operation == "delete":
                engine.sync_deletions(direction, module, ids)
            elif trigger == TRIGGER_SEND:
                engine.sync_records(direction, module, ids, force=True)
            else:
                # Re-read the current state (events carry ids only, may be duplicated or out of order).
                port = engine.zoho if direction is Direction.ZOHO_TO_XERO else engine.xero
                records = [record for chunk in chunks(ids, port.max_read_ids)
                           for record in port.get_by_ids(module, chunk)]
                engine.sync_batch(direction, module, changed_since_last_sync(
                    tenant.id, settings, direction, module, records, engine.zoho.org_id, engine.xero.tenant_id))
        except (ConnectorError, NotConnected) as error:
            db.session.rollback()
            log.warning("tenant %s: %s %s %s failed, retried later: %s", tenant.id, trigger, module, operation, error)
            _retry_later(group, error, now)
            db.session.commit()
            continue
        except Exception as error:
            # One group's unexpected failure must not hold up the tenant's other events; it is retried a few
            # times, then kept as failed with the error for the operators.
            db.session.rollback()
            log.exception("tenant %s: %s %s %s failed", tenant.id, trigger, module, operation)
            _retry_later(group, error, now)
            db.session.commit()
            continue
        for event in group:
            if event.kind in SEND_KINDS:
                _finish([event], send_outcome(tenant.id, event, before), utcnow())
            else:
                _finish([event], {"status": "done", "records": len(ids)}, utcnow())
        db.session.commit()


def _last_audit_id(tenant_id: int) -> int:
    return int(db.session.scalar(select(func.max(AuditEntry.id)).where(AuditEntry.tenant_id == tenant_id)) or 0)


def send_outcome(tenant_id: int, event: InboundEvent, after_audit_id: int) -> dict[str, Any]:
    """What a Send to Xero did to its record: the record's own final audit row of this sync."""
    record_id = event.record_ids[0] if event.record_ids else None
    row = db.session.scalar(
        select(AuditEntry).where(AuditEntry.tenant_id == tenant_id, AuditEntry.id > after_audit_id,
                                 AuditEntry.zoho_id == record_id, AuditEntry.trigger == TRIGGER_SEND,
                                 AuditEntry.final.is_(True))
        .order_by(AuditEntry.id.desc()).limit(1)
    )
    if row is None:
        return {"status": "not_found"}
    status = {"failed": "failed", "skipped": "skipped"}.get(row.action, "synced")
    return {"status": status, "action": row.action, "entity": row.entity, "module": row.module,
            "record_name": row.record_name, "xero_id": row.xero_id, "xero_tenant_id": row.xero_tenant_id,
            "message": row.message, "error_text": row.error_text, "audit_id": row.id}


def process_lane(tenant_id: int, lane: str, *, event_ids: Sequence[int] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> int:
    """What ``process_events`` and ``send_record`` do: claim and sync until the lane is empty. Returns how many
    events were handled."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return 0
    handled = 0
    if event_ids is None:
        clear_wake_flag(tenant_id, lane)
        wait_for_quiet(tenant_id, lane, sleep=sleep)
    while True:
        events = claim(tenant_id, lane, event_ids=event_ids)
        if not events:
            return handled
        process_claimed(tenant, events)
        handled += len(events)
        if event_ids is not None:
            return handled


def prune(now: datetime | None = None) -> int:
    """Forget events processed more than KEEP_PROCESSED ago (the audit log keeps what their syncs did)."""
    now = now or utcnow()
    result = db.session.execute(delete(InboundEvent).where(InboundEvent.processed_at < now - KEEP_PROCESSED),
                                execution_options={"synchronize_session": False})
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def pending_count(tenant_id: int) -> int:
    return int(db.session.scalar(select(func.count()).select_from(InboundEvent).where(
        InboundEvent.tenant_id == tenant_id, InboundEvent.processed_at.is_(None))) or 0)

