"""The placement workflow, and the pending placement a nomination opens at the host hub."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from residency.core import workflow
from residency.core.extensions import db
from residency.core.workflow import ADMIN, APPLICANT, HUB, SYSTEM, Notify, State, T, Workflow, roles
from residency.domain.accounts.models import User
from residency.domain.accounts.queries import members
from residency.domain.applications.models import Application
from residency.domain.placements.models import Placement
from residency.domain.placements.services import capacity_guard


def _relation(placement, user: User | None) -> set[str]:
    if user is None:
        return {SYSTEM}
    held = set()
    if workflow.is_admin(user):
        held.add(ADMIN)
    if user.is_member_of(placement.application.startup_id):
        held.add(APPLICANT)
    if user.is_member_of(placement.hub_id):
        held.add(HUB)
    return held


def _recipients(placement, audience: str) -> list[User]:
    route = placement.application.call.route
    org_id = {"applicant": placement.application.startup_id, "hub": placement.hub_id, "cluster": route.cluster_id}[audience]
    return members(org_id)


def _context(placement) -> dict:
    return {
        "call_title": placement.application.call.title,
        "startup_name": placement.application.startup.name,
        "hub_name": placement.hub.name,
        "placement_id": placement.id,
        "starts_on": placement.starts_on.isoformat() if placement.starts_on else None,
        "ends_on": placement.ends_on.isoformat() if placement.ends_on else None,
        "desks": placement.desks,
        "benches": placement.benches,
        "offer_expires_at": placement.offer_expires_at.isoformat() if placement.offer_expires_at else None,
        "timezone": placement.hub.timezone or placement.application.call.timezone,
    }


PLACEMENT = Workflow(
    name="placement",
    initial="pending",
    states={
        "pending": State(_l("Awaiting hub decision"), _l("Nominated, awaiting the hub")),
        "offered": State(_l("Offered"), _l("Offer received")),
        "waitlisted": State(_l("Waitlisted"), _l("On the waiting list")),
        "rejected": State(_l("Rejected"), _l("Not placed")),
        "accepted": State(_l("Accepted"), _l("Accepted")),
        "declined": State(_l("Declined by startup"), _l("Declined")),
        "lapsed": State(_l("Offer lapsed"), _l("Offer expired")),
        "active": State(_l("In residence"), _l("In residence")),
        "completed": State(_l("Completed"), _l("Completed")),
        "terminated": State(_l("Terminated"), _l("Ended early")),
    },
    actions={
        "offer": _l("Offered"),
        "waitlist": _l("Waitlisted"),
        "reject": _l("Rejected"),
        "accept": _l("Accepted"),
        "decline": _l("Declined by startup"),
        "lapse": _l("Offer lapsed"),
        "start": _l("Residency started"),
        "complete": _l("Completed"),
        "terminate": _l("Terminated"),
        "extend": _l("Extended"),
    },
    transitions=(
        T("pending", "offer", "offered", roles(HUB), guards=(capacity_guard,), notify=(Notify("placement_offered", "applicant"),)),
        T("pending", "waitlist", "waitlisted", roles(HUB), notify=(Notify("placement_waitlisted", "applicant"),)),
        T("pending", "reject", "rejected", roles(HUB), reason_required=True, notify=(Notify("placement_rejected", "applicant"),)),
        T("waitlisted", "offer", "offered", roles(HUB), guards=(capacity_guard,), notify=(Notify("placement_offered", "applicant"),)),
        T("waitlisted", "reject", "rejected", roles(HUB), reason_required=True, notify=(Notify("placement_rejected", "applicant"),)),
        T("offered", "accept", "accepted", roles(APPLICANT), notify=(Notify("placement_accepted", "hub"),)),
        T("offered", "decline", "declined", roles(APPLICANT), notify=(Notify("placement_declined", "hub"),)),
        T("offered", "lapse", "lapsed", roles(SYSTEM), notify=(Notify("placement_lapsed", "applicant"), Notify("placement_lapsed", "hub"))),
        T("accepted", "start", "active", roles(SYSTEM)),
        T("active", "complete", "completed", roles(HUB, SYSTEM)),
        T("active", "terminate", "terminated", roles(HUB), reason_required=True, notify=(Notify("placement_terminated", "applicant"),)),
        T("active", "extend", "active", roles(HUB), guards=(capacity_guard,)),
    ),
    model=Placement,
    relation=_relation,
    recipients=_recipients,
    context=_context,
)


def open_pending_placement(application: Application, change, data: dict) -> None:
    """A nomination opens a pending placement at the route's host hub (once per application:
    a nomination that was reverted and made again finds the placement it opened before)."""
    if db.session.scalar(select(Placement.id).where(Placement.application_id == application.id)) is None:
        db.session.add(Placement(application_id=application.id, hub_id=application.call.route.host_hub_id,
                                 created_at=change.created_at, updated_at=change.created_at))
        db.session.flush()


def register() -> None:
    workflow.register(PLACEMENT)
    workflow.on_enter("application", "nominated", open_pending_placement)
