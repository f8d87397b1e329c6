"""Background processes: ``python worker.py`` runs an RQ worker on the high, default and low queues;
``python worker.py scheduler`` runs rq-scheduler after reconciling the periodic jobs of portal/jobs/schedule.py.
"""

from __future__ import annotations

import os
import sys

from rq import Worker
from rq_scheduler import Scheduler

from portal import create_app
from portal.extensions import redis_connection
from portal.jobs.health import SCHEDULER_HEARTBEAT_KEY
from portal.jobs.queues import QUEUE_NAMES, get_queue
from portal.jobs.schedule import reconcile


class PortalScheduler(Scheduler):  # type: ignore[misc]
    """rq-scheduler, plus a heartbeat key that the dashboard reads to show the scheduler is alive."""

    def heartbeat(self) -> None:
        super().heartbeat()
        self.connection.set(SCHEDULER_HEARTBEAT_KEY, "1", ex=max(int(self._interval) * 3, 30))

    def register_death(self) -> None:
        # A scheduler that stops says so at once, rather than looking alive until its heartbeat expires.
        self.connection.delete(SCHEDULER_HEARTBEAT_KEY)
        super().register_death()


def run_worker(burst: bool = False) -> None:
    from portal.extensions import db

    # RQ forks a work horse per job: a forked child must not reuse the parent's database connections.
    os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
    queues = [get_queue(name) for name in QUEUE_NAMES]
    Worker(queues, connection=redis_connection()).work(burst=burst, with_scheduler=False)


def run_scheduler(interval: int = 5) -> None:
    scheduler = PortalScheduler(queue=get_queue("low"), connection=redis_connection(), interval=interval)
    reconcile(scheduler)
    scheduler.run()


def main(argv: list[str]) -> int:
    app = create_app()
    with app.app_context():
        if argv[1:2] == ["scheduler"]:
            run_scheduler()
        else:
            run_worker(burst="--burst" in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
