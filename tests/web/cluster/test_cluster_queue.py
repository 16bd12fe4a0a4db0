"""The cluster staff's review queue: filters, sorting, pages, counts, exports and who sees what."""
from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from residency.domain.review.queue import QueueFilters
from residency.core.csvtools import safe_text
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.domain.accounts.models import Organisation
from residency.domain.review.models import Review, ReviewAssignment
from residency.core.models import StatusChange

from tests.factories import valid_org_number

# Organisation numbers for bulk-made startups: far from the factories' sequence and
# spaced so that the check-digit bumps of two numbers can never meet.
_numbers = itertools.count(500_000, 20)
ROW_LINK = re.compile(r'<th scope="row"><a href="/cluster/applications/(\d+)">')


# ------------------------------------------------------------------ helpers


def bulk_applications(call, n, status="submitted", name="Bulk Bio", submitted_at=None, **attrs) -> list[Application]:
    """Test setup only: ``n`` startups and their applications in one flush, with the submission time
    and the audit rows that a submission through the workflow would have written.
    The app itself never assigns a status outside workflow.perform."""
    when = submitted_at or datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    startups = [Organisation(kind="startup", name=f"{name} {i:04d}", country=call.route.home_country,
                             org_number=valid_org_number(call.route.home_country, next(_numbers)),
                             track="drugs", trl=4) for i in range(n)]
    db.session.add_all(startups)
    db.session.flush()
    apps = [Application(call_id=call.id, startup_id=s.id, status=status, submitted_at=when, **attrs)
            for s in startups]
    db.session.add_all(apps)
    db.session.flush()
    db.session.add_all([StatusChange(workflow="application", record_id=a.id, from_state="draft", to_state="submitted",
                                     action="submit", created_at=when) for a in apps])
    db.session.commit()
    return apps


def review(application, reviewer, score, submitted=True):
    """Test setup: a review as the scoring service would leave it."""
    db.session.add(Review(application_id=application.id, reviewer_id=reviewer.id, recommendation="maybe",
                          weighted_score=Decimal(str(score)),
                          submitted_at=datetime.now(timezone.utc) if submitted else None))
    db.session.commit()


def assign(application, reviewer, conflict=False):
    now = datetime.now(timezone.utc)
    db.session.add(ReviewAssignment(application_id=application.id, reviewer_id=reviewer.id,
                                    conflict_declared_at=now if conflict else None,
                                    conflict_reason="Former employer" if conflict else None))
    db.session.commit()


def ids_on_page(html: str) -> list[int]:
    return [int(i) for i in ROW_LINK.findall(html)]


def all_view_ids(client, query: str) -> list[int]:
    """The application ids of every page of the queue for ``query``, in order."""
    ids, page = [], 1
    while True:
        r = client.get(f"/cluster/queue?{query}&page={page}")
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        ids += ids_on_page(html)
        if 'rel="next"' not in html:
            return ids
        page += 1


def csv_rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM so Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def desk(make):
    """A cluster with one call, one staff member, and a second staff member of the same cluster."""
    route = make.route()
    call = make.call(route=route, title="Oslo to Gothenburg 2027")
    staff = make.user(org=route.cluster, name="Reviewer Rita")
    colleague = make.user(org=route.cluster, name="Colleague Carl")
    return route, call, staff, colleague


# ------------------------------------------------------------------ the page


def test_queue_lists_the_clusters_submitted_applications_with_scores(client, make, login, desk):
    route, call, staff, colleague = desk
    shown = make.application(call=call, startup=make.organisation("startup", name="Visible Bio AS", track="diagnostics",
                                                                    trl=6), status="submitted")
    make.application(call=call, startup=make.organisation("startup", name="Still Drafting AS"), status="draft")
    make.application(call=make.call(title="Elsewhere"), startup=make.organisation("startup", name="Other Cluster AS"),
                     status="submitted")
    review(shown, staff, "3.25")
    review(shown, colleague, "4.00")
    review(shown, make.user(org=route.cluster), "1.00", submitted=False)  # a draft review does not count
    assign(shown, staff)
    login(staff)
    html = client.get("/cluster/queue").get_data(as_text=True)
    assert "Visible Bio AS" in html and "Still Drafting AS" not in html and "Other Cluster AS" not in html
    assert f'href="/cluster/applications/{shown.id}"' in html
    assert "Submitted, awaiting review" in html  # the staff label
    assert "Diagnostics" in html and "<td>6</td>" in html and "Norway" in html
    assert "3.63" in html and "2 reviews" in html  # (3.25 + 4.00) / 2, rounded to 2 decimals
    assert "Assigned to you" in html and "Scored by you" in html
    assert "(Europe/Stockholm)" in html  # submitted time in the call's zone
    assert 'role="search"' in html and "<caption>" in html and 'aria-sort="ascending"' in html
    assert "Application 1–1 of 1" in html


def test_each_filter_narrows_the_queue(client, make, login, desk):
    route, call, staff, colleague = desk
    other_call = make.call(route=route, title="Second call")
    a = make.application(call=call, startup=make.organisation("startup", name="Alpha Diagnostics", track="diagnostics",
                                                                trl=3), status="submitted")
    b = make.application(call=call, startup=make.organisation("startup", name="Beta Devices", track="devices", trl=7),
                         status="submitted")
    c = make.application(call=other_call, startup=make.organisation("startup", name="Gamma Drugs", track="drugs", trl=7),
                         status="submitted")
    d = make.application(call=call, startup=make.organisation("startup", name="Delta Drugs", track="drugs", trl=5),
                         status="submitted")
    a.track = "devices"  # the application's own statement wins over the profile
    db.session.commit()
    review(a, colleague, "4.50")
    review(b, colleague, "2.00")
    review(c, staff, "3.00")
    assign(a, staff)
    assign(b, staff, conflict=True)
    assign(d, staff)
    login(staff)

    def ids(query):
        return set(all_view_ids(client, query))

    assert ids("") == {a.id, b.id, c.id, d.id}
    assert ids(f"call={other_call.id}") == {c.id}
    assert ids("track=devices") == {a.id, b.id}
    assert ids("trl=7") == {b.id, c.id}
    # The reader has scored only c: a's and b's means stay hidden from them, filters included.
    assert ids("min_score=3") == {c.id}
    assert ids("max_score=3") == {c.id}
    assert ids("min_score=2.5&max_score=3,5") == {c.id}  # a decimal comma is read too
    assert ids("assigned=1") == {a.id, d.id}  # a declared conflict is not an assignment
    assert ids("unscored=1") == {a.id, d.id}  # scored c; conflict on b
    assert ids("q=DRUGS") == {c.id, d.id}
    assert ids("q=%25") == set()  # LIKE wildcards are searched for literally
    assert ids("q=_") == set() and ids("q=%2F") == set()
    assert ids("status=submitted&track=drugs&trl=5") == {d.id}
    assert ids("status=nominated") == set()


def test_sorting_by_company_and_by_mean_score_both_ways(client, make, login, desk):
    route, call, staff, colleague = desk
    low = make.application(call=call, startup=make.organisation("startup", name="b Low"), status="submitted")
    high = make.application(call=call, startup=make.organisation("startup", name="A High"), status="submitted")
    none = make.application(call=call, startup=make.organisation("startup", name="C None"), status="submitted")
    review(low, colleague, "2.00")
    review(low, staff, "2.00")
    review(high, colleague, "4.75")
    review(high, staff, "4.75")
    login(staff)
    assert all_view_ids(client, "sort=company") == [high.id, low.id, none.id]  # case-insensitive
    assert all_view_ids(client, "sort=company&dir=desc") == [none.id, low.id, high.id]
    # Unscored applications come last both ways.
    assert all_view_ids(client, "sort=score") == [low.id, high.id, none.id]
    assert all_view_ids(client, "sort=score&dir=desc") == [high.id, low.id, none.id]
    html = client.get("/cluster/queue?sort=score&dir=desc").get_data(as_text=True)
    header = re.search(r'<th scope="col" aria-sort="descending">\s*<a href="([^"]+)">Mean score', html)
    assert header, "the sorted column says so"
    assert "sort=score" in header.group(1) and "dir=desc" not in header.group(1)  # its link sorts ascending
    assert html.count("aria-sort=") == 1


def test_sorting_by_status_follows_the_workflow_order(client, make, login, desk):
    route, call, staff, colleague = desk
    waiting = make.application(call=call, status="submitted")
    reviewing = make.application(call=call, status="submitted")
    from residency.domain.applications import services as applications

    applications.start_review(application=reviewing, actor=staff)
    login(staff)
    assert all_view_ids(client, "sort=status") == [waiting.id, reviewing.id]
    assert all_view_ids(client, "sort=status&dir=desc") == [reviewing.id, waiting.id]


def test_pages_of_25_with_positions_and_links(client, make, login, desk):
    route, call, staff, colleague = desk
    apps = bulk_applications(call, 30)
    login(staff)
    first = client.get("/cluster/queue?sort=company").get_data(as_text=True)
    assert ids_on_page(first) == [a.id for a in apps[:25]]
    assert "Applications 1–25 of 30" in first
    assert '<nav aria-label="Pages of applications">' in first and 'rel="next"' in first
    assert 'href="/cluster/queue?sort=company&amp;page=2"' in first  # filters travel with the page links
    second = client.get("/cluster/queue?sort=company&page=2").get_data(as_text=True)
    assert ids_on_page(second) == [a.id for a in apps[25:]]
    assert "Applications 26–30 of 30" in second and 'rel="prev"' in second
    # A page past the end shows the last one; nonsense is reported, not a crash.
    assert ids_on_page(client.get("/cluster/queue?sort=company&page=9").get_data(as_text=True)) == [a.id for a in apps[25:]]
    html = client.get("/cluster/queue?page=x&trl=12&status=draft").get_data(as_text=True)
    assert 'role="alert"' in html and "Applications 1–25 of 30" in html


def test_counts_per_status_follow_every_filter_but_the_status(client, make, login, desk):
    route, call, staff, colleague = desk
    from residency.domain.applications import services as applications

    for i in range(3):
        make.application(call=call, startup=make.organisation("startup", name=f"Match {i}"), status="submitted")
    reviewing = make.application(call=call, startup=make.organisation("startup", name="Match Review"), status="submitted")
    applications.start_review(application=reviewing, actor=staff)
    make.application(call=call, startup=make.organisation("startup", name="Unrelated"), status="submitted")
    login(staff)
    html = client.get("/cluster/queue?q=match&status=under_review").get_data(as_text=True)
    assert 'data-status-count="submitted">3<' in html and 'data-status-count="under_review">1<' in html
    assert 'data-status-count="withdrawn">0<' in html
    assert ids_on_page(html) == [reviewing.id]


def test_queue_uses_the_same_number_of_queries_for_10_and_500_applications(client, make, login, desk, count_queries):
    route, call, staff, colleague = desk
    second = make.call(route=route)

    def measure(query):
        db.session.expire_all()
        with count_queries() as counted:
            response = client.get(f"/cluster/queue?{query}")
        assert response.status_code == 200
        return counted.n, response.get_data(as_text=True)

    def seed(n):
        apps = bulk_applications(call, n // 2) + bulk_applications(second, n - n // 2)
        for i, a in enumerate(apps[::3]):
            db.session.add(Review(application_id=a.id, reviewer_id=colleague.id, recommendation="maybe",
                                  weighted_score=Decimal("1.50") + Decimal(i % 7) / 2,
                                  submitted_at=datetime.now(timezone.utc)))
            db.session.add(ReviewAssignment(application_id=a.id, reviewer_id=staff.id))
        db.session.commit()

    login(staff)
    queries = ("", "sort=score&dir=desc&assigned=1", f"call={call.id}&min_score=2&unscored=1&q=bulk&sort=company&page=2")
    seed(10)
    small = [measure(q)[0] for q in queries]
    seed(490)
    large = []
    for q in queries:
        n, html = measure(q)
        large.append(n)
    assert "of 500" in measure("")[1]
    assert small == large
    # The user and their memberships (every page), the cluster's calls, the counts per status, the page.
    assert large == [4, 4, 4], large


# ------------------------------------------------------------------ exports


def test_csv_has_the_views_rows_in_the_views_order_for_a_filter_combination(client, make, login, desk):
    route, call, staff, colleague = desk
    other_call = make.call(route=route, title="Second call")
    base = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    apps = []
    for i in range(40):
        apps += bulk_applications(call, 1, name=f"Match {(i * 7) % 40:02d}", submitted_at=base + timedelta(hours=i),
                                  track="devices" if i % 5 else "drugs", trl=7, desired_start=date(2027, 9, 1),
                                  months=6, desks=2, benches=1)
    bulk_applications(other_call, 3, name="Match elsewhere", track="devices")
    for i, a in enumerate(apps[::2]):
        review(a, staff, str(Decimal("1.00") + Decimal(i % 16) / 4))  # the reader's own reviews: means visible
    query = f"call={call.id}&track=devices&q=match&sort=score&dir=desc"
    login(staff)
    view_ids = all_view_ids(client, query)
    assert len(view_ids) == 32  # two pages; the export has them all, whatever page it was asked from

    response = client.get(f"/cluster/queue.csv?{query}&page=2")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    # The queue's own columns, then one per question of the call's form (issue 15).
    assert rows[0][:15] == ["Application id", "Startup", "Organisation number", "Country", "Call", "Status", "Track", "TRL",
                            "Desired start", "Months", "Desks", "Benches", "Mean score", "Reviews", "Submitted at (UTC)"]
    assert rows[0][15:] == ["What does your company do?", "Who is in the team?", "Describe your technology and its stage",
                            "What expertise do you want from the hub?", "What do you need in the lab?",
                            "How is the company funded today?", "What are your funding plans during the residency?",
                            "Pitch deck and other documents"]
    assert [int(r[0]) for r in rows[1:]] == view_ids
    by_id = {int(r[0]): r for r in rows[1:]}
    first = apps[1]
    line = by_id[first.id]
    assert line[1:15] == [first.startup.name, first.startup.org_number, "Norway", call.title, "Submitted, awaiting review",
                          "Medical devices", "7", "2027-09-01", "6", "2", "1", "", "0", "2026-03-01T10:00:00Z"]
    assert line[15:] == [""] * 8  # no answers given in this setup
    scored = by_id[apps[2].id]
    assert (scored[12], scored[13]) == ("1.25", "1")


def test_csv_quotes_and_defuses_formulas(client, make, login, desk):
    route, call, staff, colleague = desk
    nasty = make.application(call=call, startup=make.organisation("startup", name='=HYPERLINK("x"),"Bio" AS'),
                             status="submitted")
    plus = make.application(call=call, startup=make.organisation("startup", name="+47 Bio; Ærlig AS"), status="submitted")
    login(staff)
    rows = csv_rows(client.get("/cluster/queue.csv?sort=company"))
    names = {int(r[0]): r[1] for r in rows[1:]}
    assert names[nasty.id] == "'=HYPERLINK(\"x\"),\"Bio\" AS"
    assert names[plus.id] == "'+47 Bio; Ærlig AS"
    raw = client.get("/cluster/queue.csv").get_data().decode("utf-8-sig")
    assert '"\'=HYPERLINK(""x""),""Bio"" AS"' in raw  # quoted, quotes doubled
    assert [safe_text(v) for v in ("-1", "@x", "\tx", "plain", "")] == ["'-1", "'@x", "'\tx", "plain", ""]


def test_xlsx_opens_and_has_the_same_rows_as_the_csv(client, make, login, desk):
    from openpyxl import load_workbook

    route, call, staff, colleague = desk
    apps = bulk_applications(call, 5, desired_start=date(2027, 9, 1), months=6, desks=2, benches=0)
    review(apps[0], staff, "3.50")
    evil = make.application(call=call, startup=make.organisation("startup", name="=1+1 AS"), status="submitted")
    login(staff)
    query = "sort=company&dir=desc"
    response = client.get(f"/cluster/queue.xlsx?{query}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert table[0][0] == "Application id" and len(table[0]) == 15 + 8  # and a column per question
    assert [r[0] for r in table[1:]] == all_view_ids(client, query) == [int(r[0]) for r in csv_rows(client.get(f"/cluster/queue.csv?{query}"))[1:]]
    by_id = {r[0]: r for r in table[1:]}
    # A workbook keeps the exact text in a string cell, which no spreadsheet runs as a formula.
    assert by_id[evil.id][1] == "=1+1 AS" and cells[evil.id][1].data_type == "s"
    first = by_id[apps[0].id]
    assert first[7] == 4 and first[8] == datetime(2027, 9, 1) and first[9:12] == [6, 2, 0]
    assert first[12] == pytest.approx(3.5) and first[13] == 1 and first[14] == "2026-03-01T09:00:00Z"


# ------------------------------------------------------------------ permissions


def test_staff_of_another_cluster_see_none_of_this_clusters_applications(client, make, login, desk):
    route, call, staff, colleague = desk
    mine = make.application(call=call, startup=make.organisation("startup", name="Ours Bio AS"), status="submitted")
    stranger = make.member("cluster")
    theirs = make.application(call=make.call(route=make.route(cluster=stranger.organisations("cluster")[0])),
                              startup=make.organisation("startup", name="Theirs Bio AS"), status="submitted")
    login(stranger)
    html = client.get("/cluster/queue").get_data(as_text=True)
    assert "Ours Bio AS" not in html and "Theirs Bio AS" in html and call.title not in html
    assert ids_on_page(html) == [theirs.id]
    assert [int(r[0]) for r in csv_rows(client.get("/cluster/queue.csv"))[1:]] == [theirs.id]
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(client.get("/cluster/queue.xlsx").get_data())).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [theirs.id]
    assert mine.id not in ids_on_page(client.get("/cluster/queue?q=ours").get_data(as_text=True))


def test_a_filter_naming_another_clusters_call_is_404(client, make, login, desk):
    route, call, staff, colleague = desk
    login(make.member("cluster"))
    for path in ("/cluster/queue", "/cluster/queue.csv", "/cluster/queue.xlsx"):
        assert client.get(f"{path}?call={call.id}").status_code == 404, path
        assert client.get(f"{path}?call=999999").status_code == 404, path


def test_the_queue_is_refused_to_other_roles(client, make, login, desk):
    login(make.member("startup"))
    for path in ("/cluster/queue", "/cluster/queue.csv", "/cluster/queue.xlsx"):
        assert client.get(path).status_code == 403, path
    login(make.member("hub", country="SE"))
    assert client.get("/cluster/queue").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    for path in ("/cluster/queue", "/cluster/queue.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_dashboard_links_to_the_queue_and_to_each_calls_queue(client, make, login, desk):
    route, call, staff, colleague = desk
    login(staff)
    html = client.get("/cluster/").get_data(as_text=True)
    assert 'href="/cluster/queue"' in html and f'href="/cluster/queue?call={call.id}"' in html
    # On the queue the calls are chosen among the filters; narrowed to one, it names the call and links to the
    # call's page and back to every call.
    queue = client.get("/cluster/queue").get_data(as_text=True)
    assert f'<option value="{call.id}">{call.title}</option>' in queue
    narrowed = client.get(f"/cluster/queue?call={call.id}").get_data(as_text=True)
    assert f"Applications to {call.title}" in narrowed
    assert f'href="/cluster/calls/{call.id}"' in narrowed and 'href="/cluster/queue">All calls</a>' in narrowed


# ------------------------------------------------------------------ parsing


def test_filters_round_trip_through_the_query_string():
    args = MultiDict({"call": "7", "status": "under_review", "track": "devices", "trl": "5", "min_score": "2,5",
                      "max_score": "4", "assigned": "1", "unscored": "on", "q": " Bio ", "sort": "score", "dir": "desc",
                      "page": "3"})
    filters, errors = QueueFilters.from_args(args)
    assert errors == {}
    assert (filters.call_id, filters.status, filters.track, filters.trl) == (7, "under_review", "devices", 5)
    assert (filters.min_score, filters.max_score, filters.search) == (Decimal("2.5"), Decimal("4"), "Bio")
    assert filters.assigned_to_me and filters.not_scored_by_me and (filters.sort, filters.direction, filters.page) == ("score", "desc", 3)
    again, _ = QueueFilters.from_args(MultiDict({k: str(v) for k, v in filters.args().items()}))
    assert again == filters
    assert QueueFilters().args() == {}
    bad, errors = QueueFilters.from_args(MultiDict({"trl": "10", "min_score": "nan", "status": "draft", "track": "x",
                                                    "call": "abc", "sort": "evil", "page": "0"}))
    assert bad == QueueFilters() and set(errors) == {"trl", "min_score", "status", "track", "call", "page"}


def test_queue_hides_others_scores_until_the_reader_has_submitted_a_review(client, make, login):
    """The same rule as the application page: no anchoring on a colleague's numbers, not even through the score filter."""
    from residency.domain.review import services as reviews
    from residency.core import workflow
    from residency.core.extensions import db

    call = make.call()
    app_ = make.application(call=call, status="submitted")
    lead = make.user(org=call.route.cluster)
    workflow.perform(app_, "start_review", lead)
    db.session.commit()
    colleague, me = make.user(org=call.route.cluster), make.user(org=call.route.cluster)
    for reviewer in (colleague, me):
        reviews.assign(application=app_, actor=lead, reviewer_ids=[reviewer.id])
    scores = {c.id: 5 for c in call.criteria}
    reviews.save_review(application=app_, actor=colleague, scores=scores, recommendation="nominate", comment="Great", submit=True)
    login(me)
    page = client.get("/cluster/queue?min_score=4").get_data(as_text=True)
    assert app_.startup.name not in page  # the colleague's 5.00 must not leak through the filter
    reviews.save_review(application=app_, actor=me, scores={c.id: 3 for c in call.criteria}, recommendation="maybe",
                        comment="Fine", submit=True)
    page = client.get("/cluster/queue?min_score=3.5").get_data(as_text=True)
    assert app_.startup.name in page and "4.00" in page

