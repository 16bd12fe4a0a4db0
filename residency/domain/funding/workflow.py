"""The funding-application and report workflows, and what corrections of them (and of the
residency they fund) must leave consistent: a grant decision with its instalments and reports."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import delete, func, select

from residency.core import workflow
from residency.core.extensions import db
from residency.core.workflow import ADMIN, APPLICANT, FUNDER, SYSTEM, Notify, State, T, Workflow, roles
from residency.domain.accounts.models import User
from residency.domain.accounts.queries import members
from residency.domain.funding import report_files
from residency.domain.funding.models import GRANTED_STATES, Disbursement, FundingApplication, FundingReport
from residency.domain.placements.models import Placement


def _funding_relation(fa, user: User | None) -> set[str]:
    if user is None:
        return {SYSTEM}
    held = set()
    if workflow.is_admin(user):
        held.add(ADMIN)
    if user.is_member_of(fa.startup_id):
        held.add(APPLICANT)
    # Funder officers see applications once submitted, never drafts.
    if fa.status != "draft" and user.is_member_of(fa.scheme.funder_id):
        held.add(FUNDER)
    return held


def _funding_recipients(fa, audience: str) -> list[User]:
    return members({"applicant": fa.startup_id, "funder": fa.scheme.funder_id}[audience])


def _funding_context(fa) -> dict:
    return {
        "title": fa.title,
        "startup_name": fa.startup.name,
        "scheme_name": fa.scheme.name,
        "funder_name": fa.scheme.funder.name,
        "currency": fa.scheme.currency,
        "amount_requested": str(fa.amount_requested),
        "granted_amount": str(fa.granted_amount) if fa.granted_amount is not None else None,
        "offer_expires_at": fa.offer_expires_at.isoformat() if fa.offer_expires_at else None,
        "timezone": fa.scheme.funder.zone,
        "funding_id": fa.id,
    }


def _report_relation(report, user: User | None) -> set[str]:
    return _funding_relation(report.funding_application, user)


def _report_recipients(report, audience: str) -> list[User]:
    return _funding_recipients(report.funding_application, audience)


def _report_context(report) -> dict:
    return _funding_context(report.funding_application) | {"report_kind": report.kind, "due_on": report.due_on.isoformat(),
                                                          "report_id": report.id}


FUNDING = Workflow(
    name="funding",
    initial="draft",
    states={
        "draft": State(_l("Draft"), _l("Draft")),
        "submitted": State(_l("Submitted, awaiting assessment"), _l("Submitted")),
        "under_assessment": State(_l("Under assessment"), _l("Under assessment")),
        "changes_requested": State(_l("Changes requested"), _l("Changes requested")),
        "granted": State(_l("Granted, awaiting acceptance"), _l("Grant offered")),
        "rejected": State(_l("Rejected"), _l("Not granted")),
        "in_progress": State(_l("In progress"), _l("In progress")),
        "lapsed": State(_l("Grant offer lapsed"), _l("Grant offer expired")),
        "closed": State(_l("Closed"), _l("Closed")),
        "cancelled": State(_l("Cancelled"), _l("Cancelled")),
        "declined": State(_l("Grant offer declined by the startup"), _l("Grant offer declined")),
    },
    actions={
        "submit": _l("Submitted"),
        "start_assessment": _l("Assessment started"),
        "grant": _l("Granted"),
        "reject": _l("Rejected"),
        "request_changes": _l("Changes requested"),
        "resubmit": _l("Resubmitted"),
        "accept_offer": _l("Grant offer accepted"),
        "decline_offer": _l("Grant offer declined"),
        "lapse": _l("Grant offer lapsed"),
        "close": _l("Closed"),
        "cancel": _l("Cancelled"),
    },
    transitions=(
        T("draft", "submit", "submitted", roles(APPLICANT), notify=(Notify("funding_submitted", "applicant"),)),
        T("submitted", "start_assessment", "under_assessment", roles(FUNDER)),
        T("under_assessment", "grant", "granted", roles(FUNDER), notify=(Notify("funding_granted", "applicant"),)),
        T("under_assessment", "reject", "rejected", roles(FUNDER), reason_required=True,
          notify=(Notify("funding_rejected", "applicant"),)),
        T("under_assessment", "request_changes", "changes_requested", roles(FUNDER), reason_required=True,
          notify=(Notify("funding_changes_requested", "applicant"),)),
        T("changes_requested", "resubmit", "submitted", roles(APPLICANT), notify=(Notify("funding_submitted", "applicant"),)),
        T("granted", "accept_offer", "in_progress", roles(APPLICANT), notify=(Notify("funding_offer_accepted", "funder"),)),
        # Issue 14: the startup may say no to a grant offer rather than let it lapse.
        T("granted", "decline_offer", "declined", roles(APPLICANT), notify=(Notify("funding_offer_declined", "funder"),)),
        T("granted", "lapse", "lapsed", roles(SYSTEM), notify=(Notify("funding_offer_lapsed", "applicant"),)),
        T("in_progress", "close", "closed", roles(FUNDER)),
        T("in_progress", "cancel", "cancelled", roles(FUNDER), reason_required=True),
    ),
    model=FundingApplication,
    relation=_funding_relation,
    recipients=_funding_recipients,
    context=_funding_context,
)

REPORT = Workflow(
    name="report",
    initial="due",
    states={
        "due": State(_l("Due"), _l("Due")),
        "submitted": State(_l("Submitted, awaiting approval"), _l("Submitted")),
        "approved": State(_l("Approved"), _l("Approved")),
        "returned": State(_l("Returned for changes"), _l("Returned for changes")),
    },
    actions={
        "submit": _l("Submitted"),
        "approve": _l("Approved"),
        "return": _l("Returned for changes"),
    },
    transitions=(
        T("due", "submit", "submitted", roles(APPLICANT)),
        T("submitted", "approve", "approved", roles(FUNDER)),
        T("submitted", "return", "returned", roles(FUNDER), reason_required=True, notify=(Notify("report_returned", "applicant"),)),
        T("returned", "submit", "submitted", roles(APPLICANT)),
    ),
    model=FundingReport,
    relation=_report_relation,
    recipients=_report_recipients,
    context=_report_context,
)


# ------------------------------------------------------------ corrections

# Grant states in which instalments can have been requested (the startup accepted the offer).
ACCEPTED_STATES = ("in_progress", "closed", "cancelled")
# Placement states of a residency, which funding applications are made under.
RESIDENCY_STATES = ("accepted", "active", "completed", "terminated")
# Funding applications that no longer hold on to their residency.
SETTLED_STATES = ("draft", "rejected", "lapsed", "declined")
# The instalment plan's step that waits for each kind of report.
AFTER_REPORT = {"progress": "progress_report", "final": "final_report"}


def _requested_instalments(fa: FundingApplication) -> int:
    return db.session.scalar(select(func.count()).select_from(Disbursement).where(
        Disbursement.funding_application_id == fa.id)) or 0


def funding_correction_allowed(fa: FundingApplication, source: str, target: str):
    """A granted state needs its grant decision; a grant is taken back only while nothing was
    requested or reported under it; an accepted grant with instalments stays accepted."""
    if target in GRANTED_STATES and fa.granted_amount is None:
        return _l("There is no grant decision to move to: the funder grants the application in the assessment.")
    if target == "granted" and fa.offer_expires_at is None:
        return _l("The grant offer has no acceptance date: the funder sets it with the grant decision.")
    if source in GRANTED_STATES and target not in GRANTED_STATES:
        if _requested_instalments(fa):
            return _l("Instalments were requested under this grant; the grant decision can no longer be taken back.")
        reported = db.session.scalar(select(func.count()).select_from(FundingReport).where(
            FundingReport.funding_application_id == fa.id, FundingReport.status != "due"))
        if reported:
            return _l("Reports were submitted under this grant; the grant decision can no longer be taken back.")
    if source in ACCEPTED_STATES and target not in ACCEPTED_STATES and _requested_instalments(fa):
        return _l("Instalments were requested under this grant, so it stays accepted.")
    return None


def withdraw_grant_decision(fa: FundingApplication, change, data: dict) -> None:
    """A grant decision taken back (forced or reverted to before the grant) takes its reports with
    it, so the next decision starts afresh (nothing was requested or reported: the check refused that)."""
    if change.to_state in GRANTED_STATES:
        return
    report_files.discard_files_of(select(FundingReport.id).where(FundingReport.funding_application_id == fa.id))
    db.session.execute(delete(FundingReport).where(FundingReport.funding_application_id == fa.id),
                       execution_options={"synchronize_session": "fetch"})
    fa.granted_amount = fa.granted_share_percent = fa.conditions = fa.offer_expires_at = None
    db.session.flush()


def report_correction_allowed(report: FundingReport, source: str, target: str):
    """An approved report stays approved once the instalment it released was requested, or the grant closed."""
    if source != "approved" or target == "approved":
        return None
    fa = report.funding_application
    if fa.status == "closed":
        return _l("The grant is closed; its reports stay approved.")
    steps = fa.scheme.instalments or []
    released = [i for i, step in enumerate(steps) if step.get("after") == AFTER_REPORT.get(report.kind)]
    if released and db.session.scalar(select(func.count()).select_from(Disbursement).where(
            Disbursement.funding_application_id == fa.id, Disbursement.instalment.in_(released))):
        return _l("The instalment this report released was already requested; the report stays approved.")
    return None


def residency_correction_allowed(placement: Placement, source: str, target: str):
    """A residency with funding applications under way at a funder stays a residency."""
    if source not in RESIDENCY_STATES or target in RESIDENCY_STATES:
        return None
    open_ = db.session.scalar(select(func.count()).select_from(FundingApplication).where(
        FundingApplication.placement_id == placement.id, FundingApplication.status.not_in(SETTLED_STATES)))
    if open_:
        return _l("This residency has funding applications at the funder (%(n)d); correct them first.", n=open_)
    return None


def register() -> None:
    workflow.register(FUNDING)
    workflow.register(REPORT)
    workflow.check_correction("funding", funding_correction_allowed)
    for state in GRANTED_STATES:
        workflow.on_leave("funding", state, withdraw_grant_decision)
    workflow.check_correction("report", report_correction_allowed)
    workflow.check_correction("placement", residency_correction_allowed)
