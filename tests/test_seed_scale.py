"""`flask --app residency seed-scale` at a tiny scale: every record in a state its workflow reaches by
transitions in time order, the demo accounts' queues filled, and the app's own pages working on it."""
from __future__ import annotations

import math
import random
import re
from collections import defaultdict
import pytest
from sqlalchemy import func, select, text

from residency import demo, scale
from residency.core import attachments as files
from residency.core import workflow
from residency.core.db import utcnow
from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.core.orgnumbers import check
from residency.core.outbox import render
from residency.core.outbox_models import OutboxMessage
from residency.demo import PASSWORD
from residency.domain.accounts.models import Organisation, User
from residency.domain.applications.models import Application, Attachment
from residency.domain.funding.models import Disbursement, FundingApplication, FundingReport
from residency.domain.placements.models import Placement
from residency.domain.placements.services import overbooked_ranges
from residency.domain.programme.models import Call
from residency.domain.review.models import Nomination, Review

SCALE = 0.01
MODELS = {"application": Application, "placement": Placement, "funding": FundingApplication, "report": FundingReport,
          "call": Call}


@pytest.fixture
def seeded(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    result = app.test_cli_runner().invoke(args=["seed-scale", "--scale", str(SCALE)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    db.session.remove()
    return result.output


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_scale_reaches_the_figures_and_fills_the_demo_queues(seeded):
    for table, full in scale.TARGETS.items():
        n = db.session.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()
        assert n >= math.ceil(full * SCALE), (table, n)
    by_name = {o.name: o.id for o in db.session.scalars(select(Organisation))}
    occ, bvh, innovation_norway = by_name["Oslo Cancer Cluster"], by_name["AstraZeneca BioVentureHub"], by_name["Innovation Norway"]
    from residency.domain.programme.models import Route

    occ_calls = select(Call.id).join(Route).where(Route.cluster_id == occ)
    assert count(Application, Application.call_id.in_(occ_calls), Application.status != "draft") >= 30_000 * SCALE
    biggest = db.session.execute(select(Application.call_id, func.count()).where(Application.call_id.in_(occ_calls))
                                 .group_by(Application.call_id).order_by(func.count().desc()).limit(1)).one()
    assert biggest[1] >= 8_000 * SCALE
    assert count(Placement, Placement.hub_id == bvh) >= 2_500 * SCALE
    from residency.domain.funding.models import FundingScheme

    schemes = select(FundingScheme.id).where(FundingScheme.funder_id == innovation_norway)
    assert count(FundingApplication, FundingApplication.scheme_id.in_(schemes), FundingApplication.status != "draft") >= 2_000 * SCALE
    fjordbio = by_name["Fjordbio Therapeutics AS"]
    assert 45 <= count(Application, Application.startup_id == fjordbio) <= 55
    assert "PRAGMA integrity_check: ok" in seeded or db.engine.dialect.name != "sqlite"


def test_every_record_reached_its_state_through_the_workflow_table_in_time_order(seeded):
    chains = defaultdict(list)
    for change in db.session.scalars(select(StatusChange).order_by(StatusChange.id)):
        chains[(change.workflow, change.record_id)].append(change)
    for name, model in MODELS.items():
        wf = workflow.get(name)
        for record in db.session.execute(select(model.id, model.status)):
            changes = chains.get((name, record.id), [])
            state = wf.initial
            last = None
            for change in changes:
                t = wf.find(change.from_state, change.action)
                assert change.from_state == state and t is not None and t.target == change.to_state, (name, record.id, change.action)
                assert not change.forced and change.visible_to_applicant == t.visible_to_applicant
                assert (change.reason is not None) or not t.reason_required, (name, record.id, change.action)
                assert last is None or change.created_at > last, (name, record.id)
                last, state = change.created_at, change.to_state
            assert state == record.status, (name, record.id, state, record.status)
    # Nobody acted before their account existed, nor asked to join a startup before registering.
    registered = dict(db.session.execute(select(User.id, User.created_at)).all())
    for changes in chains.values():
        for change in changes:
            assert change.actor_id is None or registered[change.actor_id] <= change.created_at, (change.workflow, change.action)
    from residency.domain.accounts.models import JoinRequest

    for request in db.session.scalars(select(JoinRequest)):
        assert registered[request.user_id] <= request.created_at
    assert db.session.scalar(select(func.max(StatusChange.created_at))) <= utcnow()


def test_each_application_carries_the_time_of_its_last_submission(seeded):
    """As the workflow's hook sets it: the last change into "submitted"; none for a never-submitted draft."""
    last = dict(db.session.execute(
        select(StatusChange.record_id, func.max(StatusChange.created_at))
        .where(StatusChange.workflow == "application", StatusChange.to_state == "submitted")
        .group_by(StatusChange.record_id)).all())
    carried = dict(db.session.execute(select(Application.id, Application.submitted_at)).all())
    assert carried == {i: last.get(i) for i in carried}
    assert any(v is None for v in carried.values()) and sum(v is not None for v in carried.values()) > 100


def test_the_rules_the_guards_keep_hold_in_the_seeded_rows(seeded, app):
    calls = {c.id: c for c in db.session.scalars(select(Call))}
    # Resubmissions while the call was open; nominations within the seats and before the nomination deadline.
    for change in db.session.scalars(select(StatusChange).where(StatusChange.workflow == "application",
                                                                 StatusChange.action.in_(("submit", "resubmit")))):
        application = db.session.get(Application, change.record_id)
        assert change.created_at < calls[application.call_id].closes_at
    for call_id, n in db.session.execute(select(Application.call_id, func.count()).where(Application.status == "nominated")
                                         .group_by(Application.call_id)):
        assert n <= calls[call_id].seats
    assert count(Nomination) == count(Application, Application.status == "nominated")
    for change in db.session.scalars(select(StatusChange).where(StatusChange.action == "nominate")):
        assert change.created_at < calls[db.session.get(Application, change.record_id).call_id].nomination_deadline
    # One application per startup and call that is not withdrawn (the unique index held); placements per nomination.
    assert count(Placement) == count(Application, Application.status == "nominated")
    # No hub overbooked on any day.
    with app.test_request_context():
        for hub_id, first, last in db.session.execute(select(Placement.hub_id, func.min(Placement.starts_on),
                                                             func.max(Placement.ends_on)).group_by(Placement.hub_id)):
            if first is not None:
                assert overbooked_ranges(hub_id, first, last) == []
        # Valid organisation numbers, in their canonical form.
        for org in db.session.scalars(select(Organisation)):
            assert check(org.country, org.org_number) == org.org_number
    # Submitted reviews are complete; a closed grant was paid in full.
    assert count(Review, Review.submitted_at.is_not(None), Review.weighted_score.is_(None)) == 0
    for fa in db.session.scalars(select(FundingApplication).where(FundingApplication.status == "closed")):
        paid = db.session.scalar(select(func.sum(Disbursement.amount)).where(Disbursement.funding_application_id == fa.id,
                                                                             Disbursement.paid_at.is_not(None)))
        assert paid == fa.granted_amount
    # Every submitted application has its pitch deck, and the file is there (in the folder, or in the
    # database for the demo's own uploads on PostgreSQL: core/attachments.py reads either).
    for attachment in db.session.scalars(select(Attachment).limit(20)):
        assert files.open_stored(attachment.stored_name).size == attachment.size_bytes
    demo_startups = select(Organisation.id).where(Organisation.name.in_([o["name"] for o in demo.ORGANISATIONS]))
    assert count(Application, Application.status.in_(("submitted", "under_review")), ~Application.attachments.any(),
                 Application.startup_id.not_in(demo_startups)) == 0


def test_every_notified_transition_queued_its_mails_and_each_kind_renders(seeded, app):
    keys = set(db.session.scalars(select(OutboxMessage.dedup_key)))
    pattern = re.compile(r"^(application|placement|funding|report):(\d+):change-(\d+):")
    changes_with_mail = {int(m.group(3)) for m in map(pattern.match, keys) if m}
    for change in db.session.scalars(select(StatusChange).where(StatusChange.workflow != "call").limit(3000)):
        t = workflow.get(change.workflow).find(change.from_state, change.action)
        assert (change.id in changes_with_mail) == bool(t.notify), (change.workflow, change.action)
    with app.test_request_context():
        for template in db.session.scalars(select(OutboxMessage.template).distinct()):
            message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template).limit(1)).one()
            rendered = render(message)
            assert rendered.subject and rendered.body, template


def test_the_demo_accounts_open_their_pages_on_the_seeded_database(seeded, client):
    big_call = db.session.execute(select(Application.call_id, func.count()).group_by(Application.call_id)
                                  .order_by(func.count().desc()).limit(1)).one()[0]
    bvh = db.session.scalar(select(Organisation.id).where(Organisation.name == "AstraZeneca BioVentureHub"))
    pages = {
        "startup@demo.test": ["/startup/", "/startup/funding"],
        "cluster@demo.test": ["/cluster/", f"/cluster/queue?call={big_call}", "/cluster/queue", "/insight/"],
        "hub@demo.test": ["/hub/", f"/hub/{bvh}/inbox", f"/hub/{bvh}/occupancy"],
        "funder@demo.test": ["/funder/", "/funder/funding", "/insight/"],
        "admin@demo.test": ["/admin/", "/admin/calls", "/admin/organisations", "/admin/outbox", "/insight/", "/exports/"],
    }
    for email, paths in pages.items():
        client.post("/account/logout")
        response = client.post("/account/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, (email, response.status_code)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (email, path, response.status_code)
    # A seeded account (not a demo one) logs in with the demo password too: one hash, reused.
    someone = db.session.scalar(select(User.email).where(User.email.like("%@scale.test")).limit(1))
    client.post("/account/logout")
    assert client.post("/account/login", data={"email": someone, "password": PASSWORD}).status_code == 302


def test_seed_scale_refuses_a_database_with_data_unless_told(seeded, app):
    result = app.test_cli_runner().invoke(args=["seed-scale", "--scale", str(SCALE)])
    assert result.exit_code != 0 and "already has data" in result.output
    before = count(Application)
    result = app.test_cli_runner().invoke(args=["seed-scale", "--scale", "0.002", "--yes", "--seed", "7"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    db.session.remove()
    assert count(Application) > before
    # Fresh ids after the explicit ones (PostgreSQL sequences moved past them) and still-unique numbers.
    assert db.session.scalar(select(func.count(func.distinct(Organisation.org_number)))) == count(Organisation)


def test_the_walker_follows_only_the_tables_transitions(app):
    wf = workflow.get("application")
    rng = random.Random(1)
    for _ in range(200):
        path = scale.walk(rng, wf, scale.APPLICATION_WALKS["released"])
        assert scale.follow(wf, wf.initial, [t.action for t in path]) == path
    assert [t.action for t in scale.cycle(wf, "under_review", scale.CHANGE_CYCLE)] == ["request_changes", "resubmit", "start_review"]
    with pytest.raises(scale.SeedError):
        scale.follow(wf, "draft", ["nominate"])
    with pytest.raises(scale.SeedError):
        scale.check_weights(wf, {("draft", "publish"): 1.0})


def test_the_seeded_database_has_its_insight_summaries_built(seeded):
    """As the scheduler would have within minutes: the insight page reads counted figures at once."""
    from residency.domain.insight.models import InsightDecision, InsightFunnel, InsightRefresh

    assert count(InsightRefresh) == 1
    assert count(InsightFunnel) > 0 and count(InsightDecision) > 0
    assert "insight summaries" in seeded
