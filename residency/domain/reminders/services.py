"""Reminder rules: each derives from the database what is due now and writes
outbox rows with unique keys, so a rerun, a crash mid-run or a second
scheduler never sends a reminder twice.

Offsets come from the RESIDENCY_REMINDERS setting and are counted on the local
clock of the call's or hub's time zone ("1 day before 12:00 CEST" is 12:00 the
day before, even across a daylight-saving switch). Each rule works in batches
with a fixed number of queries per batch, never one per row.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from residency.core import workflow
from residency.domain.accounts.queries import members_of
from residency.core.extensions import db
from residency.core.uow import each_in_own_unit, service
from residency.core.i18n import format_in_zone
from residency.domain.applications import rules as application_rules
from residency.domain.applications.models import Application, DeadlineExtension
from residency.domain.programme.models import Call
from residency.domain.funding.models import FundingApplication, FundingReport, FundingScheme
from residency.domain.funding.services import funder_zone
from residency.domain.impact.models import ImpactSurvey
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement
from residency.domain.review.models import Review, ReviewAssignment
from residency.core.models import StatusChange
from residency.domain.accounts.models import User
from residency.core.db import utcnow
from residency.core.outbox import enqueue_many

UTC = ZoneInfo("UTC")
log = logging.getLogger(__name__)


def before(deadline: datetime, zone: str, days: int) -> datetime:
    """``days`` before ``deadline`` by the wall clock of ``zone``, as a UTC instant."""
    local = deadline.astimezone(ZoneInfo(zone)).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def _offsets() -> dict:
    return current_app.config["REMINDERS"]


def _batch() -> int:
    return current_app.config["REMINDER_BATCH_SIZE"]


def _due(when: datetime, zone: str) -> dict:
    """The moment a reminder names, kept as data: the outbox writes it (due_text) in the reader's language
    when the e-mail is rendered; due_text itself is the English, for messages read without it."""
    return {"due_at": when.isoformat(), "due_zone": zone}


def _emit(items: list[dict], now: datetime) -> int:
    """Queue the reminders in the rule's unit of work (the rule commits once, at its end)."""
    enqueue_many(items, now=now)
    return len(items)


# ------------------------------------------------------------------ applications


@service
def call_closing(now: datetime) -> int:
    """Owners of drafts: the call closes in 7 days, and in 1 day (their own extended deadline if they have one)."""
    offsets = tuple(sorted(_offsets()["call_closing_days"]))
    horizon = now + timedelta(days=max(offsets) + 2)
    calls = list(db.session.scalars(select(Call).where(Call.status.in_(("published", "closed")))
                                    .where(Call.opens_at <= now)).unique())
    extensions = application_rules.latest_extensions(DeadlineExtension.call_id.in_([c.id for c in calls])) if calls else {}
    sent = 0
    for call in calls:
        standard_open = now < call.closes_at <= horizon
        extended = {s for (c, s), closes_at in extensions.items() if c == call.id and closes_at > now}
        if not standard_open and not extended:
            continue
        last_id = 0
        while True:
            rows = list(db.session.execute(
                select(Application.id, Application.startup_id).where(
                    Application.call_id == call.id, Application.status == "draft", Application.id > last_id)
                .order_by(Application.id).limit(_batch())))
            if not rows:
                break
            last_id = rows[-1].id
            members = members_of(r.startup_id for r in rows)
            items = []
            for app_id, startup_id in rows:
                deadline = application_rules.deadline_with(call, extensions.get((call.id, startup_id)))
                if not now < deadline <= horizon:
                    continue
                days, due_text = _closing_offset(deadline, call.timezone, offsets, now)
                if days is None:
                    continue
                context = {"call_title": call.title, "days": days, "application_id": app_id, "due_text": due_text,
                           **_due(deadline, call.timezone)}
                for user in members.get(startup_id, []):
                    items.append(dict(recipient=user, template="call_closing", context=context, optional=True,
                                      dedup_key=f"call-closing:{days}d:application:{app_id}:user-{user.id}"))
            sent += _emit(items, now)
    return sent


@lru_cache(maxsize=4096)
def _closing_offset(deadline: datetime, zone: str, offsets: tuple, now: datetime):
    """The offset due now for this deadline (the nearest: a late 7-day reminder gives way to the
    1-day one) and the deadline as text; the same for every draft sharing the deadline."""
    due = [d for d in offsets if before(deadline, zone, d) <= now]
    if not due:
        return None, None
    return min(due), format_in_zone(deadline, zone)


@service
def change_request_due(now: datetime) -> int:
    """Applicants who have not answered a change request, 2 days before its date."""
    days = _offsets()["change_request_days"]
    rows = list(db.session.execute(
        select(Application.id, Application.startup_id, Application.response_due_at, Call.timezone, Call.title)
        .join(Call, Call.id == Application.call_id)
        .where(Application.status == "changes_requested", Application.response_due_at > now,
               Application.response_due_at <= now + timedelta(days=days + 1))))
    members = members_of(r.startup_id for r in rows)
    items = []
    for app_id, startup_id, due_at, zone, title in rows:
        if before(due_at, zone, days) > now:
            continue
        context = {"call_title": title, "application_id": app_id, "due_text": format_in_zone(due_at, zone), **_due(due_at, zone)}
        for user in members.get(startup_id, []):
            items.append(dict(recipient=user, template="change_request_due", context=context, optional=False,
                              dedup_key=f"change-request:{days}d:application:{app_id}:{due_at.isoformat()}:user-{user.id}"))
    return _emit(items, now)


# ------------------------------------------------------------------ the cluster


def _calls_before_nomination(now: datetime, days: int) -> list[Call]:
    calls = db.session.scalars(select(Call).where(
        Call.nomination_deadline > now, Call.nomination_deadline <= now + timedelta(days=days + 1))).unique()
    return [c for c in calls if before(c.nomination_deadline, c.timezone, days) <= now]


@service
def reviews_due(now: datetime) -> int:
    """Reviewers with unscored assignments, 3 days before the nomination deadline."""
    days = _offsets()["reviews_due_days"]
    sent = 0
    for call in _calls_before_nomination(now, days):
        submitted = select(Review.id).where(Review.application_id == ReviewAssignment.application_id,
                                            Review.reviewer_id == ReviewAssignment.reviewer_id,
                                            Review.submitted_at.is_not(None)).exists()
        rows = list(db.session.execute(
            select(ReviewAssignment.reviewer_id, func.count()).join(Application, Application.id == ReviewAssignment.application_id)
            .where(Application.call_id == call.id, Application.status.in_(("submitted", "under_review")),
                   ReviewAssignment.conflict_declared_at.is_(None), ~submitted)
            .group_by(ReviewAssignment.reviewer_id)))
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([r[0] for r in rows])))} if rows else {}
        items = [dict(recipient=users[reviewer_id], template="reviews_due", optional=True,
                      context={"call_title": call.title, "count": count, "call_id": call.id,
                               "due_text": format_in_zone(call.nomination_deadline, call.timezone),
                               **_due(call.nomination_deadline, call.timezone)},
                      dedup_key=f"reviews-due:{days}d:call:{call.id}:user-{reviewer_id}")
                 for reviewer_id, count in rows if reviewer_id in users]
        sent += _emit(items, now)
    return sent


@service
def nomination_deadline(now: datetime) -> int:
    """Cluster staff, 3 days before the nomination deadline of a call whose seats are not filled."""
    days = _offsets()["nomination_deadline_days"]
    calls = _calls_before_nomination(now, days)
    if not calls:
        return 0
    nominated = dict(db.session.execute(select(Application.call_id, func.count()).where(
        Application.call_id.in_([c.id for c in calls]), Application.status == "nominated").group_by(Application.call_id)).all())
    open_calls = [c for c in calls if nominated.get(c.id, 0) < c.seats]
    members = members_of(c.route.cluster_id for c in open_calls)
    items = []
    for call in open_calls:
        context = {"call_title": call.title, "days": days, "call_id": call.id, "seats": call.seats,
                   "nominated": nominated.get(call.id, 0), "due_text": format_in_zone(call.nomination_deadline, call.timezone),
                   **_due(call.nomination_deadline, call.timezone)}
        for user in members.get(call.route.cluster_id, []):
            items.append(dict(recipient=user, template="nomination_deadline", context=context, optional=True,
                              dedup_key=f"nomination-deadline:{days}d:call:{call.id}:user-{user.id}"))
    return _emit(items, now)


# ------------------------------------------------------------------ the hub


@service
def hub_waiting(now: datetime) -> int:
    """Hub administrators, when nominations have waited over 10 days for a placement decision."""
    days = _offsets()["hub_waiting_days"]
    rows = list(db.session.execute(select(Placement.id, Placement.hub_id).where(
        Placement.status == "pending", Placement.created_at <= now - timedelta(days=days))))
    members = members_of(r.hub_id for r in rows)
    items = []
    for placement_id, hub_id in rows:
        for user in members.get(hub_id, []):
            items.append(dict(recipient=user, template="hub_waiting", optional=True,
                              context={"placement_id": placement_id, "days": days},
                              dedup_key=f"hub-waiting:{days}d:placement:{placement_id}:user-{user.id}"))
    return _emit(items, now)


@service
def placement_reminders(now: datetime) -> int:
    """Offer expiring (3 days), residency starting (14 days) and ending (30 days), in the hub's zone."""
    o = _offsets()
    due: list[tuple[Placement, str, str, bool, int]] = []
    for p in db.session.scalars(select(Placement).where(
            Placement.status == "offered", Placement.offer_expires_at > now,
            Placement.offer_expires_at <= now + timedelta(days=o["offer_expiring_days"] + 1))
            .options(*placements.with_details())).unique():
        if before(p.offer_expires_at, placements.hub_zone(p), o["offer_expiring_days"]) <= now:
            due.append((p, "placement_offer_expiring", f"offer-expiring:{o['offer_expiring_days']}d", False,
                        o["offer_expiring_days"]))
    for status, column, template, key, days in (
            ("accepted", Placement.starts_on, "residency_starting", "residency-starting", o["residency_starting_days"]),
            ("active", Placement.ends_on, "residency_ending", "residency-ending", o["residency_ending_days"])):
        for p in db.session.scalars(select(Placement).where(
                Placement.status == status, column <= now.date() + timedelta(days=days + 1), column >= now.date() - timedelta(days=1))
                .options(*placements.with_details())).unique():
            today = local_date(now, placements.hub_zone(p))
            day = p.starts_on if status == "accepted" else p.ends_on
            if today < day <= today + timedelta(days=days):
                due.append((p, template, f"{key}:{days}d", True, days))
    members = members_of(p.application.startup_id for p, *_ in due)
    items = []
    for p, template, key, optional, days in due:
        # The subject counts the days, in the reader's plural.
        context = workflow.get("placement").context(p) | {"days": days}
        for user in members.get(p.application.startup_id, []):
            items.append(dict(recipient=user, template=template, context=context, optional=optional,
                              dedup_key=f"{key}:placement:{p.id}:user-{user.id}"))
    return _emit(items, now)


# ------------------------------------------------------------------ funding


@service
def funding_pending(now: datetime) -> int:
    """Funder officers, when a submitted funding application has waited over 30 days for a decision."""
    days = _offsets()["funding_pending_days"]
    submitted_at = (select(func.max(StatusChange.created_at)).where(
        StatusChange.workflow == "funding", StatusChange.record_id == FundingApplication.id,
        StatusChange.to_state == "submitted").correlate(FundingApplication).scalar_subquery())
    rows = list(db.session.execute(
        select(FundingApplication.id, FundingScheme.funder_id, submitted_at.label("submitted_at"))
        .join(FundingScheme, FundingScheme.id == FundingApplication.scheme_id)
        .where(FundingApplication.status.in_(("submitted", "under_assessment")), submitted_at <= now - timedelta(days=days))))
    members = members_of(r.funder_id for r in rows)
    items = []
    for funding_id, funder_id, since in rows:
        for user in members.get(funder_id, []):
            items.append(dict(recipient=user, template="funding_pending", optional=True,
                              context={"funding_id": funding_id, "days": days},
                              dedup_key=f"funding-pending:{days}d:funding:{funding_id}:{since.isoformat()}:user-{user.id}"))
    return _emit(items, now)


def _funding_details(path=None):
    """The scheme, funder and startup of funding applications: the funder's zone and the e-mail's context."""
    path = path.joinedload if path is not None else joinedload
    return (path(FundingApplication.scheme).joinedload(FundingScheme.funder), path(FundingApplication.startup))


@service
def grant_offer_expiring(now: datetime) -> int:
    """Startups, before a grant offer lapses, by the funder's clock."""
    days = _offsets()["grant_offer_expiring_days"]
    offers = list(db.session.scalars(select(FundingApplication).where(
        FundingApplication.status == "granted", FundingApplication.offer_expires_at > now,
        FundingApplication.offer_expires_at <= now + timedelta(days=days + 1)).options(*_funding_details())).unique())
    members = members_of(f.startup_id for f in offers)
    items = []
    for fa in offers:
        zone = funder_zone(fa.scheme)
        if before(fa.offer_expires_at, zone, days) > now:
            continue
        context = workflow.get("funding").context(fa) | {"days": days}
        for user in members.get(fa.startup_id, []):
            items.append(dict(recipient=user, template="funding_offer_expiring", context=context, optional=False,
                              dedup_key=f"grant-offer-expiring:{days}d:funding:{fa.id}:user-{user.id}"))
    return _emit(items, now)


@service
def reports_due(now: datetime) -> int:
    """Reports due in 14 days (optional) and overdue (mandatory), by the funder's calendar."""
    days = _offsets()["report_due_days"]
    reports = list(db.session.scalars(select(FundingReport).where(
        FundingReport.status.in_(("due", "returned")), FundingReport.due_on <= now.date() + timedelta(days=days + 1))
        .options(*_funding_details(joinedload(FundingReport.funding_application)))).unique())
    members = members_of(r.funding_application.startup_id for r in reports)
    items = []
    for report in reports:
        fa = report.funding_application
        today = local_date(now, funder_zone(fa.scheme))
        if report.due_on < today:
            template, key, optional = "report_overdue", "report-overdue", False
        elif report.due_on <= today + timedelta(days=days):
            template, key, optional = "report_due", f"report-due:{days}d", True
        else:
            continue
        context = workflow.get("report").context(report) | {"days": days}
        for user in members.get(fa.startup_id, []):
            items.append(dict(recipient=user, template=template, context=context, optional=optional,
                              dedup_key=f"{key}:report:{report.id}:user-{user.id}"))
    return _emit(items, now)


@service
def impact_surveys_due(now: datetime) -> int:
    """Startups, when an impact survey falls due (12, 24 and 36 months after the residency ended)."""
    surveys = list(db.session.scalars(select(ImpactSurvey).where(
        ImpactSurvey.submitted_at.is_(None), ImpactSurvey.due_on <= now.date() + timedelta(days=1))
        .options(joinedload(ImpactSurvey.placement).joinedload(Placement.hub))).unique())
    members = members_of(s.startup_id for s in surveys)
    items = []
    for survey in surveys:
        zone = survey.placement.hub.zone
        if survey.due_on > local_date(now, zone):
            continue
        context = {"survey_id": survey.id, "months": survey.months_after, "hub_name": survey.placement.hub.name}
        for user in members.get(survey.startup_id, []):
            items.append(dict(recipient=user, template="impact_survey_due", context=context, optional=False,
                              dedup_key=f"impact-survey:{survey.months_after}m:survey:{survey.id}:user-{user.id}"))
    return _emit(items, now)


RULES = [
    ("call-closing", call_closing),
    ("change-request-due", change_request_due),
    ("reviews-due", reviews_due),
    ("nomination-deadline", nomination_deadline),
    ("hub-waiting", hub_waiting),
    ("placement-reminders", placement_reminders),
    ("funding-pending", funding_pending),
    ("grant-offer-expiring", grant_offer_expiring),
    ("reports-due", reports_due),
    ("impact-surveys-due", impact_surveys_due),
]


def sweep(now: datetime | None = None) -> dict:
    """Run every rule once, each in a unit of work of its own: a rule that fails is rolled back alone
    (its count is None) and the others still send theirs. The counts are the reminders each rule
    wrote or found already written."""
    now = now or utcnow()
    counts: dict = {name: None for name, _rule in RULES}

    def run(entry):
        name, rule = entry
        counts[name] = rule(now)

    def failed(entry, error):
        log.error("reminders: the rule %s failed", entry[0], exc_info=error)

    each_in_own_unit(RULES, run, on_error=failed)
    return counts
