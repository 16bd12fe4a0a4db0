"""The administrator's services: rules hold whatever the caller, and statuses move only through the workflow."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from residency.core import pagination
from residency.domain.programme import services
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.programme.models import Call, Route
from residency.domain.accounts.models import Invitation, Organisation
from residency.core.outbox_models import OutboxMessage
from residency.core.models import StatusChange

UTC = timezone.utc


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _messages(error) -> dict:
    return {k: [str(m) for m in v] for k, v in error.value.field_errors.items()}


# ---------------------------------------------------------------- local times


@pytest.mark.parametrize("local, zone, instant", [
    (datetime(2027, 3, 28, 12, 0), "Europe/Oslo", datetime(2027, 3, 28, 10, 0, tzinfo=UTC)),  # first day of summer time
    (datetime(2027, 3, 27, 12, 0), "Europe/Oslo", datetime(2027, 3, 27, 11, 0, tzinfo=UTC)),  # the day before
    (datetime(2027, 10, 31, 3, 0), "Europe/Stockholm", datetime(2027, 10, 31, 2, 0, tzinfo=UTC)),  # just after the switch back
    (datetime(2027, 7, 1, 12, 0), "Atlantic/Reykjavik", datetime(2027, 7, 1, 12, 0, tzinfo=UTC)),  # no summer time
    (datetime(2027, 7, 1, 12, 0), "Europe/Helsinki", datetime(2027, 7, 1, 9, 0, tzinfo=UTC)),
])
def test_local_time_becomes_the_right_utc_instant(local, zone, instant):
    result = services.local_to_utc(local, zone)
    assert result == instant and result.tzinfo is not None
    assert services.utc_to_local(result, zone) == local


def test_a_time_in_the_spring_gap_or_the_autumn_overlap_is_refused():
    with pytest.raises(ValueError, match="gap"):
        services.local_to_utc(datetime(2027, 3, 28, 2, 30), "Europe/Oslo")
    with pytest.raises(ValueError, match="overlap"):
        services.local_to_utc(datetime(2027, 10, 31, 2, 30), "Europe/Oslo")


# ------------------------------------------------------------------- criteria


def _rows(*pairs):
    return [{"name": name, "weight": weight} for name, weight in pairs]


def test_criteria_are_read_row_by_row_and_blank_rows_are_skipped():
    rows = _rows(("Scientific quality", "30"), ("", ""), ("  Team ", " 20 "), ("Fit", "12,5"), ("Name | with bar", "5"))
    assert services.parse_criteria(rows) == [
        ("Scientific quality", Decimal("30.00")), ("Team", Decimal("20.00")), ("Fit", Decimal("12.50")),
        ("Name | with bar", Decimal("5.00"))]


@pytest.mark.parametrize("rows, field, fragment", [
    ([], "criteria", "at least one"),
    (_rows(("", ""), ("  ", "")), "criteria", "at least one"),
    (_rows(("Team", "")), "criteria-0-weight", "as a number"),
    (_rows(("Team", "x")), "criteria-0-weight", "as a number"),
    (_rows(("Team", "-1")), "criteria-0-weight", "more than 0"),
    (_rows(("Team", "0")), "criteria-0-weight", "more than 0"),
    (_rows(("Team", "1000")), "criteria-0-weight", "up to 999.99"),
    (_rows(("Team", "1.234")), "criteria-0-weight", "at most two decimals"),
    (_rows(("Team", "1"), ("", ""), ("team", "2")), "criteria-2-name", "listed twice"),
    (_rows(("", "5")), "criteria-0-name", "Enter the criterion's name."),
    (_rows(*[(f"C{n}", "1") for n in range(21)]), "criteria", "at most 20 criteria"),
])
def test_bad_criteria_are_refused_on_their_row(rows, field, fragment):
    with pytest.raises(Invalid) as error:
        services.parse_criteria(rows)
    assert any(fragment in m for m in _messages(error)[field])


# ---------------------------------------------------------------------- calls


def _call(route, **overrides):
    values = dict(route_id=route.id, title="Autumn residency", description="", timezone_name="Europe/Oslo",
                  opens_at=datetime(2027, 3, 28, 12, 0), closes_at=datetime(2027, 5, 1, 12, 0),
                  nomination_deadline=datetime(2027, 6, 1, 12, 0), decision_deadline=datetime(2027, 6, 15, 12, 0),
                  seats=2, residency_starts_on=date(2027, 9, 1), residency_ends_on=date(2028, 6, 30),
                  criteria=[{"name": "Quality", "weight": "1"}])
    values.update(overrides)
    return values


def test_create_call_stores_utc_instants(make):
    call = services.create_call(make.admin(), **_call(make.route()))
    assert call.opens_at == datetime(2027, 3, 28, 10, 0, tzinfo=UTC)
    assert call.decision_deadline == datetime(2027, 6, 15, 10, 0, tzinfo=UTC)
    assert call.status == "draft"


def test_call_problems_are_all_reported_at_once_and_nothing_is_saved(make):
    with pytest.raises(Invalid) as error:
        services.create_call(make.admin(), **_call(
            make.route(), title=" ", opens_at=datetime(2027, 5, 2, 12, 0), nomination_deadline=datetime(2027, 4, 1, 12, 0),
            decision_deadline=datetime(2027, 3, 1, 12, 0), seats=0, residency_ends_on=date(2027, 8, 1),
            criteria=[], timezone_name="Europe/Nowhere"))
    assert set(_messages(error)) == {"title", "timezone", "seats", "residency_ends_on", "criteria"}
    with pytest.raises(Invalid) as error:
        services.create_call(make.admin(), **_call(
            make.route(), opens_at=datetime(2027, 5, 2, 12, 0), nomination_deadline=datetime(2027, 4, 1, 12, 0),
            decision_deadline=datetime(2027, 3, 1, 12, 0)))
    assert set(_messages(error)) == {"closes_at", "nomination_deadline", "decision_deadline"}
    assert _count(Call) == 0


def test_deadlines_may_coincide_where_the_rule_allows(make):
    call = services.create_call(make.admin(), **_call(
        make.route(), nomination_deadline=datetime(2027, 5, 1, 12, 0), decision_deadline=datetime(2027, 5, 1, 12, 0)))
    assert call.closes_at == call.nomination_deadline == call.decision_deadline


def test_update_call_keeps_criterion_rows_by_position(make):
    admin = make.admin()
    call = make.call(status="published")
    first_id = call.criteria[0].id
    services.update_call(admin, call.id, **{k: v for k, v in _call(call.route, criteria=[
        {"name": "Renamed", "weight": "3"}, {"name": "New", "weight": "4"}, {"name": "Third", "weight": "5"}]).items()
                                            if k != "route_id"})
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert [(c.name, c.position) for c in call.criteria] == [("Renamed", 0), ("New", 1), ("Third", 2)]
    assert call.criteria[0].id == first_id
    services.update_call(admin, call.id, **{k: v for k, v in _call(call.route).items() if k != "route_id"})
    db.session.expire_all()
    assert [c.name for c in db.session.get(Call, call.id).criteria] == ["Quality"]


def test_closed_calls_cannot_be_edited(make):
    call = make.call(status="closed")
    with pytest.raises(Conflict):
        services.update_call(make.admin(), call.id, **{k: v for k, v in _call(call.route).items() if k != "route_id"})


def test_publish_without_criteria_is_refused_by_the_guard(make, app):
    call = make.call(status="draft", criteria=())
    with app.test_request_context():
        with pytest.raises(Conflict) as error:
            services.change_call_status(make.admin(), call.id, "publish")
        assert str(error.value.message) == "Add at least one scoring criterion before publishing the call."
    db.session.rollback()
    assert db.session.get(Call, call.id).status == "draft"


def test_lifecycle_writes_audit_rows(make):
    admin = make.admin()
    call = make.call(status="draft")
    services.change_call_status(admin, call.id, "publish")
    services.change_call_status(admin, call.id, "close")
    rows = db.session.scalars(select(StatusChange).where(StatusChange.record_id == call.id).order_by(StatusChange.id)).all()
    assert [(r.workflow, r.from_state, r.to_state, r.actor_id) for r in rows] == [
        ("call", "draft", "published", admin.id), ("call", "published", "closed", admin.id)]
    with pytest.raises(NotFound):
        services.change_call_status(admin, call.id, "force")  # corrections have their own door


# ------------------------------------------------------- force and revert


def test_correction_needs_a_reason_and_is_recorded(make):
    admin = make.admin()
    call = make.call(status="draft")
    with pytest.raises(Invalid) as error:
        services.correct_status(admin, "call", call.id, action="force", target="published", reason="  ")
    assert "reason" in error.value.field_errors
    db.session.rollback()
    change = services.correct_status(admin, "call", call.id, action="force", target="published", reason="Board decision")
    assert (change.to_state, change.forced, change.reason) == ("published", True, "Board decision")
    services.correct_status(admin, "call", call.id, action="revert", reason="Too early")
    assert db.session.get(Call, call.id).status == "draft"


def test_corrections_only_for_attached_workflows(make):
    with pytest.raises(NotFound):
        services.workflow_record("no-such-workflow", 1)
    with pytest.raises(NotFound):
        services.workflow_record("placement", 12345)
    with pytest.raises(NotFound):
        services.workflow_record("call", 12345)
    with pytest.raises(Forbidden):
        services.correct_status(make.member("cluster"), "call", make.call().id, action="force", target="closed", reason="x")
    assert [wf.name for wf in services.correctable_workflows()] == ["application", "placement", "funding", "report", "call"]


# ---------------------------------------------------------------------- outbox


def test_resend_requeues_a_failed_message(make):
    admin = make.admin()
    failed = make.outbox_message(delivery="failed", attempts=6, last_error="SMTPServerDisconnected")
    services.resend_message(admin, failed.id)
    message = db.session.get(OutboxMessage, failed.id)
    assert (message.delivery, message.attempts, message.last_error) == ("queued", 0, None)
    with pytest.raises(Conflict):
        services.resend_message(admin, failed.id)
    with pytest.raises(NotFound):
        services.resend_message(admin, 424242)


def test_outbox_page_is_newest_first_and_keyed(make):
    now = datetime.now(UTC)
    # Written oldest id first but newest first in time: the list follows the time, then the id.
    ids = [make.outbox_message(delivery="failed", created_at=now - timedelta(minutes=n)).id for n in range(5)]
    make.outbox_message(delivery="sent")
    first = services.list_outbox("failed", per_page=2)
    assert (first.total, first.pages, first.page, [m.id for m in first.rows]) == (5, 3, 1, ids[0:2])
    second = services.list_outbox("failed", pagination.Cursor(after=first.last_key), per_page=2)
    assert (second.page, second.first, second.last, [m.id for m in second.rows]) == (2, 3, 4, ids[2:4])
    third = services.list_outbox("failed", pagination.Cursor(after=second.last_key), per_page=2)
    assert ([m.id for m in third.rows], third.has_next, third.has_prev) == (ids[4:], False, True)
    back = services.list_outbox("failed", pagination.Cursor(before=third.first_key), per_page=2)
    assert (back.page, [m.id for m in back.rows]) == (2, ids[2:4])
    # Past the end, or a row that is gone: an empty page that says so, never an error.
    for cursor in (pagination.Cursor(after=ids[4]), pagination.Cursor(after=424242)):
        past = services.list_outbox("failed", cursor, per_page=2)
        assert past.rows == [] and past.total == 5 and past.message is not None


def test_overview_counts(make):
    make.call(status="published")
    make.outbox_message(delivery="failed")
    overview = services.overview()
    assert overview.open_calls == 1 and overview.calls["published"] == 1
    assert overview.organisations["hub"] == 1
    assert overview.outbox == {"queued": 0, "sent": 0, "failed": 1, "held": 0, "digested": 0, "muted": 0, "cancelled": 0}
