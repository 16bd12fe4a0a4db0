"""Every domain's public services run in one unit of work: a call commits exactly once, and a
refused call commits nothing, rolls back, and leaves the session clean."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from residency.core import uow, workflow
from residency.core.errors import ServiceError
from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.domain.accounts import services as accounts
from residency.domain.applications import services as applications
from residency.domain.funding import services as funding
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement
from residency.domain.programme import services as programme
from residency.domain.review import nominations
from tests.scenarios import resident


@pytest.fixture
def transactions(app):
    counts = {"commit": 0, "rollback": 0}

    def committed(connection):  # the database's COMMIT; a released savepoint is not one
        counts["commit"] += 1

    def rolled_back(session, previous_transaction):
        counts["rollback"] += 1

    event.listen(db.engine, "commit", committed)
    event.listen(Session, "after_soft_rollback", rolled_back)
    yield counts
    event.remove(db.engine, "commit", committed)
    event.remove(Session, "after_soft_rollback", rolled_back)


def _under_review(make):
    app_ = make.application(status="submitted")
    staff = make.user(org=app_.call.route.cluster)
    workflow.perform(app_, "start_review", staff)
    db.session.commit()
    return app_, staff


def _pending_placement(make):
    app_, staff = _under_review(make)
    nominations.nominate(application=app_, actor=staff, rationale="fit")
    placement = db.session.scalar(select(Placement).where(Placement.application_id == app_.id))
    return placement, make.user(org=placement.hub)


def accounts_case(make):
    make.user(email="taken@demo.test")
    return (lambda: accounts.register(name="New founder", email="new@demo.test", password="a long passphrase 1"),
            lambda: accounts.register(name="Someone", email="taken@demo.test", password="a long passphrase 1"))


def programme_case(make):
    call, admin, outsider = make.call(), make.admin(), make.member("cluster")
    return (lambda: programme.change_call_status(admin, call.id, "close"),
            lambda: programme.change_call_status(outsider, call.id, "close"))


def applications_case(make):
    draft = make.application()
    founder = make.user(org=draft.startup)
    return (lambda: applications.withdraw(application=draft, actor=founder, reason="We found another hub."),
            lambda: applications.withdraw(application=draft, actor=founder, reason="  "))


def review_case(make):
    app_, staff = _under_review(make)
    return (lambda: nominations.nominate(application=app_, actor=staff, rationale="A strong fit."),
            lambda: nominations.nominate(application=app_, actor=staff, rationale=""))


def placements_case(make):
    placement, hub_admin = _pending_placement(make)
    return (lambda: placements.waitlist(placement=placement, actor=hub_admin),
            lambda: placements.reject(placement=placement, actor=hub_admin, reason=""))


def funding_case(make):
    scheme, startup, founder, officer = resident(make)
    return (lambda: funding.start(scheme=scheme, startup=startup, actor=founder),
            lambda: funding.start(scheme=scheme, startup=startup, actor=officer))


CASES = [accounts_case, programme_case, applications_case, review_case, placements_case, funding_case]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.removesuffix("_case") for c in CASES])
def test_a_public_service_commits_once_and_a_refused_one_commits_nothing(make, transactions, case):
    succeed, refuse = case(make)
    db.session.commit()
    audit_rows = db.session.scalar(select(func.count()).select_from(StatusChange))

    transactions.update(commit=0, rollback=0)
    with pytest.raises(ServiceError):
        refuse()
    assert transactions["commit"] == 0
    assert transactions["rollback"] >= 1
    assert not db.session.new and not db.session.dirty and not db.session.deleted
    assert db.session.scalar(select(func.count()).select_from(StatusChange)) == audit_rows

    transactions.update(commit=0, rollback=0)
    succeed()
    assert transactions["commit"] == 1
    assert not uow.in_unit_of_work()


def test_a_service_called_inside_another_joins_its_unit(app, transactions):
    calls = []

    @uow.service
    def inner():
        calls.append(uow.in_unit_of_work())
        db.session.execute(select(func.count()))  # some work, so there is something to commit

    @uow.service
    def outer():
        inner()
        inner()

    outer()
    assert calls == [True, True]
    assert transactions["commit"] == 1


def test_a_savepoint_undoes_only_its_own_item(make):
    first, second = make.organisation(name="First AS"), make.organisation(name="Second AS")
    db.session.commit()

    @uow.service
    def rename_both():
        for org, name in ((first, "Renamed AS"), (second, None)):
            try:
                with uow.savepoint():
                    org.name = name
                    db.session.flush()  # NOT NULL refuses the second
            except Exception:  # noqa: BLE001 - the test wants the item's failure swallowed
                pass

    rename_both()
    db.session.expire_all()
    assert (first.name, second.name) == ("Renamed AS", "Second AS")


def test_each_in_own_unit_goes_on_past_a_failing_item(make):
    orgs = [make.organisation(name=f"Org {n} AS") for n in range(3)]
    db.session.commit()
    failed = []

    def rename(org):
        org.name = None if org is orgs[1] else org.name + " renamed"
        db.session.flush()

    done = uow.each_in_own_unit(orgs, rename, on_error=lambda org, error: failed.append(org.id))
    db.session.expire_all()
    assert done == 2 and failed == [orgs[1].id]
    assert [o.name for o in orgs] == ["Org 0 AS renamed", "Org 1 AS", "Org 2 AS renamed"]


def _dialect():
    return db.engine.dialect.name


def test_on_sqlite_a_unit_of_work_holds_the_write_lock_from_its_first_read(app, make, count_queries):
    """The SQLite half of "re-read under a lock": the unit begins IMMEDIATE, so a second
    writer waits for it; PostgreSQL locks rows instead and begins as usual."""
    org = make.organisation(name="Read Before AS")
    db.session.commit()
    db.session.get(type(org), org.id)  # a page reads before it calls its service

    @uow.service
    def rename():
        db.session.get(type(org), org.id).name = "Renamed AS"

    with count_queries() as counted:
        rename()
    begins = [s for s in counted.statements if s.upper().startswith("BEGIN")]
    if _dialect() == "sqlite":
        assert begins == ["BEGIN IMMEDIATE"]
        assert db.session.execute(select(func.count())).scalar() == 1  # reads outside a unit still work
        assert db.session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    else:
        assert begins == []  # psycopg begins implicitly; guards lock their rows FOR UPDATE
    assert db.session.get(type(org), org.id).name == "Renamed AS"


def test_a_second_unit_of_work_waits_for_the_first_and_sees_its_commit(app, make):
    """Two services at once on one counter: the second reads what the first committed (no lost update)."""
    import threading
    import time

    org = make.organisation(name="0")
    db.session.commit()
    model, org_id = type(org), org.id
    barrier = threading.Barrier(2, timeout=30)
    failures = []

    @uow.service
    def increment():
        row = db.session.scalars(select(model).where(model.id == org_id).with_for_update()
                                 if _dialect() != "sqlite" else select(model).where(model.id == org_id)).one()
        value = int(row.name)
        time.sleep(0.2)  # the other increment tries meanwhile
        row.name = str(value + 1)

    def run():
        with app.app_context():
            try:
                barrier.wait()
                increment()
            except Exception as error:  # noqa: BLE001 - reported to the test
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(timeout=30) for t in threads]
    assert failures == []
    db.session.expire_all()
    assert db.session.get(model, org_id).name == "2"


def test_a_lock_held_too_long_is_a_plain_try_again_and_changes_nothing(app, make):
    """Another connection holds the lock past DATABASE_LOCK_TIMEOUT_SECONDS: the service
    gives up with a 503-type refusal (Busy), not a 500, and nothing is written."""
    import time

    from residency import create_app
    from residency.core.errors import Busy

    org = make.organisation(name="Held AS")
    db.session.commit()
    model, org_id = type(org), org.id
    impatient = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                                 "SERVER_NAME": None, "DATABASE_LOCK_TIMEOUT_SECONDS": 0.3})
    holder = db.engine.raw_connection()
    cursor = holder.cursor()
    if _dialect() == "sqlite":
        cursor.execute("BEGIN IMMEDIATE")
    else:
        cursor.execute("SELECT id FROM organisation WHERE id = %s FOR UPDATE", (org_id,))

    @uow.service
    def rename():
        row = db.session.scalars(uow.for_update(select(model).where(model.id == org_id))).one()
        row.name = "Renamed AS"

    try:
        with impatient.app_context():
            started = time.monotonic()
            with pytest.raises(Busy) as refused:
                rename()
            waited = time.monotonic() - started
            db.session.remove()
            db.engine.dispose()
    finally:
        holder.rollback()
        holder.close()
    assert refused.value.status_code == 503 and "try again" in str(refused.value.message)
    assert 0.25 <= waited < 3
    db.session.expire_all()
    assert db.session.get(model, org_id).name == "Held AS"
