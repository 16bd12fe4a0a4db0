"""Property-based (Hypothesis): whatever anyone types into any form, or puts in the query string of a
list or export page, the service answers with a page or a message, never a 500.

The forms are discovered, not listed: on the demo programme (plus the few records that make the
remaining forms appear: a grant with reports, a due survey, a join request, an invitation) every
role's pages are crawled from its dashboard, and every ``<form method="post">`` found is a target,
with its fields typed as the page types them (number, date, choice, one-line or multi-line text).
A test checks that the crawl reaches every POST route of the service but a short list of
exceptions, so a new form is fuzzed as soon as a page shows it.

Each target gets a fixed number of generated examples (``derandomize``: the same on every run),
numbers huge, negative, fractional, in other scripts; dates outside every bound; texts with NUL
bytes, line breaks, control characters, emoji and a few thousand characters.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from residency import demo
from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.domain.accounts import services as accounts
from residency.core import workflow
from residency.domain.accounts import tokens
from residency.domain.accounts.models import JoinRequest, Organisation, User
from residency.domain.applications.models import Application
from residency.domain.funding.models import FundingReport
from residency.domain.programme.models import Call
from residency.domain.review import nominations
from residency.domain.review import services as reviews
from tests.factories import Factories
from residency.domain.funding import report_files
from residency.domain.funding import services as funding
from residency.domain.funding.models import FundingApplication
from residency.domain.impact.models import ImpactSurvey
from residency.domain.insight.exports import KINDS, ExportFilters
from residency.domain.placements.models import Placement
from residency.domain.review.queue import QueueFilters
from tests.factories import give_answers

ROLES = ("admin@demo.test", "startup@demo.test", "nordlys@demo.test", "cluster@demo.test", "hub@demo.test",
         "funder@demo.test", None)  # None: a visitor
PAGES_PER_ROLE = 150
PAGES_PER_SHAPE = 8  # /x/1 and /x/2 often show the same forms, but a record in another state shows others
EXAMPLES_PER_FORM = 20
EXAMPLES_PER_LIST = 15
FUZZ = settings(max_examples=EXAMPLES_PER_FORM, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
# Pages that end the crawler's session, or whose links lead only to files.
NEVER_POSTED = ("/account/logout",)
NOT_CRAWLED = re.compile(r"^/(static/|account/logout|calendar/.+\.ics|api/v1/)|\.(csv|xlsx|ics|pdf|zip)$|/attachments/")
OWN_SETTINGS = re.compile(r"^/(language|account/|api/tokens|calendar)")
# POST routes the crawl may not reach with a form, and why.
UNREACHED = {
    "api_applications.transitions": "JSON API: fuzzed by schemathesis (tests/web/api)",
    "api_placements.transitions": "JSON API",
    "api_funding.transitions": "JSON API",
    "api_reports.transitions": "JSON API",
    "auth.logout": "ends the crawler's session",
    "admin.route_reopen": "the demo has no closed route (tests/web/actions/test_route_edit_close.py posts it)",
}


# ------------------------------------------------------------------ the scenario


def _scenario(app):
    """The demo programme, plus what makes the remaining forms appear: funding applications at every
    step, applications under review, a due survey, a join request, tokens, a failed e-mail."""
    now = datetime.now(timezone.utc)
    demo.seed(now=now)
    users = {u.email: u for u in db.session.scalars(select(User))}
    officer, resident = users["funder@demo.test"], users["nordlys@demo.test"]
    nordlys = db.session.scalar(select(Organisation).where(Organisation.name == "Nordlys Diagnostics AS"))
    submitted = db.session.scalar(select(FundingApplication).where(FundingApplication.startup_id == nordlys.id))
    scheme = submitted.scheme
    later = {"progress": (now + timedelta(days=60)).date(), "final": (now + timedelta(days=200)).date()}

    def grant(fa):
        funding.start_assessment(fa=fa, actor=officer)
        funding.grant(fa=fa, actor=officer, amount="200000", share_percent="40", conditions="Quarterly reports",
                      offer_deadline=(now + timedelta(days=14)).date(), report_due=later)

    def another(stage):
        fa = funding.start(scheme=scheme, startup=nordlys, actor=resident)
        if stage == "draft":
            return fa
        funding.save_draft(fa=fa, actor=resident, values={
            "title": f"Study {stage}", "description": "A study.", "period_start": now.date().isoformat(),
            "period_end": (now + timedelta(days=200)).date().isoformat(), "own_financing": "250000.00",
            "amount_requested": "250000.00"}, budget=[{"category": "personnel", "year": now.year,
                                                       "quarter": (now.month - 1) // 3 + 1, "amount": "500000.00"}])
        funding.submit(fa=fa, actor=resident)
        if stage == "assessed":
            funding.start_assessment(fa=fa, actor=officer)
        elif stage == "offered":
            grant(fa)
        return fa

    # In progress, with an instalment asked for and the progress report in: the officer pays and reviews.
    grant(submitted)
    funding.accept_offer(fa=submitted, actor=resident)
    funding.request_instalment(fa=submitted, actor=resident, index=0)
    progress = db.session.scalar(select(FundingReport).where(FundingReport.funding_application_id == submitted.id,
                                                             FundingReport.kind == "progress"))
    funding.submit_report(report=progress, actor=resident, text="Half way.")
    # A file on the final report, still due: the startup's page lists it with its remove button.
    final = db.session.scalar(select(FundingReport).where(FundingReport.funding_application_id == submitted.id,
                                                          FundingReport.kind == "final"))
    report_files.add_attachment(report=final, actor=resident, filename="draft.pdf", data=b"%PDF-1.7\n" + b"0" * 100)
    for stage in ("draft", "submitted", "assessed", "offered", "accepted"):
        fa = another("offered" if stage == "accepted" else stage)
        if stage == "accepted":
            funding.accept_offer(fa=fa, actor=resident)
    # Applications to the open call under review and submitted: reviews, nominations, declines.
    # (The Norwegian one, which Oslo Cancer Cluster nominates for: the demo has a Danish open call too.)
    call = db.session.scalar(select(Call).where(Call.status == "published", Call.route.has(home_country="NO"))
                             .order_by(Call.closes_at.desc()))
    lead = users["cluster@demo.test"]
    make = Factories()
    newcomer = make.organisation("startup", name="Fuzz Bio AS")
    for founder, review in ((users["polarlys@demo.test"], True), (make.user(org=newcomer), False)):
        application = Application(call=call, startup=founder.organisations("startup")[0], created_by=founder)
        db.session.add(application)
        db.session.flush()
        give_answers(application, {"summary": "Under review."})
        workflow.perform(application, "submit", founder, now=now)
        if review:  # one under review by the lead; one waits for review to start
            workflow.perform(application, "start_review", lead, now=now)
            db.session.commit()
            reviews.assign(application=application, actor=lead, reviewer_ids=[lead.id])
    # A nomination not yet released: the call's release form.
    waiting = db.session.scalar(select(Application).where(Application.call_id == call.id, Application.status == "submitted")
                                .order_by(Application.id))
    workflow.perform(waiting, "start_review", lead, now=now)
    db.session.commit()
    nominations.nominate(application=waiting, actor=lead, rationale="Strong fit.")
    # A survey that is due, so its form takes answers.
    db.session.add(ImpactSurvey(placement_id=submitted.placement_id, startup_id=nordlys.id, months_after=12,
                                due_on=now.date() - timedelta(days=1), currency="NOK"))
    # Someone asks to join Fjordbio: its members decide.
    fjordbio = db.session.scalar(select(Organisation).where(Organisation.name == "Fjordbio Therapeutics AS"))
    db.session.add(JoinRequest(user_id=users["kattegat@demo.test"].id, organisation_id=fjordbio.id, message="Hello"))
    # A calendar feed and an API token for every role, so their "stop" and "revoke" forms show.
    for email in ROLES:
        if email:
            users[email].calendar_token = f"feed-{users[email].id}-{now.timestamp():.0f}"
    db.session.commit()
    for email in ROLES:
        if email:
            tokens.create(actor=users[email], name="script", days=30)
    # An e-mail that failed, for the outbox's resend and cancel.
    failed = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
    failed.delivery, failed.attempts, failed.last_error = "failed", 3, "550 mailbox unavailable"
    db.session.commit()
    # An invitation and a password reset whose links a visitor opens (the tokens are in their e-mails).
    vinnova = db.session.scalar(select(Organisation).where(Organisation.name == "Vinnova"))
    accounts.invite(email="new.staff@demo.test", organisation=vinnova, actor=users["admin@demo.test"])
    accounts.request_password_reset(email="kattegat@demo.test")
    mails = {m.template: m.context for m in db.session.scalars(select(OutboxMessage))}
    return [f"/account/invitation/{mails['invitation']['token']}", f"/account/reset/{mails['password_reset']['token']}"]


# ------------------------------------------------------------------ reading pages


@dataclass
class Field:
    name: str
    kind: str  # number, date, datetime, choice, multiline, line, password, file, hidden
    options: list = field(default_factory=list)
    value: str = ""  # what the page fills in (the saved value, the selected option)


@dataclass
class Target:
    role: str | None
    method: str
    action: str
    fields: dict

    @property
    def key(self):
        path = re.sub(r"/\d+", "/<id>", urlsplit(self.action).path)
        # A signed-in person's own settings behave alike for every role: fuzzed once.
        role = "someone" if self.role and OWN_SETTINGS.match(path) else self.role
        return role, self.method, path, tuple(sorted(self.fields))


INPUT_KINDS = {"number": "number", "date": "date", "datetime-local": "datetime", "datetime": "datetime",
               "password": "password", "file": "file", "hidden": "hidden"}


class _Forms(HTMLParser):
    """The forms of a page with their fields (typed as the page types them, with the values it fills
    in), and the page's links."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url, self.forms, self.links, self._form, self._select, self._textarea = page_url, [], [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"].split("#")[0])
        elif tag == "form":
            self._form = {"method": a.get("method", "get").lower(), "action": a.get("action") or self.page_url, "fields": {}}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name") and tag != "option":
            return
        elif tag == "input":
            kind, fields = a.get("type", "text").lower(), self._form["fields"]
            if kind in ("checkbox", "radio", "submit"):
                f = fields.setdefault(a["name"], Field(a["name"], "choice"))
                f.options.append(a.get("value", "on"))
                if "checked" in a or (kind == "radio" and not f.value):
                    f.value = a.get("value", "on")
            else:
                kind = INPUT_KINDS.get(kind) or ("number" if a.get("inputmode") in ("numeric", "decimal") else "line")
                fields[a["name"]] = Field(a["name"], kind, [a.get("value", "")], a.get("value", ""))
        elif tag == "button":
            self._form["fields"].setdefault(a["name"], Field(a["name"], "choice", [], a.get("value", ""))).options.append(
                a.get("value", ""))
        elif tag == "textarea":
            self._textarea = self._form["fields"][a["name"]] = Field(a["name"], "multiline")
        elif tag == "select":
            self._select = self._form["fields"].setdefault(a["name"], Field(a["name"], "choice"))
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a or not self._select.value:
                self._select.value = a.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def crawl(client, role, start: list[str]) -> tuple[list[Target], set[str]]:
    """Every form on the pages reachable from ``start`` (links within the site, breadth first)."""
    shapes, queue, targets, visited = {}, deque(start), {}, set()
    queued = set(start)  # a link on several pages takes one place of its shape, not one per page
    while queue and len(visited) < PAGES_PER_ROLE:
        url = queue.popleft()
        if url in visited or NOT_CRAWLED.search(urlsplit(url).path):
            continue
        visited.add(url)
        response = client.get(url)
        assert response.status_code < 500, (role, url)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        parser = _Forms(url)
        parser.feed(response.get_data(as_text=True))
        # A search or selection form (GET) is followed once with what it offers, to reach its result page
        # (a bulk action's preview holds the form that confirms it).
        followed = [_with_defaults(form) for form in parser.forms if form["method"] == "get"]
        for link in parser.links + [f for f in followed if f]:
            shape = re.sub(r"\d+", "N", urlsplit(link).path)
            if link not in queued and shapes.get(shape, 0) < PAGES_PER_SHAPE:
                shapes[shape] = shapes.get(shape, 0) + 1
                queued.add(link)
                queue.append(link)
        for form in parser.forms:
            if form["action"].split("?")[0] in NEVER_POSTED:
                continue
            target = Target(role, form["method"], form["action"], form["fields"])
            targets.setdefault(target.key, target)
    return list(targets.values()), visited


def _with_defaults(form) -> str | None:
    """A GET form's address with every box ticked and each choice's first option."""
    action = form["action"]
    if not action.startswith("/") or NOT_CRAWLED.search(urlsplit(action).path):
        return None
    pairs = []
    for f in form["fields"].values():
        if f.kind == "choice" and f.options:
            pairs += [(f.name, o) for o in f.options] if len(f.options) > 1 and f.name not in ("intent",) else [(f.name, f.options[0])]
        elif f.kind == "hidden" and f.options:
            pairs.append((f.name, f.options[0]))
    return action.split("?")[0] + ("?" + urlencode(pairs) if pairs else "")


# ------------------------------------------------------------------ what is typed

# What a careless or hostile person types: each list first, then Hypothesis' own values.
NASTY_TEXT = ["\x00", "a\x00b", "line\r\nBcc: x@example.com", "tab\there", "\x1b[2J", "\x7f", "\u0085", "\u2028",
              "\ufeff", "😀" * 5, "Ærøskøbing Łódź Ýmir", "x" * 20000, "<script>alert(1)</script>", "' OR 1=1 --", "%_\\",
              " ", ""]
NASTY_NUMBERS = ["9" * 30, "-" + "9" * 30, "9" * 5000, str(2**31), str(2**63), "-1", "0", "1e999999", "NaN", "inf",
                 "99999999999999999999999.99", "1 000,50", "0.001", "١٢٣", "²", "１２", "0x10", "1_000", ""]
NASTY_DAYS = ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01", "2030-02-30", "2030-13-01", "30-01-2030", "2030-1-1",
              "99999-01-01", "", "2030-01-01\x00"]
NASTY_MOMENTS = ["9999-12-31T23:59", "0001-01-01T00:00", "2030-03-31T02:30", "2030-10-27T02:30", "2030-01-01T25:00",
                 "2030-01-01", ""]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
NUMBER = st.one_of(st.integers(min_value=-(10**40), max_value=10**40).map(str),
                   st.decimals(allow_nan=True, allow_infinity=True).map(str))
DAY = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
MOMENT = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))
ANYTHING = st.sampled_from(NASTY_TEXT + NASTY_NUMBERS + NASTY_DAYS)
# What a field holds when nobody tampers with it and the page left it empty.
PLAUSIBLE = {"number": "2", "date": (date.today() + timedelta(days=30)).isoformat(), "password": "a long and unusual phrase",
             "datetime": (datetime.now() + timedelta(days=30)).strftime("%Y-%m-%dT12:00"), "line": "Plain words",
             "multiline": "Plain words,\r\non two lines."}


def _bad(f: Field):
    """A bad value for the field: the kind's own nasty values first, then generated ones, sometimes another kind's."""
    own = {
        "number": st.one_of(st.sampled_from(NASTY_NUMBERS), NUMBER),
        "date": st.one_of(st.sampled_from(NASTY_DAYS), DAY),
        "datetime": st.one_of(st.sampled_from(NASTY_MOMENTS), MOMENT),
        "choice": st.one_of(st.sampled_from(NASTY_TEXT + NASTY_NUMBERS), TEXT),
    }.get(f.kind, st.one_of(st.sampled_from(NASTY_TEXT), TEXT))
    return st.one_of(own, ANYTHING)


def _plausible(f: Field) -> str:
    return f.value or (f.options[0] if f.options else PLAUSIBLE.get(f.kind, ""))


def _fields(target: Target) -> dict:
    return {name: f for name, f in target.fields.items() if f.kind != "file" and name != "csrf_token"}


# ------------------------------------------------------------------ the tests


@pytest.fixture
def world(app):
    extra = _scenario(app)
    clients = {}
    for role in ROLES:
        client = app.test_client()
        if role is not None:
            response = client.post("/account/login", data={"email": role, "password": demo.PASSWORD})
            assert response.status_code == 302, role
        clients[role] = client
    return clients, extra


def _start_pages(role, extra) -> list[str]:
    if role is None:
        return ["/", "/calls", "/account/login", "/account/register", "/account/forgot", *extra]
    return ["/", "/startup/", "/cluster/", "/hub/", "/funder/", "/admin/", "/insight/", "/exports/", "/account/notifications",
            "/account/devices", "/account/password", "/api/tokens", "/calendar", "/startup/start", "/startup/funding"]


def discover(app, clients, extra) -> tuple[dict, set]:
    """Every role's forms (by key) and the POST routes they post to."""
    everything, reached = {}, set()
    adapter = app.url_map.bind("localhost")
    for role in ROLES:
        targets, _visited = crawl(clients[role], role, _start_pages(role, extra))
        for target in targets:
            everything.setdefault(target.key, target)
            if target.method == "post":
                reached.add(adapter.match(urlsplit(target.action).path, method="POST")[0])
    return everything, reached


def _fuzz_form(client, target: Target):
    """Post the form as the page fills it, with one to three of its fields given bad values: the bad
    value then reaches the checks and services behind an otherwise valid form."""
    fields = _fields(target)
    names = sorted(fields)

    @FUZZ
    @given(data=st.data())
    def post(data):
        values = {name: _plausible(f) for name, f in fields.items()}
        if names:
            for name in data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(3, len(names)), unique=True)):
                values[name] = data.draw(_bad(fields[name]), label=name)
        response = client.post(target.action, data=values)
        assert response.status_code < 500, (target.role, target.action, values)

    post()


def test_no_form_of_any_role_answers_500_whatever_is_typed(app, world):
    clients, extra = world
    everything, reached = discover(app, clients, extra)
    post_routes = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    assert post_routes - reached <= set(UNREACHED), sorted(post_routes - reached - set(UNREACHED))
    posted = [t for t in everything.values() if t.method == "post"]
    assert len(posted) > 80  # every role's forms, not a crawl that went nowhere
    for target in posted:
        _fuzz_form(clients[target.role], target)


def _list_targets(hub_id: int) -> list[tuple[str | None, str, list[str]]]:
    """(role, page, parameters) of the list and export pages, with every parameter they read, also those
    no form on the page sets (paging, sorting, the record finder's)."""
    queue_params = list(QueueFilters.PARAMS.values())
    export_params = list(ExportFilters.PARAMS.values())
    targets = [("admin@demo.test", f"/exports/{kind}.csv", export_params) for kind in KINDS]
    targets += [("nordlys@demo.test", f"/exports/{kind}.csv", export_params) for kind in KINDS]
    targets += [
        ("admin@demo.test", "/insight/", ["call", "route", "country", "track", "month"]),
        ("cluster@demo.test", "/insight/", ["call", "route", "country", "track", "month"]),
        ("hub@demo.test", f"/hub/{hub_id}/occupancy", ["from"]),
        ("cluster@demo.test", "/cluster/queue", queue_params),
        ("cluster@demo.test", "/cluster/queue.csv", queue_params),
        ("cluster@demo.test", "/cluster/queue.xlsx", queue_params),
        ("cluster@demo.test", "/cluster/queue.zip", queue_params),
        ("funder@demo.test", "/funder/funding", ["scheme", "status", "q"]),
        ("admin@demo.test", "/admin/organisations", ["kind"]),
        ("admin@demo.test", "/admin/invitations", ["state"]),
        ("admin@demo.test", "/admin/calls", ["status"]),
        ("admin@demo.test", "/admin/outbox", ["delivery", "page"]),
        ("admin@demo.test", "/admin/workflow", ["workflow", "record_id"]),
        ("admin@demo.test", "/admin/invitations/new", ["organisation_id"]),
        ("admin@demo.test", "/admin/calls/new", ["route_id"]),
        ("admin@demo.test", "/admin/schemes/new", ["funder_id"]),
        ("startup@demo.test", "/account/notifications", ["page"]),
        (None, "/calls", ["page", "q"]),
    ]
    return targets


def test_no_list_or_export_page_answers_500_whatever_its_parameters(app, world):
    clients, extra = world
    hub_id = db.session.scalar(select(Organisation.id).where(Organisation.name == "AstraZeneca BioVentureHub"))
    pages: dict = {}
    for role, url, params in _list_targets(hub_id):
        pages.setdefault((role, url), set()).update(params)
    # And every search or filter form (GET) a crawl finds, with its fields.
    everything, _reached = discover(app, clients, extra)
    for target in everything.values():
        if target.method == "get":
            role = ROLES[0] if target.role == "someone" else target.role
            pages.setdefault((role, target.action.split("?")[0]), set()).update(_fields(target))
    assert len(pages) > 30
    for (role, url), params in sorted(pages.items(), key=lambda item: (str(item[0][0]), item[0][1])):
        client = clients[role]
        assert client.get(url, buffered=url.endswith(".zip")).status_code < 500, url

        @settings(max_examples=EXAMPLES_PER_LIST, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(args=st.fixed_dictionaries({}, optional={p: st.one_of(ANYTHING, TEXT, NUMBER, DAY) for p in sorted(params)}))
        def get(args):
            response = client.get(url, query_string=args, buffered=url.endswith(".zip"))  # streamed to its end
            assert response.status_code < 500, (role, url, args)
            if url.endswith((".csv", ".xlsx", ".zip")) and response.status_code == 200:
                response.get_data()  # the whole download, to its last byte

        get()
