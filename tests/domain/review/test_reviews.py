"""Reviews: assignment by hand and evenly, conflicts of interest, scoring with a
weighted score fixed at submission, who sees whose reviews, bulk actions and the
release preview."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from residency.domain.review import nominations, services as reviews
from residency.core import workflow
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.core.outbox_models import OutboxMessage
from residency.domain.review.models import Review, ReviewAssignment, ReviewScore
from residency.core.models import StatusChange


def desk(make, n_staff=2, n_apps=1, status="under_review", **call_kw):
    """A call with ``n_apps`` applications in ``status`` and ``n_staff`` cluster staff."""
    call = make.call(**call_kw)
    staff = [make.user(org=call.route.cluster, name=f"Staff {i}") for i in range(n_staff)]
    apps = []
    for _ in range(n_apps):
        app_ = make.application(call=call, status="submitted")
        if status == "under_review":
            workflow.perform(app_, "start_review", staff[0])
            db.session.commit()
        apps.append(app_)
    return call, staff, apps


def full_scores(call, *values):
    return {c.id: v for c, v in zip(call.criteria, values)}


def submit(app_, reviewer, *values, recommendation="maybe", comment="Solid."):
    return reviews.save_review(application=app_, actor=reviewer, scores=full_scores(app_.call, *values),
                               recommendation=recommendation, comment=comment, submit=True).or_raise()


# --------------------------------------------------------------- weighted score


def test_weighted_score_is_a_decimal_rounded_half_up(make):
    # 3 x 175 + 4 x 25 = 625 over 200 = 3.125: half up gives 3.13 (float or banker's rounding give 3.12).
    call, [a, _b], [app_] = desk(make, criteria=(("Science", "175"), ("Team", "25")))
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id])
    review = submit(app_, a, 3, 4)
    db.session.expire_all()
    stored = db.session.get(Review, review.id)
    assert stored.weighted_score == Decimal("3.13") and isinstance(stored.weighted_score, Decimal)
    assert stored.submitted_at is not None and stored.recommendation == "maybe"


def test_weighted_score_uses_the_weights():
    from residency.domain.programme.models import Criterion

    criteria = [Criterion(id=1, name="a", weight=Decimal("60")), Criterion(id=2, name="b", weight=Decimal("40"))]
    assert reviews.weighted_score({1: 5, 2: 1}, criteria) == Decimal("3.40")
    assert reviews.weighted_score({1: 1, 2: 5}, criteria) == Decimal("2.60")
    criteria = [Criterion(id=1, name="a", weight=Decimal("1")), Criterion(id=2, name="b", weight=Decimal("2"))]
    assert reviews.weighted_score({1: 1, 2: 2}, criteria) == Decimal("1.67")  # 5/3


# -------------------------------------------------------------------- scoring


def test_draft_then_submit_and_the_review_is_then_fixed(make):
    call, [a, _b], [app_] = desk(make)
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id])
    first, second = call.criteria
    draft = reviews.save_review(application=app_, actor=a, scores={first.id: 4}, recommendation=None, comment="Half done").review
    assert draft.submitted_at is None and draft.weighted_score is None
    assert {s.criterion_id: s.score for s in draft.scores} == {first.id: 4}
    # An incomplete submission keeps the draft and names every field to fix.
    with pytest.raises(Invalid) as refused:
        reviews.save_review(application=app_, actor=a, scores={first.id: 5}, recommendation=None, comment="", submit=True).or_raise()
    assert set(refused.value.field_errors) == {f"score_{second.id}", "recommendation", "comment"}
    db.session.expire_all()
    kept = db.session.scalar(select(Review))
    assert kept.submitted_at is None and [s.score for s in kept.scores] == [5]
    submit(app_, a, 4, 2, recommendation="nominate")
    with pytest.raises(Conflict, match="already submitted"):
        reviews.save_review(application=app_, actor=a, scores=full_scores(call, 1, 1), recommendation="no", comment="x")
    db.session.rollback()
    assert db.session.scalar(select(Review)).weighted_score == Decimal("3.20")


@pytest.mark.parametrize("bad", [0, 6, "x"])
def test_scores_outside_one_to_five_are_refused_and_nothing_is_saved(make, bad):
    call, [a, _b], [app_] = desk(make)
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id])
    with pytest.raises(Invalid) as refused:
        reviews.save_review(application=app_, actor=a, scores=full_scores(call, bad, 3), recommendation="maybe", comment="c")
    assert f"score_{call.criteria[0].id}" in refused.value.field_errors
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0


def test_unknown_recommendation_is_refused(make):
    call, [a, _b], [app_] = desk(make)
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id])
    with pytest.raises(Invalid) as refused:
        reviews.save_review(application=app_, actor=a, scores={}, recommendation="definitely", comment="")
    assert "recommendation" in refused.value.field_errors


def test_only_assigned_reviewers_of_the_cluster_score(make):
    call, [a, b], [app_] = desk(make)
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id])
    with pytest.raises(Forbidden):
        submit(app_, b, 3, 3)  # same cluster, not assigned
    with pytest.raises(NotFound):
        submit(app_, make.member("cluster"), 3, 3)  # another cluster
    with pytest.raises(NotFound):
        submit(app_, make.member("hub"), 3, 3)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0


def test_decided_applications_cannot_be_scored(make):
    call, [a, _b], [app_] = desk(make)
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id])
    nominations.decline(application=app_, actor=a, reason="r", message="m")
    with pytest.raises(Conflict, match="decided"):
        submit(app_, a, 3, 3)


# ----------------------------------------------------------------- assignment


def test_assign_by_hand_only_staff_of_the_cluster_and_all_or_nothing(make):
    call, [a, b], [app_] = desk(make)
    outsider = make.member("cluster")
    with pytest.raises(Invalid, match="not a member of the nominating cluster"):
        reviews.assign(application=app_, actor=a, reviewer_ids=[b.id, outsider.id])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ReviewAssignment)) == 0
    made = reviews.assign(application=app_, actor=a, reviewer_ids=[a.id, b.id])
    assert {m.reviewer_id for m in made} == {a.id, b.id} and made[0].assigned_by_id == a.id
    with pytest.raises(Invalid, match="already a reviewer"):
        reviews.assign(application=app_, actor=a, reviewer_ids=[b.id])
    with pytest.raises(NotFound):
        reviews.assign(application=app_, actor=outsider, reviewer_ids=[outsider.id])


def test_a_declared_conflict_excludes_the_reviewer_for_good(make):
    call, [a, b, c], [app_] = desk(make, n_staff=3)
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id, b.id, c.id])
    submit(app_, a, 5, 5)
    submit(app_, b, 1, 1)
    with pytest.raises(Invalid):
        reviews.declare_conflict(application=app_, actor=b, reason="  ")
    reviews.declare_conflict(application=app_, actor=b, reason="My brother founded it")
    # Their review is gone, so it is not counted.
    assert db.session.scalar(select(func.count()).select_from(Review).where(Review.reviewer_id == b.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(ReviewScore)) == 2
    panel = reviews.review_panel(application=app_, viewer=a)
    assert panel.summary.count == 1 and panel.summary.mean == Decimal("5.00")
    assert [line.state for line in panel.lines] == ["submitted", "conflict", "assigned"]
    assert b.id not in {u.id for u in panel.staff}
    # No scoring, no second assignment, no second declaration.
    with pytest.raises(Forbidden, match="conflict"):
        submit(app_, b, 3, 3)
    with pytest.raises(Invalid, match="conflict of interest"):
        reviews.assign(application=app_, actor=a, reviewer_ids=[b.id])
    with pytest.raises(Conflict):
        reviews.declare_conflict(application=app_, actor=b, reason="again")


def test_a_conflict_declared_before_assignment_blocks_a_later_one(make):
    call, [a, b], [app_] = desk(make)
    reviews.declare_conflict(application=app_, actor=b, reason="Former employer")
    with pytest.raises(Invalid, match="declared a conflict"):
        reviews.assign(application=app_, actor=a, reviewer_ids=[b.id])
    _call, plan = reviews.plan_even_assignment(call_id=call.id, actor=a, per_application=2)
    assert [[u.id for u in p.reviewers] for p in plan] == [[a.id]] and plan[0].missing == 1


# ------------------------------------------------------------- assign evenly


def test_even_assignment_balances_the_load_and_skips_conflicts_and_existing(make):
    call, staff, apps = desk(make, n_staff=3, n_apps=4)
    s0, s1, s2 = staff
    draft = make.application(call=call)  # drafts and decided applications are left alone
    decided = make.application(call=call, status="submitted")
    workflow.perform(decided, "start_review", s0)
    db.session.commit()
    nominations.decline(application=decided, actor=s0, reason="r", message="m")
    reviews.assign(application=apps[0], actor=s0, reviewer_ids=[s0.id])
    reviews.declare_conflict(application=apps[1], actor=s1, reason="Board member")

    _call, plan = reviews.plan_even_assignment(call_id=call.id, actor=s0, per_application=2)
    assert [p.application.id for p in plan] == [a.id for a in apps]
    planned = {p.application.id: [u.id for u in p.reviewers] for p in plan}
    assert len(planned[apps[0].id]) == 1 and s0.id not in planned[apps[0].id]
    assert s1.id not in planned[apps[1].id]
    assert all(len(set(ids)) == len(ids) for ids in planned.values())

    outcomes = reviews.assign_planned(call_id=call.id, actor=s0, plan=list(planned.items()))
    assert all(o.done for o in outcomes) and len(outcomes) == 4
    rows = db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.conflict_declared_at.is_(None))).all()
    load = {u.id: sum(1 for r in rows if r.reviewer_id == u.id) for u in staff}
    assert sum(load.values()) == 8 and max(load.values()) - min(load.values()) <= 1
    per_app = {a.id: sum(1 for r in rows if r.application_id == a.id) for a in apps}
    assert set(per_app.values()) == {2}
    assert db.session.scalar(select(func.count()).select_from(ReviewAssignment).where(
        ReviewAssignment.application_id.in_([draft.id, decided.id]))) == 0
    # Run again: nothing is left to do.
    assert reviews.plan_even_assignment(call_id=call.id, actor=s0, per_application=2)[1] == []


def test_assign_planned_rechecks_each_item(make):
    call, [a, b], apps = desk(make, n_apps=2)
    _call, plan = reviews.plan_even_assignment(call_id=call.id, actor=a, per_application=1)
    pairs = [(p.application.id, [u.id for u in p.reviewers]) for p in plan]
    # Between preview and confirmation, the planned reviewer of the first declares a conflict.
    first_reviewer = db.session.get(type(a), pairs[0][1][0])
    reviews.declare_conflict(application=apps[0], actor=first_reviewer, reason="Knows the founder")
    outcomes = reviews.assign_planned(call_id=call.id, actor=a, plan=pairs)
    assert [o.done for o in outcomes] == [False, True]
    assert "conflict of interest" in outcomes[0].message


def test_even_assignment_is_the_clusters_own(make):
    call, [a, _b], _apps = desk(make)
    with pytest.raises(NotFound):
        reviews.plan_even_assignment(call_id=call.id, actor=make.member("cluster"), per_application=2)
    with pytest.raises(Invalid):
        reviews.plan_even_assignment(call_id=call.id, actor=a, per_application=0)


# ----------------------------------------------------------------- visibility


def test_others_reviews_are_hidden_until_your_own_is_submitted(make):
    call, [a, b, c], [app_] = desk(make, n_staff=3)
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id, b.id])
    submit(app_, b, 2, 4, comment="B thinks the team is thin")
    panel = reviews.review_panel(application=app_, viewer=a)
    assert not panel.can_see_others and panel.reviews == [] and panel.summary is None and panel.can_score
    assert panel.submitted_count == 1
    # A draft is not enough.
    reviews.save_review(application=app_, actor=a, scores=full_scores(call, 5, 5), recommendation="nominate", comment="A")
    assert not reviews.review_panel(application=app_, viewer=a).can_see_others
    # Staff who are not reviewers do not see them either (they might be assigned later).
    assert not reviews.review_panel(application=app_, viewer=c).can_see_others
    submit(app_, a, 5, 5, recommendation="nominate", comment="A likes it")
    panel = reviews.review_panel(application=app_, viewer=a)
    assert panel.can_see_others and not panel.can_score
    assert [r.comment for r in panel.reviews] == ["B thinks the team is thin", "A likes it"]
    # Mean of 2.80 and 5.00; spread 2.20; population standard deviation 1.10.
    assert (panel.summary.mean, panel.summary.spread, panel.summary.stdev) == (Decimal("3.90"), Decimal("2.20"), Decimal("1.10"))
    assert panel.summary.criterion_means == {call.criteria[0].id: Decimal("3.50"), call.criteria[1].id: Decimal("4.50")}
    assert panel.summary.recommendations == {"nominate": 1, "maybe": 1, "no": 0}


def test_a_conflicted_reviewer_never_sees_the_reviews_and_all_staff_see_them_once_decided(make):
    call, [a, b, c], [app_] = desk(make, n_staff=3)
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id, b.id])
    submit(app_, a, 4, 4)
    reviews.declare_conflict(application=app_, actor=b, reason="Investor")
    assert not reviews.review_panel(application=app_, viewer=b).can_see_others
    nominations.nominate(application=app_, actor=a, rationale="Good")
    assert reviews.review_panel(application=app_, viewer=c).can_see_others
    assert not reviews.review_panel(application=app_, viewer=b).can_see_others


def test_the_panel_is_the_clusters_own(make):
    call, [a, _b], [app_] = desk(make)
    with pytest.raises(NotFound):
        reviews.review_panel(application=app_, viewer=make.member("cluster"))


# --------------------------------------------------------------- bulk actions


def test_bulk_start_review_processes_the_previewed_list_one_by_one(make):
    call, [a, _b], apps = desk(make, n_apps=3, status="submitted")
    _call, preview = reviews.start_review_preview(call_id=call.id, actor=a)
    assert [x.id for x in preview] == [x.id for x in apps]
    late = make.application(call=call, status="submitted")  # arrives after the preview
    # Meanwhile another member of staff starts one of them by hand.
    workflow.perform(apps[1], "start_review", a)
    db.session.commit()
    outcomes = reviews.start_review_many(call_id=call.id, actor=a, application_ids=[x.id for x in preview])
    assert [o.done for o in outcomes] == [True, False, True]
    assert "cannot be done now" in outcomes[1].message
    db.session.expire_all()
    assert db.session.get(Application, late.id).status == "submitted"
    assert {db.session.get(Application, x.id).status for x in apps} == {"under_review"}
    audit = db.session.scalars(select(StatusChange).where(StatusChange.action == "start_review")).all()
    assert len(audit) == 3 and all(s.actor_id == a.id for s in audit)


def test_bulk_refuses_applications_of_another_call(make):
    call, [a, _b], _apps = desk(make, status="submitted")
    other = make.application(call=make.call(route=call.route), status="submitted")
    outcomes = reviews.start_review_many(call_id=call.id, actor=a, application_ids=[other.id])
    assert not outcomes[0].done and db.session.get(Application, other.id).status == "submitted"
    with pytest.raises(NotFound):
        reviews.start_review_many(call_id=call.id, actor=make.member("cluster"), application_ids=[other.id])


def test_bulk_decline_declines_each_with_one_reason_and_message(make):
    call, [a, _b], apps = desk(make, n_apps=3, seats=3)
    nominations.nominate(application=apps[0], actor=a, rationale="Best")
    _call, preview = nominations.decline_preview(call_id=call.id, actor=a)
    assert [x.id for x in preview] == [apps[1].id, apps[2].id]
    with pytest.raises(Invalid):
        nominations.decline_many(call_id=call.id, actor=a, application_ids=[x.id for x in preview], reason="r", message=" ")
    assert db.session.get(Application, apps[1].id).status == "under_review"
    outcomes = nominations.decline_many(call_id=call.id, actor=a, application_ids=[x.id for x in preview] + [apps[0].id],
                                        reason="Budget too small (internal)", message="Thank you for applying.")
    assert [o.done for o in outcomes] == [True, True, False]
    changes = db.session.scalars(select(StatusChange).where(StatusChange.action == "decline")).all()
    assert {(c.reason, c.note) for c in changes} == {("Budget too small (internal)", "Thank you for applying.")}
    assert len(changes) == 2
    # Held until the release.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template.like("decision_%"))) == 0


def test_after_the_release_each_bulk_decline_is_mailed_at_once(make):
    call, [a, _b], apps = desk(make, n_apps=2)
    nominations.release(call_id=call.id, actor=a)
    nominations.decline_many(call_id=call.id, actor=a, application_ids=[x.id for x in apps], reason="r", message="Sorry")
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "decision_not_nominated")).all()
    assert len(mails) == 2 and {m.context["note"] for m in mails} == {"Sorry"}


# ----------------------------------------------------------- release preview


def test_release_mails_render_the_exact_text_and_write_nothing(make, app):
    call, [a, _b], [yes, no] = desk(make, n_apps=2, seats=1)
    founder = make.user(org=no.startup, language="sv")
    nominations.nominate(application=yes, actor=a, rationale="Strong")
    nominations.decline(application=no, actor=a, reason="internal only", message="Try again next year.")
    with app.test_request_context():
        _call, items, undecided = nominations.release_mails(call_id=call.id, actor=a)
    assert undecided == 0
    by_decision = {item.decision: (item, mails) for item, mails in items}
    item, mails = by_decision["not_nominated"]
    assert {m.recipient.id for m in mails} == {no.created_by_id, founder.id}
    english = next(m for m in mails if m.recipient.id == no.created_by_id)
    assert "Try again next year." in english.body and no.startup.name in english.body
    assert "internal only" not in english.body
    assert call.title in english.subject
    item, mails = by_decision["nominated"]
    assert item.rank == 1 and call.route.host_hub.name in mails[0].subject
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template.like("decision_%"))) == 0
    # What is sent is what was previewed.
    nominations.release(call_id=call.id, actor=a)
    queued = db.session.scalar(select(OutboxMessage).where(OutboxMessage.user_id == no.created_by_id,
                                                           OutboxMessage.template == "decision_not_nominated"))
    from residency.core.outbox import render

    with app.test_request_context():
        assert render(queued).body == english.body


def test_two_people_assigning_the_same_reviewer_at_once_get_a_plain_refusal(make, monkeypatch):
    call, [a, b], [app_] = desk(make)
    reviews.assign(application=app_, actor=a, reviewer_ids=[b.id])
    # The other request read the assignments before this one committed.
    monkeypatch.setattr(reviews, "_eligible", lambda *args: None)
    with pytest.raises(Conflict, match="reload the page"):
        reviews.assign(application=app_, actor=a, reviewer_ids=[b.id])
    assert db.session.scalar(select(func.count()).select_from(ReviewAssignment)) == 1
