"""Rules about applications that pages, exports, the API, reminders and the calendar share.

Each rule is written here once:

- a cluster's decision (nominated / not nominated) stays hidden from the startup until the
  call's decisions are released: the startup keeps seeing "under review";
- the effective deadline of an application: the call's closing time, or the startup's latest
  extension if it has one (never earlier than the call's own closing time);
- what cluster staff may see: an application once it was submitted, never a draft, nor a draft
  withdrawn without ever being submitted (its answers and reason stay the startup's own);
- the reviewers' comments for the startup reach it with its decision, once released.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, not_, or_, select

from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.domain.applications.models import Application, DeadlineExtension
from residency.domain.programme.models import Call

# The decisions a startup learns of only once the call's decisions are released.
DECIDED = ("nominated", "not_nominated")
DECISION_ACTIONS = ("nominate", "decline", "unnominate")
# What a startup sees instead of a decision that is not released yet.
UNRELEASED_STATUS = "under_review"


def decisions_released(call: Call) -> bool:
    return call.decisions_released_at is not None


def decision_visible(application: Application) -> bool:
    """Whether the startup may know the application's current status."""
    return application.status not in DECIDED or decisions_released(application.call)


def applicant_status(application: Application) -> str:
    """The status the startup sees: a decision stays "under review" until it is released."""
    return application.status if decision_visible(application) else UNRELEASED_STATUS


def applicant_sees_change(change, call: Call) -> bool:
    """Whether an audit entry may be shown to the startup (decisions only once released)."""
    return change.visible_to_applicant and (decisions_released(call) or change.action not in DECISION_ACTIONS)


def applicant_sees_change_clause():
    """SQL: the audit entries ``applicant_sees_change`` lets the startup see (join ``Call`` first)."""
    return and_(StatusChange.visible_to_applicant.is_(True),
                or_(decisions_released_clause(), StatusChange.action.not_in(DECISION_ACTIONS)))


def decision_hidden_clause():
    """SQL: applications whose decision the startup may not see yet (join ``Call`` first)."""
    return and_(Application.status.in_(DECIDED), Call.decisions_released_at.is_(None))


def decision_visible_clause():
    """SQL: applications whose status the startup may see (join ``Call`` first)."""
    return not_(decision_hidden_clause())


def decisions_released_clause():
    """SQL: the call's decisions are released (join ``Call`` first)."""
    return Call.decisions_released_at.is_not(None)


# The states cluster staff never see an application in, whatever its past.
PRIVATE_STATES = ("draft",)


def ever_submitted_clause():
    """SQL: the application has been submitted (or forced on out of its draft) at least once:
    ``Application.submitted_at`` is set by the workflow then and never cleared."""
    return Application.submitted_at.is_not(None)


def seen_by_cluster_clause():
    """SQL: applications cluster staff may see: not drafts, and withdrawn ones only if they were
    ever submitted."""
    return or_(Application.status.not_in(PRIVATE_STATES + ("withdrawn",)),
               and_(Application.status == "withdrawn", ever_submitted_clause()))


def seen_by_cluster(application: Application) -> bool:
    """Whether cluster staff may see this application (``seen_by_cluster_clause`` for one record)."""
    if application.status in PRIVATE_STATES:
        return False
    return application.status != "withdrawn" or application.submitted_at is not None


def deadline_with(call: Call, extension: datetime | None) -> datetime:
    return max(call.closes_at, extension) if extension else call.closes_at


def latest_extension_of(call_id, startup_id):
    """SQL: the closing time of the latest extension of the call to the startup (columns or values), or NULL."""
    return (select(DeadlineExtension.closes_at)
            .where(DeadlineExtension.call_id == call_id, DeadlineExtension.startup_id == startup_id)
            .order_by(DeadlineExtension.id.desc())
            .limit(1)
            .scalar_subquery())


def effective_deadline(call: Call, startup_id: int) -> datetime:
    """The call's closing time, or this startup's latest extension if it has one."""
    return deadline_with(call, db.session.scalar(select(latest_extension_of(call.id, startup_id))))


def latest_extensions(*conditions) -> dict[tuple[int, int], datetime]:
    """The latest extension per (call id, startup id) among those matching ``conditions``, in one query."""
    latest: dict[tuple[int, int], datetime] = {}
    for call_id, startup_id, closes_at in db.session.execute(
            select(DeadlineExtension.call_id, DeadlineExtension.startup_id, DeadlineExtension.closes_at)
            .where(*conditions).order_by(DeadlineExtension.id)):
        latest[(call_id, startup_id)] = closes_at
    return latest


def accepting(call: Call, startup_id: int, now: datetime) -> bool:
    """Whether the call accepts this startup's application now (in absolute time)."""
    if call.status not in ("published", "closed"):
        return False
    return call.opens_at <= now < effective_deadline(call, startup_id)


# ------------------------------------------------------------------ reviewer feedback


def feedback_visible(application: Application) -> bool:
    """Whether the startup may read the reviewers' comments for it: once the application is decided
    and the call's decisions are released, like the decision itself (never while it is still open,
    withdrawn, or decided but held back)."""
    return application.status in DECIDED and decisions_released(application.call)
