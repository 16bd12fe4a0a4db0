"""The links a list page builds without routing each one are the links url_for builds."""
from __future__ import annotations

import pytest
from flask import request, url_for

from residency.web.pagination import list_url, page_url, record_url

ARGS = [
    {},
    {"call": 6, "page": 2},
    {"q": "Nordic & Co / 50% ø", "status": "submitted", "sort": "company", "dir": "desc"},
    {"q": "a+b?c=d#e", "trl": 3, "assigned": 1},
    {"emptied": None, "page": 3},
]


@pytest.mark.parametrize("args", ARGS)
@pytest.mark.parametrize("anchor", [None, "waiting", "a b", ""])
def test_a_list_link_is_the_link_url_for_builds(app, args, anchor):
    with app.test_request_context("/"):
        expected = url_for("cluster.queue", **{k: v for k, v in args.items() if v is not None}, _anchor=anchor)
        assert list_url("cluster.queue", args, _anchor=anchor) == expected
        # The second link of the same list reuses the routed path and is still right.
        assert list_url("cluster.queue", args, _anchor=anchor) == expected


@pytest.mark.parametrize("query", ["", "?waiting_page=2&closed_page=3", "?q=%C3%B8+x&tag=a&tag=b", "?_anchor=x&page=2"])
def test_a_pager_link_keeps_the_other_arguments_as_url_for_would(app, query):
    with app.test_request_context(f"/hub/6/inbox{query}"):
        # What the request's own endpoint and view values give through url_for, with the page changed.
        endpoint, values = request.endpoint, request.view_args
        assert (endpoint, values) == ("hub.inbox", {"hub_id": 6})
        kept = {k: v for k, v in request.args.to_dict(flat=False).items() if not k.startswith("_")}
        kept["waiting_page"] = [5]
        assert page_url(_anchor="waiting", waiting_page=5) == url_for(endpoint, **values, **kept, _anchor="waiting")
        kept.pop("closed_page", None)
        assert page_url(closed_page=None, waiting_page=5) == url_for(endpoint, **values, **kept)


@pytest.mark.parametrize("endpoint,name", [("hub.placement", "placement_id"), ("cluster.application", "application_id"),
                                           ("cluster.call", "call_id")])
@pytest.mark.parametrize("key", [1, 42, 2_147_483_647])
def test_a_record_link_is_the_link_url_for_builds(app, endpoint, name, key):
    with app.test_request_context("/"):
        assert record_url(endpoint, **{name: key}) == url_for(endpoint, **{name: key})
        assert record_url(endpoint, **{name: 7}) == url_for(endpoint, **{name: 7})
