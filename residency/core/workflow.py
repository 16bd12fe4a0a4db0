"""Every workflow of the programme, declared as data, and the one function
that changes a status.

A transition is ``(workflow, from_state, action) -> to_state`` with the roles
that may perform it, guards that must hold, and the e-mails it sends.
``perform`` is the only code that assigns a status: it answers 404 to an actor
who may not see the record, 403 to one who may see but not act, 409 when the
transition is not allowed now; it locks the record so that of two people acting
at once exactly one wins, and writes the audit row and the outbox rows in the
caller's transaction (the calling service commits once).

The engine knows no domain: each domain declares its tables in its own
``workflow.py`` and registers them here (``register``), with the relation of a
user to its records, the recipients of its e-mails, the context those e-mails
may show, and hooks that keep dependent records in step (``on_enter``, ``on_leave``).

Forced and reverted transitions skip the table's guards (that is what they are
for), but never leave dependent records inconsistent: each domain registers,
for the workflows its records depend on, the checks such a correction must pass
(``check_correction``, a plain refusal otherwise) and the hooks that cancel or
reuse what depends on the state left or entered.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import lazyload

from residency.core.db import utcnow
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound
from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.core.outbox import enqueue
from residency.core.uow import for_update

SYSTEM = "system"
ADMIN = "programme_admin"
APPLICANT = "applicant"
CLUSTER = "cluster_staff"
HUB = "hub_admin"
FUNDER = "funder_officer"

# Actions an administrator may take on any record of any workflow.
FORCE, REVERT = "force", "revert"
CORRECTIONS = {FORCE: _l("Forced"), REVERT: _l("Reverted")}


@dataclass(frozen=True)
class Notify:
    """Send ``template`` to everyone in ``audience`` (applicant, cluster, hub, funder)."""

    template: str
    audience: str


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    roles: frozenset
    guards: tuple = ()
    notify: tuple = ()
    visible_to_applicant: bool = True
    reason_required: bool = False
    # False where the reason is an internal note (a decline's reason); the applicant then sees only the note.
    reason_public: bool = True


@dataclass(frozen=True)
class State:
    staff_label: object
    applicant_label: object


@dataclass
class Workflow:
    name: str
    initial: str
    states: dict
    transitions: tuple
    # model and relation are attached where the record type exists; until then
    # the workflow is declared (and walked by the tests) but cannot run.
    model: type | None = None
    relation: Callable | None = None  # (record, user) -> set of roles held on it
    recipients: Callable | None = None  # (record, audience) -> list of users
    context: Callable | None = None  # (record) -> what the e-mails about it may show
    # (record) -> the state the startup may know the record in (a decision not yet released reads as the
    # state before it), or None when the startup may not know of the record at all. None: its status.
    applicant_state: Callable | None = None
    # How the audit trail names each action ("Nominated", "Offer accepted"), translated.
    actions: dict = field(default_factory=dict)
    _index: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        for t in self.transitions:
            key = (t.source, t.action)
            if key in self._index:
                raise ValueError(f"{self.name}: duplicate transition {key}")
            if t.source not in self.states or t.target not in self.states:
                raise ValueError(f"{self.name}: unknown state in {t}")
            self._index[key] = t
        unlabelled = {t.action for t in self.transitions} - set(self.actions)
        if unlabelled:
            raise ValueError(f"{self.name}: no label for actions {sorted(unlabelled)}")

    def find(self, source: str, action: str) -> Transition | None:
        return self._index.get((source, action))

    def actions_from(self, source: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == source]

    def label(self, state: str, for_applicant: bool) -> str:
        labels = self.states[state]
        return str(labels.applicant_label if for_applicant else labels.staff_label)

    def action_label(self, action: str) -> str:
        """How the audit trail names ``action``; corrections by an administrator included."""
        label = self.actions.get(action) or CORRECTIONS.get(action)
        return str(label) if label is not None else action


def roles(*names: str) -> frozenset:
    return frozenset(names)


def T(source, action, target, who, **kw) -> Transition:  # noqa: N802 - reads as a table row
    return Transition(source, action, target, who, **kw)



# ---------------------------------------------------------------- the registry

_WORKFLOWS: dict[str, Workflow] = {}
# (workflow name, state) -> hooks run when a record enters that state, in registration order.
_ON_ENTER: dict[tuple[str, str], list[Callable]] = {}
# (workflow name, state) -> hooks run when a record leaves that state for another one.
_ON_LEAVE: dict[tuple[str, str], list[Callable]] = {}
# workflow name -> checks a forced or reverted transition of its records must pass.
_CORRECTION_CHECKS: dict[str, list[Callable]] = {}
# (workflow name, action) -> guards a domain built on the workflow adds to that action.
_ADDED_GUARDS: dict[tuple[str, str], list[Callable]] = {}


def register(wf: Workflow) -> Workflow:
    """Make ``wf`` known to the engine (a domain calls this from its ``register`` function)."""
    if wf.model is None or wf.relation is None or wf.recipients is None:
        raise ValueError(f"{wf.name}: a registered workflow needs its model, relation and recipients")
    _WORKFLOWS[wf.name] = wf
    return wf


def on_enter(workflow_name: str, state: str, hook: Callable) -> None:
    """Run ``hook(record, change, data)`` whenever a record of ``workflow_name`` enters ``state``,
    in the same transaction (forced and reverted transitions included). Registering twice is harmless."""
    hooks = _ON_ENTER.setdefault((workflow_name, state), [])
    if hook not in hooks:
        hooks.append(hook)


def on_leave(workflow_name: str, state: str, hook: Callable) -> None:
    """Run ``hook(record, change, data)`` whenever a record of ``workflow_name`` leaves ``state`` for
    another state, in the same transaction, before the hooks of the state entered."""
    hooks = _ON_LEAVE.setdefault((workflow_name, state), [])
    if hook not in hooks:
        hooks.append(hook)


def check_correction(workflow_name: str, check: Callable) -> None:
    """Before a forced or reverted transition moves a record of ``workflow_name``,
    ``check(record, source, target)`` may refuse it by returning a plain message (a 409);
    nothing has changed yet. What the table's guards check for ordinary transitions,
    the records depending on a workflow check here for corrections."""
    checks = _CORRECTION_CHECKS.setdefault(workflow_name, [])
    if check not in checks:
        checks.append(check)


def add_guard(workflow_name: str, action: str, guard: Callable) -> None:
    """Check ``guard(record, actor, now, data)`` as well as the table's guards before ``action`` of
    ``workflow_name``: a rule that belongs to a domain built on the workflow (the hub has acted on a
    nomination) stays in that domain. Registering twice is harmless."""
    guards = _ADDED_GUARDS.setdefault((workflow_name, action), [])
    if guard not in guards:
        guards.append(guard)


def get(name: str) -> Workflow | None:
    return _WORKFLOWS.get(name)


def registered() -> list[Workflow]:
    return list(_WORKFLOWS.values())


def label(workflow_name: str, state: str, for_applicant: bool) -> str:
    return _WORKFLOWS[workflow_name].label(state, for_applicant)


def is_admin(user) -> bool:
    return user is not None and user.has_role(ADMIN)


def workflow_for(record) -> Workflow:
    for wf in _WORKFLOWS.values():
        if isinstance(record, wf.model):
            return wf
    raise TypeError(f"no workflow for {type(record).__name__}")


def roles_on(record, user) -> set[str]:
    return workflow_for(record).relation(record, user)


def require(record, user, *roles: str):
    """The one 404-vs-403 rule: 404 for a record ``user`` may not see at all, 403 for one they
    may see but hold none of ``roles`` on (no roles given: seeing it is enough). Returns the record."""
    if record is None:
        raise NotFound(_l("Not found."))
    held = roles_on(record, user)
    if not held:
        raise NotFound(_l("Not found."))
    if roles and not held & set(roles):
        raise Forbidden(_l("You are not allowed to do that."))
    return record


def allowed_actions(record, user) -> list[Transition]:
    """The transitions ``user`` could perform on ``record`` now (guards not yet run)."""
    wf = workflow_for(record)
    held = wf.relation(record, user)
    return [t for t in wf.actions_from(record.status) if t.roles & held]


# ------------------------------------------------------------ the one function


def perform(
    record,
    action: str,
    actor,
    *,
    reason: str | None = None,
    note: str | None = None,
    target: str | None = None,
    now: datetime | None = None,
    data: dict | None = None,
):
    """Perform ``action`` on ``record`` as ``actor`` (None is the scheduler).

    ``force`` (with ``target``) and ``revert`` are administrators' actions on any
    workflow and need a reason. Flushes; the calling service commits.
    """
    wf = workflow_for(record)
    now = now or utcnow()
    reason = (reason or "").strip() or None
    held = wf.relation(record, actor)
    if not held:
        raise NotFound(_l("Not found."))

    record = _lock(wf, record)
    current = record.status
    forced = action in (FORCE, REVERT)

    if forced:
        if ADMIN not in held:
            raise Forbidden(_l("Only a programme administrator may force or revert a status."))
        if not reason:
            raise Invalid(_l("Give a reason for forcing or reverting a status."), {"reason": [_l("A reason is required.")]})
        if action == REVERT:
            target = _previous_state(wf, record)
            if target is None:
                raise Conflict(_l("There is no earlier status to revert to."))
        if target not in wf.states:
            raise Invalid(_l("Choose a status to move to."), {"target": [_l("Unknown status.")]})
        if target == current:
            raise Conflict(_l("The record is already %(state)s.", state=wf.label(current, False)))
        for check in _CORRECTION_CHECKS.get(wf.name, ()):
            refusal = check(record, current, target)
            if refusal:
                raise Conflict(refusal)
        transition = Transition(current, action, target, roles(ADMIN), visible_to_applicant=False, reason_required=True)
    else:
        transition = wf.find(current, action)
        able = [t for t in wf.transitions if t.action == action and t.roles & held]
        if not able:
            raise Forbidden(_l("You are not allowed to do that."))
        if transition is None or not transition.roles & held:
            raise Conflict(_l("This cannot be done now: the record is %(state)s.", state=shown_label(wf, record, held)))
        if transition.reason_required and not reason:
            raise Invalid(_l("Please give a reason."), {"reason": [_l("A reason is required.")]})
        for guard in (*transition.guards, *_ADDED_GUARDS.get((wf.name, action), ())):
            refusal = guard(record, actor, now, data or {})
            if refusal:
                raise Conflict(refusal)

    # Compare-and-set: even without a row lock (SQLite) only one writer moves
    # the record out of ``current``.
    model = wf.model
    result = db.session.execute(
        update(model).where(model.id == record.id, model.status == current).values(status=transition.target),
        execution_options={"synchronize_session": "fetch"},
    )
    if result.rowcount != 1:
        raise Conflict(_l("Someone else changed this record a moment ago; reload the page and try again."))

    change = StatusChange(
        workflow=wf.name,
        record_id=record.id,
        from_state=current,
        to_state=transition.target,
        action=action,
        actor_id=actor.id if actor is not None else None,
        reason=reason,
        note=(note or "").strip() or None,
        visible_to_applicant=transition.visible_to_applicant,
        forced=forced,
        created_at=now,
    )
    db.session.add(change)
    db.session.flush()

    if transition.target != current:
        for hook in _ON_LEAVE.get((wf.name, current), ()):
            hook(record, change, data or {})
    for hook in _ON_ENTER.get((wf.name, transition.target), ()):
        hook(record, change, data or {})

    for notice in transition.notify:
        for user in wf.recipients(record, notice.audience):
            enqueue(
                recipient=user,
                template=notice.template,
                context={
                    "workflow": wf.name,
                    "record_id": record.id,
                    "action": action,
                    "from_state": current,
                    "to_state": transition.target,
                    "reason": reason if (transition.visible_to_applicant and transition.reason_public) or notice.audience != "applicant" else None,
                    "note": change.note,
                    **(wf.context(record) if wf.context else {}),
                },
                dedup_key=f"{wf.name}:{record.id}:change-{change.id}:{notice.template}:user-{user.id}",
            )
    return change


def shown_label(wf: Workflow, record, held: set[str]) -> str:
    """The label of the record's state as an actor holding ``held`` may know it: staff see the real
    state; the startup alone sees what it may know (an unreleased decision stays "Under review"),
    and a record it may not know of at all is not found."""
    if APPLICANT not in held or len(held) != 1:
        return wf.label(record.status, False)
    state = wf.applicant_state(record) if wf.applicant_state is not None else record.status
    if state is None:
        raise NotFound(_l("Not found."))
    return wf.label(state, True)


def _lock(wf: Workflow, record):
    """Re-read the record under a row lock (PostgreSQL) so guards see fresh state."""
    model = wf.model
    # Only the row itself: FOR UPDATE cannot lock the nullable side of an outer join on PostgreSQL.
    stmt = select(model).where(model.id == record.id).options(lazyload("*")).execution_options(populate_existing=True)
    locked = db.session.scalars(for_update(stmt, of=model)).one_or_none()
    if locked is None:
        raise NotFound(_l("Not found."))
    return locked


def _previous_state(wf: Workflow, record) -> str | None:
    last = db.session.scalars(
        select(StatusChange)
        .where(StatusChange.workflow == wf.name, StatusChange.record_id == record.id)
        .order_by(StatusChange.id.desc())
        .limit(1)
    ).first()
    return last.from_state if last is not None and last.to_state == record.status else None


def public_reason(change: StatusChange) -> str | None:
    """What an applicant may read of a change's reason: the reason where the transition makes it public."""
    wf = get(change.workflow)
    transition = wf.find(change.from_state, change.action)
    if change.forced or (transition is not None and not transition.reason_public):
        return None
    return change.reason


def history(record, for_applicant: bool) -> list[StatusChange]:
    """The audit trail of one record, oldest first; applicants see only their entries."""
    wf = workflow_for(record)
    stmt = select(StatusChange).where(StatusChange.workflow == wf.name, StatusChange.record_id == record.id)
    if for_applicant:
        stmt = stmt.where(StatusChange.visible_to_applicant.is_(True))
    return list(db.session.scalars(stmt.order_by(StatusChange.id)))
