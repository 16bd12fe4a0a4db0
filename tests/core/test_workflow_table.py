"""Walk every workflow table: each state reachable, each transition well formed,
and the table equal to the design (DESIGN.md §4)."""
from collections import deque

import pytest

from residency.core import workflow
from residency.domain.applications.workflow import APPLICATION
from residency.domain.funding.workflow import FUNDING, REPORT
from residency.domain.placements.workflow import PLACEMENT
from residency.domain.programme.workflow import CALL, ROUTE

WORKFLOWS = {wf.name: wf for wf in (APPLICATION, PLACEMENT, FUNDING, REPORT, CALL, ROUTE)}

DESIGN = {
    "application": {
        ("draft", "submit"): "submitted",
        ("submitted", "start_review"): "under_review",
        ("under_review", "nominate"): "nominated",
        ("under_review", "decline"): "not_nominated",
        ("submitted", "request_changes"): "changes_requested",
        ("under_review", "request_changes"): "changes_requested",
        ("changes_requested", "resubmit"): "submitted",
        ("draft", "withdraw"): "withdrawn",
        ("submitted", "withdraw"): "withdrawn",
        ("under_review", "withdraw"): "withdrawn",
        ("changes_requested", "withdraw"): "withdrawn",
        # Issue 14: staff take a nomination back while the hub has not acted on it.
        ("nominated", "unnominate"): "under_review",
    },
    "placement": {
        ("pending", "offer"): "offered",
        ("pending", "waitlist"): "waitlisted",
        ("pending", "reject"): "rejected",
        ("waitlisted", "offer"): "offered",
        ("waitlisted", "reject"): "rejected",
        # Issue 14: the hub changes or takes back an offer before the startup answers it.
        ("offered", "amend_offer"): "offered",
        ("offered", "withdraw_offer"): "pending",
        ("offered", "accept"): "accepted",
        ("offered", "decline"): "declined",
        ("offered", "lapse"): "lapsed",
        ("accepted", "start"): "active",
        ("active", "complete"): "completed",
        ("active", "terminate"): "terminated",
        ("active", "extend"): "active",
        # A nomination an administrator takes back cancels its placement before the hub offers;
        # nominating again reopens it (issue 12: force and revert leave the data consistent).
        ("pending", "cancel"): "cancelled",
        ("waitlisted", "cancel"): "cancelled",
        ("cancelled", "reopen"): "pending",
    },
    "funding": {
        ("draft", "submit"): "submitted",
        ("submitted", "start_assessment"): "under_assessment",
        ("under_assessment", "grant"): "granted",
        ("under_assessment", "reject"): "rejected",
        ("under_assessment", "request_changes"): "changes_requested",
        ("changes_requested", "resubmit"): "submitted",
        ("granted", "accept_offer"): "in_progress",
        # Issue 14: the startup may say no to a grant offer.
        ("granted", "decline_offer"): "declined",
        ("granted", "lapse"): "lapsed",
        ("in_progress", "close"): "closed",
        ("in_progress", "cancel"): "cancelled",
    },
    "report": {
        ("due", "submit"): "submitted",
        ("submitted", "approve"): "approved",
        ("submitted", "return"): "returned",
        ("returned", "submit"): "submitted",
    },
    # Issue 14: an administrator closes a route to new calls and may reopen it.
    "route": {
        ("open", "close"): "closed",
        ("closed", "reopen"): "open",
    },
    "call": {
        ("draft", "publish"): "published",
        ("published", "close"): "closed",
        ("closed", "reopen"): "published",
        ("closed", "archive"): "archived",
    },
}

SYSTEM_ONLY = {("placement", "lapse"), ("placement", "start"), ("funding", "lapse"), ("placement", "cancel"),
               ("placement", "reopen")}


@pytest.mark.parametrize("name", sorted(DESIGN))
def test_table_matches_the_design(name):
    wf = WORKFLOWS[name]
    assert {(t.source, t.action): t.target for t in wf.transitions} == DESIGN[name]


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_state_is_reachable_from_the_initial_state(name):
    wf = WORKFLOWS[name]
    seen, queue = {wf.initial}, deque([wf.initial])
    while queue:
        state = queue.popleft()
        for t in wf.actions_from(state):
            if t.target not in seen:
                seen.add(t.target)
                queue.append(t.target)
    assert seen == set(wf.states)


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_transition_names_who_may_act_and_every_state_has_both_labels(app, name):
    wf = WORKFLOWS[name]
    known_roles = {workflow.SYSTEM, workflow.ADMIN, workflow.APPLICANT, workflow.CLUSTER, workflow.HUB, workflow.FUNDER}
    for t in wf.transitions:
        assert t.roles and t.roles <= known_roles, t
        if (name, t.action) in SYSTEM_ONLY:
            assert t.roles == {workflow.SYSTEM}
    with app.test_request_context():
        for state in wf.states:
            assert wf.label(state, for_applicant=False)
            assert wf.label(state, for_applicant=True)


def test_the_app_registers_every_workflow_the_domains_declare(app):
    assert {wf.name: wf for wf in workflow.registered()} == WORKFLOWS


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_action_has_a_translated_label_for_the_audit_trail(app, name):
    wf = WORKFLOWS[name]
    with app.test_request_context(headers={"Accept-Language": "nb"}):
        for t in wf.transitions:
            label = wf.action_label(t.action)
            assert label and label != t.action and "_" not in label, (name, t.action)
        assert wf.action_label("force") == "Overstyrt"


def test_a_workflow_without_labels_for_its_actions_is_refused():
    with pytest.raises(ValueError, match="no label"):
        workflow.Workflow(name="x", initial="a", states={"a": None, "b": None},
                          transitions=(workflow.T("a", "go", "b", workflow.roles("applicant")),))


def test_applicants_and_staff_see_different_labels(app):
    with app.test_request_context():
        assert workflow.get("application").label("under_review", for_applicant=True) == "Under review"
        assert workflow.get("application").label("under_review", for_applicant=False) == "Awaiting nomination"


def test_a_duplicate_transition_is_refused_when_the_table_is_built():
    with pytest.raises(ValueError, match="duplicate"):
        workflow.Workflow(
            name="x", initial="a", states={"a": None, "b": None},
            transitions=(workflow.T("a", "go", "b", workflow.roles("applicant")),
                         workflow.T("a", "go", "a", workflow.roles("applicant"))),
        )
