"""The placement workflow, and the pending placement a nomination opens at the host hub.

A placement lives only while its application is nominated: a nomination opens it
(or reopens the one a reverted nomination cancelled), a nomination an administrator
takes back cancels it while the hub has not yet offered, and is refused once it has.
"""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select

from residency.core import workflow
from residency.core.extensions import db
from residency.core.workflow import ADMIN, APPLICANT, HUB, SYSTEM, Notify, State, T, Workflow, roles
from residency.domain.accounts.models import User
from residency.domain.accounts.queries import members
from residency.domain.applications.models import Application
from residency.domain.placements.models import DATED_STATES, Placement
from residency.domain.placements.rules import CANCELLED, LIVE, visible_to_startup
from residency.domain.placements.services import HOLDING, capacity_guard

# While the hub has not offered, the nomination is all there is: taking it back cancels the placement.
BEFORE_OFFER = ("pending", "waitlisted")
# Once the hub has offered (or the residency happened), the nomination can no longer be taken back.
HUB_COMMITTED = ("offered", "accepted", "active", "completed", "terminated")


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
        "conditions": placement.conditions or "",
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
        "declined": State(_l("Declined by startup"), _l("Offer declined")),
        "lapsed": State(_l("Offer lapsed"), _l("Offer expired")),
        "active": State(_l("In residence"), _l("In residence")),
        "completed": State(_l("Completed"), _l("Completed")),
        "terminated": State(_l("Terminated"), _l("Ended early")),
        "cancelled": State(_l("Cancelled: no longer nominated"), _l("Not placed")),
    },
    actions={
        "offer": _l("Offered"),
        "amend_offer": _l("Offer changed"),
        "withdraw_offer": _l("Offer withdrawn"),
        "waitlist": _l("Waitlisted"),
        "reject": _l("Rejected"),
        "accept": _l("Accepted"),
        "decline": _l("Declined by startup"),
        "lapse": _l("Offer lapsed"),
        "start": _l("Residency started"),
        "complete": _l("Completed"),
        "terminate": _l("Terminated"),
        "extend": _l("Extended"),
        "cancel": _l("Cancelled with its nomination"),
        "reopen": _l("Reopened with its nomination"),
    },
    transitions=(
        T("pending", "offer", "offered", roles(HUB), guards=(capacity_guard,), notify=(Notify("placement_offered", "applicant"),)),
        T("pending", "waitlist", "waitlisted", roles(HUB), notify=(Notify("placement_waitlisted", "applicant"),)),
        T("pending", "reject", "rejected", roles(HUB), reason_required=True, notify=(Notify("placement_rejected", "applicant"),)),
        T("waitlisted", "offer", "offered", roles(HUB), guards=(capacity_guard,), notify=(Notify("placement_offered", "applicant"),)),
        T("waitlisted", "reject", "rejected", roles(HUB), reason_required=True, notify=(Notify("placement_rejected", "applicant"),)),
        # Issue 14: before the startup answers, the hub may change the offer or take it back.
        T("offered", "amend_offer", "offered", roles(HUB), guards=(capacity_guard,),
          notify=(Notify("placement_offer_amended", "applicant"),)),
        T("offered", "withdraw_offer", "pending", roles(HUB), reason_required=True,
          notify=(Notify("placement_offer_withdrawn", "applicant"),)),
        T("offered", "accept", "accepted", roles(APPLICANT), notify=(Notify("placement_accepted", "hub"),)),
        T("offered", "decline", "declined", roles(APPLICANT), notify=(Notify("placement_declined", "hub"),)),
        T("offered", "lapse", "lapsed", roles(SYSTEM), notify=(Notify("placement_lapsed", "applicant"), Notify("placement_lapsed", "hub"))),
        T("accepted", "start", "active", roles(SYSTEM)),
        T("active", "complete", "completed", roles(HUB, SYSTEM)),
        T("active", "terminate", "terminated", roles(HUB), reason_required=True, notify=(Notify("placement_terminated", "applicant"),)),
        T("active", "extend", "active", roles(HUB), guards=(capacity_guard,)),
        # The application's nomination was taken back, or made again (see the hooks below).
        T("pending", "cancel", "cancelled", roles(SYSTEM), visible_to_applicant=False),
        T("waitlisted", "cancel", "cancelled", roles(SYSTEM), visible_to_applicant=False),
        T("cancelled", "reopen", "pending", roles(SYSTEM), visible_to_applicant=False),
    ),
    model=Placement,
    relation=_relation,
    recipients=_recipients,
    context=_context,
    applicant_state=lambda placement: placement.status if visible_to_startup(placement) else None,
)


def placement_of(application: Application) -> Placement | None:
    return db.session.scalar(select(Placement).where(Placement.application_id == application.id))


def open_pending_placement(application: Application, change, data: dict) -> None:
    """A nomination opens a pending placement at the route's host hub, once per application: a
    nomination that was reverted and made again reopens the placement it cancelled (a placement the
    hub rejected or the startup declined stays as it is)."""
    placement = placement_of(application)
    if placement is None:
        db.session.add(Placement(application_id=application.id, call_id=application.call_id,
                                 hub_id=application.call.route.host_hub_id,
                                 created_at=change.created_at, updated_at=change.created_at))
        db.session.flush()
    elif placement.status == CANCELLED:
        workflow.perform(placement, "reopen", None, reason=change.reason, now=change.created_at)


def cancel_pending_placement(application: Application, change, data: dict) -> None:
    """A nomination taken back (forced or reverted) cancels its placement while the hub has not
    offered it: the hub can no longer offer it, and the startup hears nothing of it."""
    placement = placement_of(application)
    if placement is not None and placement.status in BEFORE_OFFER:
        workflow.perform(placement, "cancel", None, reason=change.reason, now=change.created_at)


def nomination_correction_allowed(application: Application, source: str, target: str):
    """A nomination can be taken back until the hub has offered the placement."""
    if source != "nominated":
        return None
    placement = placement_of(application)
    if placement is not None and placement.status in HUB_COMMITTED:
        return _l("The hub has already acted on this nomination: the placement is %(state)s. "
                  "Correct the placement first.", state=PLACEMENT.label(placement.status, False))
    return None


def hub_has_not_acted(application: Application, actor, now, data):
    """Guard of un-nominating: cluster staff take a nomination back only while the hub has not
    answered it at all (an administrator may still correct a waitlisted one)."""
    placement = placement_of(application)
    if placement is not None and placement.status != "pending":
        return _l("The hub has already acted on this nomination (the placement is %(state)s), so it can no "
                  "longer be taken back here; ask the hub or a programme administrator.",
                  state=PLACEMENT.label(placement.status, False))
    return None


def placement_correction_allowed(placement: Placement, source: str, target: str):
    """What a forced or reverted placement must respect: it lives only while its application is
    nominated, only a reverted nomination cancels it, an offer has dates and space and an answer-by
    date, and space the hub does not have is never held."""
    application = placement.application
    if target in LIVE and application.status != "nominated":
        return _l("The application is not nominated (it is %(state)s); nominate it again first.",
                  state=workflow.label("application", application.status, False))
    if target == CANCELLED:
        return _l("A placement is cancelled only with its nomination: correct the application instead.")
    if target in DATED_STATES and None in (placement.starts_on, placement.ends_on, placement.desks, placement.benches):
        return _l("The placement has no dates, desks and lab benches yet: the hub sets them with an offer.")
    if target == "offered" and placement.offer_expires_at is None:
        return _l("The placement has no answer-by date yet: the hub sets it with an offer.")
    if target in HOLDING and source not in HOLDING:
        return capacity_guard(placement, None, None, {})
    return None


def register() -> None:
    workflow.register(PLACEMENT)
    workflow.on_enter("application", "nominated", open_pending_placement)
    workflow.on_leave("application", "nominated", cancel_pending_placement)
    workflow.check_correction("application", nomination_correction_allowed)
    workflow.add_guard("application", "unnominate", hub_has_not_acted)
    workflow.check_correction("placement", placement_correction_allowed)
