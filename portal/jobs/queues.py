"""The one place jobs are enqueued (STYLE.md: deterministic ids where a duplicate must not run twice)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue
from rq.job import Job

QUEUE_NAMES = ("high", "default", "low")


def redis_connection() -> Redis:
    connection = current_app.extensions.get("portal.redis")
    if connection is None:
        # A Redis that does not answer fails fast (the dashboard says so) instead of hanging a request.
        connection = Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=3)
        current_app.extensions["portal.redis"] = connection
    return connection


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
