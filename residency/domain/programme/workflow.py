"""The call workflow: publish, close, reopen, archive."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l

from residency.core import workflow
from residency.core.workflow import ADMIN, SYSTEM, State, T, Workflow, roles
from residency.domain.accounts.models import User
from residency.domain.programme.models import Call, Route


def call_ready_to_publish(call, actor, now, data):
    if not call.criteria:
        return _l("Add at least one scoring criterion before publishing the call.")
    if call.closes_at <= now:
        return _l("The call's closing time has already passed; move it to the future before publishing.")
    return None


def _relation(call: Call, user: User | None) -> set[str]:
    if user is None:
        return {SYSTEM}
    if workflow.is_admin(user):
        return {ADMIN}
    # Published and closed calls are public: anyone may see them, nobody else may act.
    return {"viewer"} if call.status in ("published", "closed") else set()


def _recipients(call: Call, audience: str) -> list[User]:
    return []


CALL = Workflow(
    name="call",
    initial="draft",
    states={
        "draft": State(_l("Draft"), _l("Not yet published")),
        "published": State(_l("Published"), _l("Published")),
        "closed": State(_l("Closed"), _l("Closed")),
        "archived": State(_l("Archived"), _l("Archived")),
    },
    actions={
        "publish": _l("Published"),
        "close": _l("Closed"),
        "reopen": _l("Reopened"),
        "archive": _l("Archived"),
    },
    transitions=(
        T("draft", "publish", "published", roles(ADMIN), guards=(call_ready_to_publish,)),
        T("published", "close", "closed", roles(ADMIN, SYSTEM)),
        T("closed", "reopen", "published", roles(ADMIN), guards=(call_ready_to_publish,)),
        T("closed", "archive", "archived", roles(ADMIN)),
    ),
    model=Call,
    relation=_relation,
    recipients=_recipients,
)


def _route_relation(route: Route, user: User | None) -> set[str]:
    if user is None:
        return {SYSTEM}
    return {ADMIN} if workflow.is_admin(user) else set()


# Issue 14: an administrator closes a route to new calls (its calls run to their end) and may reopen it.
ROUTE = Workflow(
    name="route",
    initial="open",
    states={
        "open": State(_l("Open"), _l("Open")),
        "closed": State(_l("Closed to new calls"), _l("Closed")),
    },
    actions={
        "close": _l("Closed to new calls"),
        "reopen": _l("Reopened"),
    },
    transitions=(
        T("open", "close", "closed", roles(ADMIN), reason_required=True, visible_to_applicant=False),
        T("closed", "reopen", "open", roles(ADMIN), visible_to_applicant=False),
    ),
    model=Route,
    relation=_route_relation,
    recipients=_recipients,
)


def register() -> None:
    workflow.register(CALL)
    workflow.register(ROUTE)
