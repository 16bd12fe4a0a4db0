"""The funding-application and report workflows."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from residency.core import workflow
from residency.core.workflow import ADMIN, APPLICANT, FUNDER, SYSTEM, Notify, State, T, Workflow, roles
from residency.domain.accounts.models import User
from residency.domain.accounts.queries import members
from residency.domain.funding.models import FundingApplication, FundingReport


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
        "timezone": fa.scheme.funder.timezone or "Europe/Oslo",
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
    },
    actions={
        "submit": _l("Submitted"),
        "start_assessment": _l("Assessment started"),
        "grant": _l("Granted"),
        "reject": _l("Rejected"),
        "request_changes": _l("Changes requested"),
        "resubmit": _l("Resubmitted"),
        "accept_offer": _l("Grant offer accepted"),
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


def register() -> None:
    workflow.register(FUNDING)
    workflow.register(REPORT)
