"""The demo seed and the scheduler's job list."""
from sqlalchemy import func, select

from residency import jobs
from residency.domain.programme import calls as programme
from residency.demo import DEMO_LOGINS, PASSWORD, seed, seeded
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.domain.programme.models import Call, Route
from residency.domain.accounts.models import Organisation, User
from residency.core.db import utcnow
from residency.core.orgnumbers import check
from residency.scheduling import build_scheduler


def test_demo_has_the_real_actors_valid_numbers_and_the_demo_logins(app):
    assert not seeded()
    seed()
    assert seeded()
    names = set(db.session.scalars(select(Organisation.name)))
    assert {"Oslo Cancer Cluster", "The Life Science Cluster", "Norway Health Tech", "Medicon Valley Alliance",
            "AstraZeneca BioVentureHub", "Oslo Cancer Cluster Innovation Park", "Innovation Norway", "Vinnova"} <= names
    with app.test_request_context():
        for org in db.session.scalars(select(Organisation)):
            assert check(org.country, org.org_number) == org.org_number
    for email, _role, org_name in DEMO_LOGINS:
        user = db.session.scalar(select(User).where(User.email == email))
        assert user.check_password(PASSWORD)
        assert org_name in {o.name for o in user.organisations()}
    routes = {(r.home_country, r.host_hub.name, r.cluster.name) for r in db.session.scalars(select(Route))}
    assert ("NO", "AstraZeneca BioVentureHub", "Oslo Cancer Cluster") in routes
    now = utcnow()
    calls = list(db.session.scalars(select(Call)))
    assert any(c.is_open(now) for c in calls) and any(c.status == "closed" for c in calls)
    assert db.session.scalar(select(func.count()).select_from(Application).where(Application.status == "submitted")) >= 1


def test_close_calls_job_closes_only_calls_past_their_closing_time(app, make):
    from datetime import timedelta

    now = utcnow()
    due = make.call(opens_at=now - timedelta(days=5), closes_at=now + timedelta(hours=1))
    later = make.call(opens_at=now - timedelta(days=5), closes_at=now + timedelta(days=3))
    assert programme.close_due_calls(now=now + timedelta(hours=2)) == 1
    db.session.expire_all()
    assert (db.session.get(Call, due.id).status, db.session.get(Call, later.id).status) == ("closed", "published")
    assert programme.close_due_calls(now=now + timedelta(hours=2)) == 0


def test_every_job_is_scheduled_and_runs_at_start(app):
    sched = build_scheduler(app)
    scheduled = {job.id: job for job in sched.get_jobs()}
    assert set(scheduled) == {j.name for j in jobs.JOBS}
    for job in jobs.JOBS:
        assert scheduled[job.name].trigger.interval.total_seconds() == job.seconds
        assert scheduled[job.name].next_run_time is not None  # runs once at start


def test_every_demo_role_finds_work_waiting(app):
    from residency.domain.funding.models import FundingApplication, FundingScheme
    from residency.domain.placements.models import Placement
    from residency.core.models import StatusChange

    seed()
    by_name = {o.name: o for o in db.session.scalars(select(Organisation))}
    placements = {p.application.startup.name: p.status for p in db.session.scalars(select(Placement))}
    assert placements == {"Nordlys Diagnostics AS": "active", "Fjordbio Therapeutics AS": "offered",
                          "Polarlys Biotech AS": "pending",  # the applicant answers an offer; the hub decides on Polarlys
                          "Kuura Diagnostics Oy": "accepted"}  # the Finn is placed in Oslo and applies for funding
    assert {s.currency for s in db.session.scalars(select(FundingScheme))} == {"NOK", "SEK", "DKK", "EUR"}
    funding = {fa.startup.name: fa for fa in db.session.scalars(select(FundingApplication))}
    assert set(funding) == {"Nordlys Diagnostics AS", "Kuura Diagnostics Oy"}
    fa = funding["Nordlys Diagnostics AS"]
    assert fa.status == "submitted" and fa.scheme.funder_id == by_name["Innovation Norway"].id  # the funder's queue
    finnish = funding["Kuura Diagnostics Oy"]  # a draft in EUR to Business Finland, ready to submit
    assert (finnish.status, finnish.scheme.currency, finnish.scheme.funder.name) == ("draft", "EUR", "Business Finland")
    from residency.domain.funding import services as funding_services

    with app.test_request_context():
        assert funding_services.rule_errors(finnish, utcnow()) == {}
    drafts = db.session.scalars(select(Application).where(Application.status == "draft")).all()
    assert sorted(a.startup.name for a in drafts) == ["Fjordbio Therapeutics AS", "Øresund Biologics ApS"]
    danish = next(a for a in drafts if a.startup.country == "DK")
    route = danish.call.route  # Denmark -> BioVentureHub, nominated by Medicon Valley Alliance
    assert (route.host_hub.name, route.cluster.name) == ("AstraZeneca BioVentureHub", "Medicon Valley Alliance")
    assert danish.call.is_open(utcnow()) and [f.name for f in route.funders] == ["Innovation Fund Denmark"]
    # Every call reached its status through the workflow engine.
    for call in db.session.scalars(select(Call)):
        changes = db.session.scalars(select(StatusChange).where(StatusChange.workflow == "call", StatusChange.record_id == call.id)
                                     .order_by(StatusChange.id))
        assert [c.to_state for c in changes][-1] == call.status
