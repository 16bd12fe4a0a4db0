"""The exports' display columns of money (issue 14, item 2): every amount keeps its exact machine column
(``100000.01``, the same in every language), and next to it the amount as the reader's language writes
it in its currency, by Babel (``i18n.format_money``), as on the pages."""
from __future__ import annotations

from decimal import Decimal

import pytest

from residency.core.extensions import db
from residency.domain.accounts.models import Organisation

from tests.web.exports.test_exports import Side, csv_rows

NBSP = "\u00a0"
# (language, own financing, granted amount, paid, survey revenue in SEK): as each language writes them.
WRITTEN = {
    "en": ("NOK" + NBSP + "100,000.01", "NOK" + NBSP + "99,999.99", "NOK" + NBSP + "80,000.00",
           "SEK" + NBSP + "1,250,000.50"),
    "nb": ("100" + NBSP + "000,01" + NBSP + "NOK", "99" + NBSP + "999,99" + NBSP + "NOK", "80" + NBSP + "000,00" + NBSP + "NOK",
           "1" + NBSP + "250" + NBSP + "000,50" + NBSP + "SEK"),
}


@pytest.fixture
def side(make):
    side = Side(make, "A")
    survey = side.surveys[0]
    survey.currency, survey.revenue = "SEK", Decimal("1250000.50")
    db.session.commit()
    return side


def by_id(response, record_id: int) -> tuple[list[str], list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    rows = csv_rows(response)
    return rows[0], next(r for r in rows[1:] if int(r[0]) == record_id)


@pytest.mark.parametrize("language", ["en", "nb"])
def test_every_amount_has_its_exact_column_and_one_written_in_the_readers_language(client, make, login, side, language):
    login(make.user(org=side.funder, language=language))
    header, row = by_id(client.get("/exports/grants.csv"), side.grants[2].id)
    en_header = ["Own financing", "Own financing (formatted)", "Amount requested", "Amount requested (formatted)",
                 "Granted amount", "Granted amount (formatted)", "Granted share (%)", "Paid amount", "Paid amount (formatted)"]
    start = 14
    if language == "en":
        assert header[start:start + len(en_header)] == en_header
    else:
        assert header[start] == "Egenfinansiering" and header[start + 1] == "Egenfinansiering (formatert)"
    own, granted, paid, revenue = WRITTEN[language]
    assert row[start:start + 9] == ["100000.01", own, "100000.00", own.replace("0,01", "0,00").replace("0.01", "0.00"),
                                    "99999.99", granted, "49.99", "80000.00", paid]

    # A funding application not yet granted: no amount, and nothing written for it.
    _header, submitted = by_id(client.get("/exports/grants.csv"), side.grants[1].id)
    assert submitted[start + 4:start + 6] == ["", ""]


@pytest.mark.parametrize("language", ["en", "nb"])
def test_survey_amounts_are_written_in_the_surveys_currency(client, make, login, side, language):
    startup_id = side.placements[1].application.startup_id
    login(make.user(org=db.session.get(Organisation, startup_id), language=language))
    header, row = by_id(client.get("/exports/surveys.csv"), side.surveys[0].id)
    at = 11
    assert header[at + 1] == ("Revenue (formatted)" if language == "en" else "Omsetning (formatert)")
    assert row[at:at + 2] == ["1250000.50", WRITTEN[language][3]]
    # Not answered: empty in both columns.
    assert row[at + 2:at + 6] == ["", "", "", ""]
