"""Every periodic job, declared once; ``reconcile`` makes rq-scheduler hold exactly these (as redash does)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from rq_scheduler import Scheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    func: str
    interval_seconds: int
    queue: str = "low"
    timeout_seconds: int = 300


def periodic_jobs() -> list[PeriodicJob]:
    return [
        PeriodicJob("health-heartbeat", "portal.jobs.health.heartbeat", 60),
        # Sync triggers (portal/jobs/triggers.py).
        PeriodicJob("pull-dispatcher", "portal.jobs.triggers.dispatch_pulls", 60),
        PeriodicJob("inbound-requeue", "portal.jobs.triggers.requeue_stored_events", 60),
        PeriodicJob("zoho-channels", "portal.jobs.triggers.maintain_channels", 15 * 60, timeout_seconds=900),
        PeriodicJob("inbound-prune", "portal.jobs.triggers.prune_events", 24 * 3600),
    ]


def reconcile(scheduler: Scheduler, definitions: list[PeriodicJob] | None = None) -> None:
    wanted = {job.id: job for job in (definitions if definitions is not None else periodic_jobs())}
    for job in scheduler.get_jobs():
        definition = wanted.get(job.id)
        if definition is None or job.meta.get("interval") != definition.interval_seconds \
                or job.func_name != definition.func:
            log.info("removing periodic job %s", job.id)
            scheduler.cancel(job)
            job.delete()
        else:
            wanted.pop(job.id)
    start = datetime.now(UTC)
    for definition in wanted.values():
        log.info("scheduling periodic job %s every %ss", definition.id, definition.interval_seconds)
        scheduler.schedule(
            scheduled_time=start,
            func=definition.func,
            interval=definition.interval_seconds,
            repeat=None,
            id=definition.id,
            queue_name=definition.queue,
            timeout=definition.timeout_seconds,
            result_ttl=definition.interval_seconds * 2,
            meta={"interval": definition.interval_seconds},
        )
