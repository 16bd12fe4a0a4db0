"""The insight page: figures in the tables, scoping by organisation, and a fixed number of queries."""
from __future__ import annotations

import re

from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.domain.insight import summaries

from tests.scenarios import expected_funnel, programme


def cell(html, table_id, row_attr, stage):
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    row = re.search(rf'<tr {row_attr}>.*?</tr>', table, re.S).group(0)
    return int(re.search(rf'data-stage="{stage}">(\d+)<', row).group(1))


def test_admin_sees_every_call_with_the_funnel_counted_from_the_records(client, make, login):
    call, *_ = programme(make, n_apps=5)
    other, *_ = programme(make, n_apps=3)
    login(make.admin())
    response = client.get("/insight/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for c in (call, other):
        expected = expected_funnel([c.id])
        for stage, n in expected.items():
            assert cell(html, "funnel-calls", f'data-call="{c.id}"', stage) == n
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html and 'aria-labelledby="chart-funnel-title' in html
    assert 'id="funding-totals"' in html and 'id="impact-counts"' in html


def test_cluster_sees_only_its_calls_and_another_call_is_404(client, make, login):
    call, route, hub, staff, hub_admin = programme(make, n_apps=3)
    other, *_ = programme(make, n_apps=2)
    login(staff)
    html = client.get("/insight/").get_data(as_text=True)
    assert f'data-call="{call.id}"' in html and f'data-call="{other.id}"' not in html
    assert other.title not in html
    assert 'id="funding-totals"' not in html  # a cluster has no schemes
    assert client.get(f"/insight/?call={other.id}").status_code == 404
    assert client.get(f"/insight/?call={call.id}").status_code == 200


def test_hub_sees_only_its_occupancy(client, make, login):
    call, route, hub, staff, hub_admin = programme(make, n_apps=5)
    other_call, other_route, other_hub, *_ = programme(make, n_apps=2)
    login(hub_admin)
    html = client.get("/insight/?month=2030-01").get_data(as_text=True)
    assert f'id="occupancy-{hub.id}"' in html and f'id="occupancy-{other_hub.id}"' not in html
    assert client.get(f"/insight/?call={other_call.id}").status_code == 404


def test_funder_sees_only_its_schemes(client, make, login):
    from tests.domain.insight.test_insight import _funded

    scheme, officer, _ = _funded(make, "NOK", "1000.00", "500.00", ["150.00"])
    _funded(make, "SEK", "2000.00", None, [])
    login(officer)
    html = client.get("/insight/").get_data(as_text=True)
    assert 'data-currency="NOK"' in html and 'data-currency="SEK"' not in html
    assert "funnel-calls" not in html


def test_applicant_without_staff_role_is_refused(client, make, login):
    login(make.member("startup"))
    assert client.get("/insight/").status_code == 403
    assert client.get("/insight/", follow_redirects=False).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    assert client.get("/insight/").status_code == 302


def test_queries_do_not_grow_with_rows(client, make, login, count_queries):
    from tests.domain.insight.test_insight import _funded

    admin = make.admin()
    programme(make, n_apps=2)
    _funded(make, "NOK", "1000.00", "500.00", ["150.00"])
    login(admin)
    client.get("/insight/?month=2030-01")  # warm up
    with count_queries() as small:
        assert client.get("/insight/?month=2030-01").status_code == 200
    programme(make, n_apps=6)
    _funded(make, "NOK", "3000.00", "1500.00", ["450.00", "10.00"])
    _funded(make, "SEK", "3000.00", "1500.00", ["450.00"])
    assert db.session.query(Application).count() > 10
    with count_queries() as large:
        assert client.get("/insight/?month=2030-01").status_code == 200
    assert small.n == large.n == 10, (small.statements, large.statements)
    # Once the scheduler has built the summary tables the funnel and the decision times are read
    # from them and the rest is counted once per generation: the first view of a generation counts,
    # later views only ask which generation it is and draw the filters' choices (sign-in, generation,
    # the choices' two lists).
    summaries.refresh()
    with count_queries() as first:
        assert client.get("/insight/?month=2030-01").status_code == 200
    with count_queries() as again:
        page = client.get("/insight/?month=2030-01")
    assert first.n == 10 and again.n == 4, (first.statements, again.statements)
    assert "Counted at" in page.get_data(as_text=True) and "every 5 minutes" in page.get_data(as_text=True)


def test_the_figures_are_those_of_the_last_rebuild_and_each_language_is_drawn_for_itself(client, make, login):
    """The page drawn from one summary generation is kept until the next: a grant made meanwhile shows
    after the scheduler's rebuild, not before; another language is drawn for itself, never served
    from another's."""
    from tests.domain.insight.test_insight import _funded

    admin = make.admin()
    programme(make, n_apps=2)
    _funded(make, "NOK", "1000.00", "500.00", ["150.00"])
    summaries.refresh()
    login(admin)
    before = client.get("/insight/").get_data(as_text=True)
    assert "NOK\u00a01,000.00" in before and "NOK\u00a04,000.00" not in before
    _funded(make, "NOK", "3000.00", "1500.00", ["450.00"])
    meanwhile = client.get("/insight/").get_data(as_text=True)
    assert "NOK\u00a01,000.00" in meanwhile and "NOK\u00a04,000.00" not in meanwhile
    summaries.refresh()
    after = client.get("/insight/").get_data(as_text=True)
    assert "NOK\u00a04,000.00" in after and "NOK\u00a01,000.00" not in after
    norwegian = client.get("/insight/", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    assert '<html lang="nb"' in norwegian and "NOK\u00a04,000.00" not in norwegian
    assert "4\u00a0000,00\u00a0NOK" in norwegian, norwegian[norwegian.find("NOK") - 40:norwegian.find("NOK") + 10]



def test_nav_links_to_insight_for_staff_only(client, make, login):
    login(make.admin())
    assert 'href="/insight/"' in client.get("/insight/").get_data(as_text=True)
    login(make.member("startup"))
    assert 'href="/insight/"' not in client.get("/").get_data(as_text=True)


def test_the_funnel_per_call_comes_a_page_of_25_calls_at_a_time(client, make, login, count_queries):
    """A programme's calls grow without end: the per-call table shows 25 and a pager, the totals count all."""
    route = make.route()
    calls = [make.call(route=route, title=f"Funnel call {i:02d}") for i in range(30)]
    for c in calls:  # a call is in the funnel once it has an application
        make.application(call=c, status="submitted")
    login(make.admin())

    def read(path):
        db.session.expire_all()
        with count_queries() as counted:
            response = client.get(path)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        table = re.search(r'<table[^>]*id="funnel-calls".*?</table>', html, re.S).group(0)
        return counted.n, html, set(int(n) for n in re.findall(r'data-call="(\d+)"', table))

    queries, first, shown = read("/insight/")
    assert len(shown) == 25 and "30 calls" in first and "calls_page=2" in first
    second_queries, _second, rest = read("/insight/?calls_page=2")
    assert len(rest) == 5 and not rest & shown and rest | shown == {c.id for c in calls}
    assert second_queries == queries
    assert read("/insight/?calls_page=99")[2] == rest
