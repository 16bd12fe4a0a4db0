"""Three scheduler processes on one database (SQLite and PostgreSQL): every reminder is
delivered exactly once; killing the active one lets another take over with nothing lost."""
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone


from residency.core.extensions import db


def start_schedulers(n, smtp_port, log_dir):
    env = dict(os.environ)
    env.update(
        RESIDENCY_ENV="development",
        RESIDENCY_SQLALCHEMY_DATABASE_URI=db.engine.url.render_as_string(hide_password=False),
        RESIDENCY_MAIL_SERVER="127.0.0.1",
        RESIDENCY_MAIL_PORT=str(smtp_port),
        RESIDENCY_JOB_INTERVALS=json.dumps({"deliver-outbox": 1, "reminders": 1}),
    )
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    procs = []
    for i in range(n):
        log = open(os.path.join(log_dir, f"scheduler-{i}.log"), "w+")
        procs.append((subprocess.Popen([flask, "--app", "residency", "scheduler"], env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True), log))
    return procs


def active_pid(procs, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for proc, log in procs:
            log.flush()
            with open(log.name) as fh:
                if f"pid {proc.pid} is the active scheduler" in fh.read():
                    return proc.pid
        time.sleep(0.2)
    raise AssertionError("no scheduler became active")


def wait_for(predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def due_drafts(make, members):
    now = datetime.now(timezone.utc)
    call = make.call(opens_at=now - timedelta(days=30), closes_at=now + timedelta(hours=6), timezone_name="Europe/Oslo")
    startup = make.organisation("startup", country="NO")
    users = [make.user(org=startup) for _ in range(members)]
    make.application(call=call, startup=startup, author=users[0])
    return users


def test_three_schedulers_deliver_each_reminder_once_and_take_over(make, smtp_server, tmp_path):
    first_batch = due_drafts(make, 4)
    procs = start_schedulers(3, smtp_server.port, tmp_path)
    try:
        leader = active_pid(procs)
        assert wait_for(lambda: len(smtp_server.messages) >= 4), "reminders not delivered"
        time.sleep(3)  # several more rounds of every job in every process: nothing more may come
        keys = [m["X-Residency-Dedup"] for m in smtp_server.messages]
        assert len(keys) == 4 and len(set(keys)) == 4
        assert {m["To"] for m in smtp_server.messages} == {u.email for u in first_batch}

        os.killpg(leader, signal.SIGKILL)
        survivors = [(p, log) for p, log in procs if p.pid != leader]
        second_batch = due_drafts(make, 3)
        new_leader = active_pid(survivors, timeout=30)
        assert new_leader != leader
        assert wait_for(lambda: len(smtp_server.messages) >= 7), "the new leader did not deliver"
        time.sleep(3)
        keys = [m["X-Residency-Dedup"] for m in smtp_server.messages]
        assert len(keys) == 7 and len(set(keys)) == 7
        assert {m["To"] for m in smtp_server.messages[4:]} == {u.email for u in second_batch}
    finally:
        for proc, log in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()
        db.session.remove()
