"""The one place jobs are enqueued (STYLE.md: deterministic ids where a duplicate must not run twice)."""

from __future__ import annotations

from typing import Any

from rq import Queue
from rq.job import Job

from portal.extensions import redis_connection

QUEUE_NAMES = ("high", "default", "low")


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_connection())


def enqueue(func: str, *args: Any, queue: str = "default", job_id: str | None = None,
            job_timeout: int = 600, **kwargs: Any) -> Job:
    """Enqueue ``func`` (a dotted path) unless a job with the same id is already waiting or running."""
    q = get_queue(queue)
    if job_id is not None:
        existing = Job.fetch(job_id, connection=q.connection) if Job.exists(job_id, connection=q.connection) else None
        if existing is not None and existing.get_status(refresh=True) in ("queued", "started", "deferred", "scheduled"):
            return existing
    return q.enqueue(func, *args, job_id=job_id, job_timeout=job_timeout, result_ttl=3600,
                     failure_ttl=7 * 24 * 3600, **kwargs)
