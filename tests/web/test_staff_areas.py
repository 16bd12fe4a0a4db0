"""The cluster, hub and funder areas: each sees its own records only."""
from datetime import date

from sqlalchemy import func, select

from residency.core.extensions import db
from residency.domain.programme.models import HubCapacity


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------- cluster


def test_cluster_dashboard_counts_applications_per_status_without_drafts(client, make, login):
    route = make.route()
    call = make.call(route=route, title="Oslo to Gothenburg")
    for status in ("submitted", "submitted", "draft"):
        make.application(call=call, status=status)
    other = make.call(title="Someone else's call")  # another cluster's route
    make.application(call=other, status="submitted")
    staff = make.user(org=route.cluster)
    login(staff)
    html = client.get("/cluster/").get_data(as_text=True)
    assert "Oslo to Gothenburg" in html and "Someone else&#39;s call" not in html and "Someone else's call" not in html
    assert "Submitted, awaiting review" in html  # staff label as a column heading
    row = html[html.index("Oslo to Gothenburg"):]
    row = row[:row.index("</tr>")]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    # route, closes, seats, then one column per status (submitted first), then the total
    assert cells[3] == "2" and cells[-1] == "2"


def test_cluster_dashboard_uses_two_queries_for_its_calls(client, make, login, count_queries):
    route = make.route()
    staff = make.user(org=route.cluster)
    make.application(call=make.call(route=route), status="submitted")
    login(staff)

    def measure():
        db.session.expire_all()
        with count_queries() as counted:
            assert client.get("/cluster/").status_code == 200
        return counted.n

    one = measure()
    for _ in range(5):
        make.application(call=make.call(route=route), status="submitted")
    assert measure() == one == 4


def test_cluster_call_lists_submitted_applications_with_startup_details(client, make, login):
    route = make.route()
    call = make.call(route=route)
    startup = make.organisation("startup", name="Visible Bio AS", track="digital_health", trl=6)
    make.application(call=call, startup=startup, status="submitted")
    make.application(call=call, startup=make.organisation("startup", name="Still Drafting AS"), status="draft")
    login(make.user(org=route.cluster))
    r = client.get(f"/cluster/calls/{call.id}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Visible Bio AS" in html and "Digital health" in html and "<td>6</td>" in html
    assert "Submitted, awaiting review" in html
    assert "Still Drafting AS" not in html


def test_staff_of_another_cluster_get_404_on_the_call(client, make, login):
    call = make.call()
    make.application(call=call, status="submitted")
    other_staff = make.member("cluster")
    login(other_staff)
    assert client.get(f"/cluster/calls/{call.id}").status_code == 404
    assert client.get("/cluster/calls/999999").status_code == 404


def test_cluster_area_is_refused_to_other_roles(client, make, login):
    call = make.call()
    login(make.member("startup"))
    assert client.get("/cluster/").status_code == 403
    assert client.get(f"/cluster/calls/{call.id}").status_code == 403


# ---------------------------------------------------------------- hub


def test_hub_dashboard_lists_capacity_and_hosted_calls(client, make, login):
    route = make.route()
    hub = route.host_hub
    make.capacity(hub, date(2030, 1, 1), date(2030, 6, 30), desks=7, benches=3)
    make.call(route=route, title="Hosted call")
    make.call(title="Elsewhere call")
    login(make.user(org=hub))
    html = client.get("/hub/").get_data(as_text=True)
    assert "1 January 2030" in html and "30 June 2030" in html and "<td>7</td>" in html
    assert "Hosted call" in html and "Elsewhere call" not in html
    assert f"/hub/{hub.id}/capacity" in html


def test_hub_admin_adds_a_capacity_period(client, make, login):
    hub = make.organisation("hub", country="SE")
    login(make.user(org=hub))
    r = client.post(f"/hub/{hub.id}/capacity", data={"starts_on": "2030-01-01", "ends_on": "2030-12-31",
                                                      "desks": "5", "benches": "0"})
    assert r.status_code == 302
    period = db.session.scalar(select(HubCapacity))
    assert (period.hub_id, period.starts_on, period.ends_on, period.desks, period.benches) == (
        hub.id, date(2030, 1, 1), date(2030, 12, 31), 5, 0)
    assert "31 December 2030" in client.get(f"/hub/{hub.id}/capacity").get_data(as_text=True)


def test_overlapping_capacity_is_refused_with_the_overlapping_days(client, make, login):
    hub = make.organisation("hub", country="SE")
    make.capacity(hub, date(2030, 1, 1), date(2030, 6, 30))
    login(make.user(org=hub))
    r = client.post(f"/hub/{hub.id}/capacity", data={"starts_on": "2030-06-01", "ends_on": "2030-09-30",
                                                      "desks": "5", "benches": "1"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "overlaps the existing period 1 January 2030 – 30 June 2030" in html
    assert "on the days 1 June 2030 – 30 June 2030" in html
    assert 'value="2030-09-30"' in html  # what was typed is kept
    assert count(HubCapacity) == 1
    # Touching on one shared day is an overlap too (both ends are included) ...
    r = client.post(f"/hub/{hub.id}/capacity", data={"starts_on": "2030-06-30", "ends_on": "2030-07-31",
                                                      "desks": "5", "benches": "1"})
    assert r.status_code == 422 and count(HubCapacity) == 1
    # ... the next day is not.
    r = client.post(f"/hub/{hub.id}/capacity", data={"starts_on": "2030-07-01", "ends_on": "2030-07-31",
                                                      "desks": "5", "benches": "1"})
    assert r.status_code == 302 and count(HubCapacity) == 2


def test_reversed_dates_and_negative_numbers_are_explained(client, make, login):
    hub = make.organisation("hub", country="SE")
    login(make.user(org=hub))
    r = client.post(f"/hub/{hub.id}/capacity", data={"starts_on": "2030-06-01", "ends_on": "2030-05-01",
                                                      "desks": "-1", "benches": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "The last day cannot be before the first day." in html
    assert "Enter a whole number of 0 or more." in html
    assert "Enter the number of lab benches" in html
    assert count(HubCapacity) == 0


def test_hub_admin_deletes_a_period(client, make, login):
    hub = make.organisation("hub", country="SE")
    period = make.capacity(hub, date(2030, 1, 1), date(2030, 6, 30))
    login(make.user(org=hub))
    r = client.post(f"/hub/{hub.id}/capacity/{period.id}/delete", data={"confirmed": "yes"})
    assert r.status_code == 302 and count(HubCapacity) == 0


def test_admin_of_another_hub_gets_404(client, make, login):
    hub = make.organisation("hub", country="SE")
    period = make.capacity(hub, date(2030, 1, 1), date(2030, 6, 30))
    other = make.member("hub", country="SE")
    login(other)
    assert client.get(f"/hub/{hub.id}/capacity").status_code == 404
    r = client.post(f"/hub/{hub.id}/capacity", data={"starts_on": "2031-01-01", "ends_on": "2031-02-01",
                                                      "desks": "1", "benches": "1"})
    assert r.status_code == 404
    assert client.post(f"/hub/{hub.id}/capacity/{period.id}/delete").status_code == 404
    # Nor through their own hub's address.
    own = other.organisations("hub")[0]
    assert client.post(f"/hub/{own.id}/capacity/{period.id}/delete").status_code == 404
    assert count(HubCapacity) == 1


# ---------------------------------------------------------------- funder


def test_funder_dashboard_lists_eligible_routes_and_their_calls(client, make, login):
    funder = make.organisation("funder", name="Innovation Test")
    route = make.route(funders=[funder])
    make.call(route=route, title="Funded route call")
    make.call(title="Other funder's call")
    login(make.user(org=funder))
    html = client.get("/funder/").get_data(as_text=True)
    assert "Funded route call" in html and "Other funder" not in html
    assert f"/funder/routes/{route.id}" in html


def test_funder_route_detail(client, make, login):
    funder = make.organisation("funder", name="Innovation Test")
    route = make.route(funders=[funder])
    make.call(route=route, title="Funded route call")
    login(make.user(org=funder))
    html = client.get(f"/funder/routes/{route.id}").get_data(as_text=True)
    assert route.host_hub.name in html and route.cluster.name in html and "Innovation Test" in html
    assert "Funded route call" in html


def test_funder_not_on_the_route_gets_404(client, make, login):
    route = make.route()
    login(make.member("funder"))
    assert client.get(f"/funder/routes/{route.id}").status_code == 404
    assert client.get("/funder/routes/999999").status_code == 404


def test_staff_areas_are_refused_to_applicants(client, make, login):
    hub = make.organisation("hub", country="SE")
    login(make.member("startup"))
    assert client.get("/hub/").status_code == 403
    assert client.get(f"/hub/{hub.id}/capacity").status_code == 403
    assert client.get("/funder/").status_code == 403


def test_cluster_call_prefers_the_track_and_trl_stated_in_the_application(client, make, login):
    route = make.route()
    call = make.call(route=route)
    startup = make.organisation("startup", name="Grown Bio AS", track="drugs", trl=3)
    application = make.application(call=call, startup=startup, status="submitted")
    application.track, application.trl = "devices", 8
    db.session.commit()
    login(make.user(org=route.cluster))
    html = client.get(f"/cluster/calls/{call.id}").get_data(as_text=True)
    assert "Medical devices" in html and "<td>8</td>" in html
