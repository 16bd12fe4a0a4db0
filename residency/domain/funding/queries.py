"""What a startup reads about its funding applications. Every change goes through
``residency.funding``; this module only gathers what the pages show."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from residency.domain.funding import report_files
from residency.domain.funding import services as funding
from residency.core import workflow
from residency.core.errors import NotFound
from residency.core.extensions import db
from residency.domain.funding.models import FundingApplication, FundingReport, FundingScheme
from residency.domain.accounts.models import Organisation, User
from residency.domain.placements.models import Placement
from residency.core.models import StatusChange
from residency.core.db import utcnow


@dataclass
class StartupFunding:
    startup: Organisation
    placement: Placement | None
    schemes: list[FundingScheme]
    applications: list[FundingApplication]


def overview(actor: User) -> list[StartupFunding]:
    """Each of the actor's startups: its residency, the schemes open to it and its funding applications
    (a fixed number of queries, however many startups)."""
    startups = actor.organisations("startup")
    if not startups:
        return []
    by_startup: dict[int, list] = {s.id: [] for s in startups}
    for fa in db.session.scalars(select(FundingApplication).where(FundingApplication.startup_id.in_(list(by_startup)))
                                 .options(*funding.WITH_SCHEME_AND_STARTUP)
                                 .order_by(FundingApplication.created_at.desc(), FundingApplication.id.desc())):
        by_startup[fa.startup_id].append(fa)
    placements = funding.eligible_placements(list(by_startup))
    schemes = funding.schemes_by_placement(list(placements.values()))
    return [StartupFunding(startup=s, placement=placements.get(s.id),
                           schemes=schemes[placements[s.id].id] if s.id in placements else [],
                           applications=by_startup[s.id]) for s in startups]


def startup_of(actor: User, startup_id: int | None) -> Organisation:
    """One of the actor's startups (the only one when none is named); 404 otherwise."""
    startups = actor.organisations("startup")
    if startup_id is None and len(startups) == 1:
        return startups[0]
    found = next((s for s in startups if s.id == startup_id), None)
    if found is None:
        raise NotFound(_l("Not found."))
    return found


def scheme_of(scheme_id: int) -> FundingScheme:
    scheme = db.session.get(FundingScheme, scheme_id)
    if scheme is None:
        raise NotFound(_l("Not found."))
    return scheme


@dataclass
class ReportLine:
    report: FundingReport
    label: str
    can_submit: bool
    returned_comments: str | None
    can_attach: bool = False


@dataclass
class StartupFundingPage:
    fa: FundingApplication
    label: str
    currency: str
    zone: str
    editable: bool
    totals: funding.Totals
    changes_requested: str | None
    rejection: str | None
    offer_expired: bool
    can_accept: bool
    plan: list = field(default_factory=list)
    paid_total: object = None
    reports: list[ReportLine] = field(default_factory=list)
    history: list[StatusChange] = field(default_factory=list)
    now: datetime | None = None


def _latest_reason(history: list[StatusChange], action: str) -> str | None:
    for change in reversed(history):
        if change.action == action:
            return workflow.public_reason(change)
    return None


def application_of(actor: User, funding_id: int) -> FundingApplication:
    """A funding application of one of the actor's startups; 404 for anyone else (staff read it in their area)."""
    fa = funding.funding_for(actor, funding_id)
    if workflow.APPLICANT not in workflow.roles_on(fa, actor):
        raise NotFound(_l("Not found."))
    return fa


def page(actor: User, funding_id: int, now: datetime | None = None) -> StartupFundingPage:
    now = now or utcnow()
    fa = application_of(actor, funding_id)
    history = workflow.history(fa, for_applicant=True)
    offer_expired = fa.status == "granted" and fa.offer_expires_at is not None and fa.offer_expires_at <= now
    granted = fa.granted_amount is not None and fa.status in ("granted", "in_progress", "closed", "cancelled", "lapsed", "declined")
    reports = []
    if granted:
        for report in db.session.scalars(select(FundingReport).where(FundingReport.funding_application_id == fa.id)
                                         .options(selectinload(FundingReport.attachments))
                                         .order_by(FundingReport.due_on, FundingReport.id)):
            actions = {t.action for t in workflow.allowed_actions(report, actor)}
            comments = None
            if report.status == "returned":
                comments = _latest_reason(workflow.history(report, for_applicant=True), "return")
            reports.append(ReportLine(report, workflow.get("report").label(report.status, True),
                                      "submit" in actions and fa.status == "in_progress", comments,
                                      can_attach="submit" in actions and report_files.files_open(report)))
    return StartupFundingPage(
        fa=fa, label=workflow.get("funding").label(fa.status, True), currency=fa.scheme.currency, zone=funding.funder_zone(fa.scheme),
        editable=fa.status in funding.EDITABLE, totals=funding.totals(fa),
        changes_requested=_latest_reason(history, "request_changes") if fa.status == "changes_requested" else None,
        rejection=_latest_reason(history, "reject") if fa.status == "rejected" else None,
        offer_expired=offer_expired,
        can_accept=not offer_expired and any(t.action == "accept_offer" for t in workflow.allowed_actions(fa, actor)),
        plan=funding.plan(fa) if granted else [], paid_total=funding.paid_total(fa) if granted else None,
        reports=reports, history=history, now=now,
    )


def report_of(actor: User, fa: FundingApplication, report_id: int) -> FundingReport:
    report = funding.report_for(actor, report_id)
    if report.funding_application_id != fa.id:
        raise NotFound(_l("Not found."))
    return report
