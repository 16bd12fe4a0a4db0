"""A refusal writes its amounts and days as every page does (issue 14, item 2): "500 000,00 NOK" in
Norwegian through the one money helper, never "500 000.00 NOK"; the founding day by name, not ISO."""
from datetime import date

import pytest
from flask_babel import force_locale

from residency.core.errors import Invalid
from residency.core.extensions import db
from residency.core.i18n import format_money
from residency.domain.funding import services as funding
from tests.scenarios import NOW, fill, resident


def _refusal(app, make, language, case):
    scheme, startup, founder, _officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder, now=NOW)
    if case == "age":
        startup.founded_on = date(2020, 1, 1)
        db.session.commit()
        fill(fa, founder)
    else:
        fill(fa, founder, requested="600000.00", own="600000.00",
             budget=[{"category": "personnel", "year": 2030, "quarter": 2, "amount": "1200000"}])
    with app.test_request_context(), force_locale(language), pytest.raises(Invalid) as err:
        funding.submit(fa=fa, actor=founder, now=NOW)
    with app.test_request_context(), force_locale(language):
        said = " ".join(str(m) for messages in err.value.field_errors.values() for m in messages)
        return scheme, said, format_money(scheme.max_amount, scheme.currency), format_money("600000.00", scheme.currency)


@pytest.mark.parametrize("language", ["nb", "sv", "en"])
def test_the_maximum_amount_refusal_writes_money_as_the_pages_do(app, make, language):
    scheme, said, most, asked = _refusal(app, make, language, "amount")
    assert most in said and asked in said, said
    assert "500\u00a0000.00" not in said and "600\u00a0000.00" not in said


def test_the_company_age_refusal_names_the_founding_day(app, make):
    _scheme, said, _most, _asked = _refusal(app, make, "nb", "age")
    assert "1. januar 2020" in said and "2020-01-01" not in said, said
