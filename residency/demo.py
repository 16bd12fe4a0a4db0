"""The demo programme: the real actors of the exchange, fictional startups.

Every later feature extends this seed so that each demo role finds work
waiting in its own queue.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from . import workflow
from .extensions import db
from .models import (
    Application,
    Call,
    Criterion,
    HubCapacity,
    Membership,
    Organisation,
    Route,
    User,
    utcnow,
)

PASSWORD = "residency-demo"

DEMO_LOGINS = [
    ("admin@demo.test", "Programme administrator", "Nordic Residency Exchange"),
    ("startup@demo.test", "Applicant (Fjordbio Therapeutics AS)", "Fjordbio Therapeutics AS"),
    ("cluster@demo.test", "Cluster staff (Oslo Cancer Cluster)", "Oslo Cancer Cluster"),
    ("hub@demo.test", "Hub administrator (AstraZeneca BioVentureHub)", "AstraZeneca BioVentureHub"),
    ("funder@demo.test", "Funder officer (Innovation Norway)", "Innovation Norway"),
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
    dict(kind="startup", name="Fjordbio Therapeutics AS", country="NO", org_number="923000070", city="Oslo",
         founded_on=date(2022, 3, 1), employees=7, track="drugs", trl=4),
    dict(kind="startup", name="Nordlys Diagnostics AS", country="NO", org_number="923000089", city="Bergen",
         founded_on=date(2021, 9, 15), employees=12, track="diagnostics", trl=6),
    dict(kind="startup", name="Kattegat Medtech AB", country="SE", org_number="559300-0010", city="Malmö",
         founded_on=date(2020, 5, 4), employees=9, track="devices", trl=5),
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
]

CRITERIA = [("Scientific and technical quality", "30"), ("Team", "20"), ("Fit with the host hub", "25"),
            ("Market and export potential", "25")]


def seeded() -> bool:
    return (db.session.scalar(select(func.count()).select_from(Organisation)) or 0) > 0


def _at_noon(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(12, 0), ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


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
    year_start = date(today.year, 1, 1)
    db.session.add_all([
        HubCapacity(hub=bvh, starts_on=year_start, ends_on=date(today.year + 2, 12, 31), desks=12, benches=6),
        HubCapacity(hub=ocip, starts_on=year_start, ends_on=date(today.year + 2, 12, 31), desks=8, benches=4),
    ])

    no_route = Route(home_country="NO", host_hub=bvh, cluster=orgs["Oslo Cancer Cluster"], funders=[orgs["Innovation Norway"]])
    se_route = Route(home_country="SE", host_hub=ocip, cluster=orgs["Medicon Valley Alliance"], funders=[orgs["Vinnova"]])
    db.session.add_all([no_route, se_route])

    def make_call(route, title, zone, opens, closes, status, seats, description):
        residency_start = closes + timedelta(days=90)
        call = Call(
            route=route, title=title, description=description, timezone=zone,
            opens_at=_at_noon(opens, zone), closes_at=_at_noon(closes, zone),
            nomination_deadline=_at_noon(closes + timedelta(days=30), zone),
            decision_deadline=_at_noon(closes + timedelta(days=45), zone),
            seats=seats, residency_starts_on=residency_start.replace(day=1),
            residency_ends_on=(residency_start + timedelta(days=365)).replace(day=1), status=status,
            criteria=[Criterion(name=n, weight=Decimal(w), position=i) for i, (n, w) in enumerate(CRITERIA)],
        )
        db.session.add(call)
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
    # Statuses move only through the workflow engine, in the demo too.
    submitted = Application(call=open_call, startup=orgs["Nordlys Diagnostics AS"], created_by=users["nordlys@demo.test"],
                            answers={"summary": "Point-of-care test for early detection of pancreatic cancer."})
    db.session.add(submitted)
    db.session.flush()
    workflow.perform(submitted, "submit", users["nordlys@demo.test"], now=now)
    # Work waiting for the demo applicant: a draft half written.
    db.session.add(Application(call=open_call, startup=orgs["Fjordbio Therapeutics AS"], created_by=users["startup@demo.test"],
                               track="drugs", trl=4, months=6, desks=2, benches=1,
                               answers={"summary": "Fjordbio develops antibody-drug conjugates for pancreatic cancer.",
                                        "team": "Three founders from the University of Oslo and Oslo University Hospital."}))
    db.session.commit()
