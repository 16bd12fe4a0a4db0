"""Scenario builders the tests share: a resident startup on a funded route, nominated placements
at a hub, an application's complete answers and files, a whole programme for insight (and the funnel it should show)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from residency.core import workflow
from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.domain.applications.models import Application
from residency.domain.forms import defaults as form_defaults
from residency.domain.funding import services as funding
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement
from residency.domain.review import nominations
from tests.factories import make_scheme

PDF = b"%PDF-1.7\n% a tiny but real-looking pdf\n" + b"0" * 200


EXE = b"MZ\x90\x00\x03" + b"\x00" * 200


def complete_values(call, **over):
    # The default form's own questions (every call's form starts as a copy of it).
    values = {q[1]: f"Answer to {q[1]}" for q in form_defaults.QUESTIONS if q[3] is None and q[2] != "file"}
    values.update(track="drugs", trl="4", desired_start=call.residency_starts_on.isoformat(), months="6", desks="2", benches="1")
    values.update(over)
    return values


def nominated_placements(make, n=1, desks=2, benches=1, window=(date(2030, 1, 1), date(2031, 12, 31))):
    """n pending placements at one hub with capacity ``desks``/``benches`` over the window."""
    hub = make.organisation("hub", country="SE", timezone="Europe/Stockholm")
    route = make.route(hub=hub)
    call = make.call(route=route, seats=max(n, 1))
    call.residency_starts_on, call.residency_ends_on = window
    db.session.commit()
    make.capacity(hub, window[0], window[1], desks=desks, benches=benches)
    staff = make.user(org=route.cluster)
    hub_admin = make.user(org=hub)
    result = []
    for _ in range(n):
        app_ = make.application(call=call, status="submitted")
        workflow.perform(app_, "start_review", staff)
        db.session.commit()
        nominations.nominate(application=app_, actor=staff, rationale="fit")
        result.append(db.session.scalar(select(Placement).where(Placement.application_id == app_.id)))
    return hub_admin, result


def offer(placement, hub_admin, start=date(2030, 3, 1), end=date(2030, 8, 31), desks=1, benches=0, now=None,
          expires=date(2030, 2, 1)):
    return placements.offer(placement=placement, actor=hub_admin, starts_on=start, ends_on=end, desks=desks, benches=benches,
                            offer_expires_on=expires, conditions="Rental agreement with confidentiality clause",
                            now=now or datetime(2030, 1, 10, tzinfo=timezone.utc))


def resident(make, country="NO", currency="NOK", founded=date(2027, 1, 1)):
    """A startup with an accepted placement on a route whose funder has a scheme."""
    hub = make.organisation("hub", country="SE" if country == "NO" else "NO")
    funder = make.organisation("funder", country=country, timezone="Europe/Oslo" if country == "NO" else "Europe/Stockholm")
    route = make.route(home_country=country, hub=hub, funders=[funder])
    call = make.call(route=route)
    call.residency_starts_on, call.residency_ends_on = date(2030, 1, 1), date(2031, 12, 31)
    db.session.commit()
    make.capacity(hub, date(2030, 1, 1), date(2031, 12, 31), desks=5, benches=5)
    startup = make.organisation("startup", country=country, founded_on=founded)
    founder = make.user(org=startup)
    app_ = make.application(call=call, startup=startup, author=founder, status="submitted")
    staff = make.user(org=route.cluster)
    workflow.perform(app_, "start_review", staff)
    db.session.commit()
    nominations.nominate(application=app_, actor=staff, rationale="fit")
    placement = db.session.scalar(select(Placement).where(Placement.application_id == app_.id))
    hub_admin = make.user(org=hub)
    placements.offer(placement=placement, actor=hub_admin, starts_on=date(2030, 3, 1), ends_on=date(2030, 12, 31),
                     desks=1, benches=1, offer_expires_on=date(2030, 2, 1), now=datetime(2030, 1, 10, tzinfo=timezone.utc))
    placements.answer_offer(placement=placement, actor=founder, accept=True, now=datetime(2030, 1, 11, tzinfo=timezone.utc))
    scheme = make_scheme(funder, currency=currency, countries=(country,))
    officer = make.user(org=funder)
    return scheme, startup, founder, officer


BUDGET = [
    {"category": "personnel", "year": 2030, "quarter": 2, "amount": "100000.10"},
    {"category": "rent", "year": 2030, "quarter": 2, "amount": "20000.20"},
    {"category": "consumables", "year": 2030, "quarter": 3, "amount": "79999.70"},
]


# The funding scenarios happen on this day.
NOW = datetime(2030, 4, 1, 10, tzinfo=timezone.utc)


def fill(fa, founder, requested="100000.00", own="100000.00", budget=BUDGET):
    return funding.save_draft(fa=fa, actor=founder, budget=budget, values={
        "title": "Preclinical package", "description": "GLP toxicology and CMC.", "period_start": "2030-04-01",
        "period_end": "2030-12-31", "own_financing": own, "amount_requested": requested})


def _in_progress(make):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    fill(fa, founder)
    funding.submit(fa=fa, actor=founder, now=NOW)
    funding.start_assessment(fa=fa, actor=officer)
    funding.grant(fa=fa, actor=officer, amount="100000", share_percent="50", conditions="", offer_deadline=date(2030, 4, 20),
                  report_due={"progress": date(2030, 7, 1), "final": date(2031, 1, 31)}, now=NOW)
    funding.accept_offer(fa=fa, actor=founder, now=NOW)
    return scheme, startup, founder, officer, fa


def programme(make, n_apps=4, track="drugs"):
    """A call on a fresh route with applications at every stage of the funnel."""
    hub = make.organisation("hub", country="SE", timezone="Europe/Stockholm")
    route = make.route(hub=hub)
    call = make.call(route=route, seats=n_apps + 2)
    call.residency_starts_on, call.residency_ends_on = date(2030, 1, 1), date(2031, 12, 31)
    db.session.commit()
    make.capacity(hub, date(2030, 1, 1), date(2031, 12, 31), desks=10, benches=10)
    staff = make.user(org=route.cluster)
    hub_admin = make.user(org=hub)
    apps = [make.application(call=call)]  # a draft
    for i in range(n_apps):
        startup = make.organisation("startup", country="NO", track=track)
        founder = make.user(org=startup)
        app_ = make.application(call=call, startup=startup, author=founder, status="submitted")
        apps.append(app_)
        if i == 0:
            continue  # stays submitted
        workflow.perform(app_, "start_review", staff)
        db.session.commit()
        if i == 1:
            workflow.perform(app_, "decline", staff, reason="not a fit")
            db.session.commit()
            continue
        nominations.nominate(application=app_, actor=staff, rationale="fit")
        placement = db.session.scalar(select(Placement).where(Placement.application_id == app_.id))
        if i == 2:
            continue  # pending at the hub
        placements.offer(placement=placement, actor=hub_admin, starts_on=date(2030, 3, 1), ends_on=date(2030, 8, 31),
                         desks=1, benches=1, offer_expires_on=date(2030, 2, 1),
                         now=datetime(2030, 1, 10, tzinfo=timezone.utc))
        if i >= 4:
            placements.answer_offer(placement=placement, actor=founder, accept=True,
                                    now=datetime(2030, 1, 11, tzinfo=timezone.utc))
    withdrawn = make.application(call=call, status="submitted")
    workflow.perform(withdrawn, "withdraw", withdrawn.created_by, reason="changed plans")
    db.session.commit()
    return call, route, hub, staff, hub_admin


def expected_funnel(call_ids):
    """The funnel counted straight from the records, stage by stage."""
    apps = db.session.scalars(select(Application).where(Application.call_id.in_(call_ids))).all()
    submits = {r for r in db.session.scalars(select(StatusChange.record_id).where(
        StatusChange.workflow == "application", StatusChange.action == "submit"))}
    pls = {p.application_id: p.status for p in db.session.scalars(select(Placement))}
    live = [a for a in apps if a.status != "withdrawn"]
    return {
        "applied": len(live),
        "submitted": sum(1 for a in live if a.id in submits),
        "nominated": sum(1 for a in live if a.status == "nominated"),
        "offered": sum(1 for a in live if pls.get(a.id) not in (None, "pending", "waitlisted", "rejected")),
        "accepted": sum(1 for a in live if pls.get(a.id) in ("accepted", "active", "completed", "terminated")),
        "active": sum(1 for a in live if pls.get(a.id) in ("active", "completed", "terminated")),
        "completed": sum(1 for a in live if pls.get(a.id) == "completed"),
    }


def payment_of(fa, disbursement):
    """What an officer types to record ``disbursement`` paid: the day it was requested (the funder's
    calendar), its amount and a reference."""
    return dict(paid_on=funding.funder_day(fa, disbursement.requested_at), amount=str(disbursement.amount),
                reference=f"PAY-{disbursement.id}")


# ----------------------------------------------------------- reviewer feedback

FEEDBACK = "Strengthen the freedom-to-operate analysis before the next call."
INTERNAL = "INTERNAL: the CFO seems weak, keep this between us."
OTHER_FEEDBACK = "Another startup's feedback: the pitch deck is too long."


def reviewed_and_decided(make, feedback_in_decision_email=True, **call_kw):
    """Two applications of one call, each reviewed and declined (nothing released yet).

    On the first, one reviewer wrote ``FEEDBACK`` for the startup (and ``INTERNAL`` for the cluster,
    scores 5 and 1: weighted 3.40), another wrote nothing for the startup, and a third left a draft
    with a comment for it that never counts; the second application has ``OTHER_FEEDBACK``.
    Returns (call, staff, first, second)."""
    from residency.domain.review import services as reviews

    call = make.call(**call_kw)
    call.feedback_in_decision_email = feedback_in_decision_email
    db.session.commit()
    staff = [make.user(org=call.route.cluster, name=name) for name in ("Reviewer Alma", "Reviewer Bo", "Reviewer Cai")]
    apps = []
    for _n in range(2):
        app_ = make.application(call=call, status="submitted")
        workflow.perform(app_, "start_review", staff[0])
        db.session.commit()
        reviews.assign(application=app_, actor=staff[0], reviewer_ids=[s.id for s in staff])
        apps.append(app_)
    first, second = apps
    quality, team = call.criteria

    def review(app_, reviewer, applicant_comment, submit=True, scores=(5, 1)):
        reviews.save_review(application=app_, actor=reviewer, scores={quality.id: scores[0], team.id: scores[1]},
                            recommendation="no", comment=INTERNAL, applicant_comment=applicant_comment,
                            submit=submit).or_raise()

    review(first, staff[0], FEEDBACK)
    review(first, staff[1], "", scores=(2, 2))
    review(first, staff[2], "A draft that was never submitted.", submit=False)
    review(second, staff[0], OTHER_FEEDBACK)
    for app_ in apps:
        nominations.decline(application=app_, actor=staff[0], reason="Internal reason", message="Thank you for applying.")
    return call, staff, first, second
