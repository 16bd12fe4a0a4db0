"""The application workflow: its table, guards, and how it relates users to applications."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from residency.core.i18n import ngettext
from sqlalchemy import func, select

from residency.core import workflow
from residency.core.extensions import db
from residency.core.i18n import format_in_zone
from residency.core.workflow import ADMIN, APPLICANT, CLUSTER, HUB, SYSTEM, Notify, State, T, Workflow, roles
from residency.core.uow import for_update
from residency.domain.accounts.models import User
from residency.domain.accounts.queries import members
from residency.domain.applications import rules
from residency.domain.applications.models import Application
from residency.domain.applications.services import form_of_application, snapshot, values_of
from residency.domain.programme.models import Call

# A guard takes (record, actor, now, data) and returns a refusal message or None.


def before_nomination_deadline(app, actor, now, data):
    if now >= app.call.nomination_deadline:
        return _l("The nomination deadline passed %(when)s; nominations are closed.",
                  when=format_in_zone(app.call.nomination_deadline, app.call.timezone))
    return None


def seat_left(app, actor, now, data):
    """Nominations never exceed the call's seats: the call row is locked while counting,
    so two staff nominating for the last seat at once cannot both get it."""
    seats = db.session.scalar(for_update(select(Call.seats).where(Call.id == app.call_id)))
    # The others: the same count whether the application is about to be nominated or (forced) already is.
    taken = db.session.scalar(select(func.count()).select_from(Application).where(
        Application.call_id == app.call_id, Application.status == "nominated", Application.id != app.id))
    if taken >= seats:
        return ngettext("This call has %(num)d seat, and it is taken; decline or un-nominate the nominated application first.",
                        "All %(num)d seats of this call are taken; decline or un-nominate another application first.", seats)
    return None


def _relation(app: Application, user: User | None) -> set[str]:
    if user is None:
        return {SYSTEM}
    held = set()
    if workflow.is_admin(user):
        held.add(ADMIN)
    if user.is_member_of(app.startup_id):
        held.add(APPLICANT)
    # Cluster staff see applications once they are submitted, never drafts (``rules.seen_by_cluster``).
    if user.is_member_of(app.call.route.cluster_id) and rules.seen_by_cluster(app):
        held.add(CLUSTER)
    # The host hub reads a nominee's application (answers and attachments) to decide on its placement.
    if app.status == "nominated" and user.is_member_of(app.call.route.host_hub_id):
        held.add(HUB)
    return held


def _recipients(app: Application, audience: str) -> list[User]:
    org_id = {"applicant": app.startup_id, "cluster": app.call.route.cluster_id, "hub": app.call.route.host_hub_id}[audience]
    return members(org_id)


def _context(app: Application) -> dict:
    """A copy of the answers as they were at this moment, for receipts."""
    form = form_of_application(app)
    values = values_of(app, form)
    return {
        "call_title": app.call.title,
        "startup_name": app.startup.name,
        "application_id": app.id,
        # Each question asked as it was worded, with the answer given, so the receipt renders in the
        # reader's language later whatever the form becomes meanwhile.
        "answers": [snapshot(q, values.get(q.key)) for q in form.asked(values) if q.kind != "file"],
        "attachments": [a.filename for a in app.attachments],
        # A change request's answer-by moment, written in the reader's language when the e-mail is rendered.
        "response_due_at": app.response_due_at.isoformat() if app.response_due_at else None,
        "timezone": app.call.timezone,
    }


def correction_allowed(app: Application, source: str, target: str):
    """What a forced or reverted transition of an application must respect: the call's seats
    (the nomination deadline is what an administrator may override), and one application per
    startup and call that is not withdrawn."""
    if target == "nominated":
        return seat_left(app, None, None, {})
    if source == "withdrawn":
        other = db.session.scalar(select(Application.id).where(
            Application.call_id == app.call_id, Application.startup_id == app.startup_id,
            Application.status != "withdrawn", Application.id != app.id).limit(1))
        if other is not None:
            return _l("The startup has another application to this call (number %(id)d) that is not withdrawn; "
                      "withdraw that one first.", id=other)
    return None


APPLICATION = Workflow(
    name="application",
    initial="draft",
    states={
        "draft": State(_l("Draft"), _l("Draft")),
        "submitted": State(_l("Submitted, awaiting review"), _l("Submitted")),
        "under_review": State(_l("Awaiting nomination"), _l("Under review")),
        "changes_requested": State(_l("Changes requested"), _l("Changes requested")),
        "nominated": State(_l("Nominated"), _l("Nominated")),
        "not_nominated": State(_l("Declined"), _l("Not nominated")),
        "withdrawn": State(_l("Withdrawn"), _l("Withdrawn")),
    },
    actions={
        "submit": _l("Submitted"),
        "start_review": _l("Review started"),
        "nominate": _l("Nominated"),
        "decline": _l("Declined"),
        "unnominate": _l("Nomination taken back"),
        "request_changes": _l("Changes requested"),
        "resubmit": _l("Resubmitted"),
        "withdraw": _l("Withdrawn"),
    },
    transitions=(
        T("draft", "submit", "submitted", roles(APPLICANT), notify=(Notify("application_submitted", "applicant"),)),
        T("submitted", "start_review", "under_review", roles(CLUSTER)),
        T("under_review", "nominate", "nominated", roles(CLUSTER), guards=(before_nomination_deadline, seat_left)),
        T("under_review", "decline", "not_nominated", roles(CLUSTER), reason_required=True, reason_public=False),
        # Staff take a nomination back while the hub has not acted on it (the placements domain adds that guard).
        T("nominated", "unnominate", "under_review", roles(CLUSTER), reason_required=True, reason_public=False),
        T("submitted", "request_changes", "changes_requested", roles(CLUSTER), reason_required=True,
          notify=(Notify("application_changes_requested", "applicant"),)),
        T("under_review", "request_changes", "changes_requested", roles(CLUSTER), reason_required=True,
          notify=(Notify("application_changes_requested", "applicant"),)),
        T("changes_requested", "resubmit", "submitted", roles(APPLICANT), notify=(Notify("application_submitted", "applicant"),)),
        T("draft", "withdraw", "withdrawn", roles(APPLICANT), reason_required=True),
        T("submitted", "withdraw", "withdrawn", roles(APPLICANT), reason_required=True),
        T("under_review", "withdraw", "withdrawn", roles(APPLICANT), reason_required=True),
        T("changes_requested", "withdraw", "withdrawn", roles(APPLICANT), reason_required=True),
    ),
    model=Application,
    relation=_relation,
    recipients=_recipients,
    context=_context,
    applicant_state=rules.applicant_status,
)


def mark_submitted(app: Application, change, data) -> None:
    """Keep ``Application.submitted_at`` in step with the audit trail, at the change's own time:
    entering "submitted" (a resubmission or a correction too), or leaving the draft for anything but
    a withdrawal (an administrator forcing it on), is a submission. The time is never cleared."""
    if change.to_state == "submitted" or (change.from_state == "draft" and change.to_state != "withdrawn"):
        app.submitted_at = change.created_at


def register() -> None:
    workflow.register(APPLICATION)
    workflow.check_correction("application", correction_allowed)
    workflow.on_enter("application", "submitted", mark_submitted)
    workflow.on_leave("application", "draft", mark_submitted)
