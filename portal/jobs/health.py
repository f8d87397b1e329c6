"""Liveness of the worker and the scheduler, proved end to end: web → Redis → worker → Redis."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.exceptions import RedisError
from rq import Worker

from portal.extensions import redis_connection
from portal.jobs.queues import enqueue

PING_KEY = "portal:health:ping"
SCHEDULER_HEARTBEAT_KEY = "portal:health:scheduler"
WORKER_HEARTBEAT_KEY = "portal:health:scheduled-heartbeat"
HEARTBEAT_TTL_SECONDS = 180


def ping(requested_at: str) -> dict[str, str]:
    """Job: answer a ping from the dashboard, recording which worker answered and when."""
    answer = {"requested_at": requested_at, "answered_at": datetime.now(UTC).isoformat(),
              "worker": f"{socket.gethostname()}:{os.getpid()}"}
    redis_connection().set(PING_KEY, json.dumps(answer), ex=24 * 3600)
    return answer


def heartbeat() -> None:
    """Periodic job: proves that the scheduler enqueues and a worker runs what it enqueues."""
    redis_connection().set(WORKER_HEARTBEAT_KEY, datetime.now(UTC).isoformat(), ex=HEARTBEAT_TTL_SECONDS)


def request_ping() -> str:
    requested_at = datetime.now(UTC).isoformat()
    enqueue("portal.jobs.health.ping", requested_at, queue="high")
    return requested_at


@dataclass(frozen=True)
class BackgroundHealth:
    redis_ok: bool
    workers: int
    scheduler_alive: bool
    last_ping: dict[str, str] | None
    last_scheduled_heartbeat: str | None


def background_health() -> BackgroundHealth:
    connection = redis_connection()
    try:
        connection.ping()
    except RedisError:
        return BackgroundHealth(False, 0, False, None, None)
    raw_ping = connection.get(PING_KEY)
    heartbeat_at = connection.get(WORKER_HEARTBEAT_KEY)
    if isinstance(heartbeat_at, bytes):
        heartbeat_at = heartbeat_at.decode()
    return BackgroundHealth(
        redis_ok=True,
        workers=len(Worker.all(connection=connection)),
        scheduler_alive=bool(connection.exists(SCHEDULER_HEARTBEAT_KEY)),
        last_ping=json.loads(raw_ping) if raw_ping else None,
        last_scheduled_heartbeat=heartbeat_at or None,
    )
