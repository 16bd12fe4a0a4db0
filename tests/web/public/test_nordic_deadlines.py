"""A Helsinki and a Reykjavik deadline at 23:59 on the days the EU clocks change (28 March and
31 October 2027), as pages show them: in the call's zone with the zone named, in the reader's
language, and as the administrator typed them when the call is edited."""
from __future__ import annotations

import re

import pytest

from tests.domain.reminders.test_helsinki_reykjavik_clocks import CASES, nordic_call, organisation

# What each language writes for the closing moment (Babel's long date and short time, the zone's
# abbreviation that day and its IANA name).
SHOWN = {
    "helsinki-spring": {"en": "28 March 2027, 23:59 EEST (Europe/Helsinki)",
                        "fi": "28. maaliskuuta 2027 23.59 EEST (Europe/Helsinki)"},
    "reykjavik-spring": {"en": "28 March 2027, 23:59 GMT (Atlantic/Reykjavik)",
                         "is": "28. mars 2027, 23:59 GMT (Atlantic/Reykjavik)"},
    "helsinki-autumn": {"en": "31 October 2027, 23:59 EET (Europe/Helsinki)",
                        "fi": "31. lokakuuta 2027 23.59 EET (Europe/Helsinki)"},
    "reykjavik-autumn": {"en": "31 October 2027, 23:59 GMT (Atlantic/Reykjavik)",
                         "is": "31. október 2027, 23:59 GMT (Atlantic/Reykjavik)"},
}


def closing_text(html: str, call) -> str:
    """The text of the <time> that carries the closing instant (its datetime attribute is the UTC instant)."""
    match = re.search(rf'<time datetime="{re.escape(call.closes_at.isoformat())}">([^<]+)</time>', html)
    assert match, call.closes_at.isoformat()
    return match.group(1)


@pytest.mark.parametrize("case", CASES)
def test_the_call_page_shows_2359_in_the_calls_zone_in_each_language(client, make, case):
    call = nordic_call(make, case)
    for language, expected in SHOWN[case].items():
        html = client.get(f"/calls/{call.id}", headers={"Accept-Language": language}).get_data(as_text=True)
        assert f'<html lang="{language}">' in html
        assert closing_text(html, call) == expected
    # The list of calls names the zone too.
    assert CASES[case][0] in client.get("/calls", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.mark.parametrize("case", ["helsinki-spring", "reykjavik-autumn"])
def test_the_founder_reads_the_deadline_on_the_draft_in_the_calls_zone(client, make, login, case):
    zone, country = CASES[case][:2]
    call = nordic_call(make, case)
    startup = organisation(make, "startup", country)
    founder = make.user(org=startup, language={"FI": "fi", "IS": "is"}[country])
    draft = make.application(call=call, startup=startup, author=founder)
    login(founder)
    html = client.get(f"/startup/applications/{draft.id}").get_data(as_text=True)
    language = founder.language
    shown = SHOWN[case][language]
    assert shown in html, shown


@pytest.mark.parametrize("case", CASES)
def test_the_administrator_edits_the_call_in_its_local_time(client, make, login, case):
    call = nordic_call(make, case)
    login(make.admin())
    html = client.get(f"/admin/calls/{call.id}/edit").get_data(as_text=True)
    day = CASES[case][2]
    assert re.search(rf'name="closes_at"[^>]*value="{day:%Y-%m-%d}T23:59"|value="{day:%Y-%m-%d}T23:59"[^>]*name="closes_at"', html)
