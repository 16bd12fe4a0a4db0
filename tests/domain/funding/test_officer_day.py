"""The officer's page dates a payment in the funder's own calendar, not in UTC's."""
from datetime import datetime, timezone

from residency.domain.funding import officer_queries
from residency.domain.funding.services import funder_day

from tests.scenarios import _in_progress


def test_the_officers_today_is_the_funders_day_after_midnight_in_its_zone(make):
    scheme, _startup, _founder, officer, fa = _in_progress(make)
    # 23:30 in UTC: already the next day in Oslo and Stockholm, where a requested instalment is paid.
    late = datetime(2030, 3, 4, 23, 30, tzinfo=timezone.utc)
    page = officer_queries.page(officer, fa.id, now=late)
    assert page.today == funder_day(fa, late) != late.date()
