"""The one transition function: permissions, conflicts, audit, outbox, force and revert."""
import pytest
from sqlalchemy import select

from residency.core import workflow
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound
from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.core.models import StatusChange


def test_applicant_submits_and_the_audit_row_and_receipt_are_written(make):
    app_ = make.application()
    author = app_.created_by
    change = workflow.perform(app_, "submit", author)
    db.session.commit()
    assert app_.status == "submitted"
    assert (change.from_state, change.to_state, change.action, change.actor_id) == ("draft", "submitted", "submit", author.id)
    outbox = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.template, m.recipient) for m in outbox] == [("application_submitted", author.email)]


def test_stranger_gets_404_and_nothing_changes(make):
    app_ = make.application()
    stranger = make.member("startup")
    with pytest.raises(NotFound):
        workflow.perform(app_, "submit", stranger)
    db.session.rollback()
    assert db.session.get(type(app_), app_.id).status == "draft"
    assert db.session.scalars(select(StatusChange).where(StatusChange.workflow == "application")).all() == []


def test_cluster_staff_cannot_see_a_draft(make):
    app_ = make.application()
    cluster_staff = make.user(org=app_.call.route.cluster)
    with pytest.raises(NotFound):
        workflow.perform(app_, "start_review", cluster_staff)


def test_applicant_may_see_but_not_nominate_403(make):
    app_ = make.application(status="submitted")
    with pytest.raises(Forbidden):
        workflow.perform(app_, "nominate", app_.created_by)


def test_transition_not_allowed_now_is_409_with_plain_message(make, app):
    app_ = make.application(status="submitted")
    staff = make.user(org=app_.call.route.cluster)
    with app.test_request_context():
        with pytest.raises(Conflict) as err:
            workflow.perform(app_, "nominate", staff)  # still submitted, not under review
        assert "cannot be done now" in str(err.value.message)
        assert "Submitted, awaiting review" in str(err.value.message)


def test_reason_required_for_decline(make):
    app_ = make.application(status="submitted")
    staff = make.user(org=app_.call.route.cluster)
    workflow.perform(app_, "start_review", staff)
    db.session.commit()
    with pytest.raises(Invalid):
        workflow.perform(app_, "decline", staff, reason="  ")
    db.session.rollback()
    workflow.perform(app_, "decline", staff, reason="Outside the call's scope")
    db.session.commit()
    assert app_.status == "not_nominated"


def test_guard_refusal_is_409_and_changes_nothing(make):
    call = make.call(status="draft", criteria=())
    admin = make.admin()
    with pytest.raises(Conflict, match="scoring criterion"):
        workflow.perform(call, "publish", admin)
    db.session.rollback()
    assert db.session.get(type(call), call.id).status == "draft"


def test_scheduler_acts_as_system_and_others_cannot(make):
    call = make.call()
    admin = make.admin()
    applicant = make.member("startup")
    with pytest.raises(Forbidden):
        workflow.perform(call, "close", applicant)
    db.session.rollback()
    change = workflow.perform(call, "close", None)
    db.session.commit()
    assert change.actor_id is None and call.status == "closed"
    workflow.perform(call, "reopen", admin)
    db.session.commit()
    assert call.status == "published"


def test_force_and_revert_need_an_admin_and_a_reason_and_are_audited(make):
    app_ = make.application(status="submitted")
    admin = make.admin()
    with pytest.raises(Forbidden):
        workflow.perform(app_, "force", app_.created_by, target="nominated", reason="because")
    db.session.rollback()
    with pytest.raises(Invalid):
        workflow.perform(app_, "force", admin, target="nominated")
    db.session.rollback()
    forced = workflow.perform(app_, "force", admin, target="under_review", reason="Reviewer asked by phone")
    db.session.commit()
    assert app_.status == "under_review" and forced.forced and not forced.visible_to_applicant
    reverted = workflow.perform(app_, "revert", admin, reason="Phone request was a mistake")
    db.session.commit()
    assert app_.status == "submitted"
    assert (reverted.action, reverted.from_state, reverted.to_state) == ("revert", "under_review", "submitted")
    trail = workflow.history(app_, for_applicant=True)
    assert [c.action for c in trail] == ["submit"]  # forced steps are staff-only
    assert [c.action for c in workflow.history(app_, for_applicant=False)] == ["submit", "force", "revert"]


def test_stale_object_cannot_win_twice(make):
    """Two actors holding the same record: the second sees the first's change and gets 409."""
    app_ = make.application(status="submitted")
    first = make.user(org=app_.startup)
    workflow.perform(app_, "withdraw", first, reason="We merged with another company")
    db.session.commit()
    with pytest.raises(Conflict):
        workflow.perform(app_, "withdraw", app_.created_by, reason="Same reason")


def test_outbox_rows_roll_back_with_the_transition(make):
    app_ = make.application()
    workflow.perform(app_, "submit", app_.created_by)
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert db.session.scalars(select(StatusChange).where(StatusChange.workflow == "application")).all() == []
    assert db.session.get(type(app_), app_.id).status == "draft"


def test_allowed_actions_lists_what_the_actor_may_do_now(make):
    app_ = make.application(status="submitted")
    staff = make.user(org=app_.call.route.cluster)
    assert sorted(t.action for t in workflow.allowed_actions(app_, staff)) == ["request_changes", "start_review"]
    assert [t.action for t in workflow.allowed_actions(app_, app_.created_by)] == ["withdraw"]
