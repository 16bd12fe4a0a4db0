"""Issue 14: a form prefilled with an amount writes it as its hint does, in the reader's language
("100000,00" beside "150 000,50" in Norwegian, not "100000.00"), and reads it back unchanged."""
from __future__ import annotations

from decimal import Decimal

import pytest

from residency.core.extensions import db
from residency.domain.funding import services as funding
from residency.domain.funding.models import FundingApplication

from tests.web.funder.test_funding_pages import draft, field_value, fill, submitted, text


@pytest.mark.parametrize("language, typed", [("en", "100000.00"), ("nb", "100000,00"), ("da", "100000,00")])
def test_the_grant_proposal_is_typed_in_the_officers_language(make, login, language, typed):
    _scheme, _startup, _founder, officer, fa = submitted(make)
    funding.start_assessment(fa=fa, actor=officer)
    officer.language = language
    db.session.commit()
    page = text(login(officer).get(f"/funder/funding/{fa.id}"))
    assert field_value(page, "grant-amount") == typed
    assert field_value(page, "grant-share_percent") in ("50.00", "50,00")


def test_a_danish_founder_saves_the_prefilled_amounts_unchanged(make, login):
    _scheme, _startup, founder, _officer, fa = draft(make)
    fill(fa, founder)
    fa_id = fa.id
    founder.language = "da"
    db.session.commit()
    client = login(founder)
    # The draft's fields hold what was saved, as Danish writes it.
    page = text(client.get(f"/startup/funding/{fa_id}"))
    own = field_value(page, "own_financing")
    assert own == "100000,01"
    form = {"title": "Preclinical package", "description": "GLP", "period_start": "2030-04-01", "period_end": "2030-12-31",
            "own_financing": own, "amount_requested": field_value(page, "amount_requested"), "intent": "save"}
    for n, line in enumerate(db.session.get(FundingApplication, fa_id).budget_lines):
        form.update({f"budget-{n}-category": line.category, f"budget-{n}-year": str(line.year),
                     f"budget-{n}-quarter": str(line.quarter), f"budget-{n}-amount": field_value(page, f"budget-{n}-amount")})
    assert client.post(f"/startup/funding/{fa_id}", data=form).status_code == 302
    db.session.expire_all()
    saved = db.session.get(FundingApplication, fa_id)
    assert saved.own_financing == Decimal("100000.01") and saved.amount_requested == Decimal("100000.00")
