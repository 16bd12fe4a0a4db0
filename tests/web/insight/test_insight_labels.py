"""Insight names routes and tracks with the words every other page uses, never a raw code."""
from __future__ import annotations

import re

from tests.scenarios import programme


def _table(html: str, table_id: str) -> str:
    return re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)


def test_routes_are_named_by_country_and_tracks_by_their_common_label(client, make, login):
    call, route, hub, staff, hub_admin = programme(make, n_apps=2, track="devices")
    login(make.admin())
    html = client.get("/insight/").get_data(as_text=True)
    routes = _table(html, "funnel-routes")
    assert f"Norway → {hub.name}" in routes
    assert f"NO → {hub.name}" not in routes
    tracks = _table(html, "funnel-tracks")
    assert "Medical devices" in tracks
    assert re.search(r">\s*Devices\s*<", html) is None  # neither the table nor the filter says it
    assert f"Norway → {hub.name}</option>" in html  # the route filter says it the same way


def test_route_label_in_norwegian(client, make, login):
    call, route, hub, staff, hub_admin = programme(make, n_apps=1, track="devices")
    login(make.admin())
    html = client.get("/insight/", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    assert f"Norge → {hub.name}" in _table(html, "funnel-routes")
