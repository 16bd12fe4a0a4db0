"""Issue 14: recording an instalment paid takes the payment day, the amount and the reference."""
from datetime import date, timedelta

from sqlalchemy import select

from residency.core.extensions import db
from residency.domain.funding import services as funding
from residency.domain.funding.models import Disbursement

from tests.web.funder.test_funding_pages import granted, text


def requested(make):
    scheme, startup, founder, officer, fa = granted(make)
    disbursement = funding.request_instalment(fa=fa, actor=founder, index=0)
    return officer, fa, disbursement


def test_the_officer_records_the_day_amount_and_reference_and_the_page_shows_them(make, login):
    officer, fa, d = requested(make)
    desk = login(officer)
    page = text(desk.get(f"/funder/funding/{fa.id}"))
    assert f'name="paid-{d.id}-reference"' in page and f'name="paid-{d.id}-paid_on"' in page
    day = funding.funder_day(fa, d.requested_at)
    r = desk.post(f"/funder/funding/{fa.id}/disbursements/{d.id}/paid", data={
        f"paid-{d.id}-paid_on": day.isoformat(), f"paid-{d.id}-amount": str(d.amount),
        f"paid-{d.id}-reference": "DNB 2030-000123"})
    assert r.status_code == 302
    paid = db.session.get(Disbursement, d.id)
    assert (paid.paid_on, paid.payment_reference) == (day, "DNB 2030-000123") and paid.paid_at is not None
    page = text(desk.get(f"/funder/funding/{fa.id}"))
    assert "Reference: DNB 2030-000123" in page


def test_a_payment_without_reference_with_a_wrong_amount_or_a_future_day_records_nothing(make, login):
    officer, fa, d = requested(make)
    desk = login(officer)
    tomorrow = funding.funder_day(fa, d.requested_at) + timedelta(days=2)
    r = desk.post(f"/funder/funding/{fa.id}/disbursements/{d.id}/paid", data={
        f"paid-{d.id}-paid_on": tomorrow.isoformat(), f"paid-{d.id}-amount": "1",
        f"paid-{d.id}-reference": ""})
    assert r.status_code == 422
    page = text(r)
    assert f'id="paid-{d.id}-paid_on-error"' in page and "The payment day cannot be in the future." in page
    assert f'id="paid-{d.id}-amount-error"' in page and "record the payment of exactly that amount" in page
    assert f'id="paid-{d.id}-reference-error"' in page and "Enter the payment's reference in your books." in page
    assert db.session.get(Disbursement, d.id).paid_at is None


def test_a_payment_day_before_the_request_is_refused(make, login):
    officer, fa, d = requested(make)
    r = login(officer).post(f"/funder/funding/{fa.id}/disbursements/{d.id}/paid", data={
        f"paid-{d.id}-paid_on": (funding.funder_day(fa, d.requested_at) - timedelta(days=1)).isoformat(),
        f"paid-{d.id}-amount": str(d.amount), f"paid-{d.id}-reference": "X1"})
    assert r.status_code == 422 and "before the startup requested the instalment" in text(r)
    assert db.session.get(Disbursement, d.id).paid_at is None
