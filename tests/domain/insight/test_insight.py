"""Insight figures against counts made independently from the records each test creates."""
from __future__ import annotations

import statistics
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.scenarios import programme, expected_funnel  # noqa: F401
from residency.domain.review import nominations
from residency.domain.placements import services as placements
from residency.core import workflow
from residency.core.errors import Forbidden, NotFound
from residency.core.extensions import db
from residency.domain.insight import services as insight
from residency.domain.applications.models import Application
from residency.domain.funding.models import Disbursement, FundingApplication
from residency.domain.impact.models import ImpactSurvey
from residency.domain.placements.models import Placement
from residency.domain.accounts.models import User
from residency.domain.accounts.scope import Scope
from residency.domain.applications import scope as application_scope
from residency.domain.placements import scope as placement_scope
from residency.domain.placements.rules import visible_to_startup
from residency.domain.funding import scope as funding_scope
from residency.domain.funding import services as funding_services
from residency.core.models import StatusChange

from tests.scenarios import _in_progress, resident


def test_funnel_matches_the_records_and_filters(make):
    call, route, *_ = programme(make, n_apps=5)
    other_call, *_ = programme(make, n_apps=3, track="devices")
    admin = make.admin()
    scope = insight.scope_for(admin)
    result = insight.funnel(scope, insight.Filters())
    assert result.totals == expected_funnel([call.id, other_call.id])
    by_call = {row.call_id: row.counts for row in result.calls}
    assert by_call[call.id] == expected_funnel([call.id])
    assert by_call[other_call.id] == expected_funnel([other_call.id])
    assert by_call[call.id]["applied"] == 6 and by_call[call.id]["offered"] == 2 and by_call[call.id]["accepted"] == 1
    devices = insight.funnel(scope, insight.Filters(track="devices"))
    assert devices.totals["submitted"] == 3 and dict(devices.by_track)["devices"]["submitted"] == 3
    only = insight.funnel(scope, insight.Filters(call_id=call.id))
    assert [r.call_id for r in only.calls] == [call.id]
    assert insight.funnel(scope, insight.Filters(country="SE")).totals["applied"] == 0


def test_scoping_cluster_hub_funder_and_admin(make):
    call, route, hub, staff, hub_admin = programme(make, n_apps=3)
    other_call, other_route, other_hub, other_staff, _ = programme(make, n_apps=2)
    cluster_scope = insight.scope_for(staff)
    assert [r.call_id for r in insight.funnel(cluster_scope, insight.Filters()).calls] == [call.id]
    with pytest.raises(NotFound):
        insight.parse_filters({"call": str(other_call.id)}, cluster_scope)
    with pytest.raises(NotFound):
        insight.parse_filters({"route": str(other_route.id)}, cluster_scope)
    assert insight.parse_filters({"call": str(call.id)}, cluster_scope).call_id == call.id
    hub_scope = insight.scope_for(hub_admin)
    assert [h.hub_id for h in insight.occupancy(hub_scope, date(2030, 1, 1))] == [hub.id]
    assert insight.funding(cluster_scope) == [] and insight.occupancy(cluster_scope) == []
    admin_scope = insight.scope_for(make.admin())
    assert {h.hub_id for h in insight.occupancy(admin_scope, date(2030, 1, 1))} >= {hub.id, other_hub.id}
    assert {r.call_id for r in insight.funnel(admin_scope, insight.Filters()).calls} == {call.id, other_call.id}
    startup_user = make.member("startup")
    with pytest.raises(Forbidden):
        insight.scope_for(startup_user)


def test_occupancy_month_by_month_against_capacity(make):
    call, route, hub, staff, hub_admin = programme(make, n_apps=5)
    [row] = insight.occupancy(insight.scope_for(hub_admin), date(2030, 1, 1))
    months = {m.month: m for m in row.months}
    held = db.session.scalars(select(Placement).where(Placement.hub_id == hub.id,
                                                      Placement.status.in_(("offered", "accepted", "active")))).all()
    assert months[date(2030, 1, 1)].desks_used == 0 and months[date(2030, 1, 1)].desks_capacity == 10
    assert months[date(2030, 3, 1)].desks_used == sum(p.desks for p in held) == 2
    assert months[date(2030, 8, 1)].benches_used == 2 and months[date(2030, 9, 1)].benches_used == 0


def _funded(make, currency, requested, granted, paid):
    scheme, startup, founder, officer = resident(make, country="NO" if currency == "NOK" else "SE", currency=currency)
    placement = db.session.scalar(select(Placement).where(Placement.application_id.in_(
        select(Application.id).where(Application.startup_id == startup.id))))
    fa = FundingApplication(scheme=scheme, startup=startup, placement=placement, amount_requested=Decimal(requested),
                            status="draft")
    db.session.add(fa)
    db.session.commit()
    db.session.add(StatusChange(workflow="funding", record_id=fa.id, from_state="draft", to_state="submitted",
                                action="submit", actor_id=founder.id,
                                created_at=datetime(2030, 2, 1, tzinfo=timezone.utc)))
    if granted is not None:
        fa.status, fa.granted_amount = "in_progress", Decimal(granted)
        db.session.add(StatusChange(workflow="funding", record_id=fa.id, from_state="under_assessment",
                                    to_state="granted", action="grant", actor_id=officer.id,
                                    created_at=datetime(2030, 2, 11, tzinfo=timezone.utc)))
    else:
        fa.status = "submitted"
    for i, amount in enumerate(paid):
        db.session.add(Disbursement(funding_application_id=fa.id, instalment=i, amount=Decimal(amount),
                                    paid_at=datetime(2030, 3, 1, tzinfo=timezone.utc)))
    db.session.add(Disbursement(funding_application_id=fa.id, instalment=len(paid), amount=Decimal("999.99")))  # unpaid
    db.session.commit()
    return scheme, officer, fa


def test_funding_sums_are_exact_decimals_per_currency_and_scoped_to_the_funder(make):
    nok, officer, _ = _funded(make, "NOK", "100000.10", "90000.05", ["27000.02", "45000.01"])
    sek, sek_officer, _ = _funded(make, "SEK", "0.30", None, [])
    totals = {t.currency: t for t in insight.funding(insight.scope_for(make.admin()))}
    assert totals["NOK"].requested == Decimal("100000.10") and totals["NOK"].granted == Decimal("90000.05")
    assert totals["NOK"].paid == Decimal("72000.03") and isinstance(totals["NOK"].paid, Decimal)
    assert totals["SEK"].requested == Decimal("0.30") and totals["SEK"].granted == 0 and totals["SEK"].paid == 0
    mine = insight.funding(insight.scope_for(officer))
    assert [t.currency for t in mine] == ["NOK"]
    [grant] = [d for d in insight.decision_times(insight.scope_for(officer), insight.Filters()) if d.decision == "grant"]
    assert grant.median_days == Decimal("10.0") and grant.count == 1


def test_decision_times_are_medians_from_the_audit_trail(make):
    call, route, hub, staff, hub_admin = programme(make, n_apps=5)
    scope = insight.scope_for(staff)
    times = {d.decision: d for d in insight.decision_times(scope, insight.Filters())}
    changes = db.session.scalars(select(StatusChange).where(StatusChange.workflow == "application")
                                 .order_by(StatusChange.id)).all()
    submitted, decided = {}, {}
    for c in changes:
        if c.action == "submit":
            submitted.setdefault(c.record_id, c.created_at)
        elif c.action in ("nominate", "decline"):
            decided.setdefault(c.record_id, c.created_at)
    expected = statistics.median(Decimal(int((decided[r] - submitted[r]).total_seconds())) / 86400 for r in decided)
    assert times["nomination"].count == len(decided) == 4
    assert times["nomination"].median_days == Decimal(expected).quantize(Decimal("0.1"))
    assert times["offer"].count == 2
    assert "grant" not in times


def test_impact_sums_submitted_surveys_by_round(make):
    call, route, hub, staff, hub_admin = programme(make, n_apps=6)
    held = db.session.scalars(select(Placement).where(Placement.hub_id == hub.id, Placement.status == "accepted")).all()
    rows = [(held[0], 12, "NOK", 5, "100.10"), (held[1], 12, "NOK", 7, "200.20"), (held[0], 24, "SEK", 9, "5.05")]
    for placement, months, currency, employees, money in rows:
        db.session.add(ImpactSurvey(placement_id=placement.id, startup_id=placement.application.startup_id,
                                    months_after=months, due_on=date(2031, 1, 1), currency=currency, employees=employees,
                                    revenue=Decimal(money), capital_raised=Decimal(money), export_revenue=Decimal(money),
                                    patents_filed=1, products_launched=2, partnerships_with_host=3,
                                    submitted_at=datetime(2031, 1, 1, tzinfo=timezone.utc)))
    db.session.add(ImpactSurvey(placement_id=held[1].id, startup_id=held[1].application.startup_id, months_after=24,
                                due_on=date(2032, 1, 1), currency="NOK"))  # not submitted
    db.session.commit()
    result = {r.months_after: r for r in insight.impact(insight.scope_for(hub_admin))}
    assert result[12].surveys == 2 and result[12].employees == 12 and result[12].partnerships == 6
    assert result[12].money["NOK"]["revenue"] == Decimal("300.30")
    assert result[24].surveys == 1 and result[24].money == {"SEK": {"revenue": Decimal("5.05"),
                                                                    "capital_raised": Decimal("5.05"),
                                                                    "export_revenue": Decimal("5.05")}}
    assert result[36].surveys == 0
    other_hub_admin = make.member("hub")
    assert all(r.surveys == 0 for r in insight.impact(insight.scope_for(other_hub_admin)))


def test_the_one_scope_agrees_with_the_record_by_record_rules(make):
    """Scope.of and the scope clauses select exactly the records the workflow relation lets each user see."""
    call, route, hub, staff, hub_admin = programme(make)
    programme(make)
    admin = make.admin()
    assert Scope.of(admin).admin and not Scope.of(staff).admin
    assert Scope.of(staff).cluster_ids == (route.cluster_id,) and Scope.of(hub_admin).hub_ids == (hub.id,)
    assert Scope.of(None) == Scope() and not Scope().staff

    applications = db.session.scalars(select(Application)).all()
    placements_ = db.session.scalars(select(Placement)).all()
    assert any(p.status == "pending" for p in placements_)  # a nomination the startup may not know of yet
    for user in db.session.scalars(select(User)).all():
        scope = Scope.of(user)
        seen = set(db.session.scalars(select(Application.id).where(application_scope.visible_clause(scope))))
        assert seen == {a.id for a in applications if workflow.roles_on(a, user)}, user
        held = {p.id: workflow.roles_on(p, user) for p in placements_}
        expected = {p.id for p in placements_ if held[p.id] & {workflow.ADMIN, workflow.HUB}
                    or (held[p.id] and visible_to_startup(p))}
        seen = set(db.session.scalars(select(Placement.id).where(placement_scope.visible_clause(scope))))
        assert seen == expected, user


def test_the_funding_scope_clause_agrees_with_the_funding_relation(make):
    _in_progress(make)
    scheme, startup, founder, officer = resident(make)
    draft = funding_services.start(scheme=scheme, startup=startup, actor=founder)
    make.admin()
    records = db.session.scalars(select(FundingApplication)).all()
    assert draft.id in {fa.id for fa in records} and len(records) == 2
    for user in db.session.scalars(select(User)).all():
        seen = set(db.session.scalars(select(FundingApplication.id).where(funding_scope.visible_clause(Scope.of(user)))))
        assert seen == {fa.id for fa in records if workflow.roles_on(fa, user)}, user


def test_the_summary_tables_give_the_figures_of_the_records(make):
    """The scheduler's rebuild holds exactly what counting the records gives, for every scope and filter."""
    from residency.domain.insight import summaries

    call, route, hub, staff, hub_admin = programme(make, n_apps=5)
    other_call, *_ = programme(make, n_apps=3, track="devices")
    _funded(make, "NOK", "1000.00", "500.00", ["150.00"])
    admin = make.admin()
    written = summaries.refresh()
    assert written["funnel_rows"] >= 2 and written["decisions"] >= 6
    for actor in (admin, staff, hub_admin):
        scope = insight.scope_for(actor)
        for filters in (insight.Filters(), insight.Filters(track="devices"), insight.Filters(call_id=call.id),
                        insight.Filters(country="SE"), insight.Filters(route_id=route.id)):
            assert insight.funnel(scope, filters, summary=True) == insight.funnel(scope, filters)
            assert insight.decision_times(scope, filters, summary=True) == insight.decision_times(scope, filters)
    # Until the next rebuild the tables keep the last count; the page says when that was.
    programme(make, n_apps=2)
    scope = insight.scope_for(admin)
    assert insight.funnel(scope, insight.Filters(), summary=True) != insight.funnel(scope, insight.Filters())
    board = insight.dashboard(admin, {})
    assert board.counted_at is not None
    summaries.refresh()
    assert insight.funnel(scope, insight.Filters(), summary=True) == insight.funnel(scope, insight.Filters())


@pytest.mark.parametrize("values", [[5], [1, 2], [3, 1, 2], [10, 1, 7, 7], [86401, 3, 999999, 12, 4]])
def test_medians_made_in_the_database_are_those_of_python(make, values):
    from sqlalchemy import literal, union_all

    from residency.core.db import median_by

    rows = union_all(*(select(literal("g").label("g"), literal(v).label("v")) for v in values)).subquery()
    dialect = db.session.get_bind().dialect.name
    (group, median, count), = db.session.execute(median_by(dialect, rows.c.v, rows.c.g)).all()
    assert (group, count) == ("g", len(values))
    assert Decimal(str(median)) == Decimal(str(statistics.median(values)))
