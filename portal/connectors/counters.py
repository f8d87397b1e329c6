"""Every remote call counted per tenant, side, endpoint and outcome, per day, in Redis.

Benchmarks divide by these counts; the health pages show today's budget use from them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from redis import Redis

RETENTION_SECONDS = 40 * 86_400


def _today() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


class RedisCallCounter:
    def __init__(self, redis: Redis, tenant_id: int, today: Callable[[], str] = _today) -> None:
        self.redis = redis
        self.tenant_id = tenant_id
        self.today = today

    def key(self, day: str | None = None) -> str:
        return f"portal:calls:{self.tenant_id}:{day or self.today()}"

    def record(self, side: str, endpoint: str, outcome: str, records: int = 0) -> None:
        key = self.key()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(key, f"{side}|{endpoint}|{outcome}", 1)
        pipe.hincrby(key, f"{side}|*|calls", 1)
        if records:
            pipe.hincrby(key, f"{side}|*|records", records)
        pipe.expire(key, RETENTION_SECONDS)
        pipe.execute()

    def counts(self, day: str | None = None) -> dict[str, int]:
        raw = self.redis.hgetall(self.key(day))
        return {(field.decode() if isinstance(field, bytes) else field): int(value) for field, value in raw.items()}

    def calls(self, side: str, day: str | None = None) -> int:
        value = self.redis.hget(self.key(day), f"{side}|*|calls")
        return int(value) if value else 0
