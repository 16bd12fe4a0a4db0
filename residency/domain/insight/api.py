"""What the JSON API reads and does: personal tokens, and the records a caller may see.

Every rule about who sees what is the web pages' rule (``workflow.roles_on`` and
the ``*_for`` readers); the list queries here restate it in SQL so that a page
of records costs a fixed number of queries.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, func, or_, select

from residency.domain.applications import services as applications
from residency.domain.funding import services as funding
from residency.domain.review import nominations
from residency.domain.placements import services as placements
from residency.core import workflow
from residency.domain.placements.queries import visible_to_startup
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.accounts.token_models import ApiToken
from residency.domain.applications.models import Application
from residency.domain.programme.models import Call, Route
from residency.domain.funding.models import FundingApplication, FundingReport, FundingScheme
from residency.domain.placements.models import Placement
from residency.core.models import StatusChange
from residency.domain.accounts.models import User
from residency.core.db import utcnow

TOKEN_PREFIX = "rx_"
EXPIRY_DAYS = (30, 90, 365)
PUBLIC_CALL_STATES = ("published", "closed")


# ------------------------------------------------------------------ tokens


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def create_token(*, actor: User, name: str, days: int, now: datetime | None = None) -> NewToken:
    now = now or utcnow()
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid(_l("Please check your input"), {"name": [_l("A name is required.")]})
    if days not in EXPIRY_DAYS:
        raise Invalid(_l("Please check your input"), {"days": [_l("Please check your input")]})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, token_hash=_hash(secret), prefix=secret[:12],
                     created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.commit()
    return NewToken(token, secret)


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_token(*, actor: User, token_id: int, now: datetime | None = None) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound(_l("Not found."))
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        db.session.commit()
    return token


def authenticate(secret: str | None, now: datetime | None = None) -> User | None:
    """The owner of a usable token, or None for an unknown, expired or revoked one."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    now = now or utcnow()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or not token.usable(now):
        return None
    # Recorded at most once a minute, so a busy client does not write on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        db.session.commit()
    return token.user


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Page:
    items: list
    total: int


def _page(stmt, page: int, page_size: int) -> Page:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    offset = (page - 1) * page_size
    # A page past the end is empty; asking the database for it would overflow its integers on huge page numbers.
    items = list(db.session.scalars(stmt.limit(page_size).offset(offset)).unique()) if offset < total else []
    return Page(items, total)


def _org_ids(user: User) -> list[int]:
    return [m.organisation_id for m in user.memberships]


def _is_admin(user: User | None) -> bool:
    return user is not None and user.has_role(workflow.ADMIN)


def calls(page: int, page_size: int) -> Page:
    stmt = select(Call).where(Call.status.in_(PUBLIC_CALL_STATES)).order_by(Call.opens_at.desc(), Call.id.desc())
    return _page(stmt, page, page_size)


def call(call_id: int) -> Call:
    found = db.session.get(Call, call_id)
    if found is None or found.status not in PUBLIC_CALL_STATES:
        raise NotFound(_l("Not found."))
    return found


def _applicant_only(record, user: User) -> bool:
    return workflow.roles_on(record, user) == {workflow.APPLICANT}


def application_visible_status(application: Application, user: User) -> str:
    """The status as this caller may know it: a startup learns a decision only when it is released."""
    if _applicant_only(application, user):
        return applications.applicant_status(application)
    return application.status


def applications_for(user: User, page: int, page_size: int) -> Page:
    stmt = select(Application).order_by(Application.id)
    if not _is_admin(user):
        orgs = _org_ids(user)
        cluster_calls = select(Call.id).join(Route).where(Route.cluster_id.in_(orgs))
        stmt = stmt.where(or_(Application.startup_id.in_(orgs),
                              and_(Application.status != "draft", Application.call_id.in_(cluster_calls))) if orgs else false())
    return _page(stmt, page, page_size)


def application(user: User, application_id: int) -> Application:
    return applications.application_for(user, application_id)


def _placement_visible(placement: Placement, user: User) -> bool:
    held = workflow.roles_on(placement, user)
    if held & {workflow.ADMIN, workflow.HUB}:
        return True
    return workflow.APPLICANT in held and visible_to_startup(placement)


def placements_for(user: User, page: int, page_size: int) -> Page:
    stmt = select(Placement).order_by(Placement.id)
    if not _is_admin(user):
        orgs = _org_ids(user)
        if not orgs:
            stmt = stmt.where(false())
        else:
            released = select(Application.id).join(Call).where(
                Application.startup_id.in_(orgs), Call.decisions_released_at.is_not(None))
            own = select(Application.id).where(Application.startup_id.in_(orgs))
            stmt = stmt.where(or_(
                Placement.hub_id.in_(orgs),
                and_(Placement.application_id.in_(own), or_(Placement.status != "pending", Placement.application_id.in_(released))),
            ))
    return _page(stmt, page, page_size)


def placement(user: User, placement_id: int) -> Placement:
    found = placements.placement_for(user, placement_id)
    if not _placement_visible(found, user):
        raise NotFound(_l("Not found."))
    return found


def funding_applications_for(user: User, page: int, page_size: int) -> Page:
    stmt = select(FundingApplication).order_by(FundingApplication.id)
    if not _is_admin(user):
        orgs = _org_ids(user)
        funder_schemes = select(FundingScheme.id).where(FundingScheme.funder_id.in_(orgs))
        stmt = stmt.where(or_(FundingApplication.startup_id.in_(orgs),
                              and_(FundingApplication.status != "draft", FundingApplication.scheme_id.in_(funder_schemes)))
                          if orgs else false())
    return _page(stmt, page, page_size)


def funding_application(user: User, funding_id: int) -> FundingApplication:
    return funding.funding_for(user, funding_id)


def report(user: User, report_id: int) -> FundingReport:
    return funding.report_for(user, report_id)


def status_label(record, user: User, status: str | None = None) -> str:
    wf = workflow.workflow_for(record)
    return wf.label(status or record.status, _applicant_only(record, user))


def actions_for(record, user: User) -> list[str]:
    return sorted({t.action for t in workflow.allowed_actions(record, user)} & set(API_ACTIONS[workflow.workflow_for(record).name]))


# ------------------------------------------------------------------ transitions

# The actions the API performs, each through the same service the web page uses (so
# its extra checks hold), with the same details the page's form collects.
API_ACTIONS = {
    "application": {
        "submit": lambda r, actor, reason, d: applications.submit(application=r, actor=actor, values={}, loaded_edit_id=None),
        "resubmit": lambda r, actor, reason, d: applications.submit(application=r, actor=actor, values={}, loaded_edit_id=None),
        "start_review": lambda r, actor, reason, d: applications.start_review(application=r, actor=actor),
        "request_changes": lambda r, actor, reason, d: _request_changes(r, actor, d.get("message") or reason, d.get("respond_by")),
        "nominate": lambda r, actor, reason, d: nominations.nominate(application=r, actor=actor, rationale=d.get("rationale") or "",
                                                                       rank=d.get("rank")),
        "decline": lambda r, actor, reason, d: nominations.decline(application=r, actor=actor, reason=reason,
                                                                     message=d.get("message") or ""),
        "withdraw": lambda r, actor, reason, d: applications.withdraw(application=r, actor=actor, reason=reason),
    },
    "placement": {
        "offer": lambda r, actor, reason, d: placements.offer(
            placement=r, actor=actor, starts_on=d.get("starts_on"), ends_on=d.get("ends_on"), desks=d.get("desks"),
            benches=d.get("benches"), offer_expires_on=d.get("offer_expires_on"), conditions=d.get("conditions") or ""),
        "waitlist": lambda r, actor, reason, d: placements.waitlist(placement=r, actor=actor, reason=reason or ""),
        "reject": lambda r, actor, reason, d: placements.reject(placement=r, actor=actor, reason=reason),
        "accept": lambda r, actor, reason, d: placements.answer_offer(placement=r, actor=actor, accept=True),
        "decline": lambda r, actor, reason, d: placements.answer_offer(placement=r, actor=actor, accept=False),
        "extend": lambda r, actor, reason, d: placements.extend(placement=r, actor=actor, ends_on=d.get("ends_on")),
        "complete": lambda r, actor, reason, d: placements.complete(placement=r, actor=actor),
        "terminate": lambda r, actor, reason, d: placements.terminate(placement=r, actor=actor, reason=reason),
    },
    "funding": {
        "submit": lambda r, actor, reason, d: funding.submit(fa=r, actor=actor),
        "resubmit": lambda r, actor, reason, d: funding.submit(fa=r, actor=actor),
        "start_assessment": lambda r, actor, reason, d: funding.start_assessment(fa=r, actor=actor),
        "request_changes": lambda r, actor, reason, d: funding.request_changes(fa=r, actor=actor, message=d.get("message") or reason),
        "grant": lambda r, actor, reason, d: funding.grant(
            fa=r, actor=actor, amount=d.get("amount"), share_percent=d.get("share_percent"), conditions=d.get("conditions") or "",
            offer_deadline=d.get("offer_deadline"),
            report_due={k: v for k, v in (("progress", d.get("progress_report_due")), ("final", d.get("final_report_due"))) if v}),
        "reject": lambda r, actor, reason, d: funding.reject(fa=r, actor=actor, reason=reason),
        "accept_offer": lambda r, actor, reason, d: funding.accept_offer(fa=r, actor=actor),
        "close": lambda r, actor, reason, d: funding.close(fa=r, actor=actor),
    },
    "report": {
        "submit": lambda r, actor, reason, d: funding.submit_report(report=r, actor=actor, text=d.get("text") or ""),
        "approve": lambda r, actor, reason, d: funding.approve_report(report=r, actor=actor),
        "return": lambda r, actor, reason, d: funding.return_report(report=r, actor=actor, comments=reason),
    },
}


def _request_changes(application, actor, message, respond_by):
    if respond_by is None:
        raise Invalid(_l("Choose the date by which the startup should answer."),
                      {"respond_by": [_l("Choose the date by which the startup should answer.")]})
    return applications.request_changes(application=application, actor=actor, message=message or "", respond_by=respond_by)


def transition(record, *, action: str, actor: User, reason: str | None, details: dict | None = None):
    """Perform ``action`` through its service (which calls ``workflow.perform`` and commits)."""
    wf = workflow.workflow_for(record)
    if wf.name == "application" and application_visible_status(record, actor) != record.status:
        # A startup must not learn an unreleased decision from a refusal's wording.
        raise Conflict(_l("This cannot be done now: the record is %(state)s.",
                          state=wf.label(application_visible_status(record, actor), True)))
    perform = API_ACTIONS[wf.name].get(action)
    if perform is None:
        known = sorted(API_ACTIONS[wf.name])
        raise Invalid(_l("Please check your input"), {"action": [f"Use one of: {', '.join(known)}; other actions are on the web pages."]})
    perform(record, actor, (reason or "").strip() or None, details or {})
    # Some services return what they created (a nomination); the answer is the audit row either way.
    return db.session.scalar(select(StatusChange).where(
        StatusChange.workflow == wf.name, StatusChange.record_id == record.id).order_by(StatusChange.id.desc()).limit(1))
