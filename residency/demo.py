"""The demo programme: the real actors of the exchange, fictional startups.

Every later feature extends this seed so that each demo role finds work
waiting in its own queue.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from residency.core import workflow
from residency.core.extensions import db
from residency.domain.applications import services as applications
from residency.domain.applications.models import Application
from residency.domain.forms import services as forms
from residency.domain.funding import services as funding
from residency.domain.funding.models import FundingScheme
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement
from residency.domain.programme.models import Call, Criterion, HubCapacity, Route
from residency.domain.accounts.models import Membership, Organisation, User
from residency.domain.review import nominations
from residency.core.db import utcnow

PASSWORD = "residency-demo"

DEMO_LOGINS = [
    ("admin@demo.test", "Programme administrator", "Nordic Residency Exchange"),
    ("startup@demo.test", "Applicant (Fjordbio Therapeutics AS)", "Fjordbio Therapeutics AS"),
    ("cluster@demo.test", "Cluster staff (Oslo Cancer Cluster)", "Oslo Cancer Cluster"),
    ("hub@demo.test", "Hub administrator (AstraZeneca BioVentureHub)", "AstraZeneca BioVentureHub"),
    ("funder@demo.test", "Funder officer (Innovation Norway)", "Innovation Norway"),
    ("oresund@demo.test", "Applicant (Øresund Biologics ApS, Denmark)", "Øresund Biologics ApS"),
    ("kuura@demo.test", "Applicant (Kuura Diagnostics Oy, Finland)", "Kuura Diagnostics Oy"),
    ("business-finland@demo.test", "Funder officer (Business Finland)", "Business Finland"),
]

# Organisation numbers pass their country's check; the real public bodies use their own.
ORGANISATIONS = [
    dict(kind="operator", name="Nordic Residency Exchange", country="NO", org_number="923000011", city="Oslo", timezone="Europe/Oslo"),
    dict(kind="cluster", name="Oslo Cancer Cluster", country="NO", org_number="923000038", city="Oslo", timezone="Europe/Oslo",
         website="https://oslocancercluster.no"),
    dict(kind="cluster", name="The Life Science Cluster", country="NO", org_number="923000046", city="Oslo", timezone="Europe/Oslo"),
    dict(kind="cluster", name="Norway Health Tech", country="NO", org_number="923000054", city="Oslo", timezone="Europe/Oslo"),
    dict(kind="cluster", name="Medicon Valley Alliance", country="DK", org_number="31000009", city="Copenhagen", timezone="Europe/Copenhagen"),
    dict(kind="hub", name="AstraZeneca BioVentureHub", country="SE", org_number="556011-7482", city="Gothenburg", timezone="Europe/Stockholm",
         website="https://bioventurehub.com"),
    dict(kind="hub", name="Oslo Cancer Cluster Innovation Park", country="NO", org_number="923000062", city="Oslo", timezone="Europe/Oslo"),
    dict(kind="funder", name="Innovation Norway", country="NO", org_number="986399445", city="Oslo", timezone="Europe/Oslo"),
    dict(kind="funder", name="Vinnova", country="SE", org_number="202100-5521", city="Stockholm", timezone="Europe/Stockholm"),
    dict(kind="funder", name="Innovation Fund Denmark", country="DK", org_number="41000007", city="Copenhagen",
         timezone="Europe/Copenhagen"),
    dict(kind="funder", name="Business Finland", country="FI", org_number="3300001-5", city="Helsinki", timezone="Europe/Helsinki"),
    dict(kind="cluster", name="Health Capital Helsinki", country="FI", org_number="3300000-7", city="Helsinki",
         timezone="Europe/Helsinki"),
    dict(kind="startup", name="Fjordbio Therapeutics AS", country="NO", org_number="923000070", city="Oslo",
         founded_on=date(2022, 3, 1), employees=7, track="drugs", trl=4),
    dict(kind="startup", name="Nordlys Diagnostics AS", country="NO", org_number="923000089", city="Bergen",
         founded_on=date(2021, 9, 15), employees=12, track="diagnostics", trl=6),
    dict(kind="startup", name="Kattegat Medtech AB", country="SE", org_number="559300-0010", city="Malmö",
         founded_on=date(2020, 5, 4), employees=9, track="devices", trl=5),
    dict(kind="startup", name="Polarlys Biotech AS", country="NO", org_number="923000097", city="Tromsø",
         founded_on=date(2023, 6, 1), employees=4, track="bioindustrials", trl=3),
    dict(kind="startup", name="Øresund Biologics ApS", country="DK", org_number="41000015", city="Copenhagen",
         founded_on=date(2022, 8, 15), employees=6, track="drugs", trl=4),
    dict(kind="startup", name="Kuura Diagnostics Oy", country="FI", org_number="3300002-3", city="Oulu",
         founded_on=date(2021, 4, 12), employees=8, track="diagnostics", trl=6),
]

USERS = [
    ("admin@demo.test", "Ada Administrator", "Nordic Residency Exchange"),
    ("startup@demo.test", "Siri Startup", "Fjordbio Therapeutics AS"),
    ("cluster@demo.test", "Kari Cluster", "Oslo Cancer Cluster"),
    ("hub@demo.test", "Hugo Hub", "AstraZeneca BioVentureHub"),
    ("funder@demo.test", "Frida Funder", "Innovation Norway"),
    ("nordlys@demo.test", "Nils Nordlys", "Nordlys Diagnostics AS"),
    ("kattegat@demo.test", "Karin Kattegat", "Kattegat Medtech AB"),
    ("vinnova@demo.test", "Vera Vinnova", "Vinnova"),
    ("oslo-hub@demo.test", "Ola Innovation Park", "Oslo Cancer Cluster Innovation Park"),
    ("mva@demo.test", "Mette Medicon", "Medicon Valley Alliance"),
    ("polarlys@demo.test", "Per Polarlys", "Polarlys Biotech AS"),
    ("oresund@demo.test", "Søren Øresund", "Øresund Biologics ApS"),
    ("kuura@demo.test", "Kaisa Kuura", "Kuura Diagnostics Oy"),
    ("business-finland@demo.test", "Bertta Business", "Business Finland"),
    ("ifd@demo.test", "Ida Innovationsfonden", "Innovation Fund Denmark"),
    ("hch@demo.test", "Heikki Health Capital", "Health Capital Helsinki"),
]

CRITERIA = [("Scientific and technical quality", "30"), ("Team", "20"), ("Fit with the host hub", "25"),
            ("Market and export potential", "25")]


def seeded() -> bool:
    return (db.session.scalar(select(func.count()).select_from(Organisation)) or 0) > 0


def _at_noon(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(12, 0), ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


INSTALMENTS = [{"label": "Advance", "percent": "30", "after": "acceptance"},
               {"label": "Interim", "percent": "50", "after": "progress_report"},
               {"label": "Final", "percent": "20", "after": "final_report"}]

PDF = b"%PDF-1.4\n% demo pitch deck\n" + b"0" * 64


def _earlier_round(call, orgs, users, now) -> None:
    """A past round, walked through the services at the times it happened, so that the
    hub, the funder and the applicant each find work waiting today."""
    day = timedelta(days=1)
    call_opens = call.opens_at
    lead = users["cluster@demo.test"]
    hub_admin = users["hub@demo.test"]
    submitted = {}
    for email, startup in (("nordlys@demo.test", "Nordlys Diagnostics AS"), ("startup@demo.test", "Fjordbio Therapeutics AS"),
                           ("polarlys@demo.test", "Polarlys Biotech AS")):
        when = call_opens + 5 * day
        app_ = applications.start(call=call, startup=orgs[startup], actor=users[email], now=when)
        applications.add_attachment(application=app_, actor=users[email], filename="pitch-deck.pdf", data=PDF, now=when)
        applications.submit(application=app_, actor=users[email], loaded_edit_id=None, now=when, values={
            "summary": f"{startup} builds tools for earlier cancer diagnosis and treatment.",
            "team": "Founders from Norwegian universities and hospitals.", "technology": "Validated in preclinical studies.",
            "expertise": "Translational science and regulatory strategy.", "lab_needs": "One bench, BSL-1.",
            "funding_status": "Pre-seed round closed.", "funding_plans": "Apply to Innovation Norway during the residency.",
            "track": orgs[startup].track, "trl": str(orgs[startup].trl), "desired_start": call.residency_starts_on.isoformat(),
            "months": "9", "desks": "2", "benches": "1"}).or_raise()
        submitted[startup] = app_
    workflow.perform(call, "close", None, now=call.closes_at)
    for app_ in submitted.values():
        applications.start_review(application=app_, actor=lead, now=call.closes_at + day)
    for rank, startup in enumerate(("Nordlys Diagnostics AS", "Fjordbio Therapeutics AS", "Polarlys Biotech AS"), start=1):
        nominations.nominate(application=submitted[startup], actor=lead, rank=rank, rationale="Strong fit with the hub's oncology focus.",
                             now=call.closes_at + 2 * day)
    nominations.release(call_id=call.id, actor=lead, now=call.closes_at + 3 * day)
    placement = {name: db.session.scalar(select(Placement).where(Placement.application_id == app_.id))
                 for name, app_ in submitted.items()}
    # Nordlys has been in residence for months and applies to Innovation Norway.
    nordlys = placement["Nordlys Diagnostics AS"]
    offered_at = call.closes_at + 4 * day
    placements.offer(placement=nordlys, actor=hub_admin, starts_on=call.residency_starts_on,
                     ends_on=call.residency_starts_on + timedelta(days=270), desks=2, benches=1,
                     offer_expires_on=(offered_at + 10 * day).date(), conditions="Rental agreement with a confidentiality clause.",
                     now=offered_at)
    placements.answer_offer(placement=nordlys, actor=users["nordlys@demo.test"], accept=True, now=offered_at + day)
    placements.start_due_residencies(now=datetime.combine(call.residency_starts_on, time(12), ZoneInfo("UTC")))
    scheme = db.session.scalar(select(FundingScheme).where(FundingScheme.funder_id == orgs["Innovation Norway"].id))
    fa = funding.start(scheme=scheme, startup=orgs["Nordlys Diagnostics AS"], actor=users["nordlys@demo.test"], now=now - 6 * day)
    quarter = (now.month - 1) // 3 + 1
    funding.save_draft(fa=fa, actor=users["nordlys@demo.test"], values={
        "title": "Clinical validation of the pancreatic cancer test", "description": "A 300-patient validation study.",
        "period_start": now.date().isoformat(), "period_end": (now + timedelta(days=240)).date().isoformat(),
        "own_financing": "250000.00", "amount_requested": "250000.00"}, budget=[
        {"category": "personnel", "year": now.year, "quarter": quarter, "amount": "300000.00"},
        {"category": "services", "year": now.year, "quarter": quarter, "amount": "200000.00"}])
    funding.submit(fa=fa, actor=users["nordlys@demo.test"], now=now - 5 * day)
    # Fjordbio has an offer to answer; Polarlys waits for the hub's decision.
    placements.offer(placement=placement["Fjordbio Therapeutics AS"], actor=hub_admin, starts_on=now.date() + 30 * day,
                     ends_on=now.date() + 210 * day, desks=2, benches=1, offer_expires_on=now.date() + 10 * day,
                     conditions="Rental agreement with a confidentiality clause.", now=now - 2 * day)


def _finnish_round(call, orgs, users, now) -> None:
    """Kuura's way to Oslo, walked through the services at the times it happened: nominated by
    Health Capital Helsinki, it accepted its placement at the Innovation Park last week and has a
    funding application to Business Finland (EUR) half way, to submit."""
    day = timedelta(days=1)
    founder, kuura = users["kuura@demo.test"], orgs["Kuura Diagnostics Oy"]
    staff, hub_admin = users["hch@demo.test"], users["oslo-hub@demo.test"]
    when = call.opens_at + 6 * day
    app_ = applications.start(call=call, startup=kuura, actor=founder, now=when)
    applications.add_attachment(application=app_, actor=founder, filename="pitch-deck.pdf", data=PDF, now=when)
    applications.submit(application=app_, actor=founder, loaded_edit_id=None, now=when, values={
        "summary": "Kuura Diagnostics makes a blood test that finds sepsis in an hour.",
        "team": "Founders from the University of Oulu and Oulu University Hospital.",
        "technology": "Clinical performance study with 400 patients completed.",
        "expertise": "Regulatory strategy for the IVDR and access to Norwegian hospitals.", "lab_needs": "One bench, BSL-2.",
        "funding_status": "Seed round closed.", "funding_plans": "Apply to Business Finland during the residency.",
        "track": kuura.track, "trl": str(kuura.trl), "desired_start": call.residency_starts_on.isoformat(),
        "months": "6", "desks": "2", "benches": "1"}).or_raise()
    workflow.perform(call, "close", None, now=call.closes_at)
    applications.start_review(application=app_, actor=staff, now=call.closes_at + day)
    nominations.nominate(application=app_, actor=staff, rank=1, rationale="Proven test; ready for Nordic hospitals.",
                         now=call.closes_at + 2 * day)
    nominations.release(call_id=call.id, actor=staff, now=call.closes_at + 3 * day)
    placement = db.session.scalar(select(Placement).where(Placement.application_id == app_.id))
    offered_at = now - 9 * day
    placements.offer(placement=placement, actor=hub_admin, starts_on=now.date() + 21 * day, ends_on=now.date() + 201 * day,
                     desks=2, benches=1, offer_expires_on=now.date() + 5 * day,
                     conditions="Rental agreement with a confidentiality clause.", now=offered_at)
    placements.answer_offer(placement=placement, actor=founder, accept=True, now=offered_at + day)
    scheme = db.session.scalar(select(FundingScheme).where(FundingScheme.funder_id == orgs["Business Finland"].id))
    fa = funding.start(scheme=scheme, startup=kuura, actor=founder, now=now - 3 * day)
    starts = placement.starts_on
    quarter = (starts.month - 1) // 3 + 1
    funding.save_draft(fa=fa, actor=founder, values={
        "title": "Sepsis test validation in Norwegian hospitals", "description": "A 200-patient study at Oslo University Hospital.",
        "period_start": starts.isoformat(), "period_end": placement.ends_on.isoformat(),
        "own_financing": "40000.00", "amount_requested": "40000.00"}, budget=[
        {"category": "personnel", "year": starts.year, "quarter": quarter, "amount": "55000.00"},
        {"category": "services", "year": starts.year, "quarter": quarter, "amount": "25000.00"}])


def seed(now: datetime | None = None) -> None:
    """Create the demo programme in one transaction (dates relative to ``now``)."""
    now = now or utcnow()
    today = now.date()
    orgs = {o["name"]: Organisation(**o) for o in ORGANISATIONS}
    db.session.add_all(orgs.values())

    password_hash = None
    users = {}
    for email, name, org_name in USERS:
        user = User(email=email, name=name, language=None)
        if password_hash is None:
            user.set_password(PASSWORD)
            password_hash = user.password_hash
        user.password_hash = password_hash
        users[email] = user
        db.session.add(user)
        db.session.add(Membership(user=user, organisation=orgs[org_name]))

    bvh, ocip = orgs["AstraZeneca BioVentureHub"], orgs["Oslo Cancer Cluster Innovation Park"]
    year_start = date(today.year - 1, 1, 1)
    db.session.add_all([
        HubCapacity(hub=bvh, starts_on=year_start, ends_on=date(today.year + 2, 12, 31), desks=12, benches=6),
        HubCapacity(hub=ocip, starts_on=year_start, ends_on=date(today.year + 2, 12, 31), desks=8, benches=4),
    ])

    no_route = Route(home_country="NO", host_hub=bvh, cluster=orgs["Oslo Cancer Cluster"], funders=[orgs["Innovation Norway"]])
    se_route = Route(home_country="SE", host_hub=ocip, cluster=orgs["Medicon Valley Alliance"], funders=[orgs["Vinnova"]])
    dk_route = Route(home_country="DK", host_hub=bvh, cluster=orgs["Medicon Valley Alliance"],
                     funders=[orgs["Innovation Fund Denmark"]])
    fi_route = Route(home_country="FI", host_hub=ocip, cluster=orgs["Health Capital Helsinki"], funders=[orgs["Business Finland"]])
    db.session.add_all([no_route, se_route, dk_route, fi_route])

    admin = users["admin@demo.test"]

    def make_call(route, title, zone, opens, closes, status, seats, description):
        residency_start = closes + timedelta(days=90)
        call = Call(
            route=route, title=title, description=description, timezone=zone,
            opens_at=_at_noon(opens, zone), closes_at=_at_noon(closes, zone),
            nomination_deadline=_at_noon(closes + timedelta(days=30), zone),
            decision_deadline=_at_noon(closes + timedelta(days=45), zone),
            seats=seats, residency_starts_on=residency_start.replace(day=1),
            residency_ends_on=(residency_start + timedelta(days=365)).replace(day=1),
            criteria=[Criterion(name=n, weight=Decimal(w), position=i) for i, (n, w) in enumerate(CRITERIA)],
        )
        db.session.add(call)
        db.session.flush()
        forms.start_form(call.id, home_country=route.home_country, actor_id=admin.id)
        # Published (and closed) through the workflow, at the times it happened.
        workflow.perform(call, "publish", admin, now=call.opens_at)
        if status == "closed":
            workflow.perform(call, "close", None, now=call.closes_at)
        return call

    open_call = make_call(
        no_route, "BioVentureHub residency for Norwegian startups", "Europe/Stockholm",
        today - timedelta(days=30), today + timedelta(days=30), "published", 4,
        "Norwegian life-science startups nominated by Oslo Cancer Cluster take office desks and lab benches "
        "at AstraZeneca's BioVentureHub in Gothenburg for up to a year.\n\n"
        "Residents work beside AstraZeneca's scientists and can apply to Innovation Norway for support during the residency.",
    )
    make_call(
        se_route, "Oslo Cancer Cluster Innovation Park residency for Swedish startups", "Europe/Oslo",
        today - timedelta(days=150), today - timedelta(days=60), "closed", 3,
        "Swedish startups reside at Oslo Cancer Cluster Innovation Park in Oslo; Vinnova supports residents.",
    )
    db.session.flush()

    # Work waiting in the cluster's queue: one submitted application.
    db.session.add_all([
        FundingScheme(funder=orgs["Innovation Norway"], name="Innovation Norway residency support", currency="NOK",
                      max_amount=Decimal("500000.00"), max_share_percent=Decimal("50"), home_countries=["NO"],
                      max_company_age_years=8, report_kinds=["progress", "final"], instalments=INSTALMENTS),
        FundingScheme(funder=orgs["Vinnova"], name="Vinnova residency grant", currency="SEK",
                      max_amount=Decimal("600000.00"), max_share_percent=Decimal("50"), home_countries=["SE"],
                      max_company_age_years=8, report_kinds=["progress", "final"], instalments=INSTALMENTS),
        FundingScheme(funder=orgs["Innovation Fund Denmark"], name="Innovation Fund Denmark residency grant", currency="DKK",
                      max_amount=Decimal("400000.00"), max_share_percent=Decimal("50"), home_countries=["DK"],
                      max_company_age_years=8, report_kinds=["progress", "final"], instalments=INSTALMENTS),
        FundingScheme(funder=orgs["Business Finland"], name="Business Finland residency funding", currency="EUR",
                      max_amount=Decimal("60000.00"), max_share_percent=Decimal("50"), home_countries=["FI"],
                      max_company_age_years=8, report_kinds=["progress", "final"], instalments=INSTALMENTS),
    ])
    db.session.flush()
    earlier = make_call(
        no_route, "BioVentureHub residency for Norwegian startups, spring round", "Europe/Stockholm",
        today - timedelta(days=200), today - timedelta(days=150), "published", 4,
        "The previous round of the Norwegian residency at BioVentureHub.",
    )
    earlier.residency_starts_on, earlier.residency_ends_on = today - timedelta(days=100), today + timedelta(days=300)
    db.session.flush()
    _earlier_round(earlier, orgs, users, now)
    finnish = make_call(
        fi_route, "Oslo Cancer Cluster Innovation Park residency for Finnish startups", "Europe/Oslo",
        today - timedelta(days=200), today - timedelta(days=150), "published", 2,
        "Finnish startups nominated by Health Capital Helsinki reside at Oslo Cancer Cluster Innovation Park; "
        "Business Finland supports residents.",
    )
    finnish.residency_starts_on, finnish.residency_ends_on = today - timedelta(days=100), today + timedelta(days=300)
    db.session.flush()
    _finnish_round(finnish, orgs, users, now)
    danish_call = make_call(
        dk_route, "BioVentureHub residency for Danish startups", "Europe/Stockholm",
        today - timedelta(days=20), today + timedelta(days=40), "published", 3,
        "Danish life-science startups nominated by Medicon Valley Alliance take office desks and lab benches "
        "at AstraZeneca's BioVentureHub in Gothenburg for up to a year.\n\n"
        "Residents can apply to Innovation Fund Denmark for support during the residency.",
    )

    # Statuses move only through the workflow engine, in the demo too.
    submitted = Application(call=open_call, startup=orgs["Nordlys Diagnostics AS"], created_by=users["nordlys@demo.test"])
    db.session.add(submitted)
    db.session.flush()
    forms.write_answers(submitted.id, forms.form_of(open_call.id),
                        {"summary": "Point-of-care test for early detection of pancreatic cancer."})
    workflow.perform(submitted, "submit", users["nordlys@demo.test"], now=now)
    # Work waiting for the demo applicant: a draft half written.
    half_written = Application(call=open_call, startup=orgs["Fjordbio Therapeutics AS"], created_by=users["startup@demo.test"],
                               track="drugs", trl=4, months=6, desks=2, benches=1)
    db.session.add(half_written)
    db.session.flush()
    forms.write_answers(half_written.id, forms.form_of(open_call.id), {
        "summary": "Fjordbio develops antibody-drug conjugates for pancreatic cancer.",
        "team": "Three founders from the University of Oslo and Oslo University Hospital."})
    # Work waiting for the Danish applicant: a draft begun in the Danish call, to complete and submit.
    oresund = users["oresund@demo.test"]
    draft = applications.start(call=danish_call, startup=orgs["Øresund Biologics ApS"], actor=oresund, now=now - timedelta(days=4))
    applications.save_draft(application=draft, actor=oresund, loaded_edit_id=None, now=now - timedelta(days=4), values={
        "summary": "Øresund Biologics develops bispecific antibodies against solid tumours.",
        "team": "Two founders from the University of Copenhagen and Rigshospitalet.", "months": "9", "desks": "2", "benches": "1"})
    db.session.commit()
