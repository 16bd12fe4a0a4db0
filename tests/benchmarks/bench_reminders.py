"""Benchmark: one reminder sweep over 100,000 applications.

    .venv/bin/python -m tests.benchmarks.bench_reminders [--url postgresql+psycopg://postgres@127.0.0.1:5432/residency_bench]
    .venv/bin/python -m tests.benchmarks.bench_reminders --seeded --url <a copy of a seed-scale database>

Seeds (in a database of its own, recreated each run) 100 calls and 100,000
applications — 10 % of them drafts in calls closing within a day, the rest
submitted or under review in calls far from any deadline — then runs
``reminders.sweep`` once and reports its duration, the number of SQL
statements, and the statements per batch of reminders. Not a test: the
figures go into the notes.
"""
from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url

N_APPLICATIONS = 100_000
N_CALLS = 100


def recreate(url: str) -> None:
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        return
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def seed(now: datetime) -> None:
    from residency.core.extensions import db
    from residency.domain.applications.models import Application
    from residency.domain.programme.models import Call, Criterion, Route
    from residency.domain.accounts.models import Membership, Organisation, User

    conn = db.session.connection()
    hub = Organisation(kind="hub", name="Bench hub", country="SE", org_number="556011-7482", timezone="Europe/Stockholm")
    cluster = Organisation(kind="cluster", name="Bench cluster", country="NO", org_number="923000038")
    db.session.add_all([hub, cluster])
    db.session.flush()
    route = Route(home_country="NO", host_hub_id=hub.id, cluster_id=cluster.id)
    db.session.add(route)
    db.session.flush()
    calls = []
    for i in range(N_CALLS):
        soon = i < 10  # 10 calls close within a day: their drafts are due a reminder
        closes = now + (timedelta(hours=12) if soon else timedelta(days=60 + i))
        calls.append(dict(route_id=route.id, title=f"Call {i}", description="", timezone="Europe/Oslo",
                          opens_at=now - timedelta(days=30), closes_at=closes, nomination_deadline=closes + timedelta(days=30),
                          decision_deadline=closes + timedelta(days=45), seats=5, status="published",
                          residency_starts_on=date(2031, 1, 1), residency_ends_on=date(2031, 12, 31), created_at=now))
    call_ids = [r[0] for r in conn.execute(insert(Call).returning(Call.id), calls)]
    conn.execute(insert(Criterion), [dict(call_id=c, name="Quality", weight=1, position=0) for c in call_ids])
    startups = [dict(kind="startup", name=f"Startup {i}", country="NO", org_number=f"B{i:09d}", created_at=now)
                for i in range(N_APPLICATIONS)]
    startup_ids = []
    for chunk in range(0, N_APPLICATIONS, 10_000):
        startup_ids += [r[0] for r in conn.execute(insert(Organisation).returning(Organisation.id), startups[chunk:chunk + 10_000])]
    users = [dict(email=f"founder{i}@bench.test", name=f"Founder {i}", password_hash="x", created_at=now,
                  reminder_delivery="immediate") for i in range(N_APPLICATIONS)]
    user_ids = []
    for chunk in range(0, N_APPLICATIONS, 10_000):
        user_ids += [r[0] for r in conn.execute(insert(User).returning(User.id), users[chunk:chunk + 10_000])]
    conn.execute(insert(Membership), [dict(user_id=u, organisation_id=s, created_at=now) for u, s in zip(user_ids, startup_ids)])
    apps = []
    for i, startup_id in enumerate(startup_ids):
        due = i % 10 == 0
        call_id = call_ids[i % 10] if due else call_ids[10 + i % (N_CALLS - 10)]
        apps.append(dict(call_id=call_id, startup_id=startup_id, status="draft" if due else ("submitted" if i % 2 else "under_review"),
                         created_at=now, updated_at=now))
    for chunk in range(0, N_APPLICATIONS, 10_000):
        conn.execute(insert(Application), apps[chunk:chunk + 10_000])
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/residency_bench")
    parser.add_argument("--seeded", action="store_true",
                        help="sweep the database at --url as it is (a seed-scale one) instead of seeding one of its "
                             "own; the sweep writes its reminders there, so give it a copy")
    args = parser.parse_args()
    if not args.seeded:
        recreate(args.url)

    from flask_migrate import upgrade

    from residency import create_app
    from residency.domain.reminders import services as reminders
    from residency.core.extensions import db

    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": args.url, "LOG_JSON": False})
    now = datetime.now(timezone.utc)
    with app.app_context():
        upgrade()
        if args.seeded:
            print("sweeping the database as it is: " + ", ".join(
                f"{db.session.execute(text(f'SELECT count(*) FROM {table}')).scalar():,} {table}"
                for table in ("application", "placement", "funding_application", "outbox_message")))
        else:
            t0 = time.perf_counter()
            seed(now)
            print(f"seeded {N_APPLICATIONS:,} applications in {time.perf_counter() - t0:.1f} s")
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        t0 = time.perf_counter()
        counts = reminders.sweep(now)
        elapsed = time.perf_counter() - t0
        written = sum(counts.values())
        batches = max(1, -(-written // app.config["REMINDER_BATCH_SIZE"]))
        print(f"sweep: {elapsed:.2f} s, {len(statements)} SQL statements, {written:,} reminders written "
              f"({batches} batches of up to {app.config['REMINDER_BATCH_SIZE']}: {len(statements) / batches:.1f} statements per batch)")
        print("per rule:", counts)
        t0 = time.perf_counter()
        statements.clear()
        again = reminders.sweep(now)
        print(f"second sweep (nothing new to write): {time.perf_counter() - t0:.2f} s, {len(statements)} statements; "
              f"rows in outbox unchanged: {db.session.execute(text('SELECT count(*) FROM outbox_message')).scalar():,}")
        del again
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
