"""Background processing: web → Redis → worker end to end, and the scheduler's periodic jobs."""

from __future__ import annotations

import re
import sys
import time

import pytest
from redis import Redis
from rq_scheduler import Scheduler

from portal.jobs.schedule import PeriodicJob, periodic_jobs, reconcile
from tests.conftest import post_form, sign_in


def wait_for_dashboard(client, pattern, processes, timeout=30.0):
    """Reload the dashboard's background panel (as its htmx poll does) until ``pattern`` shows."""
    deadline = time.monotonic() + timeout
    while True:
        fragment = client.get("/", headers={"HX-Request": "true"}).get_data(as_text=True)
        if re.search(pattern, fragment):
            return fragment
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {name}\n{processes.log(name)[-3000:]}" for name in ("worker", "scheduler"))
            raise AssertionError(f"{pattern!r} never showed on the dashboard:\n{fragment}\n{logs}")
        time.sleep(0.2)


@pytest.mark.slow
def test_ping_the_worker_goes_through_redis_and_the_answer_shows(client, acme_admin, processes):
    sign_in(client, acme_admin)
    fragment = client.get("/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<article id="background-health"')  # the fragment, not the page
    assert "No worker is running." in fragment and "No ping has been answered yet." in fragment

    processes.start_worker()
    wait_for_dashboard(client, r"1 worker is running\.", processes)
    response = post_form(client, "/health/ping")
    assert response.status_code == 302
    assert "A ping was sent to the background worker." in client.get("/").get_data(as_text=True)
    fragment = wait_for_dashboard(client, r"Last ping answered at .+ by \S+:\d+\.", processes)
    assert "No ping has been answered yet." not in fragment


@pytest.mark.slow
def test_the_dashboard_shows_the_scheduler_alive_and_its_jobs_running(client, acme_admin, processes):
    sign_in(client, acme_admin)
    assert "The scheduler is not running." in client.get("/").get_data(as_text=True)
    processes.start_worker()
    scheduler = processes.start("scheduler", sys.executable, "worker.py", "scheduler")
    wait_for_dashboard(client, r"The scheduler is running\.", processes)
    # The first periodic job is due a few seconds after the scheduler starts; a worker then runs it.
    wait_for_dashboard(client, r"The last periodic job ran at ", processes)
    processes.stop(scheduler)
    wait_for_dashboard(client, r"The scheduler is not running\.", processes, timeout=10)


@pytest.fixture
def scheduler(redis_url):
    return Scheduler(queue_name="low", connection=Redis.from_url(redis_url))


def scheduled(scheduler):
    return {job.id: (job.func_name, job.meta.get("interval"), at) for job, at in scheduler.get_jobs(with_times=True)}


def test_reconcile_makes_the_scheduler_hold_exactly_the_declared_jobs(app, scheduler):
    heartbeat = PeriodicJob("health-heartbeat", "portal.jobs.health.heartbeat", 60)
    reconcile(scheduler, [heartbeat, PeriodicJob("retired", "portal.jobs.health.heartbeat", 300)])
    assert set(scheduled(scheduler)) == {"health-heartbeat", "retired"}
    first = scheduled(scheduler)

    # A job removed from the schedule file is cancelled; a new one is scheduled; the rest stay untouched.
    reconcile(scheduler, [heartbeat, PeriodicJob("new-job", "portal.jobs.health.heartbeat", 600)])
    now = scheduled(scheduler)
    assert set(now) == {"health-heartbeat", "new-job"}
    assert now["health-heartbeat"] == first["health-heartbeat"]
    assert now["new-job"][:2] == ("portal.jobs.health.heartbeat", 600)

    # A changed interval replaces the job.
    reconcile(scheduler, [PeriodicJob("health-heartbeat", "portal.jobs.health.heartbeat", 120)])
    assert {job_id: entry[:2] for job_id, entry in scheduled(scheduler).items()} == {
        "health-heartbeat": ("portal.jobs.health.heartbeat", 120)
    }


def test_the_schedule_file_names_real_functions(app):
    import importlib

    for job in periodic_jobs():
        module, _, name = job.func.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), job.func
        assert job.queue in ("high", "default", "low")


def test_without_redis_people_still_sign_in_and_the_dashboard_says_why_nothing_runs(settings, app, acme_admin):
    from portal import create_app
    from tests.conftest import free_port

    cut_off = create_app(settings.with_overrides(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    cut_off.test_client_class = type(app.test_client())
    client = cut_off.test_client()
    sign_in(client, acme_admin)  # the sign-in throttle falls back to memory
    page = client.get("/").get_data(as_text=True)
    assert "Redis cannot be reached: nothing runs in the background until it is back." in page
