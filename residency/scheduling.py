"""The scheduler process: APScheduler 3 running the jobs of ``jobs.JOBS``.

Jobs live in code, not in a shared job store (APScheduler 3 cannot share one
between processes); each derives what is due from the database. Every job also
runs once at start so that a scheduler that was down catches up at once.

The active scheduler holds a lock — on PostgreSQL an advisory lock on a
connection of its own, on SQLite an exclusive lock on a file beside the
database: other scheduler processes wait for it, and take over when the active
one dies (the lock goes with the process). Nothing depends on the lock for
correctness — reminders are unique rows and delivery leases its messages — it
only keeps the work in one place.
"""
from __future__ import annotations

import fcntl
import logging
import os
import time
from datetime import datetime, timezone

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import text

from residency.core.extensions import db
from residency.jobs import JOBS

log = logging.getLogger("residency.scheduler")


def _wrap(app, job):
    def run():
        with app.app_context():
            try:
                result = job.run()
                log.info("job ran", extra={"job": job.name, "result": result})
            except Exception:  # noqa: BLE001 - one failing run must not stop the scheduler
                # The job's unit of work rolled back already; the session is discarded below.
                log.exception("job failed", extra={"job": job.name})
            finally:
                db.session.remove()

    return run


def build_scheduler(app) -> BlockingScheduler:
    sched = BlockingScheduler(timezone=timezone.utc, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    intervals = app.config.get("JOB_INTERVALS") or {}
    now = datetime.now(timezone.utc)
    for job in JOBS:
        sched.add_job(_wrap(app, job), "interval", seconds=int(intervals.get(job.name, job.seconds)), id=job.name,
                      name=job.name, next_run_time=now, **job.options)
    return sched


class LeaderLock:
    """What makes one scheduler process the active one; the others wait to take over."""

    def __init__(self, app):
        self.app = app

    def acquire(self) -> bool:
        raise NotImplementedError

    def still_held(self) -> bool:
        return True

    def wait(self, poll_seconds: float = 2.0) -> None:
        """Block until this process holds the lock."""
        announced = False
        while not self.acquire():
            if not announced:
                print(f"[scheduler] pid {os.getpid()} stands by: another scheduler is active", flush=True)
                announced = True
            time.sleep(poll_seconds)
        log.info("scheduler active", extra={"pid": os.getpid()})
        print(f"[scheduler] pid {os.getpid()} is the active scheduler", flush=True)

    @staticmethod
    def for_app(app) -> "LeaderLock":
        with app.app_context():
            engine = db.engine
        if engine.dialect.name == "sqlite":
            return FileLock(app, engine.url.database)
        return AdvisoryLock(app, engine)


class AdvisoryLock(LeaderLock):
    """PostgreSQL: an advisory lock on a connection of the scheduler's own (released when it dies)."""

    def __init__(self, app, engine):
        super().__init__(app)
        self.engine = engine
        self.key = app.config["SCHEDULER_LOCK_KEY"]
        self.connection = None

    def acquire(self) -> bool:
        connection = self.engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
        connection.commit()
        if got:
            self.connection = connection
            return True
        connection.close()
        return False

    def still_held(self) -> bool:
        try:
            self.connection.execute(text("SELECT 1")).scalar()
            self.connection.commit()
            return True
        except Exception:  # noqa: BLE001 - a lost connection means a lost lock
            return False


class FileLock(LeaderLock):
    """SQLite: an exclusive lock on a file beside the database (the OS releases it when the process dies).

    SQLite serves one machine, so processes on that machine are all there is to agree between.
    """

    def __init__(self, app, database_path: str | None):
        super().__init__(app)
        self.path = (database_path or os.path.join(app.instance_path, "memory")) + ".scheduler-lock"
        self.handle = None

    def acquire(self) -> bool:
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self.handle = handle
        return True


def run_scheduler(app) -> None:
    lock = LeaderLock.for_app(app)
    lock.wait()
    sched = build_scheduler(app)
    if isinstance(lock, AdvisoryLock):
        def check_lock():
            if not lock.still_held():
                log.error("scheduler lock lost; stopping")
                sched.shutdown(wait=False)

        sched.add_job(check_lock, "interval", seconds=15, id="leader-lock", name="leader-lock")
    log.info("scheduler starting", extra={"jobs": [j.name for j in JOBS]})
    print(f"[scheduler] running {len(JOBS)} jobs: {', '.join(j.name for j in JOBS)}", flush=True)
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass
