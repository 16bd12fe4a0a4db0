"""What a funder officer reads: the queue of funding applications to the officer's
funders' schemes and one application with everything needed to decide, pay and
approve. Every change goes through ``residency.funding``."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, load_only, noload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from residency.domain.funding import services as funding
from residency.core import limits, pagination, workflow
from residency.core.errors import NotFound
from residency.core.extensions import db
from residency.domain.funding.funders import funder_ids
from residency.domain.funding.models import Disbursement, FundingApplication, FundingReport, FundingScheme
from residency.domain.accounts.models import Organisation, User
from residency.core.models import StatusChange
from residency.core.db import utcnow
from residency.domain.funding.models import FUNDING_STATES

QUEUE_STATES = tuple(s for s in FUNDING_STATES if s != "draft")  # officers never see drafts
PER_PAGE = 25


# What a funding application in each state waits for from the funder's officers (beside
# instalments to pay and reports to review, counted per row).
OFFICERS_TURN = {
    "submitted": _l("Start the assessment"),
    "under_assessment": _l("Your decision: grant, reject or ask for changes"),
}


@dataclass
class QueueRow:
    fa: FundingApplication
    label: str
    instalments_to_pay: int
    reports_to_review: int

    @property
    def officers_turn(self):
        return OFFICERS_TURN.get(self.fa.status)


@dataclass
class Queue:
    schemes: list[FundingScheme]
    page: pagination.Page  # of QueueRow
    scheme_id: int | None
    status: str | None
    search: str

    @property
    def rows(self) -> list[QueueRow]:
        return self.page.rows


# What a row of the queue shows of its application; the texts (description, notes, conditions) stay unread.
SHOWN = (FundingApplication.id, FundingApplication.scheme_id, FundingApplication.startup_id, FundingApplication.status,
         FundingApplication.title, FundingApplication.amount_requested, FundingApplication.granted_amount,
         FundingApplication.updated_at)


def queue(actor: User, scheme_id: int | None = None, status: str | None = None, search: str = "", page: int = 1,
          per_page: int = PER_PAGE) -> Queue:
    """One page of the submitted and later applications to the actor's funders' schemes, newest change first.

    Five queries whatever the number of rows: the schemes with their funders; the count; the
    page's applications and their startups; and, for the page's applications only, the
    instalments and reports waiting for the officer. Each scheme is read (and its JSON
    columns decoded) once, not once per row."""
    funders = funder_ids(actor)
    search = (search or "").strip()[:limits.LINE_MAX]
    if limits.has_control_characters(search):
        search = ""  # no name holds one: nothing to search for
    if not funders:
        return Queue([], pagination.empty(per_page), None, None, search)
    schemes = list(db.session.scalars(select(FundingScheme).where(FundingScheme.funder_id.in_(funders))
                                      .options(joinedload(FundingScheme.funder))
                                      .order_by(FundingScheme.name, FundingScheme.id)))
    by_id = {s.id: s for s in schemes}
    scheme_id = scheme_id if scheme_id in by_id else None
    status = status if status in QUEUE_STATES else None
    if not schemes:
        return Queue(schemes, pagination.empty(per_page), scheme_id, status, search)
    where = [FundingApplication.scheme_id.in_([scheme_id] if scheme_id else list(by_id)),
             FundingApplication.status != "draft"]
    if status:
        where.append(FundingApplication.status == status)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(FundingApplication.startup.has(Organisation.name.ilike(pattern, escape="\\")))
    result = pagination.by_offset(
        select(FundingApplication).where(*where)
        .options(load_only(*SHOWN), noload(FundingApplication.scheme),
                 # By primary key for the page's rows: joined, the planner hashed every organisation first.
                 selectinload(FundingApplication.startup).load_only(Organisation.name))
        .order_by(FundingApplication.updated_at.desc(), FundingApplication.id.desc()),
        select(func.count()).select_from(FundingApplication).where(*where), page, per_page)
    waiting = {}
    if result.rows:
        to_pay = (select(func.count()).where(Disbursement.funding_application_id == FundingApplication.id,
                                             Disbursement.paid_at.is_(None)).scalar_subquery())
        to_review = (select(func.count()).where(FundingReport.funding_application_id == FundingApplication.id,
                                                FundingReport.status == "submitted").scalar_subquery())
        waiting = {fa_id: (pay, review) for fa_id, pay, review in db.session.execute(
            select(FundingApplication.id, to_pay, to_review)
            .where(FundingApplication.id.in_([fa.id for fa in result.rows])))}
    label = workflow.get("funding").label
    for fa in result.rows:
        set_committed_value(fa, "scheme", by_id[fa.scheme_id])
    result.rows = [QueueRow(fa, label(fa.status, False), *waiting.get(fa.id, (0, 0))) for fa in result.rows]
    return Queue(schemes, result, scheme_id, status, search)


def application_of(actor: User, funding_id: int) -> FundingApplication:
    """An application to one of the actor's funders' schemes, once submitted; 404 for anything else."""
    fa = funding.funding_for(actor, funding_id)
    if workflow.FUNDER not in workflow.roles_on(fa, actor):
        raise NotFound(_l("Not found."))
    return fa


def report_of(actor: User, fa: FundingApplication, report_id: int) -> FundingReport:
    report = funding.report_for(actor, report_id)
    if report.funding_application_id != fa.id:
        raise NotFound(_l("Not found."))
    return report


@dataclass
class ReportLine:
    report: FundingReport
    label: str
    actions: set


@dataclass
class OfficerPage:
    fa: FundingApplication
    label: str
    currency: str
    zone: str
    totals: funding.Totals
    rule_errors: dict
    actions: set
    plan: list = field(default_factory=list)
    paid_total: object = None
    reports: list[ReportLine] = field(default_factory=list)
    history: list[StatusChange] = field(default_factory=list)
    can_close: bool = False
    today: date | None = None


def page(actor: User, funding_id: int, now: datetime | None = None) -> OfficerPage:
    now = now or utcnow()
    fa = application_of(actor, funding_id)
    granted = fa.granted_amount is not None and fa.status in ("granted", "in_progress", "closed", "cancelled", "lapsed", "declined")
    reports = []
    if granted:
        for report in db.session.scalars(select(FundingReport).where(FundingReport.funding_application_id == fa.id)
                                         .options(selectinload(FundingReport.attachments))
                                         .order_by(FundingReport.due_on, FundingReport.id)):
            reports.append(ReportLine(report, workflow.get("report").label(report.status, False),
                                      {t.action for t in workflow.allowed_actions(report, actor)}))
    paid = funding.paid_total(fa) if granted else None
    actions = {t.action for t in workflow.allowed_actions(fa, actor)}
    return OfficerPage(
        fa=fa, label=workflow.get("funding").label(fa.status, False), currency=fa.scheme.currency, zone=funding.funder_zone(fa.scheme),
        totals=funding.totals(fa), rule_errors=funding.rule_errors(fa, now) if fa.status in ("submitted", "under_assessment") else {},
        actions=actions, plan=funding.plan(fa) if granted else [], paid_total=paid, reports=reports,
        history=workflow.history(fa, for_applicant=False),
        can_close="close" in actions and paid == fa.granted_amount and all(r.report.status == "approved" for r in reports),
        today=funding.funder_day(fa, now),  # the funder's calendar: a payment day is a day in its books
    )


def grant_defaults(fa: FundingApplication, today: date) -> dict:
    """A proposal for the grant form: what was asked within the scheme's limits, two weeks to accept,
    the progress report half-way and the final report a month after the project ends."""
    scheme, t = fa.scheme, funding.totals(fa)
    share = t.requested_share_percent if t.requested_share_percent is not None else scheme.max_share_percent
    start = fa.period_start or today
    end = fa.period_end or start + timedelta(days=180)
    return {
        "amount": min(fa.amount_requested, scheme.max_amount),
        "share_percent": min(share, scheme.max_share_percent),
        "offer_deadline": today + timedelta(days=14),
        "report_progress": start + (end - start) / 2,
        "report_final": end + timedelta(days=30),
    }
