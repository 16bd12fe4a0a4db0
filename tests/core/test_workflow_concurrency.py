"""Two people acting on the same record at once: exactly one wins (SQLite and PostgreSQL, real sessions)."""
import threading
import time

from sqlalchemy import func, select

from residency.core import workflow
from residency.core.errors import Conflict
from residency.core.uow import unit_of_work
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.core.models import StatusChange


def _race(app, application_id, actor_ids, action, hold=0.3):
    barrier = threading.Barrier(len(actor_ids), timeout=30)
    results = {}

    def act(actor_id):
        with app.app_context():
            from residency.domain.accounts.models import User

            try:
                record = db.session.get(Application, application_id)
                actor = db.session.get(User, actor_id)
                barrier.wait()
                with unit_of_work():  # as a service: the row lock (PostgreSQL) or write lock (SQLite)
                    workflow.perform(record, action, actor, reason="at the same moment")
                    time.sleep(hold)  # keep the lock while the others try
                results[actor_id] = "won"
            except Conflict as refusal:
                results[actor_id] = str(refusal.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=(a,)) for a in actor_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_staff_starting_review_at_once_exactly_one_wins(app, make):
    application = make.application(status="submitted")
    cluster = application.call.route.cluster
    staff = [make.user(org=cluster).id for _ in range(2)]
    results = _race(app, application.id, staff, "start_review")
    assert sorted(v == "won" for v in results.values()) == [False, True]
    loser = next(v for v in results.values() if v != "won")
    assert "cannot be done now" in loser
    changes = db.session.scalar(select(func.count()).select_from(StatusChange).where(
        StatusChange.workflow == "application", StatusChange.action == "start_review"))
    assert changes == 1


def test_eight_members_withdrawing_at_once_write_one_audit_row(app, make):
    application = make.application(status="submitted")
    members = [make.user(org=application.startup).id for _ in range(8)]
    results = _race(app, application.id, members, "withdraw", hold=0.05)
    assert list(results.values()).count("won") == 1
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "withdrawn"
    assert db.session.scalar(select(func.count()).select_from(StatusChange).where(
        StatusChange.workflow == "application", StatusChange.action == "withdraw")) == 1
