"""The review desk's pages: reviewers, conflicts, scoring, decisions, release
and bulk actions, each refusing other clusters (404) and other roles (403)."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from residency.domain.review import nominations, services as reviews
from residency.core import workflow
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.domain.review.models import Nomination, Review, ReviewAssignment
from residency.core.outbox_models import OutboxMessage
from residency.core.models import StatusChange


def desk(make, n_staff=2, n_apps=1, status="under_review", **call_kw):
    call = make.call(**call_kw)
    staff = [make.user(org=call.route.cluster, name=f"Reviewer {chr(65 + i)}") for i in range(n_staff)]
    apps = []
    for _ in range(n_apps):
        app_ = make.application(call=call, status="submitted")
        if status == "under_review":
            workflow.perform(app_, "start_review", staff[0])
            db.session.commit()
        apps.append(app_)
    return call, staff, apps


def scores_form(call, *values, intent="submit", recommendation="maybe", comment="Fine."):
    data = {f"score_{c.id}": str(v) for c, v in zip(call.criteria, values)}
    return data | {"recommendation": recommendation, "comment": comment, "intent": intent}


def status_of(app_):
    return db.session.get(Application, app_.id).status


# ---------------------------------------------------------------- permissions


def routes(call, app_):
    a, c = app_.id, call.id
    gets = [f"/cluster/applications/{a}", f"/cluster/calls/{c}/release", f"/cluster/calls/{c}/bulk/assign",
            f"/cluster/calls/{c}/bulk/start-review", f"/cluster/calls/{c}/bulk/decline"]
    posts = [
        (f"/cluster/applications/{a}/reviewers", {"assign-reviewers": "1"}),
        (f"/cluster/applications/{a}/conflict", {"conflict-reason": "x"}),
        (f"/cluster/applications/{a}/review", scores_form(call, 3, 3)),
        (f"/cluster/applications/{a}/nominate", {"nominate-rationale": "x"}),
        (f"/cluster/applications/{a}/decline", {"decline-reason": "x", "decline-message": "y"}),
        (f"/cluster/applications/{a}/start-review", {}),
        (f"/cluster/applications/{a}/request-changes", {"message": "x", "respond_by": "2099-01-01"}),
        (f"/cluster/calls/{c}/release", {}),
        (f"/cluster/calls/{c}/bulk/assign", {"pair": f"{a}:1"}),
        (f"/cluster/calls/{c}/bulk/start-review", {"application_id": str(a)}),
        (f"/cluster/calls/{c}/bulk/decline", {"application_id": str(a), "reason": "x", "message": "y"}),
    ]
    return gets, posts


def test_staff_of_another_cluster_get_404_everywhere_and_nothing_changes(client, make, login):
    call, [a, _b], [app_] = desk(make)
    login(make.member("cluster"))
    gets, posts = routes(call, app_)
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data=data).status_code == 404, url
    assert status_of(app_) == "under_review" and call.decisions_released_at is None
    assert db.session.scalar(select(func.count()).select_from(ReviewAssignment)) == 0
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0


@pytest.mark.parametrize("kind", ["startup", "hub", "funder", "operator"])
def test_other_roles_get_403(client, make, login, kind):
    call, [a, _b], [app_] = desk(make)
    user = make.user(org=app_.startup) if kind == "startup" else make.member(kind)
    login(user)
    gets, posts = routes(call, app_)
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    assert status_of(app_) == "under_review"


def test_drafts_are_not_the_clusters_to_see(client, make, login):
    call = make.call()
    staff = make.user(org=call.route.cluster)
    draft = make.application(call=call)
    login(staff)
    assert client.get(f"/cluster/applications/{draft.id}").status_code == 404
    assert client.post(f"/cluster/applications/{draft.id}/reviewers", data={"assign-reviewers": str(staff.id)}).status_code == 404


# ----------------------------------------------------------------- reviewers


def test_assign_by_hand_lists_only_assignable_staff(client, make, login):
    call, [a, b, c], [app_] = desk(make, n_staff=3)
    reviews.declare_conflict(application=app_, actor=c, reason="Co-founder's spouse")
    login(a)
    html = client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    group = html.split("Add reviewers from the cluster")[1].split("</fieldset>")[0]
    assert f'type="checkbox" value="{b.id}"> Reviewer B' in group and "required" not in group
    assert "Reviewer C" not in group
    r = client.post(f"/cluster/applications/{app_.id}/reviewers", data={"assign-reviewers": [str(a.id), str(b.id)]})
    assert r.status_code == 302
    assert {x.reviewer_id for x in db.session.scalars(select(ReviewAssignment).where(
        ReviewAssignment.conflict_declared_at.is_(None)))} == {a.id, b.id}
    # A forged post for the conflicted one is refused in words.
    r = client.post(f"/cluster/applications/{app_.id}/reviewers", data={"assign-reviewers": str(c.id)})
    assert r.status_code == 422 and "Reviewer C declared a conflict of interest on this application and cannot review it." in r.get_data(as_text=True)
    r = client.post(f"/cluster/applications/{app_.id}/reviewers", data={})
    assert r.status_code == 422 and "Choose at least one reviewer." in r.get_data(as_text=True)


def test_declare_conflict_through_the_page(client, make, login):
    call, [a, b], [app_] = desk(make)
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id, b.id])
    login(b)
    r = client.post(f"/cluster/applications/{app_.id}/conflict", data={"conflict-reason": ""})
    assert r.status_code == 422
    r = client.post(f"/cluster/applications/{app_.id}/conflict", data={"conflict-reason": "I advise them"})
    assert r.status_code == 302
    html = client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    assert "Conflict of interest: I advise them" in html and "Submit review" not in html
    r = client.post(f"/cluster/applications/{app_.id}/review", data=scores_form(call, 3, 3))
    assert r.status_code == 403 and "conflict of interest" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0


# -------------------------------------------------------------------- scoring


def test_a_reviewer_sees_the_others_review_only_after_submitting(client, make, login):
    call, [a, b], [app_] = desk(make)
    reviews.assign(application=app_, actor=a, reviewer_ids=[a.id, b.id])
    reviews.save_review(application=app_, actor=b, scores={c.id: 2 for c in call.criteria}, recommendation="no",
                        comment="B: the budget does not add up", submit=True)
    login(a)
    html = client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    assert "B: the budget does not add up" not in html and "Weighted mean" not in html
    assert "1 review is submitted." in html
    # A draft does not open them.
    r = client.post(f"/cluster/applications/{app_.id}/review", data=scores_form(call, 5, intent="save"))
    assert r.status_code == 302
    html = client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    assert "B: the budget does not add up" not in html
    assert 'id="score_%d-4" name="score_%d" type="radio" value="5" checked' % ((call.criteria[0].id,) * 2) in html \
        or 'checked id="score_%d-4"' % call.criteria[0].id in html
    # An incomplete submission is refused, the typed words kept.
    r = client.post(f"/cluster/applications/{app_.id}/review", data=scores_form(call, 5, comment="A: promising"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "not complete yet" in html and "A: promising" in html
    assert "B: the budget does not add up" not in html
    r = client.post(f"/cluster/applications/{app_.id}/review", data=scores_form(call, 5, 4, recommendation="nominate",
                                                                                     comment="A: promising"))
    assert r.status_code == 302
    html = client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    assert "B: the budget does not add up" in html and "A: promising" in html
    # 4.60 and 2.00: mean 3.30, spread 2.60, standard deviation 1.30.
    assert "3.30 over 2 submitted reviews" in html and "2.60" in html and "1.30" in html
    assert db.session.scalar(select(Review.weighted_score).where(Review.reviewer_id == a.id)) == __import__("decimal").Decimal("4.60")


def test_unassigned_staff_cannot_score(client, make, login):
    call, [a, b], [app_] = desk(make)
    login(b)
    html = client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    assert "You are not a reviewer of this application." in html
    r = client.post(f"/cluster/applications/{app_.id}/review", data=scores_form(call, 3, 3))
    assert r.status_code == 403 and "assign yourself first" in r.get_data(as_text=True)


# ------------------------------------------------------------------ decisions


def test_nominate_up_to_the_seats_then_refused_in_plain_words(client, make, login):
    call, [a, _b], apps = desk(make, n_apps=3, seats=2)
    login(a)
    html = client.get(f"/cluster/applications/{apps[0].id}").get_data(as_text=True)
    assert "0 of 2 seats of the call are taken" in html
    r = client.post(f"/cluster/applications/{apps[0].id}/nominate", data={"nominate-rationale": "Best science",
                                                                           "nominate-rank": "2"})
    assert r.status_code == 302
    r = client.post(f"/cluster/applications/{apps[1].id}/nominate", data={"nominate-rationale": "Great team"})
    assert r.status_code == 302
    assert sorted(n.rank for n in db.session.scalars(select(Nomination))) == [2, 3]
    r = client.post(f"/cluster/applications/{apps[2].id}/nominate", data={"nominate-rationale": "Also good"})
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and "All 2 seats of this call are taken" in html and "Also good" in html
    assert status_of(apps[2]) == "under_review"
    assert db.session.scalar(select(func.count()).select_from(Nomination)) == 2


def test_nominate_needs_a_rationale_and_a_positive_rank(client, make, login):
    call, [a, _b], [app_] = desk(make)
    login(a)
    r = client.post(f"/cluster/applications/{app_.id}/nominate", data={"nominate-rationale": ""})
    assert r.status_code == 422 and "Give the rationale for the nomination." in r.get_data(as_text=True)
    r = client.post(f"/cluster/applications/{app_.id}/nominate", data={"nominate-rationale": "ok", "nominate-rank": "0"})
    assert r.status_code == 422 and "Use 1 for the strongest candidate." in r.get_data(as_text=True)
    assert status_of(app_) == "under_review"


def test_nominating_after_the_deadline_is_refused(client, make, login):
    now = datetime.now(timezone.utc)
    # Closed 40 days ago, so nominations closed 10 days ago.
    call, [a, _b], [app_] = desk(make, opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=40))
    login(a)
    r = client.post(f"/cluster/applications/{app_.id}/nominate", data={"nominate-rationale": "Too late?"})
    assert r.status_code == 409 and "nominations are closed" in r.get_data(as_text=True)
    assert status_of(app_) == "under_review"


def test_nominate_is_not_allowed_before_review_starts(client, make, login):
    call, [a, _b], [app_] = desk(make, status="submitted")
    login(a)
    html = client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    assert "Nominate this startup" not in html and "Start review" in html
    r = client.post(f"/cluster/applications/{app_.id}/nominate", data={"nominate-rationale": "Eager"})
    assert r.status_code == 409 and "This cannot be done now" in r.get_data(as_text=True)
    assert status_of(app_) == "submitted"
    r = client.post(f"/cluster/applications/{app_.id}/start-review")
    assert r.status_code == 302 and status_of(app_) == "under_review"
    r = client.post(f"/cluster/applications/{app_.id}/start-review", follow_redirects=True)
    assert "This cannot be done now" in r.get_data(as_text=True)


def test_decline_keeps_the_reason_internal_and_needs_a_message(client, make, login):
    call, [a, _b], [app_] = desk(make)
    login(a)
    r = client.post(f"/cluster/applications/{app_.id}/decline", data={"decline-reason": "Weak IP", "decline-message": ""})
    assert r.status_code == 422 and "A message for the startup is required." in r.get_data(as_text=True)
    assert status_of(app_) == "under_review"
    r = client.post(f"/cluster/applications/{app_.id}/decline", data={"decline-reason": "Weak IP",
                                                                       "decline-message": "Thank you, try again."})
    assert r.status_code == 302 and status_of(app_) == "not_nominated"
    change = db.session.scalar(select(StatusChange).where(StatusChange.action == "decline"))
    assert (change.reason, change.note, change.actor_id) == ("Weak IP", "Thank you, try again.", a.id)
    html = client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    assert "Weak IP" in html and "Thank you, try again." in html


# -------------------------------------------------------------------- release


def test_release_previews_each_mail_then_sends_them_once(client, make, login):
    call, [a, _b], [yes, no, open_] = desk(make, n_apps=3, seats=1)
    nominations.nominate(application=yes, actor=a, rationale="Best")
    nominations.decline(application=no, actor=a, reason="internal words", message="We hope to see you next year.")
    login(a)
    html = client.get(f"/cluster/calls/{call.id}/release").get_data(as_text=True)
    assert "Nothing has been sent yet" in html
    assert "1 application is not decided yet" in html
    assert "We hope to see you next year." in html and "internal words" not in html
    assert f"{yes.startup.name} is nominated for a residency at {call.route.host_hub.name} (“{call.title}”)" in html
    assert "Release the decisions and send 2 e-mails" in html
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template.like("decision_%"))) == 0
    r = client.post(f"/cluster/calls/{call.id}/release")
    assert r.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template.like("decision_%"))) == 2
    html = client.get(f"/cluster/calls/{call.id}/release").get_data(as_text=True)
    assert "were released on" in html and "Release the decisions and send" not in html
    r = client.post(f"/cluster/calls/{call.id}/release", follow_redirects=True)
    assert "already released" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template.like("decision_%"))) == 2


# --------------------------------------------------------------- bulk actions


def test_bulk_assign_preview_then_exactly_the_previewed_pairs(client, make, login):
    call, staff, apps = desk(make, n_staff=3, n_apps=3)
    login(staff[0])
    html = client.get(f"/cluster/calls/{call.id}/bulk/assign?per_application=2").get_data(as_text=True)
    import re

    pairs = re.findall(r'name="pair" value="(\d+:\d+)"', html)
    assert len(pairs) == 6 and "3 applications get new reviewers" in html
    # Confirm only the first application's pairs: only those are assigned.
    first = [p for p in pairs if p.startswith(f"{apps[0].id}:")]
    r = client.post(f"/cluster/calls/{call.id}/bulk/assign", data={"pair": first})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "1 done, 0 refused." in html
    rows = db.session.scalars(select(ReviewAssignment)).all()
    assert sorted(f"{x.application_id}:{x.reviewer_id}" for x in rows) == sorted(first)
    r = client.get(f"/cluster/calls/{call.id}/bulk/assign?per_application=0")
    assert r.status_code == 422


def test_bulk_start_review_processes_the_previewed_ids_only(client, make, login):
    call, [a, _b], apps = desk(make, n_apps=2, status="submitted")
    login(a)
    html = client.get(f"/cluster/calls/{call.id}/bulk/start-review").get_data(as_text=True)
    assert "2 applications will change" in html
    import re

    ids = re.findall(r'name="application_id" value="(\d+)"', html)
    assert sorted(int(i) for i in ids) == sorted(x.id for x in apps)
    late = make.application(call=call, status="submitted")
    workflow.perform(apps[0], "start_review", a)
    db.session.commit()
    r = client.post(f"/cluster/calls/{call.id}/bulk/start-review", data={"application_id": ids})
    html = r.get_data(as_text=True)
    assert "1 done, 1 refused." in html and "This cannot be done now" in html
    assert status_of(late) == "submitted" and status_of(apps[1]) == "under_review"


def test_bulk_decline_preview_form_errors_keep_the_same_list(client, make, login):
    call, [a, _b], apps = desk(make, n_apps=3)
    nominations.nominate(application=apps[0], actor=a, rationale="Top")
    login(a)
    html = client.get(f"/cluster/calls/{call.id}/bulk/decline").get_data(as_text=True)
    assert "2 applications will be declined" in html and apps[0].startup.name not in html
    ids = [str(apps[1].id), str(apps[2].id)]
    r = client.post(f"/cluster/calls/{call.id}/bulk/decline", data={"application_id": ids, "reason": "", "message": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "2 applications will be declined" in html
    assert status_of(apps[1]) == "under_review"
    r = client.post(f"/cluster/calls/{call.id}/bulk/decline", data={"application_id": ids, "reason": "Out of scope",
                                                                    "message": "Thank you for applying."})
    assert "2 done, 0 refused." in r.get_data(as_text=True)
    assert [status_of(x) for x in apps] == ["nominated", "not_nominated", "not_nominated"]


def test_the_call_page_links_to_the_desk(client, make, login):
    call, [a, _b], _apps = desk(make)
    login(a)
    html = client.get(f"/cluster/calls/{call.id}").get_data(as_text=True)
    for url in ("bulk/assign", "bulk/start-review", "bulk/decline", "release"):
        assert f"/cluster/calls/{call.id}/{url}" in html


def test_the_application_page_uses_a_fixed_number_of_queries(client, make, login, count_queries):
    call, staff, [app_] = desk(make, n_staff=2)
    reviews.assign(application=app_, actor=staff[0], reviewer_ids=[u.id for u in staff])
    for u in staff:
        reviews.save_review(application=app_, actor=u, scores={c.id: 3 for c in call.criteria}, recommendation="maybe",
                            comment="ok", submit=True)
    login(staff[0])
    with count_queries() as few:
        client.get(f"/cluster/applications/{app_.id}")
    more = [make.user(org=call.route.cluster) for _ in range(4)]
    reviews.assign(application=app_, actor=staff[0], reviewer_ids=[u.id for u in more])
    for u in more:
        reviews.save_review(application=app_, actor=u, scores={c.id: 4 for c in call.criteria}, recommendation="no",
                            comment="ok", submit=True)
    with count_queries() as many:
        client.get(f"/cluster/applications/{app_.id}")
    # 23: the call's form (its sections, its questions) and the answers are three of them (issue 15).
    assert few.n == many.n == 23


def test_the_release_page_uses_a_fixed_number_of_queries(client, make, login, count_queries):
    call, [a, _b], apps = desk(make, n_apps=6, seats=6)
    nominations.nominate(application=apps[0], actor=a, rationale="Top")
    nominations.decline(application=apps[1], actor=a, reason="r", message="m")
    login(a)
    with count_queries() as few:
        client.get(f"/cluster/calls/{call.id}/release")
    for x in apps[2:4]:
        nominations.nominate(application=x, actor=a, rationale="Also")
    for x in apps[4:]:
        make.user(org=x.startup)
        nominations.decline(application=x, actor=a, reason="r", message="m")
    with count_queries() as many:
        html = client.get(f"/cluster/calls/{call.id}/release").get_data(as_text=True)
    assert "Release the decisions and send 8 e-mails" in html
    assert few.n == many.n == 13  # the reviewers' comments for the startups are one of them
