"""The hub inbox at scale: each section is a page of its own, in the cluster's rank order; the
other sections' pages survive paging one section; the next-in-line prompt still points at the
first waitlisted nominee; a page number that makes no sense shows a clear page; a page costs the
same statements for 10 placements as for 60."""
from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from residency.core.extensions import db
from residency.domain.accounts.models import Organisation
from residency.domain.applications.models import Application
from residency.domain.placements.hub_queries import INBOX_PER_PAGE
from residency.domain.placements.models import Placement
from residency.domain.review.models import Nomination, Review

from tests.factories import valid_org_number
from tests.web.paging import ids, link, pager, walk

_numbers = itertools.count(70_000)
PLACEMENT = r"/hub/placements/(\d+)"
WAITING, CLOSED = "Pages of nominees waiting for your decision", "Pages of closed placements"


class Hub:
    """A hub with one call; test setup only: placements written as the nomination service leaves them."""

    def __init__(self, make):
        self.hub = make.organisation("hub", country="SE", timezone="Europe/Stockholm")
        route = make.route(hub=self.hub)
        self.call = make.call(route=route, seats=1000)
        self.call.residency_starts_on, self.call.residency_ends_on = date(2030, 1, 1), date(2031, 12, 31)
        self.earlier = make.call(route=route, seats=1000)  # its residencies start first: listed first
        self.earlier.residency_starts_on, self.earlier.residency_ends_on = date(2029, 1, 1), date(2029, 12, 31)
        self.reviewer = make.user(org=route.cluster)
        self.admin = make.user(org=self.hub)
        db.session.commit()
        self.ranks = {self.call.id: 0, self.earlier.id: 0}

    def add(self, n, status="pending", call=None, reviewed=False) -> list[int]:
        call = call or self.call
        startups = [Organisation(kind="startup", name=f"Startup {next(_numbers)}", country="NO",
                                 org_number=valid_org_number("NO", next(_numbers))) for _ in range(n)]
        db.session.add_all(startups)
        db.session.flush()
        apps = [Application(call_id=call.id, startup_id=s.id, status="nominated",
                            desks=1, benches=0) for s in startups]
        db.session.add_all(apps)
        db.session.flush()
        placements = []
        for a in apps:
            self.ranks[call.id] += 1
            db.session.add(Nomination(application_id=a.id, call_id=call.id, rationale="fit", rank=self.ranks[call.id]))
            placements.append(Placement(application_id=a.id, call_id=a.call_id, hub_id=self.hub.id, status=status))
            if reviewed:
                db.session.add(Review(application_id=a.id, reviewer_id=self.reviewer.id, recommendation="nominate",
                                      comment="", weighted_score=Decimal("4.00"),
                                      submitted_at=datetime(2029, 12, 1, tzinfo=timezone.utc)))
        db.session.add_all(placements)
        db.session.commit()
        return [p.id for p in placements]

    @property
    def url(self):
        return f"/hub/{self.hub.id}/inbox"


def _section(html: str, name: str) -> str:
    start = html.index(f'<section aria-labelledby="{name}">')
    return html[start:html.index("</section>", start)]


def _count(count_queries, client, url) -> int:
    db.session.expire_all()
    with count_queries() as counted:
        response = client.get(url)
    assert response.status_code == 200
    return counted.n


def test_each_section_pages_in_rank_order_with_a_fixed_number_of_queries(make, login, client, count_queries):
    hub = Hub(make)
    first = hub.add(5, call=hub.earlier, reviewed=True) + hub.add(5, reviewed=True)
    closed = hub.add(4, status="rejected")
    login(hub.admin)
    few = _count(count_queries, client, hub.url)
    html = client.get(hub.url).get_data(as_text=True)
    assert ids(_section(html, "waiting"), PLACEMENT) == first
    assert "4.00 over 1 review" in html
    waiting = first + hub.add(50)
    closed += hub.add(56, status="rejected")
    pages = walk(client, hub.url, WAITING, PLACEMENT)
    # The walk reads whole pages; the waiting section's rows come first on each.
    shown = [page[:INBOX_PER_PAGE] for page in pages]
    assert [n for page in shown for n in page][:60] == waiting
    assert len(pages) == 3 and len(pages[2]) >= 10
    second = link(client.get(hub.url).get_data(as_text=True), WAITING, "next")
    assert "waiting_page=2" in second and "Page 2 of 3" in pager(client.get(second).get_data(as_text=True), WAITING)
    assert _count(count_queries, client, hub.url) == _count(count_queries, client, second) == few
    # The closed section pages on its own, in the same order, and keeps the waiting section's page.
    html = client.get(f"{hub.url}?waiting_page=3&closed_page=2").get_data(as_text=True)
    assert ids(_section(html, "waiting"), PLACEMENT) == waiting[50:]
    assert ids(_section(html, "closed"), PLACEMENT) == closed[25:50]
    assert "<details open>" in _section(html, "closed")
    back = link(html, CLOSED, "prev")
    assert "waiting_page=3" in back and "closed_page" not in back and back.endswith("#closed")
    assert _count(count_queries, client, f"{hub.url}?waiting_page=3&closed_page=2") == few


@pytest.mark.parametrize("page, shown", [("0", 1), ("-1", 1), ("x", 1), ("2", 2), ("3", 3), ("4", 3), ("9" * 30, 3),
                                         ("1" + "0" * 5000, 3)])
def test_a_page_number_that_makes_no_sense_shows_a_clear_page(make, login, client, page, shown):
    hub = Hub(make)
    waiting = hub.add(60)
    login(hub.admin)
    response = client.get(f"{hub.url}?waiting_page={page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ids(_section(html, "waiting"), PLACEMENT) == waiting[(shown - 1) * 25:shown * 25]
    assert f"Page {shown} of 3" in html
    assert ("There is no page" in html) == (shown == 3 and page != "3")


def test_the_next_in_line_prompt_still_points_at_the_first_waitlisted_nominee(make, login, client):
    hub = Hub(make)
    hub.add(30)  # the waiting section's first page is full of pending nominees
    freed = hub.add(2, status="declined") + hub.add(1, status="lapsed")
    waitlisted = hub.add(3, status="waitlisted")  # ranked after every pending nominee: on page 2
    login(hub.admin)
    html = client.get(hub.url).get_data(as_text=True)
    assert html.count("Offer the next waitlisted nominee") == 1
    assert f'/hub/placements/{waitlisted[0]}#offer">' in html
    for placement_id in freed:
        startup = db.session.get(Placement, placement_id).application.startup.name
        assert f"The offer to {startup}:" in html
    assert 'class="next-in-line"' not in html  # the nominee is not on this page
    page_two = client.get(f"{hub.url}?waiting_page=2").get_data(as_text=True)
    assert page_two.count('class="next-in-line"') == 1
    row = page_two[page_two.index('class="next-in-line"'):]
    assert f"/hub/placements/{waitlisted[0]}" in row[:row.index("</tr>")]
    # Once the call's residency window is over no offer can be made: no prompt.
    hub.call.residency_starts_on, hub.call.residency_ends_on = date(2020, 1, 1), date(2020, 12, 31)
    db.session.commit()
    assert "Offer the next waitlisted nominee" not in client.get(hub.url).get_data(as_text=True)


def test_the_inbox_reads_no_answers_and_the_reviews_of_the_waiting_page_only(make, login, client, count_queries):
    hub = Hub(make)
    hub.add(60, reviewed=True)
    hub.add(30, status="rejected", reviewed=True)
    login(hub.admin)
    db.session.expire_all()
    with count_queries() as counted:
        assert client.get(hub.url).status_code == 200
    statements = " ".join(counted.statements)
    assert "answers" not in statements
    # The reviews are read in the statement of the page's rows, for the rows it returns, never grouped for all.
    assert "GROUP BY review.application_id" not in statements
    picked = [s for s in counted.statements if "FROM placement" in s and "review" in s]
    assert len(picked) == 1 and re.search(r"placement\.id IN", picked[0])


def test_the_inbox_pages_the_hubs_placements_without_reading_the_application_table(make, login, client,
                                                                                    count_queries):
    """Each section's page is found among the hub's placements with their call and nomination only, each
    section with its own LIMIT: at Nordic scale, joining the applications to learn each placement's call
    read all 100,000 of them."""
    hub = Hub(make)
    hub.add(30)
    hub.add(10, status="waitlisted", call=hub.earlier)
    login(hub.admin)
    db.session.expire_all()
    with count_queries() as counted:
        assert client.get(hub.url).status_code == 200
    numbering = [s for s in counted.statements if "union all" in s.lower()]
    assert len(numbering) == 1 and numbering[0].count("LIMIT ") == 4, numbering
    assert not re.search(r"\bapplication\b(?!_)", numbering[0].replace("application_id", "")), numbering[0]
