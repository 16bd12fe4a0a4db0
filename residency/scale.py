"""`flask --app residency seed-scale`: the demo programme at Nordic scale, for benchmarks.

At ``--scale 1.0`` a migrated database (SQLite or PostgreSQL) gets at least 50,000
organisations, 82,000 users, 100,000 applications, 139,000 reviews, 6,000 placements,
5,000 funding applications, 1,000,000 audit rows and 300,000 outbox rows, on top of the
demo programme (``residency.demo``, seeded first when the database is empty). The demo
accounts find a large share in their own queues: cluster@demo.test reviews for Oslo Cancer
Cluster (over 30,000 applications, one call with over 8,000), hub@demo.test runs
BioVentureHub (over 2,500 placements), funder@demo.test assesses for Innovation Norway (over
2,000 funding applications), and startup@demo.test's Fjordbio has about 50 applications.

Every record is in a state its workflow can reach, by transitions taken in time order:
the paths are random walks over the transition tables of ``residency/domain/*/workflow.py``
(``walk``, ``choose``), checked step by step against them (``follow``), with the rules the
guards and services enforce kept by construction (a resubmission before the call closes, a
nomination before the deadline and within the seats, an offer within the call's residency
window and answered before it expires, a funding application from an accepted residency of a
young enough company, instalments after their reports...). Each transition writes its audit
row and, where the table says so, the outbox rows of its e-mails, as ``workflow.perform``
would. Organisation numbers pass their country's check (``core.orgnumbers``).

The rows are written with SQLAlchemy Core (``insert(table)`` with lists of dicts, explicit ids,
one transaction per chunk), not through the services: those take minutes per thousand rows.
Every seeded user has the demo password, hashed once and the hash reused for every account.
Attachments are one small PDF hard-linked under each attachment's stored name.
"""
from __future__ import annotations

import hashlib
import math
import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext
from sqlalchemy import func, insert, inspect, select, text

from residency import demo
from residency.core import attachments as files
from residency.core import orgnumbers, workflow
from residency.core.limits import HUB_SPACE_MAX
from residency.core.languages import LANGUAGES
from residency.core.extensions import db
from residency.domain.accounts import passwords
from residency.domain.accounts.models import Membership, Organisation, User
from residency.domain.applications.services import TYPED_FIELDS
from residency.domain.forms import defaults as form_defaults
from residency.domain.forms import services as forms
from residency.domain.funding.models import FundingScheme
from residency.domain.impact.services import CURRENCY_BY_COUNTRY
from residency.domain.insight import summaries
from residency.domain.placements.hub_queries import add_months
from residency.domain.forms.models import FormQuestion
from residency.domain.programme.models import Call, Criterion, Route, route_funder
from residency.domain.review.services import weighted_score

# The default form's own questions (the typed answers are columns, the files attachments).
FREE_TEXT = [q[1] for q in form_defaults.QUESTIONS if q[3] is None and q[2] != "file"]

UTC = timezone.utc
DAY = timedelta(days=1)
STOP = None  # the weight of ending a walk in a state

# What ``--scale 1.0`` writes at least (the issue's figures, rounded down).
TARGETS = {
    "organisation": 50_000,
    "user_account": 82_000,
    "application": 100_000,
    "review": 139_000,
    "placement": 6_000,
    "funding_application": 5_000,
    "status_change": 1_000_000,
    "outbox_message": 300_000,
}
# What the demo accounts see at scale 1.0, at least.
DEMO_TARGETS = {"cluster_applications": 30_000, "cluster_call": 8_000, "hub_placements": 2_500, "funder_funding": 2_000}
BIG_CALL = 8_400  # applications in the Oslo Cancer Cluster call under review now (scale 1.0)
FJORDBIO_APPLICATIONS = 48  # on top of the demo's two: about 50 whatever the scale
HUB_PLACEMENTS = {"bvh": 2_850, "other": 3_250}
FUNDING = {"in": 2_350, "other": 2_800}
ROUNDS = 16  # past calls per route, every half year
ROUND_DAYS = 182
# How often the generated people saved each language (None: the browser's languages choose), in percent.
LANGUAGE_SHARES = {None: 40, "nb": 26, "sv": 18, "en": 8, "da": 4, "fi": 3, "is": 1}
assert set(LANGUAGE_SHARES) - {None} == set(LANGUAGES)


class SeedError(click.ClickException):
    pass


# ------------------------------------------------------------------ walking the workflow tables


def check_weights(wf: workflow.Workflow, weights: dict) -> None:
    """Every weighted move is a transition of the table (a renamed action fails loudly here)."""
    for source, action in weights:
        if source not in wf.states:
            raise SeedError(f"{wf.name}: no state {source!r} in the workflow table")
        if action is not STOP and wf.find(source, action) is None:
            raise SeedError(f"{wf.name}: no transition {source} -{action}-> in the workflow table")


def choose(rng: random.Random, wf: workflow.Workflow, state: str, weights: dict, exclude=()):
    """One step of a random walk: a transition of the table out of ``state`` (or None: stop here)."""
    options = [(t, weights.get((state, t.action), 0.0)) for t in wf.actions_from(state) if t.action not in exclude]
    options = [(t, w) for t, w in options if w > 0]
    stop = weights.get((state, STOP), 0.0)
    total = stop + sum(w for _t, w in options)
    if not options or total <= 0:
        return None
    pick = rng.random() * total
    if pick < stop:
        return None
    pick -= stop
    for t, w in options:
        if pick < w:
            return t
        pick -= w
    return options[-1][0]


def walk(rng: random.Random, wf: workflow.Workflow, weights: dict, state: str | None = None, limit: int = 40) -> list:
    """A random walk over ``wf``'s table from ``state`` (its initial state), until it stops."""
    state = state or wf.initial
    path = []
    while len(path) < limit:
        t = choose(rng, wf, state, weights)
        if t is None:
            break
        path.append(t)
        state = t.target
    return path


def follow(wf: workflow.Workflow, state: str, actions) -> list:
    """The transitions ``actions`` take from ``state``; an action the table does not allow there fails."""
    path = []
    for action in actions:
        t = wf.find(state, action)
        if t is None:
            raise SeedError(f"{wf.name}: no transition {state} -{action}-> in the workflow table")
        path.append(t)
        state = t.target
    return path


def cycle(wf: workflow.Workflow, state: str, via) -> list:
    """The shortest run of transitions (actions in ``via``) that leaves ``state`` and comes back to it."""
    frontier = [(t.target, [t]) for t in wf.actions_from(state) if t.action in via]
    seen = set()
    while frontier:
        nxt = []
        for at, path in frontier:
            if at == state:
                return path
            if at in seen:
                continue
            seen.add(at)
            nxt += [(t.target, path + [t]) for t in wf.actions_from(at) if t.action in via]
        frontier = nxt
    raise SeedError(f"{wf.name}: no cycle through {state} using {sorted(via)}")


def end_state(wf: workflow.Workflow, path: list) -> str:
    return path[-1].target if path else wf.initial


# Where a walk goes, by the phase of the call: weights per (state, action); STOP ends the walk there.
# Under review, STOP is the decision point: nominations (within the seats) and declines are chosen per call.
APPLICATION_WALKS = {
    "released": {
        ("draft", "submit"): .88, ("draft", "withdraw"): .04, ("draft", STOP): .08,
        ("submitted", "start_review"): .91, ("submitted", "request_changes"): .05, ("submitted", "withdraw"): .03,
        ("submitted", STOP): .01,
        ("under_review", "request_changes"): .03, ("under_review", "withdraw"): .03, ("under_review", STOP): .94,
        ("changes_requested", "resubmit"): .85, ("changes_requested", "withdraw"): .10, ("changes_requested", STOP): .05,
    },
    "in_review": {
        ("draft", "submit"): .85, ("draft", "withdraw"): .03, ("draft", STOP): .12,
        ("submitted", "start_review"): .62, ("submitted", "request_changes"): .05, ("submitted", "withdraw"): .02,
        ("submitted", STOP): .31,
        ("under_review", "request_changes"): .03, ("under_review", "withdraw"): .02, ("under_review", STOP): .95,
        ("changes_requested", "resubmit"): .80, ("changes_requested", "withdraw"): .05, ("changes_requested", STOP): .15,
    },
    "open": {
        ("draft", "submit"): .55, ("draft", "withdraw"): .03, ("draft", STOP): .42,
        ("submitted", "start_review"): .15, ("submitted", "request_changes"): .08, ("submitted", "withdraw"): .02,
        ("submitted", STOP): .75,
        ("under_review", "request_changes"): .05, ("under_review", "withdraw"): .02, ("under_review", STOP): .93,
        ("changes_requested", "resubmit"): .60, ("changes_requested", "withdraw"): .05, ("changes_requested", STOP): .35,
    },
}
PLACEMENT_WALK = {
    ("pending", "offer"): .74, ("pending", "waitlist"): .16, ("pending", "reject"): .10,
    ("waitlisted", "offer"): .55, ("waitlisted", "reject"): .30, ("waitlisted", STOP): .15,
    ("offered", "accept"): .86, ("offered", "decline"): .06, ("offered", "lapse"): .08,
    ("accepted", "start"): 1.0,
    ("active", "extend"): .05, ("active", "complete"): .91, ("active", "terminate"): .04,
}
FUNDING_WALK = {
    ("draft", "submit"): .95, ("draft", STOP): .05,
    ("submitted", "start_assessment"): 1.0,
    ("under_assessment", "grant"): .62, ("under_assessment", "reject"): .23, ("under_assessment", "request_changes"): .15,
    ("changes_requested", "resubmit"): .85, ("changes_requested", STOP): .15,
    ("granted", "accept_offer"): .9, ("granted", "lapse"): .1,
    ("in_progress", "close"): .97, ("in_progress", "cancel"): .03,
}
REPORT_WALK = {("due", "submit"): 1.0, ("submitted", "approve"): .85, ("submitted", "return"): .15, ("returned", "submit"): 1.0}
# Change requests answered before the call closes: the cycles the audit trail is topped up with.
CHANGE_CYCLE = ("request_changes", "resubmit", "start_review")


# ------------------------------------------------------------------ organisation numbers


def _no_check(body: str) -> int | None:
    check = (11 - sum(int(d) * w for d, w in zip(body, (3, 2, 7, 6, 5, 4, 3, 2))) % 11) % 11
    return None if check == 10 else check


def _luhn_digit(body: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def candidate_number(country: str, n: int) -> str | None:
    """The n-th candidate organisation number of a country (None where its check digit cannot exist)."""
    if country == "NO":
        body = f"8{n:07d}"
        check = _no_check(body)
        return None if check is None else f"{body}{check}"
    if country == "SE":
        body = f"559{n:06d}"
        return f"{body[:6]}-{body[6:]}{_luhn_digit(body)}"
    if country == "DK":
        body = f"4{n:06d}"
        last = (-sum(int(d) * w for d, w in zip(body, (2, 7, 6, 5, 4, 3, 2)))) % 11
        return None if last == 10 else f"{body}{last}"
    if country == "FI":
        body = f"3{n:06d}"
        remainder = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2))) % 11
        if remainder == 1:
            return None
        return f"{body}-{0 if remainder == 0 else 11 - remainder}"
    if country == "IS":
        # An organisation's kennitala: its registration date (2010-2025) with 40 added to the day,
        # two serial digits, the check digit and the century digit 0; stdnum refuses impossible dates.
        serial, rest = n % 100, n // 100
        day, rest = 41 + rest % 28, rest // 28
        month, year = 1 + rest % 12, 10 + (rest // 12) % 16
        body = f"{day:02d}{month:02d}{year:02d}{serial:02d}"
        check = _no_check(body)
        return None if check is None else f"{body[:6]}-{body[6:]}{check}0"
    raise SeedError(f"no organisation numbers for {country}")


class OrgNumbers:
    """Fresh valid numbers per country, never one already in the database."""

    def __init__(self, taken):
        self.taken = set(taken)
        self.next = Counter()

    def __call__(self, country: str) -> str:
        while True:
            self.next[country] += 1
            number = candidate_number(country, self.next[country])
            if number is None or (country, number) in self.taken:
                continue
            if orgnumbers.check(country, number) != number:  # the app's own rule has the last word
                raise SeedError(f"generated {country} number {number} is not canonical")
            self.taken.add((country, number))
            return number


# ------------------------------------------------------------------ bulk writing


class Writer:
    """Buffers rows per table and inserts them in chunks, one transaction per chunk; a chunk first
    writes the buffered rows of the tables it refers to, so foreign keys hold at every commit."""

    def __init__(self, conn, chunk: int, progress=None):
        self.conn, self.chunk, self.progress = conn, chunk, progress
        self.tables = {t.name: t for t in db.metadata.sorted_tables}
        self.order = [t.name for t in db.metadata.sorted_tables]
        self.parents = {name: self._ancestors(table) for name, table in self.tables.items()}
        self.buffers: dict[str, list] = defaultdict(list)
        self.written = Counter()

    def _ancestors(self, table) -> list[str]:
        found, todo = set(), [table]
        while todo:
            for fk in todo.pop().foreign_keys:
                parent = fk.column.table
                if parent is not table and parent.name not in found:
                    found.add(parent.name)
                    todo.append(parent)
        return [name for name in (t.name for t in db.metadata.sorted_tables) if name in found]

    def add(self, table: str, row: dict) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= self.chunk:
            self.flush(table)

    def flush(self, table: str) -> None:
        with self.conn.begin():
            for parent in self.parents[table]:
                self._write(parent)
            self._write(table)

    def _write(self, table: str) -> None:
        rows = self.buffers.pop(table, None)
        if not rows:
            return
        self.conn.execute(insert(self.tables[table]), rows)
        self.written[table] += len(rows)
        if self.progress is not None:
            self.progress.update(len(rows))

    def close(self) -> None:
        for table in self.order:
            if self.buffers.get(table):
                self.flush(table)


class Ids:
    """Explicit ids, allocated after the largest one in each table."""

    def __init__(self, conn):
        self.next = {}
        for table in db.metadata.sorted_tables:
            if "id" in table.c:
                self.next[table.name] = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        self.start = dict(self.next)  # the first id this seed writes, per table

    def __call__(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


# ------------------------------------------------------------------ what is planned


@dataclass
class Org:
    id: int
    kind: str
    name: str
    country: str
    timezone: str | None = None
    members: list = field(default_factory=list)  # user ids
    founded_on: date | None = None
    track: str | None = None
    trl: int | None = None
    first_seen: datetime | None = None
    new: bool = True  # written by this seed (the demo's organisations already exist)


@dataclass
class CallPlan:
    id: int
    route: SimpleNamespace
    title: str
    timezone: str
    opens_at: datetime
    closes_at: datetime
    nomination_deadline: datetime
    decision_deadline: datetime
    residency_starts_on: date
    residency_ends_on: date
    phase: str  # "released", "in_review", "open" or "draft"
    criteria: list
    size: int = 0
    seats: int = 1
    released_at: datetime | None = None
    new: bool = True
    apps: list = field(default_factory=list)


@dataclass(slots=True)
class Step:
    t: workflow.Transition
    at: datetime | None = None
    actor: int | None = None
    reason: str | None = None
    note: str | None = None


@dataclass
class AppPlan:
    id: int
    call: CallPlan
    startup: Org
    created_by: int
    created_at: datetime
    path: list  # transitions
    steps: list = field(default_factory=list)  # timed Steps
    nominee: bool = False
    reviews: list = field(default_factory=list)
    months: int = 6
    desks: int = 1
    benches: int = 1


# ------------------------------------------------------------------ words

FIRST = ["Anna", "Erik", "Ingrid", "Lars", "Sofia", "Magnus", "Astrid", "Johan", "Freya", "Nils", "Karin", "Olav", "Linnea",
         "Henrik", "Maja", "Mikkel", "Sigrid", "Anders", "Elin", "Jonas", "Helga", "Aino", "Matti", "Saga", "Bjorn", "Ida",
         "Emil", "Liv", "Oskar", "Tove", "Gudrun", "Einar", "Kristin", "Pekka", "Hanna", "Tor", "Silje", "Viktor", "Ebba", "Runa"]
LAST = ["Hansen", "Johansson", "Nielsen", "Virtanen", "Jonsson", "Larsen", "Andersson", "Korhonen", "Berg", "Lind", "Dahl",
        "Holm", "Strand", "Lund", "Nyberg", "Eriksen", "Sorensen", "Makinen", "Gunnarsson", "Bakke", "Solberg", "Vik",
        "Haugen", "Lindqvist", "Pedersen", "Laine", "Moller", "Sandberg", "Aalto", "Stefansson"]
NAME_A = ["Nordic", "Fjord", "Aurora", "Polar", "Boreal", "Glacier", "Tundra", "Birch", "Saga", "Midnight", "Skagen", "Viking",
          "Lofoten", "Baltic", "Arctic", "Granite", "Heather", "Spruce", "Pine", "Crystal", "Northern", "Silver", "Frost",
          "Harbour", "Island", "Lake", "Moss", "Rune", "Sun", "Tide", "Willow", "Amber", "Cedar", "Delta", "Echo", "Falcon",
          "Gull", "Haven", "Iris", "Juniper"]
NAME_B = ["Bio", "Gene", "Cell", "Helix", "Medi", "Thera", "Neuro", "Cardio", "Onco", "Immuno", "Vita", "Pharma", "Diagno",
          "Sense", "Lab", "Protein", "Enzyme", "Micro", "Nano", "Scan"]
NAME_C = ["Therapeutics", "Diagnostics", "Medical", "Biotech", "Health", "Sciences", "Labs", "Devices", "Analytics", "Bio",
          "Genomics", "Imaging", "Systems", "Pharma", "Solutions"]
FORM = {"NO": "AS", "SE": "AB", "DK": "ApS", "FI": "Oy", "IS": "ehf."}
CITIES = {"NO": ["Oslo", "Bergen", "Trondheim", "Tromsø", "Stavanger"], "SE": ["Stockholm", "Gothenburg", "Malmö", "Uppsala", "Lund"],
          "DK": ["Copenhagen", "Aarhus", "Odense", "Aalborg"], "FI": ["Helsinki", "Espoo", "Tampere", "Turku", "Oulu"],
          "IS": ["Reykjavik", "Akureyri"]}
TRACK_WORDS = {"drugs": "small-molecule drugs", "devices": "medical devices", "diagnostics": "diagnostic tests",
               "digital_health": "digital health tools", "bioindustrials": "industrial enzymes", "other": "research tools"}
TRACKS = list(TRACK_WORDS)
REASONS = {
    "request_changes": ["Please add the preclinical data you mention in the summary.", "Please describe the lab needs in more detail.",
                        "Please say who in the team leads the regulatory work.", "The funding plan needs the amounts you expect."],
    "withdraw": ["We accepted another residency.", "Our plans changed.", "The timing does not suit us any more."],
    "decline": ["Scores below the call's cut-off.", "A weaker fit with the hub than the nominated applications."],
    "reject": ["No lab space of the kind needed in the period.", "The hub's focus does not match the project."],
    "terminate": ["The startup moved to its own premises.", "The startup ended the project."],
    "funding_reject": ["The project does not meet the scheme's criteria.", "The budget is not credible for the plan."],
    "funding_request_changes": ["Please split the personnel costs by quarter.", "Please add the own financing you have secured."],
    "cancel": ["The startup ended the project."],
    "return": ["Please add the results of the second study.", "Please explain the deviations from the budget."],
}
DECLINE_NOTE = "Thank you for applying. The cluster nominated other applications this round."
CONDITIONS = "Rental agreement with a confidentiality clause."
INSTALMENT_LABELS = ("Advance", "Interim", "Final")


def _title_words(name: str) -> str:
    return name.rsplit(" ", 1)[0]


# ------------------------------------------------------------------ the seeder


class ScaleSeed:
    def __init__(self, scale: float, random_seed: int, chunk: int, echo=click.echo, progress: bool = True):
        self.scale, self.chunk, self.echo, self.show_progress = scale, chunk, echo, progress
        self.rng = random.Random(random_seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.today = self.now.date()
        self.wf = {name: workflow.get(name) for name in ("application", "placement", "funding", "report", "call")}
        for name, wf in self.wf.items():
            if wf is None:
                raise SeedError(f"the {name} workflow is not registered")
        for weights in APPLICATION_WALKS.values():
            check_weights(self.wf["application"], weights)
        check_weights(self.wf["placement"], PLACEMENT_WALK)
        check_weights(self.wf["funding"], FUNDING_WALK)
        check_weights(self.wf["report"], REPORT_WALK)
        self.cycles = {state: cycle(self.wf["application"], state, CHANGE_CYCLE) for state in ("submitted", "under_review")}
        self.counts = Counter()
        self.demo_counts = Counter()
        self.timings: dict[str, float] = {}

    def target(self, name: str, value: int | None = None) -> int:
        return math.ceil((TARGETS[name] if value is None else value) * self.scale)

    # ---------------------------------------------------------------- run

    def run(self, conn) -> dict:
        t0 = time.perf_counter()
        self.conn = conn
        self.ids = Ids(conn)
        self._question_ids: dict[int, dict[str, int]] = {}  # each call's questions by key
        self.password_hash = passwords.hash_password(demo.PASSWORD)  # one hash, every seeded account
        self._load_demo()
        self._plan_organisations()
        self._plan_calls()
        self._plan_applications()
        self._plan_reviews()
        self._plan_placements()
        self._plan_funding()
        self.timings["plan"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        conn.rollback()  # the planning only read; each chunk is a transaction of its own from here
        total = len(self.new_orgs) + len(self.new_users) + len(self.apps) + len(self.placements) + len(self.funding)
        with open(os.devnull, "w") as quiet, click.progressbar(
                length=total, label="seed-scale: writing", show_pos=True, show_percent=True,
                file=None if self.show_progress else quiet) as bar:
            self.bar = bar
            self.writer = Writer(conn, self.chunk)
            self._emit_all()
            self.writer.close()
        self.timings["write"] = time.perf_counter() - t1
        self.counts.update({f"written:{k}": v for k, v in self.writer.written.items()})
        return self.summary()

    # ---------------------------------------------------------------- the demo to build on

    def _load_demo(self) -> None:
        c = self.conn
        self.orgs_by_name = {}
        for row in c.execute(select(Organisation.__table__)).mappings():
            org = Org(row["id"], row["kind"], row["name"], row["country"], row["timezone"], founded_on=row["founded_on"],
                      track=row["track"], trl=row["trl"], new=False)
            self.orgs_by_name[row["name"]] = org
        users = {row.email: row for row in c.execute(select(User.id, User.email, User.language))}
        self.users = {row.id: (row.email, row.language or "en") for row in users.values()}
        self.user_names = {}
        by_id = {o.id: o for o in self.orgs_by_name.values()}
        for user_id, org_id in c.execute(select(Membership.user_id, Membership.organisation_id).order_by(Membership.id)):
            by_id[org_id].members.append(user_id)
        needed = {email for email, _role, _org in demo.DEMO_LOGINS}
        if not needed <= set(users):
            raise SeedError("seed-scale builds on the demo programme, and its accounts are missing: "
                            "run it on an empty database, or `flask --app residency seed-demo` first.")
        self.demo_user = {email: users[email].id for email in needed}
        self.admin = self.demo_user["admin@demo.test"]
        self.schemes = {}
        for row in c.execute(select(FundingScheme.__table__)).mappings():
            self.schemes[row["funder_id"]] = SimpleNamespace(**row)
        self.demo_routes = {(r.home_country, r.host_hub_id): r for r in c.execute(select(Route.__table__))}
        self.demo_route_funders = defaultdict(list)  # a route the demo made keeps its own funders (and their schemes)
        for route_id, funder_id in c.execute(select(route_funder.c.route_id, route_funder.c.funder_id)
                                             .order_by(route_funder.c.route_id, route_funder.c.funder_id)):
            self.demo_route_funders[route_id].append(funder_id)
        self.demo_calls = list(c.execute(select(Call.__table__)).mappings())
        self.taken_numbers = set(c.execute(select(Organisation.country, Organisation.org_number)).all())

    # ---------------------------------------------------------------- organisations and people

    def _new_org(self, kind, name, country, timezone_=None, **kw) -> Org:
        org = Org(self.ids("organisation"), kind, name, country, timezone_, **kw)
        self.orgs_by_name[name] = org
        self.new_orgs.append(org)
        return org

    def _new_user(self, name: str, language: str | None, created_at: datetime | None = None) -> int:
        uid = self.ids("user_account")
        first, last = name.split(" ", 1)
        email = f"{first}.{last}.{uid}@scale.test".lower().replace(" ", "")
        self.users[uid] = (email, language or "en")
        self.new_users.append(dict(id=uid, email=email, name=name, language=language, created_at=created_at))
        self.user_names[uid] = name
        return uid

    def _person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def _language(self) -> str | None:
        return self.rng.choices(list(LANGUAGE_SHARES), weights=list(LANGUAGE_SHARES.values()))[0]

    def _plan_organisations(self) -> None:
        rng = self.rng
        self.numbers = OrgNumbers(self.taken_numbers)
        self.new_orgs, self.new_users, self.new_memberships = [], [], []
        o = self.orgs_by_name
        self.bvh, self.ocip = o["AstraZeneca BioVentureHub"], o["Oslo Cancer Cluster Innovation Park"]
        self.occ, self.mva = o["Oslo Cancer Cluster"], o["Medicon Valley Alliance"]
        self.innovation_norway, self.vinnova = o["Innovation Norway"], o["Vinnova"]
        self.fjordbio = o["Fjordbio Therapeutics AS"]
        self.operator = o["Nordic Residency Exchange"]
        cph = self._get_or_new("hub", "Copenhagen Bio Science Park", "DK", "Europe/Copenhagen")
        hel = self._get_or_new("hub", "Helsinki Health Hub", "FI", "Europe/Helsinki")
        se_cluster = self._get_or_new("cluster", "Stockholm Life Science Cluster", "SE", "Europe/Stockholm")
        fi_cluster = self._get_or_new("cluster", "Helsinki Health Cluster", "FI", "Europe/Helsinki")
        is_cluster = self._get_or_new("cluster", "Reykjavik Biotech Cluster", "IS", "Atlantic/Reykjavik")
        dk_fund = self._get_or_new("funder", "Danish Startup Fund", "DK", "Europe/Copenhagen")
        fi_fund = self._get_or_new("funder", "Finnish Growth Fund", "FI", "Europe/Helsinki")
        is_fund = self._get_or_new("funder", "Icelandic Technology Fund", "IS", "Atlantic/Reykjavik")
        self.new_schemes = []
        for fund, currency, maximum, country in ((dk_fund, "DKK", "400000.00", "DK"), (fi_fund, "EUR", "60000.00", "FI"),
                                                 (is_fund, "EUR", "40000.00", "IS")):
            if fund.id not in self.schemes:
                scheme = SimpleNamespace(id=self.ids("funding_scheme"), funder_id=fund.id, name=f"{fund.name} residency grant",
                                         currency=currency, max_amount=Decimal(maximum), max_share_percent=Decimal("50"),
                                         instalments=demo.INSTALMENTS, home_countries=[country], max_company_age_years=8,
                                         report_kinds=["progress", "final"], active=True)
                self.schemes[fund.id] = scheme
                self.new_schemes.append(scheme)
        # Routes: (home country, hub, cluster, funders, share of the applications).
        self.route_specs = [
            ("NO", self.bvh, self.occ, [self.innovation_norway], .22),
            ("SE", self.ocip, self.mva, [self.vinnova], .14),
            ("NO", cph, self.occ, [self.innovation_norway], .10),
            ("NO", hel, o["Norway Health Tech"], [self.innovation_norway], .05),
            ("SE", cph, se_cluster, [self.vinnova], .10),
            ("DK", self.bvh, self.mva, [dk_fund], .10),
            ("DK", self.ocip, o["The Life Science Cluster"], [dk_fund], .05),
            ("FI", self.bvh, fi_cluster, [fi_fund], .09),
            ("FI", self.ocip, fi_cluster, [fi_fund], .05),
            ("IS", cph, is_cluster, [is_fund], .04),
        ]
        # Staff: the demo accounts first (they lead), then colleagues.
        staff_per_kind = {"cluster": 12, "hub": 4, "funder": 4, "operator": 2}
        for org in list(o.values()):
            if org.kind == "startup":
                continue
            want = staff_per_kind[org.kind]
            while len(org.members) < want:
                uid = self._new_user(self._person(), self._language(), self.now - timedelta(days=3200))
                self.new_memberships.append(dict(user_id=uid, organisation_id=org.id, created_at=self.now - timedelta(days=3200)))
                org.members.append(uid)
        # Startups, by country in proportion to the applications their country's routes get.
        share = Counter()
        for home, _hub, _cluster, _funders, weight in self.route_specs:
            share[home] += weight
        share["NO"] += BIG_CALL / TARGETS["application"]
        total_share = sum(share.values())
        existing_orgs = len(o)
        n_startups = max(60, self.target("organisation", TARGETS["organisation"] * 1.002) - existing_orgs)
        self.startups_by_country = defaultdict(list)
        countries = sorted(share)
        quotas = _largest_remainder(n_startups, [share[c] / total_share for c in countries])
        index = 0
        for country, quota in zip(countries, quotas):
            for _ in range(quota):
                index += 1
                name = self._startup_name(index, country)
                startup = self._new_org("startup", name, country, None, track=rng.choice(TRACKS), trl=rng.randint(1, 9))
                self.startups_by_country[country].append(startup)
        rng.shuffle(countries)
        # Founders (one member each), co-founders (one startup in ten) and registered people without a startup.
        cofounders = 0
        for startups in self.startups_by_country.values():
            for startup in startups:
                startup.members.append(self._new_user(self._person(), self._language()))
                if rng.random() < 0.10:
                    startup.members.append(self._new_user(self._person(), self._language()))
                    cofounders += 1
        users_total = len(self.users)
        wanted = self.target("user_account", TARGETS["user_account"] * 1.002)
        self.unattached = [self._new_user(self._person(), self._language()) for _ in range(max(0, wanted - users_total))]

    def _get_or_new(self, kind, name, country, zone) -> Org:
        if name in self.orgs_by_name:
            return self.orgs_by_name[name]
        return self._new_org(kind, name, country, zone, )

    def _startup_name(self, index: int, country: str) -> str:
        a, rest = index % len(NAME_A), index // len(NAME_A)
        b, rest = rest % len(NAME_B), rest // len(NAME_B)
        c, rest = rest % len(NAME_C), rest // len(NAME_C)
        suffix = f" {rest + 1}" if rest else ""
        return f"{NAME_A[a]} {NAME_B[b]}{NAME_C[c].lower()}{suffix} {FORM[country]}"

    # ---------------------------------------------------------------- routes and calls

    def _plan_calls(self) -> None:
        rng, now = self.rng, self.now
        self.routes, self.new_routes, self.calls = [], [], []
        for home, hub, cluster, funders, weight in self.route_specs:
            existing = self.demo_routes.get((home, hub.id))
            if existing is not None:
                own = [self.orgs_by_name_by_id(f) for f in self.demo_route_funders.get(existing.id, [])]
                route = SimpleNamespace(id=existing.id, home=home, hub=hub, cluster=self.orgs_by_name_by_id(existing.cluster_id),
                                        funders=own or funders, weight=weight, new=False)
            else:
                route = SimpleNamespace(id=self.ids("route"), home=home, hub=hub, cluster=cluster, funders=funders,
                                        weight=weight, new=True)
                self.new_routes.append(route)
            self.routes.append(route)
        self.r1 = self.routes[0]
        demo_open = [c for c in self.demo_calls if c["route_id"] == self.r1.id and c["status"] == "published"
                     and c["opens_at"].replace(tzinfo=UTC) <= now < c["closes_at"].replace(tzinfo=UTC)]
        for route in self.routes:
            zone = route.hub.timezone or "Europe/Oslo"
            for k in range(ROUNDS):
                closes = now - timedelta(days=20 + k * ROUND_DAYS, hours=rng.randint(0, 48))
                self.calls.append(self._call(route, zone, closes, "in_review" if k == 0 else "released"))
            if route is self.r1 and demo_open:
                row = demo_open[0]
                call = self._call(route, zone, row["closes_at"].replace(tzinfo=UTC), "open", existing=row)
                self.calls.append(call)
            else:
                self.calls.append(self._call(route, zone, now + timedelta(days=25, hours=rng.randint(0, 48)), "open"))
            if route.home in ("SE", "DK"):
                self.calls.append(self._call(route, zone, now + timedelta(days=150), "draft"))
        self.big_call = next(c for c in self.calls if c.route is self.r1 and c.phase == "in_review")
        # Sizes: the big call, then the rest by route share and round (later rounds draw more applicants).
        n_apps = self.target("application", TARGETS["application"] * 1.003)
        self.big_call.size = math.ceil(BIG_CALL * self.scale)
        rest = n_apps - self.big_call.size
        sized = [c for c in self.calls if c.phase != "draft" and c is not self.big_call]
        weights = []
        for c in sized:
            k = (now - c.closes_at).days // ROUND_DAYS if c.phase != "open" else 0
            weights.append(c.route.weight / (1 + 0.06 * k) * (0.6 if c.phase == "open" else 1.0))
        total = sum(weights)
        for c, size in zip(sized, _largest_remainder(rest, [w / total for w in weights])):
            c.size = size
        for c in self.calls:
            country = self.startups_by_country[c.route.home]
            if c.size > len(country):
                raise SeedError(f"call {c.title}: {c.size} applications but only {len(country)} startups in {c.route.home}")

    def orgs_by_name_by_id(self, org_id: int) -> Org:
        for org in self.orgs_by_name.values():
            if org.id == org_id:
                return org
        raise SeedError(f"no organisation {org_id}")

    def _call(self, route, zone: str, closes: datetime, phase: str, existing=None) -> CallPlan:
        rng = self.rng
        tz = ZoneInfo(zone)
        local = closes.astimezone(tz)
        closes = datetime.combine(local.date(), clock(12, 0), tz).astimezone(UTC)
        opens = closes - timedelta(days=60)
        residency_start = (closes + timedelta(days=90)).date().replace(day=1)
        residency_end = (residency_start + timedelta(days=365)).replace(day=1)
        season = "spring" if local.month <= 6 else "autumn"
        country_word = {"NO": "Norwegian", "SE": "Swedish", "DK": "Danish", "FI": "Finnish", "IS": "Icelandic"}[route.home]
        if existing is not None:
            criteria = [SimpleNamespace(id=r.id, weight=r.weight) for r in self.conn.execute(
                select(Criterion.id, Criterion.weight).where(Criterion.call_id == existing["id"]).order_by(Criterion.position))]
            # Read while planning, before any row is written: the form the demo gave the call.
            self._question_ids[existing["id"]] = dict(self.conn.execute(
                select(FormQuestion.key, FormQuestion.id).where(FormQuestion.call_id == existing["id"])).all())
            return CallPlan(existing["id"], route, existing["title"], existing["timezone"], existing["opens_at"].replace(tzinfo=UTC),
                            existing["closes_at"].replace(tzinfo=UTC), existing["nomination_deadline"].replace(tzinfo=UTC),
                            existing["decision_deadline"].replace(tzinfo=UTC), existing["residency_starts_on"],
                            existing["residency_ends_on"], phase, criteria, new=False, seats=existing["seats"])
        call_id = self.ids("call")
        criteria = [SimpleNamespace(id=self.ids("criterion"), name=n, weight=Decimal(w), position=i)
                    for i, (n, w) in enumerate(demo.CRITERIA)]
        plan = CallPlan(call_id, route, f"{route.hub.name} residency for {country_word} startups, {season} {local.year}",
                        zone, opens, closes, closes + timedelta(days=30), closes + timedelta(days=45),
                        residency_start, residency_end, phase, criteria)
        if phase == "released":
            plan.released_at = plan.nomination_deadline + timedelta(days=1, minutes=rng.randint(0, 600))
        return plan

    # ---------------------------------------------------------------- applications

    def _plan_applications(self) -> None:
        rng, now = self.rng, self.now
        wf = self.wf["application"]
        self.apps: list[AppPlan] = []
        fjordbio_calls = [c for c in self.calls if c.route.home == "NO" and c.new and c.phase != "draft"]
        rng.shuffle(fjordbio_calls)
        fjordbio_calls = set(id(c) for c in fjordbio_calls[:FJORDBIO_APPLICATIONS])
        for call in self.calls:
            if call.phase == "draft" or call.size == 0:
                continue
            pool = self.startups_by_country[call.route.home]
            chosen = rng.sample(pool, call.size - (1 if id(call) in fjordbio_calls else 0))
            if id(call) in fjordbio_calls:
                chosen.append(self.fjordbio)
            weights = APPLICATION_WALKS[call.phase]
            last_open = min(call.closes_at, now) - timedelta(hours=3)
            for startup in chosen:
                created = _between(rng, call.opens_at + timedelta(minutes=5), last_open)
                app = AppPlan(self.ids("application"), call, startup, rng.choice(startup.members), created,
                              walk(rng, wf, weights), months=rng.randint(6, 12), desks=rng.randint(1, 4), benches=rng.randint(0, 3))
                # A few withdraw and start again in the same call (one application that is not withdrawn per startup).
                call.apps.append(app)
                self.apps.append(app)
        self._plan_decisions()
        self._top_up_audit()
        for app in self.apps:
            self._time_application(app)
        # Truncation at "now" may have dropped a few steps: top up again until the target holds.
        while self._audit_estimate() < self.audit_target:
            self._add_cycles(self.audit_target - self._audit_estimate(), retime=True)
        for app in self.apps:
            first = app.created_at
            app.startup.first_seen = min(app.startup.first_seen or first, first)

    def _plan_decisions(self) -> None:
        """Nominations within each call's seats (exactly the planned number per hub), declines for the rest."""
        rng = self.rng
        wf = self.wf["application"]
        decidable = [c for c in self.calls if c.phase in ("released", "in_review")]
        by_group = defaultdict(list)
        for c in decidable:
            by_group["bvh" if c.route.hub is self.bvh else "other"].append(c)
        for group, calls in by_group.items():
            target = math.ceil(HUB_PLACEMENTS[group] * self.scale)
            candidates = {id(c): [a for a in c.apps if end_state(wf, a.path) == "under_review"] for c in calls}
            weights = [len(candidates[id(c)]) * (0.3 if c.phase == "in_review" else 1.0) for c in calls]
            total = sum(weights) or 1
            quotas = _largest_remainder(target, [w / total for w in weights])
            spare = 0
            for c, quota in sorted(zip(calls, quotas), key=lambda cq: -len(candidates[id(cq[0])])):
                quota += spare
                n = min(quota, len(candidates[id(c)]) - (1 if c.phase == "released" else 0))
                n = max(n, 0)
                spare = quota - n
                for app in rng.sample(candidates[id(c)], n):
                    app.nominee = True
                c.seats = max(1, n + rng.randint(0, 3))
            if spare:
                self.echo(f"warning: {spare} fewer nominations than planned for the {group} hubs (not enough candidates)")
        for c in decidable:
            for app in c.apps:
                if end_state(wf, app.path) != "under_review":
                    continue
                if app.nominee:
                    app.path += follow(wf, "under_review", ["nominate"])
                elif c.phase == "released" and rng.random() < 0.99:
                    app.path += follow(wf, "under_review", ["decline"])
                elif c.phase == "in_review" and rng.random() < 0.25:
                    app.path += follow(wf, "under_review", ["decline"])
        for c in self.calls:
            if not c.new:
                continue
            if c.phase == "open":
                c.seats = max(3, round(len(c.apps) * 0.07))

    def _audit_estimate(self) -> int:
        return sum(len(a.steps) if a.steps else len(a.path) for a in self.apps)

    def _top_up_audit(self) -> None:
        self.audit_target = self.target("status_change", TARGETS["status_change"] * 1.002)
        missing = self.audit_target - sum(len(a.path) for a in self.apps)
        if missing > 0:
            self._add_cycles(int(missing * 1.01) + 10, retime=False)

    def _add_cycles(self, missing: int, retime: bool) -> None:
        """Change requests answered before the call closed, inserted where the application was submitted or
        under review (a cycle of the table that comes back to the same state), until ``missing`` rows are added."""
        rng = self.rng
        wf = self.wf["application"]
        loopable = [a for a in self.apps if any(t.action == "submit" for t in a.path)]
        if not loopable:
            raise SeedError("no submitted applications to add change requests to")
        touched = {}
        while missing > 0:
            app = rng.choice(loopable)
            path = app.path
            spots = [i for i, t in enumerate(path) if t.target in self.cycles]
            i = rng.choice(spots)
            loop = self.cycles[path[i].target]
            app.path = path[:i + 1] + loop + path[i + 1:]
            follow(wf, wf.initial, [t.action for t in app.path])  # still a path of the table
            missing -= len(loop)
            touched[app.id] = app
        if retime:
            for app in touched.values():
                self._time_application(app)

    def _time_application(self, app: AppPlan) -> None:
        """Times for each step in order: answers (and resubmissions) before the call closes, decisions before the
        nomination deadline, nothing after now. Steps that would fall after now are dropped (the walk stops there)."""
        rng, now, call = self.rng, self.now, app.call
        path = app.path
        last_answer = max((i for i, t in enumerate(path) if t.action in ("submit", "resubmit")), default=-1)
        early_end = min(call.closes_at, now) - timedelta(minutes=1)
        times = sorted(_between(rng, app.created_at + timedelta(minutes=1), early_end) for _ in range(last_answer + 1))
        for i in range(1, len(times)):
            if times[i] <= times[i - 1]:
                times[i] = times[i - 1] + timedelta(seconds=1)
        cursor = times[-1] if times else app.created_at
        kept = len(times)
        for t in path[last_answer + 1:]:
            if t.action in ("nominate", "decline"):
                lo, hi = max(cursor, call.closes_at) + timedelta(hours=1), call.nomination_deadline - timedelta(hours=1)
            elif t.action == "start_review":
                lo, hi = cursor + timedelta(minutes=5), max(cursor, call.closes_at) + timedelta(days=21)
            else:
                lo, hi = cursor + timedelta(minutes=5), cursor + timedelta(days=30)
            hi = min(hi, now - timedelta(minutes=1))
            if hi <= lo:
                break
            cursor = _between(rng, lo, hi)
            times.append(cursor)
            kept += 1
        app.path = path[:kept]
        staff = call.route.cluster.members
        lead_weights = [3 if i == 0 else 1 for i in range(len(staff))]
        steps = []
        for t, at in zip(app.path, times):
            if workflow.APPLICANT in t.roles:
                actor = app.created_by if t.action == "submit" else rng.choice(app.startup.members)
            else:
                actor = rng.choices(staff, weights=lead_weights)[0]
            reason = note = None
            if t.reason_required:
                reason = rng.choice(REASONS.get(t.action, ["-"]))
            if t.action == "decline":
                note = DECLINE_NOTE
            steps.append(Step(t, at, actor, reason, note))
        app.steps = steps

    # ---------------------------------------------------------------- reviews

    def _plan_reviews(self) -> None:
        """Reviews by the call's cluster staff, between the first start of the review and the decision."""
        rng, now = self.rng, self.now
        eligible = []
        for app in self.apps:
            started = next((s.at for s in app.steps if s.t.action == "start_review"), None)
            if started is None:
                continue
            ended = next((s.at for s in app.steps if s.at > started and s.t.action in ("nominate", "decline", "withdraw")), None)
            app.review_window = (started, ended or now)
            if app.review_window[1] - started > timedelta(minutes=30):
                eligible.append(app)
        target = self.target("review", TARGETS["review"] * 1.005)
        if not eligible:
            return
        base, extra = divmod(target, len(eligible))
        bonus = set(id(a) for a in rng.sample(eligible, min(extra, len(eligible))))
        for app in eligible:
            staff = app.call.route.cluster.members
            n = min(len(staff) - 1, base + (1 if id(app) in bonus else 0))
            weights = [4 if i == 0 else 1 for i in range(len(staff))]
            reviewers = []
            while len(reviewers) < n:
                pick = rng.choices(staff, weights=weights)[0]
                if pick not in reviewers:
                    reviewers.append(pick)
            start, end = app.review_window
            span = (end - start).total_seconds()
            decided = any(s.t.action in ("nominate", "decline") for s in app.steps)
            for reviewer in reviewers:
                assigned = start + timedelta(seconds=span * rng.uniform(0.0, 0.2))
                created = assigned + timedelta(seconds=span * rng.uniform(0.0, 0.2))
                submitted = None
                if decided or rng.random() < 0.7:
                    submitted = created + timedelta(seconds=(end - created).total_seconds() * rng.uniform(0.1, 0.95))
                high = app.nominee
                scores = [rng.randint(3, 5) if high else rng.randint(1, 4) for _c in app.call.criteria]
                if submitted is None:
                    scores = scores[:2]
                app.reviews.append(SimpleNamespace(id=self.ids("review"), reviewer=reviewer, assigned=assigned, created=created,
                                                   submitted=submitted, scores=scores,
                                                   recommendation=("nominate" if high else rng.choice(["maybe", "no"])) if submitted else None))
            # One assignment in a hundred ends in a declared conflict of interest (no review).
            if rng.random() < 0.01:
                others = [s for s in staff if s not in reviewers]
                if others:
                    at = start + timedelta(seconds=span * rng.uniform(0.0, 0.5))
                    app.reviews.append(SimpleNamespace(id=None, reviewer=rng.choice(others), assigned=at,
                                                       conflict=at + timedelta(minutes=rng.randint(5, 600))))

    # ---------------------------------------------------------------- placements

    def _plan_placements(self) -> None:
        rng, now = self.rng, self.now
        wf = self.wf["placement"]
        self.placements = []
        for app in self.apps:
            nominated = next((s for s in app.steps if s.t.action == "nominate"), None)
            if nominated is None:
                continue
            call = app.call
            p = SimpleNamespace(id=self.ids("placement"), app=app, hub=call.route.hub, created=nominated.at, steps=[],
                                starts_on=None, ends_on=None, desks=None, benches=None, offer_expires_at=None,
                                checked_in_on=None, checked_out_on=None, funding=[], ever_offered=False, state="pending")
            self.placements.append(p)
            state, cursor = "pending", nominated.at
            zone = ZoneInfo(p.hub.timezone or call.timezone)
            members = app.startup.members
            hub_staff = p.hub.members
            if call.released_at is None:
                continue
            while True:
                t = choose(rng, wf, state, PLACEMENT_WALK)
                if t is None:
                    break
                data = {}
                if t.action in ("offer", "waitlist", "reject"):
                    lo = max(cursor, call.released_at) + timedelta(hours=1)
                    at = _between(rng, lo, lo + timedelta(days=20 if state == "pending" else 30))
                    if t.action == "offer":
                        expires_on = (at.astimezone(zone) + timedelta(days=10)).date()
                        starts_on = max(call.residency_starts_on + timedelta(days=rng.randint(0, 20)), expires_on + DAY)
                        latest_start = call.residency_ends_on - timedelta(days=60)
                        if starts_on > latest_start:
                            t = follow(wf, state, ["reject"])[0]
                        else:
                            ends_on = min(starts_on + timedelta(days=30 * app.months), call.residency_ends_on)
                            data = dict(starts_on=starts_on, ends_on=ends_on, desks=app.desks, benches=app.benches,
                                        offer_expires_at=datetime.combine(expires_on, clock(23, 59), zone).astimezone(UTC))
                    actor = rng.choice(hub_staff)
                elif t.action in ("accept", "decline"):
                    at = _between(rng, cursor + timedelta(minutes=10), p.offer_expires_at - timedelta(minutes=10))
                    actor = rng.choice(members)
                elif t.action == "lapse":
                    at, actor = p.offer_expires_at + timedelta(minutes=5), None
                elif t.action == "start":
                    at, actor = datetime.combine(p.starts_on, clock(0, 10), zone).astimezone(UTC), None
                elif t.action == "complete":
                    at = datetime.combine(p.ends_on + DAY, clock(0, 10), zone).astimezone(UTC)
                    actor = None
                    data = dict(checked_out_on=p.ends_on)
                elif t.action == "terminate":
                    end = datetime.combine(p.ends_on, clock(12), zone).astimezone(UTC)
                    at = _between(rng, cursor + timedelta(days=20), end - timedelta(days=1))
                    if at is None:
                        t = follow(wf, state, ["complete"])[0]
                        at = datetime.combine(p.ends_on + DAY, clock(0, 10), zone).astimezone(UTC)
                        actor, data = None, dict(checked_out_on=p.ends_on)
                    else:
                        actor, data = rng.choice(hub_staff), dict(checked_out_on=at.astimezone(zone).date())
                elif t.action == "extend":
                    new_end = p.ends_on + timedelta(days=rng.randint(30, 60))
                    end = datetime.combine(p.ends_on, clock(12), zone).astimezone(UTC)
                    at = _between(rng, cursor + timedelta(days=10), end - timedelta(days=10))
                    if new_end > call.residency_ends_on or at is None:
                        continue  # no room in the call's window: the walk picks again
                    actor, data = rng.choice(hub_staff), dict(ends_on=new_end)
                else:
                    raise SeedError(f"placement: no timing for {t.action}")
                if at is None or at > now - timedelta(minutes=1) or at <= cursor:
                    break
                reason = rng.choice(REASONS.get(t.action, ["-"])) if t.reason_required else None
                if t.action == "extend":
                    reason = f"Extended to {data['ends_on'].isoformat()}"
                for key, value in data.items():
                    setattr(p, key, value)
                if t.action == "offer":
                    p.ever_offered = True
                if t.action == "start" and rng.random() < 0.8:
                    p.checked_in_on = p.starts_on + timedelta(days=rng.randint(0, 3))
                p.steps.append(Step(t, at, actor, reason))
                state, cursor = t.target, at
            p.state = state
        # Capacity: every offer and extension fitted the hub on every day. A period per hub holds the most
        # that was ever offered at once (a bound on what was held at any moment, so every guard passed).
        self.capacities = []
        by_hub = defaultdict(list)
        for p in self.placements:
            if p.ever_offered:
                by_hub[p.hub.id].append(p)
        for hub_id, ps in by_hub.items():
            first = min(p.starts_on for p in ps)
            last = max(p.ends_on for p in ps)
            days = (last - first).days + 1
            desks, benches = [0] * (days + 1), [0] * (days + 1)
            for p in ps:
                a, b = (p.starts_on - first).days, (p.ends_on - first).days + 1
                desks[a] += p.desks
                desks[b] -= p.desks
                benches[a] += p.benches
                benches[b] -= p.benches
            peak_d = peak_b = run_d = run_b = 0
            for i in range(days):
                run_d += desks[i]
                run_b += benches[i]
                peak_d, peak_b = max(peak_d, run_d), max(peak_b, run_b)
            desks_left, benches_left = peak_d + 10, peak_b + 6
            while desks_left > 0 or benches_left > 0:  # a period holds at most limits.HUB_SPACE_MAX of each
                d, b = min(desks_left, HUB_SPACE_MAX), min(benches_left, HUB_SPACE_MAX)
                self.capacities.append(dict(id=self.ids("hub_capacity"), hub_id=hub_id, starts_on=first - timedelta(days=365),
                                            ends_on=max(last, self.today) + timedelta(days=730), desks=d, benches=b))
                desks_left, benches_left = desks_left - d, benches_left - b

    # ---------------------------------------------------------------- funding

    def _plan_funding(self) -> None:
        rng, now = self.rng, self.now
        self.funding = []
        eligible = defaultdict(list)
        for p in self.placements:
            accepted = next((s.at for s in p.steps if s.t.action == "accept"), None)
            if accepted is None:
                continue
            left = next((s.at for s in p.steps if s.t.action in ("complete", "terminate")), None) or now
            startup = p.app.startup
            if startup.founded_on is None:
                startup.founded_on = self._founded_on(startup)
            age_limit = datetime.combine(_years_after(startup.founded_on, 8), clock(0), UTC) - timedelta(days=10)
            hi = min(left, age_limit, now) - timedelta(days=25)
            lo = accepted + DAY
            if hi - lo < timedelta(days=5):
                continue
            for funder in p.app.call.route.funders:
                if funder.id in self.schemes:
                    eligible[funder.id].append((p, lo, hi))
        totals = {self.innovation_norway.id: math.ceil(FUNDING["in"] * self.scale)}
        others = [f for f in eligible if f != self.innovation_norway.id]
        other_total = math.ceil(FUNDING["other"] * self.scale)
        sizes = [len(eligible[f]) for f in others]
        for f, n in zip(others, _largest_remainder(other_total, [s / (sum(sizes) or 1) for s in sizes])):
            totals[f] = n
        for funder_id, total in totals.items():
            candidates = eligible.get(funder_id, [])
            if not candidates:
                continue
            base, extra = divmod(total, len(candidates))
            bonus = set(i for i in rng.sample(range(len(candidates)), extra))
            for i, (p, lo, hi) in enumerate(candidates):
                for _ in range(base + (1 if i in bonus else 0)):
                    self._plan_one_funding(p, self.schemes[funder_id], lo, hi)

    def _founded_on(self, startup: Org) -> date:
        seen = (startup.first_seen or self.now).date()
        return seen - timedelta(days=self.rng.randint(60, 900))

    def _plan_one_funding(self, p, scheme, lo: datetime, hi: datetime) -> None:
        rng, now = self.rng, self.now
        wf = self.wf["funding"]
        funder = self.orgs_by_name_by_id_cache(scheme.funder_id)
        zone = ZoneInfo(funder.timezone or "Europe/Oslo")  # grant offers lapse at the end of a day on the funder's clock
        members, officers = p.app.startup.members, funder.members
        created = _between(rng, lo, hi)
        period_start = max(p.starts_on, created.date() + timedelta(days=14))
        period_end = period_start + timedelta(days=rng.randint(180, 300))
        total = Decimal(rng.randint(20, 160) * 5000) if scheme.currency in ("NOK", "SEK", "DKK") else Decimal(rng.randint(10, 100) * 1000)
        requested = min((total * Decimal(rng.randint(30, 50)) / 100).quantize(Decimal("1.00")), scheme.max_amount)
        fa = SimpleNamespace(id=self.ids("funding_application"), placement=p, scheme=scheme, funder=funder, created=created,
                             created_by=rng.choice(members), steps=[], period_start=period_start, period_end=period_end,
                             total=total, requested=requested, own=total - requested, granted=None, share=None,
                             offer_expires_at=None, reports=[], disbursements=[], title=f"{_title_words(p.app.startup.name)}: "
                             f"{rng.choice(['clinical validation', 'pilot production', 'regulatory file', 'first-in-human study', 'scale-up'])}")
        p.funding.append(fa)
        self.funding.append(fa)
        state, cursor = "draft", created
        while True:
            t = choose(rng, wf, state, FUNDING_WALK)
            if t is None:
                break
            if t.action in ("submit", "resubmit"):
                at = _between(rng, cursor + timedelta(hours=2), cursor + timedelta(days=5))
                # The scheme's rules hold at submission: the residency is accepted or active, the company young enough.
                if at is None or at >= hi + timedelta(days=20):
                    break
                actor = rng.choice(members)
            elif t.action in ("start_assessment", "grant", "reject", "request_changes"):
                at = cursor + timedelta(days=rng.uniform(2, 25))
                actor = rng.choice(officers)
            elif t.action in ("accept_offer",):
                at = _between(rng, cursor + timedelta(hours=2), fa.offer_expires_at - timedelta(hours=1))
                actor = rng.choice(members)
            elif t.action == "lapse":
                at, actor = fa.offer_expires_at + timedelta(minutes=5), None
            elif t.action == "close":
                # Closed once every instalment is paid and every report approved (the grant's run, up to now).
                at = self._run_grant(fa, cursor, members, officers)
                if at is None:
                    break
                actor = rng.choice(officers)
            elif t.action == "cancel":
                at, actor = cursor + timedelta(days=rng.uniform(10, 90)), rng.choice(officers)
            else:
                raise SeedError(f"funding: no timing for {t.action}")
            if at is None or at > now - timedelta(minutes=1):
                if state == "in_progress" and t.action == "cancel":
                    self._run_grant(fa, cursor, members, officers)
                break
            if t.action == "grant":
                fa.granted = min(fa.requested, (fa.requested * Decimal(rng.choice([80, 90, 100])) / 100).quantize(Decimal("1.00")))
                fa.share = (fa.granted * 100 / fa.total).quantize(Decimal("0.01"), ROUND_HALF_UP)
                offer_day = (at.astimezone(zone) + timedelta(days=14)).date()
                fa.offer_expires_at = datetime.combine(offer_day, clock(23, 59), zone).astimezone(UTC)
                middle = period_start + (period_end - period_start) / 2
                for kind, due in (("progress", middle), ("final", period_end + timedelta(days=30))):
                    fa.reports.append(SimpleNamespace(id=self.ids("funding_report"), kind=kind, due_on=due, created=at,
                                                      steps=[], text="", submitted_by=None))
            reason = None
            if t.reason_required:
                reason = rng.choice(REASONS.get(f"funding_{t.action}", REASONS.get(t.action, ["-"])))
            fa.steps.append(Step(t, at, actor, reason))
            state, cursor = t.target, at
        fa.state = state
        if state not in ("granted", "in_progress", "lapsed", "closed", "cancelled"):
            fa.reports = []  # no grant decision, no reports

    def orgs_by_name_by_id_cache(self, org_id: int) -> Org:
        if not hasattr(self, "_org_by_id"):
            self._org_by_id = {o.id: o for o in self.orgs_by_name.values()}
        return self._org_by_id[org_id]

    def _run_grant(self, fa, accepted_at, members, officers):
        """Instalments and reports of an accepted grant in the order the services allow (each instalment after
        the one before and after the report it waits for), up to now. Returns when the officer may close the
        grant (everything paid, every report approved), which may lie after now; None if that is not reached."""
        rng = self.rng
        limit = self.now - timedelta(minutes=1)
        plan = fa.scheme.instalments or [{"label": "Payment", "percent": "100", "after": "acceptance"}]
        amounts, running = [], Decimal("0.00")
        for i, step in enumerate(plan):
            if i == len(plan) - 1:
                amounts.append(fa.granted - running)
            else:
                part = (fa.granted * Decimal(str(step["percent"])) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
                amounts.append(part)
                running += part
        reports = {r.kind: r for r in fa.reports}
        cursor = accepted_at
        for i, (step, amount) in enumerate(zip(plan, amounts)):
            kind = {"progress_report": "progress", "final_report": "final"}.get(step.get("after", "acceptance"))
            if kind is not None:
                done = self._run_report(reports[kind], cursor, members, officers) if kind in reports else None
                if done is None:
                    return None
                cursor = max(cursor, done)
            requested = cursor + timedelta(days=rng.uniform(1, 10))
            if requested > limit:
                return None
            paid = requested + timedelta(days=rng.uniform(2, 14))
            fa.disbursements.append(SimpleNamespace(
                id=self.ids("disbursement"), instalment=i, amount=amount, requested=requested, requested_by=rng.choice(members),
                paid=paid if paid <= limit else None, paid_by=rng.choice(officers) if paid <= limit else None,
                label=step.get("label", "")))
            if paid > limit:
                return None
            cursor = paid
        for report in fa.reports:  # reports no instalment waits for are approved before the close too
            done = self._run_report(report, cursor, members, officers)
            if done is None:
                return None
            cursor = max(cursor, done)
        return cursor + timedelta(days=rng.uniform(1, 20))

    def _run_report(self, report, cursor, members, officers):
        """A report walked from due: submitted around its due day, approved or returned (and submitted again)."""
        rng, now = self.rng, self.now
        if getattr(report, "state", None) is not None:
            return getattr(report, "approved_at", None)
        state = "due"
        due = datetime.combine(report.due_on, clock(12), UTC)
        at = max(cursor + timedelta(hours=1), due - timedelta(days=rng.uniform(0, 12)))
        while True:
            t = choose(rng, self.wf["report"], state, REPORT_WALK)
            if t is None:
                break
            if t.action == "submit":
                when = at if state == "due" else at + timedelta(days=rng.uniform(3, 15))
                actor = rng.choice(members)
                report.text = "We completed the planned work packages; the results are attached in summary."
                report.submitted_by = actor
            else:
                when = at + timedelta(days=rng.uniform(2, 20))
                actor = rng.choice(officers)
            if when > now - timedelta(minutes=1):
                break
            reason = rng.choice(REASONS["return"]) if t.reason_required else None
            report.steps.append(Step(t, when, actor, reason))
            state, at = t.target, when
        report.state = state
        report.approved_at = at if state == "approved" else None
        return report.approved_at

    # ---------------------------------------------------------------- writing

    def _backdate_demo(self) -> None:
        """The demo's own accounts, organisations, routes and schemes were made a moment ago, and the seeded history
        has them act for years: they are dated back to before its start (nothing else of theirs changes)."""
        start = self.now - timedelta(days=3300)
        with self.conn.begin():
            for name in ("organisation", "user_account", "membership", "route", "funding_scheme"):
                table = db.metadata.tables[name]
                self.conn.execute(table.update().where(table.c.created_at > start).where(table.c.id < self.ids.start[name])
                                  .values(created_at=start))

    def _emit_all(self) -> None:
        self._backdate_demo()
        w = self.writer
        startups_seen = defaultdict(lambda: self.now)
        for app in self.apps:
            s = app.startup
            startups_seen[s.id] = min(startups_seen[s.id], app.created_at)
        for org in self.new_orgs:
            first = startups_seen.get(org.id) if org.kind == "startup" else None
            created = (first - timedelta(days=self.rng.randint(1, 50))) if first else (
                self.now - timedelta(days=3300) if org.kind != "startup" else self.now - timedelta(days=self.rng.randint(1, 3000)))
            org.created_at = created
            if org.kind == "startup" and org.founded_on is None:
                org.founded_on = created.date() - timedelta(days=self.rng.randint(60, 900))
            w.add("organisation", dict(id=org.id, kind=org.kind, name=org.name, country=org.country,
                                       org_number=self.numbers(org.country), city=self.rng.choice(CITIES[org.country]),
                                       timezone=org.timezone, website=None, founded_on=org.founded_on if org.kind == "startup" else None,
                                       employees=self.rng.randint(1, 60) if org.kind == "startup" else None,
                                       track=org.track, trl=org.trl, created_at=created))
            self.bar.update(1)
        member_of = {}
        for org in self.new_orgs:
            if org.kind == "startup":
                for uid in org.members:
                    member_of[uid] = org
        for u in self.new_users:
            org = member_of.get(u["id"])
            created = u["created_at"] or (org.created_at - timedelta(minutes=30) if org else self.now - timedelta(days=self.rng.randint(1, 2000)))
            u["created_at"] = created
            w.add("user_account", dict(id=u["id"], email=u["email"], name=u["name"], password_hash=self.password_hash,
                                       language=u["language"], calendar_token=None, reminder_delivery="immediate", created_at=created))
            self.bar.update(1)
            if org is not None:
                self.new_memberships.append(dict(user_id=u["id"], organisation_id=org.id, created_at=org.created_at))
        for m in self.new_memberships:
            w.add("membership", dict(id=self.ids("membership"), **m))
        self._emit_join_requests()
        for route in self.new_routes:
            w.add("route", dict(id=route.id, home_country=route.home, host_hub_id=route.hub.id, cluster_id=route.cluster.id,
                                status="open", created_at=self.now - timedelta(days=3300)))
            for funder in route.funders:
                w.add("route_funder", dict(route_id=route.id, funder_id=funder.id))
        for scheme in self.new_schemes:
            w.add("funding_scheme", dict(id=scheme.id, funder_id=scheme.funder_id, name=scheme.name, currency=scheme.currency,
                                         max_amount=scheme.max_amount, max_share_percent=scheme.max_share_percent,
                                         instalments=scheme.instalments, home_countries=scheme.home_countries,
                                         max_company_age_years=scheme.max_company_age_years, report_kinds=scheme.report_kinds,
                                         active=True, created_at=self.now - timedelta(days=3300)))
        for cap in self.capacities:
            w.add("hub_capacity", cap)
        for call in self.calls:
            self._emit_call(call)
        self._attachment_source = self._master_attachment()
        for app in self.apps:
            self._emit_application(app)
            self.bar.update(1)
        for call in self.calls:
            self._emit_release(call)
        for p in self.placements:
            self._emit_placement(p)
            self.bar.update(1)
        for fa in self.funding:
            self._emit_funding(fa)
            self.bar.update(1)

    def _emit_join_requests(self) -> None:
        rng = self.rng
        startups = [o for o in self.new_orgs if o.kind == "startup"]
        registered = {u["id"]: u["created_at"] for u in self.new_users}
        for uid in self.unattached:
            if rng.random() >= 0.2:
                continue
            org = rng.choice(startups)
            created = max(registered[uid] + timedelta(hours=1), self.now - timedelta(days=rng.uniform(2, 60)))
            decided = rng.random() < 0.3
            rid = self.ids("join_request")
            self.writer.add("join_request", dict(id=rid, user_id=uid, organisation_id=org.id, message="I would like to join the team.",
                                                 created_at=created, decided_at=created + DAY if decided else None,
                                                 decided_by_id=org.members[0] if decided else None, approved=False if decided else None))
            name = self.user_names[uid]
            for member in org.members:
                self._outbox(member, "join_request", {"name": name, "email": self.users[uid][0], "organisation": org.name,
                                                      "organisation_id": org.id}, f"join-request:{rid}:user-{member}", created)
            if decided:
                self._outbox(uid, "join_decided", {"organisation": org.name, "approved": False}, f"join-decided:{rid}", created + DAY)

    def _form_ids(self, call: CallPlan) -> dict[str, int]:
        """The call's questions' ids by key: written with a new call (a copy of the default form),
        read for a call that was there before."""
        cache = self._question_ids
        if call.id in cache:
            return cache[call.id]
        texts = self.__dict__.get("_form_texts")
        if texts is None:  # the default form's wording in every language, worked out once
            texts = self._form_texts = (
                {k: forms.every_language(t) for k, t in form_defaults.SECTIONS},
                {q[1]: (forms.every_language(q[4]), forms.every_language(q[5]) if q[5] is not None else {})
                 for q in form_defaults.QUESTIONS})
        w, sections, ids = self.writer, {}, {}
        created = call.opens_at - timedelta(days=14)
        for position, (key, _title) in enumerate(form_defaults.SECTIONS):
            sections[key] = self.ids("form_section")
            w.add("form_section", dict(id=sections[key], call_id=call.id, key=key, position=position, title=texts[0][key],
                                       created_at=created))
        for position, (section, key, kind, binding, _label, _help, settings) in enumerate(form_defaults.QUESTIONS):
            ids[key] = self.ids("form_question")
            label, help_ = texts[1][key]
            w.add("form_question", dict(id=ids[key], call_id=call.id, section_id=sections[section], key=key, position=position,
                                        kind=kind, binding=binding, required=True, hidden=False, label=label, help=help_,
                                        settings=dict(settings), shown_if_key=None, shown_if_value=None,
                                        created_at=created, updated_at=created))
        w.add("form_change", dict(id=self.ids("form_change"), call_id=call.id, question_key=None, action="copied",
                                  detail={"from": "default"}, actor_id=self.admin, created_at=created))
        cache[call.id] = ids
        return ids

    def _emit_call(self, call: CallPlan) -> None:
        w = self.writer
        if not call.new:
            return
        status = {"released": "closed", "in_review": "closed", "open": "published", "draft": "draft"}[call.phase]
        w.add("call", dict(id=call.id, route_id=call.route.id, title=call.title,
                           description=f"Startups reside at {call.route.hub.name} for up to a year.", timezone=call.timezone,
                           opens_at=call.opens_at, closes_at=call.closes_at, nomination_deadline=call.nomination_deadline,
                           decision_deadline=call.decision_deadline, seats=call.seats,
                           residency_starts_on=call.residency_starts_on, residency_ends_on=call.residency_ends_on,
                           status=status, decisions_released_at=call.released_at, created_at=call.opens_at - timedelta(days=14)))
        for c in call.criteria:
            w.add("criterion", dict(id=c.id, call_id=call.id, name=c.name, weight=c.weight, position=c.position))
        self._form_ids(call)
        if call.phase == "draft":
            return
        wf = self.wf["call"]
        steps = [Step(follow(wf, "draft", ["publish"])[0], call.opens_at, self.admin)]
        if status == "closed":
            steps.append(Step(follow(wf, "published", ["close"])[0], call.closes_at + timedelta(minutes=1), None))
        for s in steps:
            self._audit("call", call.id, s)

    def _audit(self, workflow_name: str, record_id: int, step: Step) -> int:
        change_id = self.ids("status_change")
        t = step.t
        self.writer.add("status_change", dict(id=change_id, workflow=workflow_name, record_id=record_id, from_state=t.source,
                                              to_state=t.target, action=t.action, actor_id=step.actor, reason=step.reason,
                                              note=step.note, visible_to_applicant=t.visible_to_applicant, forced=False,
                                              created_at=step.at))
        return change_id

    def _notify(self, workflow_name: str, record_id: int, change_id: int, step: Step, audiences: dict, context: dict) -> None:
        """The e-mails of a transition, as ``workflow.perform`` queues them (one per member of each audience)."""
        t = step.t
        for notice in t.notify:
            for uid in audiences.get(notice.audience, ()):
                reason = step.reason if (t.visible_to_applicant and t.reason_public) or notice.audience != "applicant" else None
                ctx = {"workflow": workflow_name, "record_id": record_id, "action": t.action, "from_state": t.source,
                       "to_state": t.target, "reason": reason, "note": step.note, **context}
                self._outbox(uid, notice.template, ctx, f"{workflow_name}:{record_id}:change-{change_id}:{notice.template}:user-{uid}",
                             step.at)

    def _outbox(self, uid: int, template: str, context: dict, dedup_key: str, at: datetime) -> None:
        email, language = self.users[uid]
        old = at < self.now - DAY
        sent = at + timedelta(seconds=self.rng.randint(20, 300)) if old else None
        self.writer.add("outbox_message", dict(id=self.ids("outbox_message"), dedup_key=dedup_key, recipient=email, user_id=uid,
                                               template=template, context=context, language=language,
                                               delivery="sent" if old else "queued", optional=False, attempts=1 if old else 0,
                                               next_attempt_at=at, last_error=None, last_attempt_at=sent, claimed_until=None,
                                               sent_at=sent, created_at=at))

    def _master_attachment(self) -> str:
        """One small PDF; every attachment's stored name is a hard link to it (a copy where links are not possible)."""
        folder = files.storage_dir()
        self.attachment_dir = folder
        data = demo.PDF
        self.attachment_digest = hashlib.sha256(data).hexdigest()
        path = os.path.join(folder, f"scale{self.attachment_digest[:24]}")
        if not os.path.exists(path):
            with open(path, "wb") as fh:
                fh.write(data)
        self.attachment_size = len(data)
        return path

    def _store_attachment(self) -> str:
        name = f"{self.rng.getrandbits(128):032x}"
        target = os.path.join(self.attachment_dir, name)
        try:
            os.link(self._attachment_source, target)
        except OSError:
            # A file system's limit of links per file (65,000 on ext4), or none at all: a fresh master, else a copy.
            self._masters = getattr(self, "_masters", 0) + 1
            fresh = f"{self._attachment_source}x{self._masters}"
            with open(fresh, "wb") as fh:
                fh.write(demo.PDF)
            try:
                os.link(fresh, target)
                self._attachment_source = fresh
            except OSError:
                os.replace(fresh, target)
        return name

    def _answers(self, app: AppPlan, complete: bool) -> dict:
        s = app.startup
        words = TRACK_WORDS.get(s.track or "other", "research tools")
        answers = {
            "summary": f"{s.name} develops {words} for earlier diagnosis and better treatment.",
            "team": "Two founders with a background in research and industry.",
            "technology": f"TRL {s.trl}: validated in the lab; next a pilot.",
            "expertise": "Regulatory and clinical expertise.",
            "lab_needs": "One bench, BSL-1." if app.benches else "none",
            "funding_status": "Pre-seed round closed.",
            "funding_plans": "Apply to our home country's funder during the residency.",
        }
        if not complete:
            answers = {k: v for k, v in answers.items() if k in ("summary", "team")}
        return answers

    def _emit_application(self, app: AppPlan) -> None:
        w, rng = self.writer, self.rng
        call, s = app.call, app.startup
        submitted = any(st.t.action == "submit" for st in app.steps)
        answers = self._answers(app, complete=submitted or rng.random() < 0.3)
        typed = submitted or len(answers) > 2
        status = end_state(self.wf["application"], [st.t for st in app.steps])
        response_due = None
        if status == "changes_requested":
            last = app.steps[-1]
            due_day = (last.at.astimezone(ZoneInfo(call.timezone)) + timedelta(days=rng.randint(7, 14))).date()
            response_due = datetime.combine(due_day, clock(23, 59), ZoneInfo(call.timezone)).astimezone(UTC)
        updated = app.steps[-1].at if app.steps else app.created_at
        # As the workflow's hook sets it: the time of the last submission (or resubmission).
        submitted_at = max((st.at for st in app.steps if st.t.target == "submitted"), default=None)
        w.add("application", dict(id=app.id, call_id=call.id, startup_id=s.id, status=status,
                                  track=s.track, trl=s.trl,
                                  desired_start=call.residency_starts_on if typed else None, months=app.months if typed else None,
                                  desks=app.desks if typed else None, benches=app.benches if typed else None,
                                  response_due_at=response_due, submitted_at=submitted_at, created_by_id=app.created_by,
                                  created_at=app.created_at, updated_at=updated))
        self.counts["application:" + status] += 1
        w.add("application_edit", dict(id=self.ids("application_edit"), application_id=app.id, user_id=app.created_by,
                                       fields=["created"], created_at=app.created_at))
        question_ids = self._form_ids(call)
        for key, value in answers.items():
            w.add("answer", dict(id=self.ids("answer"), application_id=app.id, question_id=question_ids[key], value=value,
                                 updated_at=updated))
        attachments = []
        for st in app.steps:
            if st.t.action in ("submit", "resubmit"):
                if st.t.action == "submit":
                    at = st.at - timedelta(seconds=30)
                    w.add("attachment", dict(id=self.ids("attachment"), application_id=app.id,
                                             question_id=question_ids["attachments"], uploaded_by_id=st.actor,
                                             filename="pitch-deck.pdf", stored_name=self._store_attachment(),
                                             content_type="application/pdf", size_bytes=self.attachment_size,
                                             sha256=self.attachment_digest, created_at=at))
                    w.add("application_edit", dict(id=self.ids("application_edit"), application_id=app.id, user_id=st.actor,
                                                   fields=["attachments"], created_at=at))
                    attachments = ["pitch-deck.pdf"]
                    fields = FREE_TEXT + TYPED_FIELDS
                else:
                    fields = ["summary"]
                w.add("application_edit", dict(id=self.ids("application_edit"), application_id=app.id, user_id=st.actor,
                                               fields=list(fields), created_at=st.at - timedelta(seconds=5)))
        values = {**{k: answers.get(k, "") for k in FREE_TEXT}, "track": s.track, "trl": s.trl,
                  "desired_start": call.residency_starts_on.isoformat() if typed else None, "months": app.months if typed else None,
                  "desks": app.desks if typed else None, "benches": app.benches if typed else None}
        context = {"call_title": call.title, "startup_name": s.name, "application_id": app.id,
                   "answers": [[k, "" if values[k] is None else str(values[k])] for k in FREE_TEXT + TYPED_FIELDS],
                   "attachments": attachments}
        audiences = {"applicant": s.members, "cluster": call.route.cluster.members, "hub": call.route.hub.members}
        for st in app.steps:
            change = self._audit("application", app.id, st)
            self._notify("application", app.id, change, st, audiences, context)
        self._emit_reviews(app)
        nominated = next((st for st in app.steps if st.t.action == "nominate"), None)
        if nominated is not None:
            app.nomination = SimpleNamespace(at=nominated.at, by=nominated.actor)
        if call is self.big_call:
            self.demo_counts["big_call"] += 1
        if call.route.cluster is self.occ and status != "draft":
            self.demo_counts["cluster_applications"] += 1
        if s is self.fjordbio:
            self.demo_counts["fjordbio_applications"] += 1

    def _emit_reviews(self, app: AppPlan) -> None:
        w = self.writer
        lead = app.call.route.cluster.members[0]
        for r in app.reviews:
            if getattr(r, "conflict", None) is not None:
                w.add("review_assignment", dict(id=self.ids("review_assignment"), application_id=app.id, reviewer_id=r.reviewer,
                                                assigned_by_id=lead, created_at=r.assigned, conflict_declared_at=r.conflict,
                                                conflict_reason="I advise this startup."))
                continue
            w.add("review_assignment", dict(id=self.ids("review_assignment"), application_id=app.id, reviewer_id=r.reviewer,
                                            assigned_by_id=lead, created_at=r.assigned, conflict_declared_at=None, conflict_reason=None))
            criteria = app.call.criteria
            score = None
            if r.submitted is not None:
                score = weighted_score({c.id: v for c, v in zip(criteria, r.scores)}, criteria)
            w.add("review", dict(id=r.id, application_id=app.id, reviewer_id=r.reviewer, recommendation=r.recommendation,
                                 comment="Strong team; the plan for the residency is clear." if r.submitted else "",
                                 weighted_score=score, submitted_at=r.submitted, created_at=r.created,
                                 updated_at=r.submitted or r.created))
            for c, v in zip(criteria, r.scores):
                w.add("review_score", dict(review_id=r.id, criterion_id=c.id, score=v))
            r.weighted = score

    def _emit_release(self, call: CallPlan) -> None:
        """Nominations ranked by their reviews' mean; at the release, the decision e-mails of the call."""
        nominated = [a for a in call.apps if getattr(a, "nomination", None) is not None]

        def mean(app):
            scores = [r.weighted for r in app.reviews if getattr(r, "weighted", None) is not None]
            return sum(scores) / len(scores) if scores else Decimal(0)

        for rank, app in enumerate(sorted(nominated, key=lambda a: (-mean(a), a.id)), start=1):
            self.writer.add("nomination", dict(id=self.ids("nomination"), application_id=app.id, call_id=call.id,
                                               rationale="Strong fit with the hub's focus; the best scores of the round.",
                                               rank=rank, nominated_by_id=app.nomination.by, created_at=app.nomination.at))
        if call.released_at is None:
            return
        for app in call.apps:
            decision = app.steps[-1].t.target if app.steps else None
            if decision not in ("nominated", "not_nominated"):
                continue
            note = app.steps[-1].note
            for uid in app.startup.members:
                self._outbox(uid, "decision_nominated" if decision == "nominated" else "decision_not_nominated",
                             {"call_title": call.title, "startup_name": app.startup.name, "hub_name": call.route.hub.name,
                              "note": note, "application_id": app.id}, f"decision:{app.id}:{decision}:user-{uid}", call.released_at)

    def _placement_context(self, p) -> dict:
        app = p.app
        return {"call_title": app.call.title, "startup_name": app.startup.name, "hub_name": p.hub.name, "placement_id": p.id,
                "starts_on": p.starts_on.isoformat() if p.starts_on else None, "ends_on": p.ends_on.isoformat() if p.ends_on else None,
                "desks": p.desks, "benches": p.benches,
                "offer_expires_at": p.offer_expires_at.isoformat() if p.offer_expires_at else None,
                "timezone": p.hub.timezone or app.call.timezone}

    def _emit_placement(self, p) -> None:
        w = self.writer
        updated = p.steps[-1].at if p.steps else p.created
        w.add("placement", dict(id=p.id, application_id=p.app.id, call_id=p.app.call.id, hub_id=p.hub.id, status=p.state, starts_on=p.starts_on,
                                ends_on=p.ends_on, desks=p.desks, benches=p.benches, offer_expires_at=p.offer_expires_at,
                                conditions=CONDITIONS if p.starts_on else None, checked_in_on=p.checked_in_on,
                                checked_out_on=p.checked_out_on, created_at=p.created, updated_at=updated))
        self.counts["placement:" + p.state] += 1
        if p.hub is self.bvh:
            self.demo_counts["hub_placements"] += 1
        app = p.app
        audiences = {"applicant": app.startup.members, "hub": p.hub.members, "cluster": app.call.route.cluster.members}
        context = self._placement_context(p)
        for st in p.steps:
            change = self._audit("placement", p.id, st)
            self._notify("placement", p.id, change, st, audiences, context)
        if p.state in ("completed", "terminated"):
            self._emit_surveys(p, p.steps[-1].at)

    def _emit_surveys(self, p, ended_at: datetime) -> None:
        rng = self.rng
        startup = p.app.startup
        for months in (12, 24, 36):
            due = add_months(p.checked_out_on, months)
            # A survey opens on its due day; the startup answers within weeks, or not yet.
            submitted_at = datetime.combine(due + timedelta(days=rng.randint(0, 40)), clock(10), UTC)
            answered = submitted_at <= self.now - timedelta(hours=1) and submitted_at > ended_at and rng.random() < 0.65
            if not answered:
                submitted_at = None
            figures = dict(employees=rng.randint(2, 80), revenue=Decimal(rng.randint(0, 5000) * 1000),
                           capital_raised=Decimal(rng.randint(0, 3000) * 1000), export_revenue=Decimal(rng.randint(0, 1000) * 1000),
                           patents_filed=rng.randint(0, 4), products_launched=rng.randint(0, 2),
                           partnerships_with_host=rng.randint(0, 3)) if answered else dict.fromkeys(
                ("employees", "revenue", "capital_raised", "export_revenue", "patents_filed", "products_launched",
                 "partnerships_with_host"))
            self.writer.add("impact_survey", dict(id=self.ids("impact_survey"), placement_id=p.id, startup_id=startup.id,
                                                  months_after=months, due_on=due,
                                                  currency=CURRENCY_BY_COUNTRY.get(startup.country, "EUR"), **figures,
                                                  submitted_at=submitted_at,
                                                  submitted_by_id=rng.choice(startup.members) if answered else None,
                                                  created_at=ended_at))

    def _funding_context(self, fa) -> dict:
        return {"title": fa.title, "startup_name": fa.placement.app.startup.name, "scheme_name": fa.scheme.name,
                "funder_name": fa.funder.name, "currency": fa.scheme.currency, "amount_requested": str(fa.requested),
                "granted_amount": str(fa.granted) if fa.granted is not None else None,
                "offer_expires_at": fa.offer_expires_at.isoformat() if fa.offer_expires_at else None,
                "timezone": fa.funder.timezone or "Europe/Oslo", "funding_id": fa.id}

    def _emit_funding(self, fa) -> None:
        w, rng = self.writer, self.rng
        startup = fa.placement.app.startup
        granted = fa.state in ("granted", "in_progress", "lapsed", "closed", "cancelled")
        updated = fa.steps[-1].at if fa.steps else fa.created
        w.add("funding_application", dict(
            id=fa.id, scheme_id=fa.scheme.id, startup_id=startup.id, placement_id=fa.placement.id, status=fa.state,
            title=fa.title, description="A project during the residency, with the hub's scientists.",
            period_start=fa.period_start, period_end=fa.period_end, own_financing=fa.own, amount_requested=fa.requested,
            granted_amount=fa.granted if granted else None, granted_share_percent=fa.share if granted else None,
            conditions="Reports as agreed." if granted else None, offer_expires_at=fa.offer_expires_at if granted else None,
            assessment_notes="", created_by_id=fa.created_by, created_at=fa.created, updated_at=updated))
        self.counts["funding:" + fa.state] += 1
        if fa.funder is self.innovation_norway and fa.state != "draft":
            self.demo_counts["funder_funding"] += 1
        # The budget: two lines in the period's first quarters, adding up to the total costs.
        first = fa.period_start
        quarter = (first.month - 1) // 3 + 1
        half = (fa.total / 2).quantize(Decimal("1.00"))
        for category, amount in ((rng.choice(["personnel", "equipment"]), half), (rng.choice(["services", "consumables", "rent"]),
                                                                               fa.total - half)):
            w.add("budget_line", dict(id=self.ids("budget_line"), funding_application_id=fa.id, category=category,
                                      year=first.year, quarter=quarter, amount=amount))
        audiences = {"applicant": startup.members, "funder": fa.funder.members}
        context = self._funding_context(fa)
        for st in fa.steps:
            change = self._audit("funding", fa.id, st)
            self._notify("funding", fa.id, change, st, audiences, context)
        if not granted:
            return
        for report in fa.reports:
            w.add("funding_report", dict(id=report.id, funding_application_id=fa.id, kind=report.kind, due_on=report.due_on,
                                         status=getattr(report, "state", "due"), text=report.text,
                                         submitted_by_id=report.submitted_by, created_at=report.created))
            report_context = context | {"report_kind": report.kind, "due_on": report.due_on.isoformat(), "report_id": report.id}
            for st in report.steps:
                change = self._audit("report", report.id, st)
                self._notify("report", report.id, change, st, audiences, report_context)
        for d in fa.disbursements:
            w.add("disbursement", dict(id=d.id, funding_application_id=fa.id, instalment=d.instalment, amount=d.amount,
                                       requested_at=d.requested, requested_by_id=d.requested_by, paid_at=d.paid, paid_by_id=d.paid_by,
                                       paid_on=d.paid.date() if d.paid is not None else None,
                                       payment_reference=f"SCALE-{d.id}" if d.paid is not None else None))
            if d.paid is not None:
                for uid in startup.members:
                    self._outbox(uid, "funding_instalment_paid", context | {"amount": str(d.amount), "label": d.label},
                                 f"instalment-paid:{d.id}:user-{uid}", d.paid)

    # ---------------------------------------------------------------- report

    def summary(self) -> dict:
        written = self.writer.written
        return {"scale": self.scale, "written": dict(written), "demo": dict(self.demo_counts), "timings": self.timings,
                "states": {k: v for k, v in self.counts.items() if not k.startswith("written:")}}


def _between(rng: random.Random, lo: datetime, hi: datetime) -> datetime | None:
    if hi <= lo:
        return None
    return lo + timedelta(seconds=rng.uniform(0, (hi - lo).total_seconds()))


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _largest_remainder(total: int, shares: list[float]) -> list[int]:
    """``total`` split by ``shares`` into whole numbers that add up to it exactly."""
    if not shares:
        return []
    raw = [total * s for s in shares]
    whole = [int(math.floor(r)) for r in raw]
    left = total - sum(whole)
    order = sorted(range(len(raw)), key=lambda i: raw[i] - whole[i], reverse=True)
    for i in order[:left]:
        whole[i] += 1
    return whole


# ------------------------------------------------------------------ the database around the seed


def has_schema(conn) -> bool:
    names = set(inspect(conn).get_table_names())
    return {t.name for t in db.metadata.sorted_tables} <= names


def has_data(conn) -> bool:
    return bool(conn.execute(select(func.count()).select_from(Organisation.__table__)).scalar())


def prepare_connection(conn) -> None:
    """Speed for the seed's one connection: on SQLite no fsync per chunk (a crash mid-seed leaves a database to
    throw away; the seed says so), a larger cache; on PostgreSQL commits that do not wait for the WAL flush."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA synchronous = OFF")
        conn.exec_driver_sql("PRAGMA cache_size = -200000")
        conn.exec_driver_sql("PRAGMA temp_store = MEMORY")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET synchronous_commit = off")
    conn.commit()


def finish(engine, echo=click.echo) -> dict:
    """Sequences past the explicit ids (PostgreSQL), fresh planner statistics, and a check of the file (SQLite)."""
    result = {}
    t0 = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in db.metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement in (True, "auto") and table.c.id.type.python_type is int:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                      f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{table.name}\"), false)"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA synchronous = NORMAL")
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            result["integrity_check"] = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            conn.commit()
    result["finish_seconds"] = time.perf_counter() - t0
    return result


def seed_scale(scale: float = 1.0, *, yes: bool = False, random_seed: int = 13, chunk: int = 5000, echo=click.echo,
               progress: bool = True) -> dict:
    """Seed the database of the current app at ``scale``; returns what was written and how long it took."""
    t0 = time.perf_counter()
    engine = db.engine
    with engine.connect() as conn:
        if not has_schema(conn):
            raise SeedError("The database has no schema yet: run `flask --app residency db upgrade` first.")
        existing = has_data(conn)
    if existing and not yes:
        raise SeedError("The database already has data. seed-scale adds about 3 million rows to it; "
                        "run it on an empty database, or pass --yes to add them anyway (on top of the demo programme).")
    demo_seconds = 0.0
    if not existing:
        started = time.perf_counter()
        demo.seed()
        demo_seconds = time.perf_counter() - started
    db.session.remove()
    with engine.connect() as conn:
        prepare_connection(conn)
        seeder = ScaleSeed(scale, random_seed, chunk, echo=echo, progress=progress)
        summary = seeder.run(conn)
        conn.commit()
    summary.update(finish(engine, echo))
    # What the scheduler's "insight-summaries" job would have built within minutes of the rows arriving.
    started = time.perf_counter()
    summary["insight"] = summaries.refresh()
    summary["timings"]["insight"] = time.perf_counter() - started
    with engine.connect() as conn:
        summary["totals"] = {name: conn.execute(select(func.count()).select_from(db.metadata.tables[name])).scalar()
                             for name in TARGETS}
    summary["timings"]["demo"] = demo_seconds
    summary["timings"]["total"] = time.perf_counter() - t0
    summary["dialect"] = engine.dialect.name
    summary["attachments"] = seeder.attachment_dir
    return summary


@click.command("seed-scale")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.001, 5.0),
              help="1.0: 100,000 applications, 1,000,000 audit rows...; 0.01 a small version for tests.")
@click.option("--yes", is_flag=True, help="Add the rows even though the database already has data.")
@click.option("--seed", "random_seed", default=13, show_default=True, help="Random seed (the same seed, the same shape).")
@click.option("--chunk", default=5000, show_default=True, type=click.IntRange(100, 100_000), help="Rows per INSERT transaction.")
@with_appcontext
def seed_scale_command(scale: float, yes: bool, random_seed: int, chunk: int) -> None:
    """Fill a migrated database with the demo programme at Nordic scale (benchmarks; see README "Benchmarks")."""
    summary = seed_scale(scale, yes=yes, random_seed=random_seed, chunk=chunk)
    totals = summary["totals"]
    click.echo(f"seed-scale {scale} on {summary['dialect']}, rows in the database now: "
               + ", ".join(f"{totals[k]:,} {k}" for k in TARGETS))
    short = [k for k in TARGETS if totals[k] < math.ceil(TARGETS[k] * scale)]
    if short:
        click.echo(f"warning: fewer rows than the scale promises in {', '.join(short)}")
    click.echo("demo accounts see: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary["demo"].items())))
    t = summary["timings"]
    click.echo(f"time: demo {t['demo']:.1f} s, plan {t['plan']:.1f} s, write {t['write']:.1f} s, "
               f"finish {summary['finish_seconds']:.1f} s, insight summaries {t['insight']:.1f} s, total {t['total']:.1f} s")
    if "integrity_check" in summary:
        click.echo(f"PRAGMA integrity_check: {summary['integrity_check']}")
    click.echo(f"Every seeded account uses the demo password '{demo.PASSWORD}' (one hash, reused). "
               f"Attachments: {summary['attachments']}")
