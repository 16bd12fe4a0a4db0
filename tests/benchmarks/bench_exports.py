"""Benchmark: the applications export streamed at 10,000 and at 100,000 rows.

    .venv/bin/python -m tests.benchmarks.bench_exports [--url postgresql+psycopg://postgres@127.0.0.1:5432/residency_bench_exports]

Seeds (in a database of its own, recreated each run) 10 calls of 10,000
applications each — 100,000 in all — then, logged in as a programme
administrator, downloads ``/exports/applications.csv`` through the Flask test
client twice: filtered to one call (10,000 rows) and unfiltered (100,000 rows).
The body is consumed chunk by chunk and only counted, as a client writing to
disk would. For each run it prints the time, the bytes, the number of SQL
statements, the tracemalloc peak during the download and the process's maximum
resident set size before and after. For contrast it also measures the peak of
reading the same 100,000 rows in one go, as a non-streamed export would.
Not a test: the figures go into the notes.
"""
from __future__ import annotations

import argparse
import gc
import resource
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url

N_APPLICATIONS = 100_000
N_CALLS = 10
PASSWORD = "bench horse battery"


def recreate(url: str) -> None:
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        return
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def seed(now: datetime) -> tuple[str, list[int]]:
    """The applications, and a programme administrator to download them; returns the admin's e-mail and the call ids."""
    from residency.core.extensions import db
    from residency.domain.applications.models import Application
    from residency.domain.programme.models import Call, Criterion, Route
    from residency.domain.accounts.models import Membership, Organisation, User

    conn = db.session.connection()
    hub = Organisation(kind="hub", name="Bench hub", country="SE", org_number="556011-7482", timezone="Europe/Stockholm")
    cluster = Organisation(kind="cluster", name="Bench cluster", country="NO", org_number="923000038")
    operator = Organisation(kind="operator", name="Bench operator", country="NO", org_number="923000046")
    db.session.add_all([hub, cluster, operator])
    db.session.flush()
    admin = User(email="admin@bench.test", name="Bench admin")
    admin.set_password(PASSWORD)
    db.session.add(admin)
    db.session.flush()
    db.session.add(Membership(user_id=admin.id, organisation_id=operator.id))
    route = Route(home_country="NO", host_hub_id=hub.id, cluster_id=cluster.id)
    db.session.add(route)
    db.session.flush()
    calls = [dict(route_id=route.id, title=f"Call {i}", description="", timezone="Europe/Oslo",
                  opens_at=now - timedelta(days=30), closes_at=now + timedelta(days=30 + i),
                  nomination_deadline=now + timedelta(days=60 + i), decision_deadline=now + timedelta(days=75 + i),
                  seats=5, status="published", residency_starts_on=date(2031, 1, 1), residency_ends_on=date(2031, 12, 31),
                  created_at=now) for i in range(N_CALLS)]
    call_ids = [r[0] for r in conn.execute(insert(Call).returning(Call.id), calls)]
    conn.execute(insert(Criterion), [dict(call_id=c, name="Quality", weight=1, position=0) for c in call_ids])
    startup_ids = []
    for chunk in range(0, N_APPLICATIONS, 10_000):
        startups = [dict(kind="startup", name=f"Startup {i} AS", country="NO", org_number=f"B{i:09d}", track="drugs",
                         trl=1 + i % 9, created_at=now) for i in range(chunk, min(chunk + 10_000, N_APPLICATIONS))]
        startup_ids += [r[0] for r in conn.execute(insert(Organisation).returning(Organisation.id), startups)]
    per_call = N_APPLICATIONS // N_CALLS
    for chunk in range(0, N_APPLICATIONS, 10_000):
        conn.execute(insert(Application), [
            dict(call_id=call_ids[i // per_call], startup_id=startup_ids[i], status="submitted" if i % 2 else "under_review",
                 desired_start=date(2031, 1, 1), months=6, desks=1, benches=1, created_at=now, updated_at=now)
            for i in range(chunk, min(chunk + 10_000, N_APPLICATIONS))])
    db.session.commit()
    return admin.email, call_ids


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def download(client, engine, path: str, trace: bool = True) -> dict:
    """Stream one export through the test client, counting bytes and rows but keeping none of them.

    tracemalloc slows Python down several times over; ``trace=False`` measures the time alone."""
    statements = []
    listener = lambda *a: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    gc.collect()
    rss_before = maxrss_mib()
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    t0 = time.perf_counter()
    response = client.get(path, buffered=False)
    assert response.status_code == 200, response.status_code
    streamed = response.is_streamed
    size = lines = 0
    for chunk in response.response:
        data = chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
        size += len(data)
        lines += data.count(b"\r\n")
    response.close()
    elapsed = time.perf_counter() - t0
    peak = 0
    if trace:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    event.remove(engine, "before_cursor_execute", listener)
    return dict(rows=lines - 1, bytes=size, seconds=elapsed, peak_mib=peak / 2**20, rss_before=rss_before,
                rss_after=maxrss_mib(), statements=len(statements), streamed=streamed)


def materialised_peak(app, email: str) -> float:
    """For contrast: the tracemalloc peak of reading every row at once (what a non-streamed export would hold)."""
    from residency.domain.insight import exports
    from residency.core.extensions import db
    from residency.domain.accounts.models import User
    from residency.domain.accounts.scope import Scope

    with app.test_request_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        scope = Scope.of(user)
        _header, stmt, id_column, to_values = exports._applications(scope, exports.ExportFilters())
        gc.collect()
        tracemalloc.start()
        rows = [to_values(r) for r in db.session.execute(stmt.order_by(id_column)).all()]
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(rows) == N_APPLICATIONS
        del rows
        db.session.remove()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/residency_bench_exports")
    args = parser.parse_args()
    recreate(args.url)

    from flask_migrate import upgrade

    from residency import create_app
    from residency.domain.insight.exports import BATCH
    from residency.core.extensions import db

    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": args.url, "LOG_JSON": False})
    now = datetime.now(timezone.utc)
    with app.app_context():
        upgrade()
        t0 = time.perf_counter()
        email, call_ids = seed(now)
        print(f"seeded {N_APPLICATIONS:,} applications in {N_CALLS} calls in {time.perf_counter() - t0:.1f} s "
              f"(batch size {BATCH:,})")
        engine = db.engine
        db.session.remove()

    client = app.test_client()
    response = client.post("/account/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    # A first small download warms imports, templates and the connection pool, so they do not count as growth.
    download(client, engine, f"/exports/applications.csv?call={call_ids[0]}&status=submitted")
    results = []
    for label, path in (("10,000 rows", f"/exports/applications.csv?call={call_ids[0]}"),
                        ("100,000 rows", "/exports/applications.csv")):
        r = download(client, engine, path)
        results.append(r)
        print(f"{label:>12}: {r['rows']:,} rows, {r['bytes'] / 2**20:.1f} MiB of CSV in {r['seconds']:.1f} s "
              f"(streamed={r['streamed']}), {r['statements']} SQL statements; tracemalloc peak {r['peak_mib']:.2f} MiB; "
              f"max RSS {r['rss_before']:.1f} -> {r['rss_after']:.1f} MiB")
    small, large = results
    print(f"peak ratio 100,000 / 10,000 rows: {large['peak_mib'] / small['peak_mib']:.2f} "
          f"(rows x{large['rows'] / max(1, small['rows']):.0f})")
    untraced = download(client, engine, "/exports/applications.csv", trace=False)
    print(f"100,000 rows without tracemalloc: {untraced['seconds']:.1f} s "
          f"({untraced['rows'] / untraced['seconds']:,.0f} rows/s)")
    print(f"for contrast, reading all {N_APPLICATIONS:,} rows at once: tracemalloc peak "
          f"{materialised_peak(app, email):.1f} MiB")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
