"""What the JSON API reads and does: the records a caller may see, and the actions it may take.

Every rule about who sees what is the web pages' rule: a list filters with the
record type's scope clause (``applications.scope``, ``placements.scope``,
``funding.scope``) so that a page of records costs a fixed number of queries, and
one record is loaded through ``workflow.require``. Personal tokens live in
``accounts.tokens``.
"""
from __future__ import annotations

from dataclasses import dataclass

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from residency.core import workflow
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.core.uow import service
from residency.domain.accounts.models import User
from residency.domain.accounts.scope import Scope
from residency.domain.applications import rules
from residency.domain.applications import scope as application_scope
from residency.domain.applications import services as applications
from residency.domain.applications.models import Application
from residency.domain.funding import scope as funding_scope
from residency.domain.funding import services as funding
from residency.domain.funding.models import FundingApplication, FundingReport
from residency.domain.placements import scope as placement_scope
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement
from residency.domain.placements.rules import visible_to_startup
from residency.domain.programme.models import Call
from residency.domain.programme.queries import public_call
from residency.domain.review import nominations

PUBLIC_CALL_STATES = ("published", "closed")


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


def calls(page: int, page_size: int) -> Page:
    stmt = (select(Call).where(Call.status.in_(PUBLIC_CALL_STATES)).order_by(Call.opens_at.desc(), Call.id.desc())
            .options(joinedload(Call.route)))
    return _page(stmt, page, page_size)


def call(call_id: int) -> Call:
    found = public_call(call_id)
    if found is None:
        raise NotFound(_l("Not found."))
    return found


def _applicant_only(record, user: User) -> bool:
    return workflow.roles_on(record, user) == {workflow.APPLICANT}


def application_visible_status(application: Application, user: User) -> str:
    """The status as this caller may know it: a startup learns a decision only when it is released."""
    if _applicant_only(application, user):
        return rules.applicant_status(application)
    return application.status


def applications_for(user: User, page: int, page_size: int) -> Page:
    stmt = (select(Application).where(application_scope.visible_clause(Scope.of(user))).order_by(Application.id)
            .options(joinedload(Application.startup), joinedload(Application.call).joinedload(Call.route)))
    return _page(stmt, page, page_size)


def application(user: User, application_id: int) -> Application:
    return workflow.require(db.session.get(Application, application_id), user)


def answers_by_key(application: Application) -> dict:
    """The answers to the call's own questions (not the typed ones, not files) by stable key, as stored."""
    form = applications.form_of_application(application)
    values = applications.values_of(application, form)
    return {q.key: values.get(q.key) for q in form.custom()}


def placements_for(user: User, page: int, page_size: int) -> Page:
    stmt = (select(Placement).where(placement_scope.visible_clause(Scope.of(user))).order_by(Placement.id)
            .options(joinedload(Placement.hub), joinedload(Placement.application).joinedload(Application.call)))
    return _page(stmt, page, page_size)


def placement(user: User, placement_id: int) -> Placement:
    found = workflow.require(db.session.get(Placement, placement_id), user)
    held = workflow.roles_on(found, user)
    if not held & {workflow.ADMIN, workflow.HUB} and not visible_to_startup(found):
        raise NotFound(_l("Not found."))
    return found


def funding_applications_for(user: User, page: int, page_size: int) -> Page:
    stmt = (select(FundingApplication).where(funding_scope.visible_clause(Scope.of(user))).order_by(FundingApplication.id)
            .options(joinedload(FundingApplication.scheme)))
    return _page(stmt, page, page_size)


def funding_application(user: User, funding_id: int) -> FundingApplication:
    return workflow.require(db.session.get(FundingApplication, funding_id), user)


def report(user: User, report_id: int) -> FundingReport:
    return workflow.require(db.session.get(FundingReport, report_id), user)


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
        "submit": lambda r, actor, reason, d: applications.submit(application=r, actor=actor, values={}, loaded_edit_id=None).or_raise(),
        "resubmit": lambda r, actor, reason, d: applications.submit(application=r, actor=actor, values={}, loaded_edit_id=None).or_raise(),
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
        "cancel": lambda r, actor, reason, d: funding.cancel(fa=r, actor=actor, reason=reason),
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


# The loader of each kind of record the API acts on: 404 for what the caller may not see.
LOADERS = {"application": application, "placement": placement, "funding": funding_application, "report": report}


@dataclass(frozen=True)
class Transitioned:
    """What the API answers after a transition: the record's new status and the audit row written."""

    id: int
    action: str
    from_status: str
    status: str
    status_label: str
    change_id: int


@service
def transition(kind: str, record_id: int, *, action: str, actor: User, reason: str | None,
               details: dict | None = None) -> Transitioned:
    """Perform ``action`` on the ``kind`` record ``record_id`` through the service the web page uses."""
    record = LOADERS[kind](actor, record_id)
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
    change = db.session.scalar(select(StatusChange).where(
        StatusChange.workflow == wf.name, StatusChange.record_id == record.id).order_by(StatusChange.id.desc()).limit(1))
    return Transitioned(id=record.id, action=change.action, from_status=change.from_state, status=record.status,
                        status_label=status_label(record, actor), change_id=change.id)
