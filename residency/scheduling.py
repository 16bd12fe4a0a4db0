"""The scheduler process: APScheduler 3 running the jobs of ``jobs.JOBS``.

Jobs live in code, not in a shared job store (APScheduler 3 cannot share one
between processes); each derives what is due from the database. Every job also
runs once at start so that a scheduler that was down catches up at once.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.blocking import BlockingScheduler

from .extensions import db
from .jobs import JOBS

log = logging.getLogger("residency.scheduler")


def _wrap(app, job):
    def run():
        with app.app_context():
            try:
                result = job.run()
                log.info("job ran", extra={"job": job.name, "result": result})
            except Exception:  # noqa: BLE001 - one failing run must not stop the scheduler
                db.session.rollback()
                log.exception("job failed", extra={"job": job.name})
            finally:
                db.session.remove()

    return run


def build_scheduler(app) -> BlockingScheduler:
    sched = BlockingScheduler(timezone=timezone.utc, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    now = datetime.now(timezone.utc)
    for job in JOBS:
        sched.add_job(_wrap(app, job), "interval", seconds=job.seconds, id=job.name, name=job.name, next_run_time=now)
    return sched


def run_scheduler(app) -> None:
    sched = build_scheduler(app)
    log.info("scheduler starting", extra={"jobs": [j.name for j in JOBS]})
    print(f"[scheduler] running {len(JOBS)} jobs: {', '.join(j.name for j in JOBS)}", flush=True)
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass
