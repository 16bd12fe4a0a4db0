"""The startup's VAT number on its funding application (issue 16): optional, checked by python-stdnum as
its country checks it, and refused when it is another company's; shown to the funder's officer."""
from __future__ import annotations

import html as htmllib

import pytest

from residency.core.extensions import db
from residency.domain.funding.models import FundingApplication

from tests.web.funder.test_funding_pages import draft, form_data


def vat_of(startup) -> tuple[str, str]:
    """The startup's own VAT number as people type it, and as it is stored."""
    digits = startup.org_number.replace("-", "")
    typed, stored = {
        "NO": (f"NO {startup.org_number} MVA", f"NO{digits}MVA"),
        "SE": (f"SE {digits}01", f"SE{digits}01"),
        "DK": (f"DK {digits}", f"DK{digits}"),
        "FI": (f"FI{digits}", f"FI{digits}"),
    }[startup.country]
    return typed, stored


def page_text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True)).replace("\xa0", " ")


@pytest.mark.parametrize("country, currency", [("NO", "NOK"), ("SE", "SEK"), ("DK", "DKK"), ("FI", "EUR")])
def test_the_startups_own_vat_number_is_saved_in_its_canonical_form_and_shown_to_the_officer(make, login, country, currency):
    _scheme, startup, founder, officer, fa = draft(make, country, currency)
    typed, stored = vat_of(startup)
    response = login(founder).post(f"/startup/funding/{fa.id}", data=form_data(vat_number=typed, intent="submit"))
    assert response.status_code == 302, page_text(response)
    db.session.expire_all()
    saved = db.session.get(FundingApplication, fa.id)
    assert saved.vat_number == stored and saved.status == "submitted"
    assert stored in page_text(login(founder).get(f"/startup/funding/{fa.id}"))
    assert stored in page_text(login(officer).get(f"/funder/funding/{fa.id}"))


def test_no_vat_number_is_fine_and_the_officer_reads_that_it_is_not_registered(make, login):
    _scheme, _startup, founder, officer, fa = draft(make)
    assert login(founder).post(f"/startup/funding/{fa.id}", data=form_data(vat_number="", intent="submit")).status_code == 302
    db.session.expire_all()
    assert db.session.get(FundingApplication, fa.id).vat_number is None
    assert "Not registered for VAT" in page_text(login(officer).get(f"/funder/funding/{fa.id}"))


@pytest.mark.parametrize("vat, words", [
    ("NO 123 456 789 MVA", "organisation number"),      # a check digit that does not hold
    ("986399445", "followed by MVA"),                    # the organisation number without MVA
    ("hello", "VAT number"),
    ("NO" + "9" * 30, "at most 20 characters"),
])
def test_a_bad_vat_number_is_refused_on_its_field_and_nothing_is_saved(make, login, vat, words):
    _scheme, _startup, founder, _officer, fa = draft(make)
    response = login(founder).post(f"/startup/funding/{fa.id}", data=form_data(vat_number=vat, title="Not kept"))
    body = page_text(response)
    assert response.status_code == 422
    assert words in body
    # What was typed is still in the form, and nothing was saved.
    assert 'value="Not kept"' in response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(FundingApplication, fa.id)
    assert saved.vat_number is None and saved.title != "Not kept"


def test_another_companys_valid_vat_number_is_refused_by_name(make, login):
    _scheme, startup, founder, _officer, fa = draft(make)
    other = "NO986399445MVA" if startup.org_number != "986399445" else "NO923609016MVA"
    response = login(founder).post(f"/startup/funding/{fa.id}", data=form_data(vat_number=other))
    assert response.status_code == 422
    body = page_text(response)
    assert "belongs to organisation number" in body and startup.org_number in body
    db.session.expire_all()
    assert db.session.get(FundingApplication, fa.id).vat_number is None
