"""The funder queue at scale: newest change first, page after page without losing a row; the
scheme, status and startup filters survive paging; a page number that makes no sense shows a
clear page; a page costs the same statements for 10 applications as for 60, and reads the
schemes, the instalments and the reports of the page's applications only."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from residency.core.extensions import db
from residency.domain.funding.models import Disbursement, FundingApplication
from residency.domain.funding.officer_queries import PER_PAGE
from residency.domain.placements.models import Placement

from tests.factories import make_scheme
from tests.scenarios import resident
from tests.web.paging import ids, link, walk

ROW = r'href="/funder/funding/(\d+)"'
LABEL = "Pages of funding applications"
NOW = datetime(2030, 6, 1, tzinfo=timezone.utc)


class Queue:
    def __init__(self, make):
        self.scheme, self.startup, founder, self.officer = resident(make)
        self.placement_id = db.session.scalar(db.select(Placement.id).where(Placement.status == "accepted"))
        self.other_scheme = make_scheme(self.scheme.funder)
        self.shown: list[int] = []  # newest change first
        self.n = 0

    def add(self, n, status="submitted", scheme=None, title="Project", granted=None) -> list[int]:
        rows = []
        for _ in range(n):
            self.n += 1
            rows.append(FundingApplication(
                scheme_id=(scheme or self.scheme).id, startup_id=self.startup.id, placement_id=self.placement_id,
                status=status, title=f"{title} {self.n}", amount_requested=Decimal("100000.00"), granted_amount=granted,
                updated_at=NOW - timedelta(minutes=self.n), created_at=NOW - timedelta(days=1)))
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


def _count(count_queries, client, url) -> int:
    db.session.expire_all()
    with count_queries() as counted:
        response = client.get(url)
    assert response.status_code == 200
    return counted.n


def test_the_queue_pages_newest_change_first_with_its_filters_and_a_fixed_number_of_queries(make, login, client,
                                                                                           count_queries):
    queue = Queue(make)
    listed = queue.add(10)
    queue.add(3, status="under_assessment")  # left out by the status filter
    queue.add(3, scheme=queue.other_scheme)  # left out by the scheme filter
    queue.add(2, status="draft")  # never listed
    url = f"/funder/funding?scheme={queue.scheme.id}&status=submitted&q={queue.startup.name[:4]}"
    login(queue.officer)
    few = _count(count_queries, client, url)
    assert walk(client, url, LABEL, ROW) == [listed]
    listed += queue.add(50)
    pages = walk(client, url, LABEL, ROW)
    assert [n for page in pages for n in page] == listed
    assert [len(page) for page in pages] == [PER_PAGE, PER_PAGE, 60 - 2 * PER_PAGE]
    second = link(client.get(url).get_data(as_text=True), LABEL, "next")
    for kept in (f"scheme={queue.scheme.id}", "status=submitted", f"q={queue.startup.name[:4]}", "page=2"):
        assert kept in second.replace("+", " ").replace("%20", " ")
    assert "Page 2 of 3" in client.get(second).get_data(as_text=True)
    assert _count(count_queries, client, url) == _count(count_queries, client, second) == few
    # Every application to the funder's schemes (the drafts never) when nothing is filtered.
    html = client.get("/funder/funding").get_data(as_text=True)
    assert f"({60 + 6})" in html and "1–25 of 66 funding applications" in html


@pytest.mark.parametrize("page, shown", [("0", 1), ("-4", 1), ("zz", 1), ("2", 2), ("3", 3), ("4", 3), ("9" * 30, 3)])
def test_a_page_number_that_makes_no_sense_shows_a_clear_page(make, login, client, page, shown):
    queue = Queue(make)
    listed = queue.add(60)
    login(queue.officer)
    response = client.get(f"/funder/funding?page={page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ids(html, ROW) == listed[(shown - 1) * PER_PAGE:shown * PER_PAGE]
    assert ("There is no page" in html) == (page not in ("3",) and shown == 3)


def test_a_page_reads_each_scheme_once_and_counts_what_waits_for_its_rows_only(make, login, client, count_queries):
    queue = Queue(make)
    listed = queue.add(60, status="in_progress", granted=Decimal("50000.00"))
    for fa_id in listed:  # an instalment waiting to be paid on every application, shown or not
        db.session.add(Disbursement(funding_application_id=fa_id, instalment=0, amount=Decimal("1000.00")))
    db.session.commit()
    login(queue.officer)
    db.session.expire_all()
    with count_queries() as counted:
        html = client.get("/funder/funding").get_data(as_text=True)
    assert html.count("1 instalment to pay") == PER_PAGE
    statements = counted.statements
    # The schemes (and their JSON columns) once, in their own statement, never joined to every row.
    assert sum("FROM funding_scheme" in s for s in statements) == 1
    assert not any("funding_scheme" in s and "FROM funding_application" in s for s in statements)
    # The counts of the page's applications only: an IN list as long as the page, no longer.
    waiting = [s for s in statements if "disbursement" in s]
    assert len(waiting) == 1
    assert len(re.findall(r"\?|%\(|__\[POSTCOMPILE", waiting[0].split("WHERE")[-1])) <= PER_PAGE + 4
