"""Every list of the administration area is paginated: page after page shows each row once, in
order; the filters survive paging; a page number or key that makes no sense shows a clear page;
and a page costs the same statements for 10 rows as for 60."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from residency.core import limits
from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.domain.accounts.models import Invitation
from residency.domain.programme.services import PER_PAGE

from tests.factories import make_scheme
from tests.web.paging import ids, link, walk

UTC = timezone.utc
NOW = datetime.now(UTC)


def _count(count_queries, client, url) -> int:
    db.session.expire_all()
    with count_queries() as counted:
        response = client.get(url)
    assert response.status_code == 200, url
    return counted.n


class Lists:
    """Per list: its URL, pager, the pattern of a row's id, and how to add rows (returning every
    listed id in the order the list shows them)."""

    def __init__(self, make):
        self.make = make
        self.admin = make.admin()
        self.rows: list = []

    # Each ``add_*`` adds ``n`` rows and returns the ids the list shows, in order.

    def add_organisations(self, n):
        start = len(self.rows)
        self.rows += [self.make.organisation("hub", name=f"Hub {i:03d}", country="SE").id for i in range(start, start + n)]
        self.make.organisation("cluster", name="Cluster left out by the filter")
        return self.rows

    def add_invitations(self, n):
        hub = self.make.organisation("hub", country="SE")
        start = len(self.rows)
        for i in range(start, start + n):
            invitation = Invitation(email=f"staff{i}@example.test", organisation_id=hub.id, token_hash=f"t{i:062d}",
                                    invited_by_id=self.admin.id, created_at=NOW - timedelta(minutes=i),
                                    expires_at=NOW + timedelta(days=7))
            db.session.add(invitation)
            db.session.flush()
            self.rows.append(invitation.id)
        # Revoked ones, which the filter "pending" leaves out.
        db.session.add(Invitation(email="revoked@example.test", organisation_id=hub.id, token_hash=f"r{len(self.rows):062d}",
                                  created_at=NOW, expires_at=NOW + timedelta(days=7), revoked_at=NOW))
        db.session.commit()
        return self.rows

    def add_routes(self, n):
        if not self.rows:
            self.cluster = self.make.organisation("cluster")
        start = len(self.rows)
        for i in range(start, start + n):
            hub = self.make.organisation("hub", name=f"Hub {i:03d}", country="SE")
            self.rows.append(self.make.route(hub=hub, cluster=self.cluster, funders=[]).id)
        return self.rows

    def add_calls(self, n):
        if not self.rows:
            self.route = self.make.route()
            self.make.call(route=self.route, status="published", title="Published, left out by the filter")
        start = len(self.rows)
        self.rows += [self.make.call(route=self.route, status="draft", opens_at=NOW - timedelta(days=i),
                                     closes_at=NOW + timedelta(days=20)).id for i in range(start, start + n)]
        return self.rows

    def add_schemes(self, n):
        if not self.rows:
            self.funder = self.make.organisation("funder")
        self.rows += [make_scheme(self.funder).id for _ in range(n)]
        return self.rows

    def add_outbox(self, n):
        start = len(self.rows)
        for i in range(start, start + n):
            self.rows.append(self.make.outbox_message(delivery="failed", last_error="boom",
                                                      created_at=NOW - timedelta(minutes=i)).id)
            self.make.outbox_message(delivery="sent", created_at=NOW - timedelta(minutes=i, seconds=30))
        return self.rows

    def add_audit(self, n):
        if not self.rows:
            self.call = self.make.call(status="draft")
        start = len(self.rows)
        changes = [StatusChange(workflow="call", record_id=self.call.id, from_state="draft", to_state="draft",
                                action="force", reason=f"audit-{i}", forced=True, actor_id=self.admin.id,
                                created_at=NOW) for i in range(start, start + n)]
        db.session.add_all(changes)
        db.session.commit()
        self.rows += [c.id for c in changes]
        return list(range(len(self.rows)))  # the reasons' numbers, in the trail's order


LISTS = {
    # name: (url, filter, pager label, id pattern, per page)
    "organisations": ("/admin/organisations", "kind=hub", "Pages of organisations", r"/admin/organisations/(\d+)/edit", PER_PAGE),
    "invitations": ("/admin/invitations", "state=pending", "Pages of invitations", r"/admin/invitations/(\d+)/revoke", PER_PAGE),
    "routes": ("/admin/routes", "", "Pages of routes", r"/admin/calls/new\?route_id=(\d+)", PER_PAGE),
    "calls": ("/admin/calls", "status=draft", "Pages of calls", r'href="/admin/calls/(\d+)"', PER_PAGE),
    "schemes": ("/admin/schemes", "", "Pages of funding schemes", r"/admin/schemes/(\d+)/edit", 50),
    "outbox": ("/admin/outbox", "delivery=failed", "Pages of messages", r"/admin/outbox/(\d+)/cancel", 50),
    "audit": (None, "", "Pages of the audit trail", r"audit-(\d+)<", 50),
}


@pytest.mark.parametrize("name", list(LISTS))
def test_each_admin_list_pages_through_every_row_once_with_its_filter_and_a_fixed_number_of_queries(
        name, make, login, client, count_queries):
    lists = Lists(make)
    add = getattr(lists, f"add_{name}")
    url, filters, label, pattern, per_page = LISTS[name]
    expected = add(10)
    if name == "audit":
        url = f"/admin/workflow/call/{lists.call.id}"
    url = f"{url}?{filters}" if filters else url
    login(lists.admin)
    few = _count(count_queries, client, url)
    assert walk(client, url, label, pattern) == [expected]
    expected = add(50)
    pages = walk(client, url, label, pattern)
    # Every row once, in the list's order, over the pages.
    assert [n for page in pages for n in page] == expected
    assert [len(page) for page in pages] == [per_page, 60 - per_page]
    second = link(client.get(url).get_data(as_text=True), label, "next")
    if filters:
        assert filters in second  # the filter survives paging
    assert "Page 2 of 2" in client.get(second).get_data(as_text=True)
    # The same statements for 10 rows as for 60, on the first page and the next.
    assert _count(count_queries, client, url) == _count(count_queries, client, second) == few


@pytest.mark.parametrize("name", ["organisations", "invitations", "routes", "calls", "schemes"])
@pytest.mark.parametrize("page", ["0", "-2", "abc", "2.5", "%00", "9" * 40, str(limits.PAGE_MAX), "1" + "0" * 5000])
def test_a_page_number_that_makes_no_sense_shows_a_clear_page(name, page, make, login, client):
    lists = Lists(make)
    getattr(lists, f"add_{name}")(3)
    url, _filters, label, pattern, _per_page = LISTS[name]
    login(lists.admin)
    response = client.get(f"{url}?page={page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(ids(html, pattern)) >= 3  # the one page there is
    if page.isdigit() and (len(page) > 6 or int(page) > 1):
        assert "There is no page" in html and "This is the last one" not in html  # one page: "shown here"


def test_an_organisation_page_past_the_end_shows_the_last_page_and_says_so(make, login, client):
    lists = Lists(make)
    expected = lists.add_organisations(60)
    login(lists.admin)
    html = client.get("/admin/organisations?kind=hub&page=7").get_data(as_text=True)
    assert ids(html, LISTS["organisations"][3]) == expected[PER_PAGE:]
    assert "There is no page 7: the list has 2 pages. This is the last one." in html
    assert "Page 2 of 2" in html


@pytest.mark.parametrize("name", ["outbox", "audit"])
@pytest.mark.parametrize("query", ["after=abc", "before=-1", "after=0", f"after={limits.MAX_ID + 1}", "after=" + "9" * 5000,
                                   "page=99999"])
def test_a_key_that_makes_no_sense_shows_the_first_page(name, query, make, login, client):
    lists = Lists(make)
    expected = getattr(lists, f"add_{name}")(3)
    url = f"/admin/workflow/call/{lists.call.id}" if name == "audit" else LISTS[name][0]
    login(lists.admin)
    response = client.get(f"{url}?{query}")
    assert response.status_code == 200
    assert ids(response.get_data(as_text=True), LISTS[name][3]) == expected


@pytest.mark.parametrize("name", ["outbox", "audit"])
def test_a_key_past_the_end_shows_an_empty_page_with_the_way_back(name, make, login, client):
    lists = Lists(make)
    getattr(lists, f"add_{name}")(3)
    url = f"/admin/workflow/call/{lists.call.id}?" if name == "audit" else f"{LISTS[name][0]}?{LISTS[name][1]}&"
    login(lists.admin)
    last = lists.rows[-1]
    html = client.get(f"{url}after={last}").get_data(as_text=True)
    assert ids(html, LISTS[name][3]) == []
    assert "Nothing more to show here" in html
    back = re.search(r'<a href="([^"]+)">Go to the first page</a>', html).group(1)
    assert "after" not in back and "before" not in back


def test_the_outbox_pages_back_to_newer_messages_with_the_filter(make, login, client):
    lists = Lists(make)
    expected = lists.add_outbox(120)
    login(lists.admin)
    label, pattern = LISTS["outbox"][2], LISTS["outbox"][3]
    first = client.get("/admin/outbox?delivery=failed").get_data(as_text=True)
    second = client.get(link(first, label, "next")).get_data(as_text=True)
    third_url = link(second, label, "next")
    third = client.get(third_url).get_data(as_text=True)
    assert ids(third, pattern) == expected[100:] and "Page 3 of 3" in third and link(third, label, "next") is None
    back = link(third, label, "prev")
    assert "delivery=failed" in back and "before=" in back
    assert ids(client.get(back).get_data(as_text=True), pattern) == expected[50:100]
    # From the second page back is the plain first page.
    assert link(second, label, "prev") == "/admin/outbox?delivery=failed#list-heading"
    # A resend from a later page comes back to that page.
    assert f'name="next" value="{third_url.split("#")[0]}"'.replace("&", "&amp;") in third
