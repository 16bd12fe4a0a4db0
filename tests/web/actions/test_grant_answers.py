"""Issue 14: a startup may decline a grant offer, and accepting or declining needs a ticked confirmation."""
from datetime import date, timedelta

from sqlalchemy import func, select

from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.domain.funding import services as funding
from residency.domain.funding.models import FundingApplication, FundingReport

from tests.web.funder.test_funding_pages import submitted, text


def offered_grant(make):
    scheme, startup, founder, officer, fa = submitted(make)
    funding.start_assessment(fa=fa, actor=officer)
    funding.grant(fa=fa, actor=officer, amount="99999.99", share_percent="50", conditions="Report quarterly",
                  offer_deadline=date.today() + timedelta(days=14),
                  report_due={"progress": date(2030, 7, 1), "final": date(2031, 1, 31)})
    return founder, officer, fa


def status_of(fa):
    return db.session.get(FundingApplication, fa.id).status


def test_the_startup_declines_a_grant_offer_and_the_funder_is_told(make, login):
    founder, officer, fa = offered_grant(make)
    client = login(founder)
    page = text(client.get(f"/startup/funding/{fa.id}"))
    assert f"/startup/funding/{fa.id}/decline" in page and "Decline the grant offer" in page
    r = client.post(f"/startup/funding/{fa.id}/decline",
                    data={"decline-reason": "We found private investors", "decline-confirm": "y"})
    assert r.status_code == 302
    assert status_of(fa) == "declined"
    [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "funding_offer_declined"))
    assert mail.recipient == officer.email and mail.context["reason"] == "We found private investors"
    # No report falls due under a grant that never started, and it can no longer be accepted.
    assert db.session.scalar(select(func.count()).select_from(FundingReport).where(
        FundingReport.funding_application_id == fa.id)) == 0
    assert client.post(f"/startup/funding/{fa.id}/accept", data={"accept-confirm": "y"}).status_code == 409
    assert "You declined this grant offer." in text(client.get(f"/startup/funding/{fa.id}"))
    assert "Grant offer declined by the startup" in text(login(officer).get(f"/funder/funding/{fa.id}"))


def test_accepting_a_grant_needs_the_box_ticked_and_says_so_next_to_it(make, login):
    founder, officer, fa = offered_grant(make)
    client = login(founder)
    r = client.post(f"/startup/funding/{fa.id}/accept", data={})
    assert r.status_code == 422
    page = text(r)
    assert 'id="accept-confirm-error"' in page and "Tick the box to confirm that you accept the grant." in page
    assert status_of(fa) == "granted"
    assert client.post(f"/startup/funding/{fa.id}/accept", data={"accept-confirm": "y"}).status_code == 302
    assert status_of(fa) == "in_progress"


def test_declining_needs_the_box_ticked_and_keeps_the_reason(make, login):
    founder, officer, fa = offered_grant(make)
    client = login(founder)
    r = client.post(f"/startup/funding/{fa.id}/decline", data={"decline-reason": "Too small"})
    assert r.status_code == 422
    page = text(r)
    assert 'id="decline-confirm-error"' in page and "Too small" in page
    assert status_of(fa) == "granted"


def test_the_funder_cannot_decline_for_the_startup(make, login):
    founder, officer, fa = offered_grant(make)
    r = login(officer).post(f"/startup/funding/{fa.id}/decline", data={"decline-confirm": "y"})
    assert r.status_code == 403 and status_of(fa) == "granted"
