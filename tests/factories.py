"""Factories for test data: each makes valid records with sensible defaults."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from residency.core import workflow
from residency.core.extensions import db
from residency.domain.forms import services as forms
from residency.domain.applications.models import Application
from residency.domain.programme.models import Call, Criterion, HubCapacity, Route
from residency.domain.accounts.models import Membership, Organisation, User
from residency.core.outbox_models import OutboxMessage

PASSWORD = "correct horse battery"
# From 1000: the demo programme, seeded beside factory rows in some tests, holds the small numbers (559300-0010).
_seq = itertools.count(1000)


def valid_org_number(country: str, n: int) -> str:
    """A number that passes the country's check, different for each n."""
    if country == "NO":
        base = f"9{n * 10:07d}"  # room for bumps past a check digit of 10
        for bump in range(100):
            b = f"{int(base) + bump:08d}"
            total = sum(int(d) * w for d, w in zip(b, (3, 2, 7, 6, 5, 4, 3, 2)))
            check = (11 - total % 11) % 11
            if check != 10:
                return b + str(check)
    if country == "SE":
        base = f"5593{n:05d}"
        for c in range(10):
            v = base + str(c)
            total = 0
            for i, ch in enumerate(reversed(v)):
                d = int(ch) * (2 if i % 2 else 1)
                total += d - 9 if d > 9 else d
            if total % 10 == 0:
                return f"{v[:6]}-{v[6:]}"
    if country == "DK":
        for bump in range(100):
            base = f"{3000000 + n * 10 + bump:07d}"
            for c in range(10):
                v = base + str(c)
                if sum(int(d) * w for d, w in zip(v, (2, 7, 6, 5, 4, 3, 2, 1))) % 11 == 0:
                    return v
    if country == "FI":
        for bump in range(100):
            base = f"{2000000 + n * 10 + bump:07d}"
            r = sum(int(d) * w for d, w in zip(base, (7, 9, 10, 5, 8, 4, 2))) % 11
            if r != 1:
                return f"{base}-{0 if r == 0 else 11 - r}"
    raise ValueError(country)


class Factories:
    def organisation(self, kind="startup", name=None, country="NO", **kw) -> Organisation:
        n = next(_seq)
        defaults = dict(city="Oslo", timezone="Europe/Oslo" if country == "NO" else "Europe/Stockholm")
        if kind == "startup":
            defaults.update(founded_on=date(2022, 1, 1), employees=5, track="drugs", trl=4)
        defaults.update(kw)
        org = Organisation(kind=kind, name=name or f"{kind.title()} {n}", country=country,
                           org_number=valid_org_number(country, n), **defaults)
        db.session.add(org)
        db.session.commit()
        return org

    def user(self, email=None, name=None, org: Organisation | None = None, password=PASSWORD, language=None) -> User:
        n = next(_seq)
        user = User(email=email or f"user{n}@example.test", name=name or f"User {n}", language=language)
        user.set_password(password)
        db.session.add(user)
        if org is not None:
            db.session.add(Membership(user=user, organisation=org))
        db.session.commit()
        return user

    def member(self, kind: str, **org_kw) -> User:
        """A user who belongs to a new organisation of ``kind``."""
        return self.user(org=self.organisation(kind, **org_kw))

    def admin(self) -> User:
        return self.member("operator")

    def route(self, home_country="NO", hub=None, cluster=None, funders=None) -> Route:
        hub = hub or self.organisation("hub", country="SE", timezone="Europe/Stockholm")
        cluster = cluster or self.organisation("cluster")
        route = Route(home_country=home_country, host_hub=hub, cluster=cluster,
                      funders=funders if funders is not None else [self.organisation("funder")])
        db.session.add(route)
        db.session.commit()
        return route

    def call(self, route=None, status="published", opens_at=None, closes_at=None, seats=3, timezone_name="Europe/Stockholm",
             title=None, criteria=(("Quality", "60"), ("Team", "40"))) -> Call:
        """A call; its status is reached through the workflow engine, as in the service."""
        now = datetime.now(timezone.utc)
        opens_at = opens_at or now - timedelta(days=10)
        closes_at = closes_at or now + timedelta(days=20)
        call = Call(
            route=route or self.route(), title=title or f"Call {next(_seq)}", description="A residency call.",
            timezone=timezone_name, opens_at=opens_at, closes_at=closes_at,
            nomination_deadline=closes_at + timedelta(days=30), decision_deadline=closes_at + timedelta(days=45),
            seats=seats, residency_starts_on=(closes_at + timedelta(days=60)).date(),
            residency_ends_on=(closes_at + timedelta(days=400)).date(),
            criteria=[Criterion(name=n, weight=Decimal(w), position=i) for i, (n, w) in enumerate(criteria)],
        )
        db.session.add(call)
        db.session.flush()
        forms.start_form(call.id, home_country=call.route.home_country)
        db.session.commit()
        path = {"draft": [], "published": ["publish"], "closed": ["publish", "close"], "archived": ["publish", "close", "archive"]}[status]
        if path:
            admin = self.admin()
            for action in path:
                # Publishing checks that the call closes in the future; step around it for past calls.
                workflow.perform(call, action, admin, now=min(now, opens_at))
            db.session.commit()
        return call

    def capacity(self, hub, starts_on, ends_on, desks=4, benches=2) -> HubCapacity:
        cap = HubCapacity(hub=hub, starts_on=starts_on, ends_on=ends_on, desks=desks, benches=benches)
        db.session.add(cap)
        db.session.commit()
        return cap

    def application(self, call=None, startup=None, status="draft", author=None) -> Application:
        call = call or self.call()
        startup = startup or self.organisation("startup", country=call.route.home_country)
        author = author or self.user(org=startup)
        app = Application(call=call, startup=startup, created_by=author)
        db.session.add(app)
        db.session.commit()
        steps = {"draft": [], "submitted": [("submit", author)]}
        for action, actor in steps[status]:
            workflow.perform(app, action, actor)
        db.session.commit()
        return app

    def outbox_message(self, delivery="queued", template="invitation", recipient=None, attempts=0, last_error=None,
                       created_at=None) -> OutboxMessage:
        """An outbox row in any delivery state (the delivery job is not needed to reach ``failed``)."""
        n = next(_seq)
        now = created_at or datetime.now(timezone.utc)
        message = OutboxMessage(dedup_key=f"test:{n}", recipient=recipient or f"person{n}@example.test", template=template,
                                context={}, delivery=delivery, attempts=attempts, last_error=last_error,
                                next_attempt_at=now, created_at=now,
                                sent_at=now if delivery == "sent" else None)
        db.session.add(message)
        db.session.commit()
        return message


def _scheme_defaults():
    return dict(instalments=[{"label": "Advance", "percent": "30", "after": "acceptance"},
                             {"label": "Interim", "percent": "50", "after": "progress_report"},
                             {"label": "Final", "percent": "20", "after": "final_report"}],
                report_kinds=["progress", "final"])


def make_scheme(funder, currency="NOK", max_amount="500000.00", max_share="50", countries=("NO",), max_age=5):
    from decimal import Decimal

    from residency.domain.funding.models import FundingScheme

    scheme = FundingScheme(funder=funder, name=f"{funder.name} residency support", currency=currency,
                           max_amount=Decimal(max_amount), max_share_percent=Decimal(max_share),
                           home_countries=list(countries), max_company_age_years=max_age, **_scheme_defaults())
    db.session.add(scheme)
    db.session.commit()
    return scheme


def answers_of(application) -> dict:
    """The application's answers by question key, as the pages read them."""
    from residency.domain.applications.services import values_of

    return values_of(application)


def give_answers(application, values: dict) -> None:
    """Store answers to the call's own questions directly (as data a test starts from)."""
    forms.write_answers(application.id, forms.form_of(application.call_id), values)
