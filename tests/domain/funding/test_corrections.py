"""Forced and reverted funding applications, reports and the residencies they fund keep the grant
decision, its reports and its instalments consistent (issue 12, item 5)."""
import pytest
from sqlalchemy import func, select

from residency.core import workflow
from residency.core.errors import Conflict
from residency.core.extensions import db
from residency.domain.funding import services as funding
from residency.domain.funding.models import FundingApplication, FundingReport
from tests.scenarios import payment_of
from tests.scenarios import NOW, _in_progress, fill, resident


def _reports(fa):
    return db.session.scalar(select(func.count()).select_from(FundingReport).where(
        FundingReport.funding_application_id == fa.id))


def _assessed(make):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    fill(fa, founder)
    funding.submit(fa=fa, actor=founder, now=NOW)
    funding.start_assessment(fa=fa, actor=officer)
    return fa, founder, officer


def test_no_granted_state_without_a_grant_decision(make, app):
    fa, founder, officer = _assessed(make)
    admin = make.admin()
    for target in ("granted", "in_progress", "closed"):
        with app.test_request_context(), pytest.raises(Conflict, match="There is no grant decision"):
            workflow.perform(fa, "force", admin, target=target, reason="decided by phone")
        db.session.rollback()
    assert db.session.get(FundingApplication, fa.id).status == "under_assessment"


def test_a_grant_taken_back_takes_its_reports_and_a_new_grant_starts_afresh(make):
    from datetime import date

    fa, founder, officer = _assessed(make)
    due = {"progress": date(2030, 7, 1), "final": date(2031, 1, 31)}
    funding.grant(fa=fa, actor=officer, amount="100000", share_percent="50", conditions="", offer_deadline=date(2030, 4, 20),
                  report_due=due, now=NOW)
    assert _reports(fa) == 2
    workflow.perform(fa, "revert", make.admin(), reason="granted the wrong amount")
    db.session.commit()
    fa = db.session.get(FundingApplication, fa.id)
    assert (fa.status, fa.granted_amount, _reports(fa)) == ("under_assessment", None, 0)
    funding.grant(fa=fa, actor=officer, amount="90000", share_percent="45", conditions="", offer_deadline=date(2030, 4, 20),
                  report_due=due, now=NOW)
    assert _reports(fa) == 2


def test_a_grant_with_requested_instalments_stays_accepted(make, app):
    scheme, startup, founder, officer, fa = _in_progress(make)
    funding.request_instalment(fa=fa, actor=founder, index=0)
    admin = make.admin()
    for action, target in (("revert", None), ("force", "under_assessment")):
        with app.test_request_context(), pytest.raises(Conflict, match="Instalments were requested"):
            workflow.perform(fa, action, admin, target=target, reason="mistake")
        db.session.rollback()
    assert db.session.get(FundingApplication, fa.id).status == "in_progress"


def test_an_approved_report_stays_approved_once_its_instalment_was_requested(make, app):
    scheme, startup, founder, officer, fa = _in_progress(make)
    advance = funding.request_instalment(fa=fa, actor=founder, index=0)
    funding.record_paid(fa=fa, actor=officer, disbursement_id=advance.id, **payment_of(fa, advance))
    progress = db.session.scalar(select(FundingReport).where(FundingReport.funding_application_id == fa.id,
                                                             FundingReport.kind == "progress"))
    funding.submit_report(report=progress, actor=founder, text="On track.")
    funding.approve_report(report=progress, actor=officer)
    funding.request_instalment(fa=fa, actor=founder, index=1)
    with app.test_request_context(), pytest.raises(Conflict, match="instalment this report released"):
        workflow.perform(progress, "revert", make.admin(), reason="approved too early")
    db.session.rollback()
    assert db.session.get(FundingReport, progress.id).status == "approved"


def test_a_residency_with_a_grant_under_way_stays_a_residency(make, app):
    scheme, startup, founder, officer, fa = _in_progress(make)
    placement = fa.placement
    with app.test_request_context(), pytest.raises(Conflict, match="funding applications at the funder"):
        workflow.perform(placement, "revert", make.admin(), reason="accepted by mistake")
    db.session.rollback()
    assert db.session.get(type(placement), placement.id).status == "accepted"
