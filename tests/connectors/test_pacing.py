"""The shared request budget: every limit of the remote API, enforced across workers through real Redis."""

from __future__ import annotations

import threading

import pytest
from redis import Redis

from portal.connectors.pacing import BudgetExhausted, Limits, Pacer


class FakeTime:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def redis(redis_url, app):  # `app` flushes Redis before each test
    return Redis.from_url(redis_url)


def make_pacer(redis, limits, time, org="org-1", **kwargs):
    return Pacer(redis, "xero", org, limits, clock=time.clock, sleep=time.sleep, **kwargs)


def test_sixty_calls_a_minute_then_the_pacer_waits_for_the_oldest_to_leave_the_window(redis):
    time = FakeTime()
    pacer = make_pacer(redis, Limits(per_minute=60), time)
    for _ in range(60):
        with pacer.slot():
            time.now += 0.1
    assert time.slept == []
    with pacer.slot():
        pass
    # The first call left at t=0; with the safety margin the 61st may go 61.2 s later, i.e. after ~55.2 s more.
    assert sum(time.slept) == pytest.approx(60 * 1.02 - 6.0, abs=0.01)


def test_a_faster_sandbox_clock_shortens_the_window(redis):
    time = FakeTime()
    pacer = make_pacer(redis, Limits(per_minute=60), time, time_scale=10)
    for _ in range(61):
        with pacer.slot():
            pass
    assert sum(time.slept) == pytest.approx(6 * 1.02, abs=0.01)


def test_concurrency_is_shared_by_every_holder(redis):
    time = FakeTime()
    first = make_pacer(redis, Limits(concurrent=2), time)
    second = make_pacer(redis, Limits(concurrent=2), time)
    token_a, _ = first.try_acquire()
    token_b, _ = second.try_acquire()
    token_c, denied = first.try_acquire()
    assert token_c is None and denied.limit == "concurrent"
    second.release(token_b)
    token_c, denied = first.try_acquire()
    assert denied is None
    first.release(token_a)
    first.release(token_c)


def test_a_crashed_holder_does_not_keep_its_slot_forever(redis):
    time = FakeTime()
    pacer = make_pacer(redis, Limits(concurrent=1), time, lease_seconds=120)
    assert pacer.try_acquire()[1] is None  # never released: the worker died
    assert pacer.try_acquire()[1].limit == "concurrent"
    time.now += 121
    assert pacer.try_acquire()[1] is None


def test_tenants_have_separate_budgets_but_share_the_app_minute(redis):
    time = FakeTime()
    limits = Limits(per_minute=2, app_per_minute=3)
    acme, globex = make_pacer(redis, limits, time, org="acme"), make_pacer(redis, limits, time, org="globex")
    assert acme.try_acquire()[1] is None and acme.try_acquire()[1] is None
    assert acme.try_acquire()[1].limit == "minute"
    assert globex.try_acquire()[1] is None  # acme's minute is spent, globex's is not
    assert globex.try_acquire()[1].limit == "appminute"  # but the app-wide minute is


def test_the_daily_limit_is_not_waited_for(redis):
    time = FakeTime()
    pacer = make_pacer(redis, Limits(per_day=3), time)
    for _ in range(3):
        with pacer.slot():
            pass
    with pytest.raises(BudgetExhausted) as raised, pacer.slot():
        pass
    assert raised.value.denied.limit == "day"
    assert pacer.used_today() == 3


def test_after_a_429_every_worker_holds_off_until_retry_after(redis):
    time = FakeTime()
    pacer = make_pacer(redis, Limits(per_minute=60), time, time_scale=2)
    other_worker = make_pacer(redis, Limits(per_minute=60), time, time_scale=2)
    # Retry-After is real seconds even when the sandbox clock runs faster: it is not rescaled.
    pacer.hold_off(15)
    assert other_worker.held_for() == pytest.approx(15)
    with other_worker.slot():
        pass
    assert sum(time.slept) == pytest.approx(15)


def test_parallel_workers_never_exceed_the_concurrency_limit(redis, redis_url):
    limits = Limits(concurrent=5)
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal in_flight, peak
        pacer = Pacer(Redis.from_url(redis_url), "xero", "busy-org", limits)
        for _ in range(10):
            with pacer.slot():
                with lock:
                    in_flight += 1
                    peak = max(peak, in_flight)
                threading.Event().wait(0.002)
                with lock:
                    in_flight -= 1

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 5
