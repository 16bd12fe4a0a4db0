"""Issue 14: an administrator changes a route and closes it to new calls (and reopens it)."""
from sqlalchemy import select

from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.domain.programme.models import Call, Route


def test_the_admin_changes_a_routes_funders_and_cluster_while_it_has_no_calls(make, login):
    route = make.route()
    new_funder, new_cluster = make.organisation("funder", name="Vinnova"), make.organisation("cluster", name="MVA")
    client = login(make.admin())
    assert f"/admin/routes/{route.id}/edit" in client.get("/admin/routes").get_data(as_text=True)
    page = client.get(f"/admin/routes/{route.id}/edit").get_data(as_text=True)
    assert "Save the route" in page and "Close the route to new calls" in page
    r = client.post(f"/admin/routes/{route.id}/edit", data={
        "home_country": "NO", "host_hub_id": route.host_hub_id, "cluster_id": new_cluster.id, "funder_ids": [new_funder.id]})
    assert r.status_code == 302
    route = db.session.get(Route, route.id)
    assert route.cluster_id == new_cluster.id and [f.name for f in route.funders] == ["Vinnova"]


def test_a_route_with_calls_keeps_its_country_hub_and_cluster_but_its_funders_may_change(make, login):
    call = make.call()
    route = call.route
    other_cluster, funder = make.organisation("cluster"), make.organisation("funder", name="Business Finland")
    client = login(make.admin())
    r = client.post(f"/admin/routes/{route.id}/edit", data={
        "home_country": "NO", "host_hub_id": route.host_hub_id, "cluster_id": other_cluster.id, "funder_ids": [funder.id]})
    assert r.status_code == 422
    assert 'id="cluster_id-error"' in r.get_data(as_text=True)
    assert db.session.get(Route, route.id).cluster_id != other_cluster.id
    r = client.post(f"/admin/routes/{route.id}/edit", data={
        "home_country": "NO", "host_hub_id": route.host_hub_id, "cluster_id": route.cluster_id, "funder_ids": [funder.id]})
    assert r.status_code == 302 and [f.name for f in db.session.get(Route, route.id).funders] == ["Business Finland"]


def test_a_closed_route_takes_no_new_calls_until_reopened(make, login):
    route = make.route()
    client = login(make.admin())
    r = client.post(f"/admin/routes/{route.id}/close", data={"close-reason": ""})
    assert r.status_code == 422 and 'id="close-reason-error"' in r.get_data(as_text=True)
    assert db.session.get(Route, route.id).status == "open"
    r = client.post(f"/admin/routes/{route.id}/close", data={"close-reason": "The agreement ended"})
    assert r.status_code == 302 and db.session.get(Route, route.id).status == "closed"
    change = db.session.scalar(select(StatusChange).where(StatusChange.workflow == "route"))
    assert (change.action, change.reason) == ("close", "The agreement ended")
    listing = client.get("/admin/routes").get_data(as_text=True)
    assert "Closed to new calls" in listing and f"/admin/calls/new?route_id={route.id}" not in listing
    assert f'value="{route.id}"' not in client.get("/admin/calls/new").get_data(as_text=True)
    r = client.post("/admin/calls/new", data={"route_id": route.id, "title": "Late call"})
    assert r.status_code == 422 and db.session.scalar(select(Call.id)) is None
    assert client.post(f"/admin/routes/{route.id}/reopen").status_code == 302
    assert db.session.get(Route, route.id).status == "open"


def test_only_administrators_change_or_close_routes(make, login):
    route = make.route()
    client = login(make.user(org=route.cluster))
    assert client.get(f"/admin/routes/{route.id}/edit").status_code == 403
    assert client.post(f"/admin/routes/{route.id}/close", data={"close-reason": "x"}).status_code == 403
    assert db.session.get(Route, route.id).status == "open"


def test_the_programme_service_refuses_a_call_on_a_closed_route(make, app):
    import pytest

    from residency.core.errors import Invalid
    from residency.domain.programme import services

    route = make.route()
    admin = make.admin()
    services.close_route(admin, route.id, reason="Agreement ended")
    with app.test_request_context(), pytest.raises(Invalid) as refused:
        services.create_call(admin, route_id=route.id, title="Late", opens_at=None, closes_at=None,
                             nomination_deadline=None, decision_deadline=None, seats=None, residency_starts_on=None,
                             residency_ends_on=None, criteria=[])
    assert "closed to new calls" in str(refused.value.field_errors["route_id"][0])
