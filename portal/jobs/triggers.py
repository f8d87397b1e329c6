"""Jobs of the sync triggers: thin, they take ids and call portal.services (inbound, zoho_channels,
scheduled_pull). The periodic ones are declared in portal/jobs/schedule.py.

``now`` parameters (ISO-8601 strings) exist for tests and operators: a job run with a clock, instead of waiting.
"""

from __future__ import annotations

import logging
from datetime import datetime

from portal.connectors.errors import ConnectorError
from portal.extensions import db
from portal.jobs.queues import enqueue
from portal.models import Tenant, utcnow
from portal.services import inbound, scheduled_pull, zoho_channels
from portal.services.sync_runner import NotConnected

log = logging.getLogger(__name__)


def _now(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else utcnow()


def process_events(tenant_id: int, lane: str) -> int:
    """Sync the stored events of one tenant's lane (``zoho`` or ``xero``), coalescing bursts."""
    return inbound.process_lane(tenant_id, lane)


def send_record(tenant_id: int, event_id: int) -> int:
    """Send to Xero: sync the one record of a stored request now (high-priority queue)."""
    return inbound.process_lane(tenant_id, "zoho", event_ids=[event_id])


def requeue_stored_events(now: str | None = None) -> int:
    """Periodic: wake lanes whose stored events nobody is processing (Redis was down, a retry is due)."""
    return inbound.requeue_stored(_now(now))


def prune_events(now: str | None = None) -> int:
    """Periodic, daily: forget inbound events processed two weeks ago."""
    return inbound.prune(_now(now))


def reconcile_channels(tenant_id: int, now: str | None = None) -> None:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is not None:
        zoho_channels.reconcile(tenant, now=_now(now))


def maintain_channels(now: str | None = None) -> int:
    """Periodic: renew, re-create or remove every tenant's Zoho channels. One tenant's failure (Zoho down for
    that org, a revoked grant) does not stop the others."""
    done = 0
    for tenant_id in zoho_channels.tenants_to_maintain():
        tenant = db.session.get(Tenant, tenant_id)
        if tenant is None:
            continue
        try:
            zoho_channels.reconcile(tenant, now=_now(now))
            done += 1
        except (ConnectorError, NotConnected) as error:
            db.session.rollback()
            log.warning("Zoho channels of tenant %s not maintained: %s", tenant_id, error)
    return done


def dispatch_pulls(now: str | None = None) -> list[int]:
    """Periodic, every minute: enqueue the scheduled pull of the tenants whose slot is due."""
    due = scheduled_pull.due_tenants(_now(now))
    for tenant_id in due:
        # One pull per tenant at a time: a slow pull is not doubled by the next slot.
        enqueue("portal.jobs.triggers.pull_tenant", tenant_id, queue="low", job_id=f"pull-{tenant_id}",
                job_timeout=30 * 60)
    return due


def pull_tenant(tenant_id: int, now: str | None = None) -> dict[str, dict[str, int | str]]:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return {}
    try:
        report = scheduled_pull.pull(tenant, now=_now(now))
    except NotConnected as error:
        log.info("tenant %s not pulled: %s", tenant_id, error)
        return {}
    return {"records": dict(report.records), "deletions": dict(report.deletions), "failed": dict(report.failed)}
