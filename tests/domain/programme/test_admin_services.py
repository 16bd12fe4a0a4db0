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
        ("Scientific quality", Decimal("30.00"), ""), ("Team", Decimal("20.00"), ""), ("Fit", Decimal("12.50"), ""),
        ("Name | with bar", Decimal("5.00"), "")]


def test_a_criterion_keeps_its_guidance_for_the_reviewers():
    rows = [{"name": "Team", "weight": "2", "guidance": "  Look for a full-time CEO.\r\nAnd a CSO.  "}]
    assert services.parse_criteria(rows) == [("Team", Decimal("2.00"), "Look for a full-time CEO.\nAnd a CSO.")]


@pytest.mark.parametrize("guidance, fragment", [
    ("x" * 4001, "at most 4000 characters"),
    ("Look\x00 here", "control characters"),
])
def test_bad_guidance_is_refused_on_its_row(guidance, fragment):
    with pytest.raises(Invalid) as error:
        services.parse_criteria([{"name": "Team", "weight": "1", "guidance": guidance}])
    assert any(fragment in m for m in _messages(error)["criteria-0-guidance"])


def test_guidance_alone_is_no_blank_row():
    with pytest.raises(Invalid) as error:
        services.parse_criteria([{"name": "", "weight": "", "guidance": "What to look for"}])
    assert "criteria-0-name" in _messages(error)


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


# -------------------------------------------------------------- organisations


def _org(**overrides):
    values = dict(kind="funder", name="Vinnova", country="SE", org_number="202100 5521", city="Stockholm")
    values.update(overrides)
    return values


def test_organisation_is_stored_with_its_canonical_number(make):
    org = services.create_organisation(make.admin(), **_org())
    assert (org.org_number, org.timezone) == ("202100-5521", "Europe/Stockholm")


def test_only_a_programme_admin_may_register_an_organisation(make):
    with pytest.raises(Forbidden):
        services.create_organisation(make.member("hub", country="SE"), **_org())
    assert _count(Organisation, Organisation.name == "Vinnova") == 0


def test_org_number_check_and_duplicate_refusal(make):
    admin = make.admin()
    with pytest.raises(Invalid) as error:
        services.create_organisation(admin, **_org(org_number="202100-5522"))
    assert "fails its check digit" in _messages(error)["org_number"][0]
    services.create_organisation(admin, **_org())
    with pytest.raises(Invalid) as error:
        services.create_organisation(admin, **_org(name="Vinnova again", org_number="2021005521"))
    assert _messages(error)["org_number"] == ["Vinnova is already registered with this organisation number."]
    # The same digits in another country are another organisation.
    assert _count(Organisation, Organisation.org_number == "202100-5521") == 1


def test_updating_an_organisation_may_keep_its_own_number(make):
    admin = make.admin()
    org = services.create_organisation(admin, **_org())
    values = _org(name="Vinnova (Sweden's innovation agency)")
    values.pop("kind")
    services.update_organisation(admin, org.id, **values)
    assert db.session.get(Organisation, org.id).name == "Vinnova (Sweden's innovation agency)"


def test_startup_profile_is_required_and_checked(make):
    admin = make.admin()
    with pytest.raises(Invalid) as error:
        services.create_organisation(admin, **_org(kind="startup", founded_on=date(2999, 1, 1), employees=-1, trl=10))
    errors = _messages(error)
    assert set(errors) >= {"founded_on", "employees", "track", "trl"}
    org = services.create_organisation(admin, **_org(kind="startup", founded_on=date(2020, 1, 1), employees=3,
                                                     track="devices", trl=9))
    assert (org.trl, org.track) == (9, "devices")


# ---------------------------------------------------------------- invitations


def test_invite_staff_queues_the_invitation_email_and_revoke_stops_it(make):
    admin = make.admin()
    hub = make.organisation("hub", country="SE")
    invitation = services.invite_staff(admin, email="Staff@Hub.example", organisation_id=hub.id)
    outbox = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.template, m.recipient) for m in outbox] == [("invitation", "staff@hub.example")]
    assert services.list_invitations("pending").rows[0] == (invitation, "pending")
    services.revoke_invitation(admin, invitation.id)
    assert db.session.get(Invitation, invitation.id).revoked_at is not None
    assert services.list_invitations("pending").rows == []
    assert services.list_invitations("revoked").rows[0][1] == "revoked"


def test_invitation_states(make):
    admin = make.admin()
    hub = make.organisation("hub", country="SE")
    now = datetime.now(UTC)
    old = services.invite_staff(admin, email="old@example.org", organisation_id=hub.id, now=now - timedelta(days=30))
    accepted = services.invite_staff(admin, email="yes@example.org", organisation_id=hub.id)
    accepted.accepted_at = now
    db.session.commit()
    assert [i.email for i, _ in services.list_invitations("expired").rows] == [old.email]
    assert [i.email for i, _ in services.list_invitations("accepted").rows] == [accepted.email]
    with pytest.raises(Conflict):
        services.revoke_invitation(admin, accepted.id)
    with pytest.raises(NotFound):
        services.revoke_invitation(admin, 9999)


def test_invitations_are_for_staff_only(make):
    with pytest.raises(Invalid):
        services.invite_staff(make.admin(), email="a@example.org", organisation_id=make.organisation("startup").id)
    with pytest.raises(Invalid):
        services.invite_staff(make.admin(), email="a@example.org", organisation_id=None)
    assert _count(OutboxMessage) == 0


# --------------------------------------------------------------------- routes


def test_route_rules(make):
    admin = make.admin()
    hub = make.organisation("hub", country="SE")
    cluster = make.organisation("cluster")
    funder = make.organisation("funder")
    route = services.create_route(admin, home_country="NO", host_hub_id=hub.id, cluster_id=cluster.id, funder_ids=[funder.id])
    assert route.funders == [funder]
    with pytest.raises(Invalid) as error:
        services.create_route(admin, home_country="NO", host_hub_id=hub.id, cluster_id=cluster.id)
    assert "already a route" in _messages(error)["host_hub_id"][0]
    with pytest.raises(Invalid) as error:
        services.create_route(admin, home_country="SE", host_hub_id=hub.id, cluster_id=cluster.id)
    assert "another country" in _messages(error)["host_hub_id"][0]
    with pytest.raises(Invalid) as error:
        services.create_route(admin, home_country="DK", host_hub_id=cluster.id, cluster_id=hub.id, funder_ids=[hub.id])
    assert set(_messages(error)) == {"host_hub_id", "cluster_id", "funder_ids"}
    assert _count(Route) == 1


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


def test_a_call_keeps_its_guidance_and_whether_feedback_goes_into_the_decision_email(make):
    admin = make.admin()
    call = services.create_call(admin, **_call(make.route(), criteria=[
        {"name": "Quality", "weight": "1", "guidance": "Evidence in animals or people?"}]))
    assert call.feedback_in_decision_email is True
    assert [c.guidance for c in call.criteria] == ["Evidence in animals or people?"]
    assert services.criteria_rows(call)[0]["guidance"] == "Evidence in animals or people?"
    fields = {k: v for k, v in _call(call.route).items() if k != "route_id"}
    services.update_call(admin, call.id, **fields, feedback_in_decision_email=False)
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.feedback_in_decision_email is False and [c.guidance for c in call.criteria] == [""]
    services.update_call(admin, call.id, **fields)  # not given: as it was
    db.session.expire_all()
    assert db.session.get(Call, call.id).feedback_in_decision_email is False


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
    assert [wf.name for wf in services.correctable_workflows()] == ["application", "placement", "funding", "report", "call", "route"]


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
    assert overview.outbox == {"queued": 0, "failed": 1, "held": 0}
    assert overview.sent_recently == 0


def test_overview_counts_sent_mail_of_the_last_week_and_reads_no_more_of_the_outbox(make, count_queries):
    """Sent mail is counted over the last seven days only: the count is a range of an index, not the whole outbox."""
    from datetime import timedelta
    from residency.core.db import utcnow

    now = utcnow()
    for days in (0, 1, 6):
        make.outbox_message(delivery="sent", created_at=now - timedelta(days=days, hours=1))
    make.outbox_message(delivery="sent", created_at=now - timedelta(days=8))
    make.outbox_message(delivery="queued")
    make.outbox_message(delivery="muted")
    with count_queries() as counted:
        overview = services.overview(now=now)
    assert overview.sent_recently == 3 and overview.outbox == {"queued": 1, "failed": 0, "held": 0}
    outbox_reads = [s for s in counted.statements if "outbox_message" in s]
    assert len(outbox_reads) == 2 and all("WHERE" in s for s in outbox_reads)
