"""Funding applications: scheme rules named in refusals, exact totals, the grant, instalments and reports."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.scenarios import payment_of
from tests.scenarios import BUDGET, NOW, _in_progress, fill, resident  # noqa: F401
from residency.domain.funding import services as funding
from residency.domain.review import nominations
from residency.domain.placements import services as placements
from residency.core import workflow
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.funding.models import FundingReport
from residency.core.outbox_models import OutboxMessage
from residency.domain.placements.models import Placement

from tests.factories import make_scheme



@pytest.mark.parametrize("country, currency", [("NO", "NOK"), ("SE", "SEK")])
def test_the_whole_path_with_exact_money(make, country, currency):
    scheme, startup, founder, officer = resident(make, country, currency)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    totals = fill(fa, founder)
    assert totals.total_costs == Decimal("200000.00")  # 100000.10 + 20000.20 + 79999.70, to the øre
    assert totals.requested_share_percent == Decimal("50.00")
    funding.submit(fa=fa, actor=founder, now=NOW)
    funding.start_assessment(fa=fa, actor=officer)
    funding.save_notes(fa=fa, actor=officer, notes="Strong; check CMC budget.")
    funding.grant(fa=fa, actor=officer, amount="99999.99", share_percent="50", conditions="Report quarterly",
                  offer_deadline=date(2030, 4, 20), report_due={"progress": date(2030, 7, 1), "final": date(2031, 1, 31)},
                  now=NOW)
    assert fa.status == "granted" and fa.granted_amount == Decimal("99999.99")
    funding.accept_offer(fa=fa, actor=founder, now=NOW + timedelta(days=1))
    steps = funding.plan(fa)
    assert [s.amount for s in steps] == [Decimal("30000.00"), Decimal("50000.00"), Decimal("19999.99")]
    assert sum(s.amount for s in steps) == fa.granted_amount
    advance = funding.request_instalment(fa=fa, actor=founder, index=0)
    funding.record_paid(fa=fa, actor=officer, disbursement_id=advance.id, **payment_of(fa, advance))
    with pytest.raises(Conflict, match="progress report"):
        funding.request_instalment(fa=fa, actor=founder, index=1)
    progress, final = sorted(db.session.scalars(select(FundingReport).where(FundingReport.funding_application_id == fa.id)),
                             key=lambda r: r.kind != "progress")
    funding.submit_report(report=progress, actor=founder, text="On track.")
    funding.return_report(report=progress, actor=officer, comments="Add the toxicology timeline.")
    funding.submit_report(report=progress, actor=founder, text="On track; tox starts in May.")
    funding.approve_report(report=progress, actor=officer)
    interim = funding.request_instalment(fa=fa, actor=founder, index=1)
    funding.record_paid(fa=fa, actor=officer, disbursement_id=interim.id, **payment_of(fa, interim))
    # The final instalment waits for the final report.
    with pytest.raises(Conflict, match="final report"):
        funding.request_instalment(fa=fa, actor=founder, index=2)
    funding.submit_report(report=final, actor=founder, text="Done.")
    funding.approve_report(report=final, actor=officer)
    last = funding.request_instalment(fa=fa, actor=founder, index=2)
    funding.record_paid(fa=fa, actor=officer, disbursement_id=last.id, **payment_of(fa, last))
    assert funding.paid_total(fa) == fa.granted_amount
    funding.close(fa=fa, actor=officer)
    assert fa.status == "closed"
    mails = {m.template for m in db.session.scalars(select(OutboxMessage))}
    assert {"funding_submitted", "funding_granted", "funding_instalment_paid", "report_returned"} <= mails


def test_final_instalment_cannot_be_paid_before_the_final_report_is_approved(make):
    scheme, startup, founder, officer = resident(make)
    scheme.instalments = [{"label": "Advance", "percent": "80", "after": "acceptance"},
                          {"label": "Final", "percent": "20", "after": "final_report"}]
    db.session.commit()
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    fill(fa, founder)
    funding.submit(fa=fa, actor=founder, now=NOW)
    funding.start_assessment(fa=fa, actor=officer)
    funding.grant(fa=fa, actor=officer, amount="100000", share_percent="50", conditions="", offer_deadline=date(2030, 4, 20),
                  report_due={"progress": date(2030, 7, 1), "final": date(2031, 1, 31)}, now=NOW)
    funding.accept_offer(fa=fa, actor=founder, now=NOW)
    first = funding.request_instalment(fa=fa, actor=founder, index=0)
    funding.record_paid(fa=fa, actor=officer, disbursement_id=first.id, **payment_of(fa, first))
    with pytest.raises(Conflict, match="final report"):
        funding.request_instalment(fa=fa, actor=founder, index=1)
    assert funding.paid_total(fa) == Decimal("80000.00")


@pytest.mark.parametrize("case, words", [
    ("country", "Rule “home country”"),
    ("age", "Rule “company age”"),
    ("amount", "Rule “maximum amount”"),
    ("share", "Rule “maximum share of costs”"),
    ("plan", "Rule “financing plan”"),
])
def test_refusals_name_the_rule(make, app, case, words):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    if case == "country":
        scheme.home_countries = ["SE"]
    if case == "age":
        startup.founded_on = date(2020, 1, 1)  # more than 5 years before 2030
    db.session.commit()
    requested, own = {"amount": ("600000.00", "-"), "share": ("150000.00", "50000.00"),
                      "plan": ("100000.00", "1.00")}.get(case, ("100000.00", "100000.00"))
    budget = BUDGET if case != "amount" else [{"category": "personnel", "year": 2030, "quarter": 2, "amount": "1200000"}]
    fill(fa, founder, requested=requested, own="600000.00" if case == "amount" else own, budget=budget)
    with app.test_request_context(), pytest.raises(Invalid) as err:
        funding.submit(fa=fa, actor=founder, now=NOW)
    flat = " ".join(str(m) for messages in err.value.field_errors.values() for m in messages)
    assert words in flat
    assert fa.status == "draft"


def test_no_placement_no_application(make, app):
    funder = make.organisation("funder")
    scheme = make_scheme(funder)
    startup = make.organisation("startup", country="NO")
    with app.test_request_context(), pytest.raises(Conflict, match="Rule “residency”"):
        funding.start(scheme=scheme, startup=startup, actor=make.user(org=startup), now=NOW)


def test_officer_of_the_other_funder_gets_404_and_applicant_403(make):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    fill(fa, founder)
    funding.submit(fa=fa, actor=founder, now=NOW)
    other_officer = make.member("funder")
    with pytest.raises(NotFound):
        funding.funding_for(other_officer, fa.id)
    with pytest.raises(NotFound):
        funding.start_assessment(fa=fa, actor=other_officer)
    with pytest.raises(Forbidden):
        funding.start_assessment(fa=fa, actor=founder)
    # Drafts are the startup's own.
    draft = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    with pytest.raises(NotFound):
        funding.funding_for(officer, draft.id)


def test_unanswered_grant_offer_lapses(make):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    fill(fa, founder)
    funding.submit(fa=fa, actor=founder, now=NOW)
    funding.start_assessment(fa=fa, actor=officer)
    funding.grant(fa=fa, actor=officer, amount="100000", share_percent="50", conditions="", offer_deadline=date(2030, 4, 20),
                  report_due={"progress": date(2030, 7, 1), "final": date(2031, 1, 31)}, now=NOW)
    assert funding.lapse_expired_grant_offers(now=datetime(2030, 4, 20, 12, tzinfo=timezone.utc)) == 0
    assert funding.lapse_expired_grant_offers(now=datetime(2030, 4, 21, 0, tzinfo=timezone.utc)) == 1
    db.session.expire_all()
    assert db.session.get(type(fa), fa.id).status == "lapsed"
    with pytest.raises(Conflict):
        funding.accept_offer(fa=db.session.get(type(fa), fa.id), actor=founder, now=NOW)


def test_bad_amounts_change_nothing(make):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    with pytest.raises(Invalid) as err:
        funding.save_draft(fa=fa, actor=founder, values={"title": "x", "own_financing": "12,3,4", "amount_requested": "NaN"},
                           budget=[{"category": "rent", "year": 2030, "quarter": 5, "amount": "1"}])
    assert {"own_financing", "amount_requested", "budget"} <= set(err.value.field_errors)
    db.session.expire_all()
    assert db.session.get(type(fa), fa.id).title == ""
    assert funding.money("150 000,50") == Decimal("150000.50")
    assert funding.money("0.005") == Decimal("0.01")


def test_saving_again_keeps_a_quarters_line_and_drops_the_removed_ones(make):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    fill(fa, founder)
    personnel = next(line for line in fa.budget_lines if line.category == "personnel")
    # The same category and quarter again (the unique key must not trip), one line removed.
    totals = fill(fa, founder, budget=[dict(BUDGET[0], amount="100000.00"), BUDGET[1]])
    assert [(line.category, line.amount) for line in fa.budget_lines] == [("personnel", Decimal("100000.00")),
                                                                          ("rent", Decimal("20000.20"))]
    assert fa.budget_lines[0].id == personnel.id
    assert totals.total_costs == Decimal("120000.20")


def test_officer_cancels_a_grant_in_progress_with_a_reason(make):
    scheme, startup, founder, officer, fa = _in_progress(make)
    paid = funding.request_instalment(fa=fa, actor=founder, index=0)
    funding.record_paid(fa=fa, actor=officer, disbursement_id=paid.id, **payment_of(fa, paid))
    with pytest.raises(Invalid) as err:
        funding.cancel(fa=fa, actor=officer, reason="  ")
    assert "reason" in err.value.field_errors
    assert not db.session.dirty and not db.session.new  # the refusal left the session clean
    with pytest.raises(Forbidden):
        funding.cancel(fa=fa, actor=founder, reason="Not ours to cancel")
    with pytest.raises(NotFound):
        funding.cancel(fa=fa, actor=make.member("funder"), reason="Another funder")
    db.session.expire_all()
    assert db.session.get(type(fa), fa.id).status == "in_progress"
    change = funding.cancel(fa=fa, actor=officer, reason="The company was wound up.")
    db.session.expire_all()
    fa = db.session.get(type(fa), fa.id)
    assert fa.status == "cancelled" and change.reason == "The company was wound up." and change.actor_id == officer.id
    assert funding.paid_total(fa) == Decimal("30000.00")  # what was paid stays recorded
    with pytest.raises(Conflict):
        funding.request_instalment(fa=fa, actor=founder, index=1)
    with pytest.raises(Conflict, match="This cannot be done now"):
        funding.cancel(fa=fa, actor=officer, reason="Twice")


def test_cancel_is_only_for_a_grant_in_progress(make):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    fill(fa, founder)
    funding.submit(fa=fa, actor=founder, now=NOW)
    with pytest.raises(Conflict):
        funding.cancel(fa=fa, actor=officer, reason="Too early")
    db.session.expire_all()
    assert db.session.get(type(fa), fa.id).status == "submitted"


def test_save_and_submit_keeps_the_draft_when_a_rule_refuses(make):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    values = {"title": "Kept draft", "description": "GLP toxicology and CMC.", "period_start": "2030-04-01",
              "period_end": "2030-12-31", "own_financing": "1.00", "amount_requested": "100000.00"}
    outcome = funding.save_and_submit(fa=fa, actor=founder, values=values, budget=BUDGET, now=NOW)
    assert not outcome.submitted and outcome.change is None
    assert "Rule “financing plan”" in " ".join(str(m) for m in outcome.field_errors["own_financing"])
    assert outcome.message is not None
    db.session.expire_all()
    fa = db.session.get(type(fa), fa.id)
    assert fa.status == "draft" and fa.title == "Kept draft" and len(fa.budget_lines) == 3
    outcome = funding.save_and_submit(fa=fa, actor=founder, values=values | {"own_financing": "100000.00"}, budget=BUDGET, now=NOW)
    assert outcome.submitted and outcome.field_errors == {}
    db.session.expire_all()
    assert db.session.get(type(fa), fa.id).status == "submitted"
