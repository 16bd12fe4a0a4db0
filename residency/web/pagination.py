"""Links between the pages of a list (``core.pagination``): the same page with some query
arguments changed and every other one kept, so filters and the other lists' pages survive.

A list page draws a hundred or more such links (pagers, sort headers, filter links); routing
each through ``url_for`` cost about 10 µs a link, 2 ms of the review queue. The path is routed
once per request and endpoint, and the query string is encoded as Werkzeug's own URL builder
encodes it, so the links are the same as ``url_for``'s."""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

from flask import g, request, url_for
from werkzeug.datastructures import iter_multi_items

# Werkzeug's URL builder keeps these characters as they are in a query string (werkzeug.urls._urlencode).
_QUERY_SAFE = "!$'()*,/:;?@"
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"  # Flask's url_for quotes an anchor so


def _with_query(base: str, args, anchor: str | None) -> str:
    query = urlencode([(k, v) for k, v in iter_multi_items(args) if v is not None], safe=_QUERY_SAFE)
    url = f"{base}?{query}" if query else base
    return url if anchor is None else f"{url}#{quote(anchor, safe=_ANCHOR_SAFE)}"


def list_url(endpoint: str, args: Mapping, _anchor: str | None = None) -> str:
    """The URL of a list page with no values in its path (``url_for(endpoint, **args)``)."""
    bases = g.setdefault("list_url_bases", {})
    base = bases.get(endpoint)
    if base is None:
        base = bases[endpoint] = url_for(endpoint)
    return _with_query(base, args, _anchor)


def page_url(_anchor: str | None = None, **changes) -> str:
    """This page's URL with ``changes`` applied to its query string (None removes an argument)."""
    args = request.args.to_dict(flat=False)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args[name] = [value]
    # _anchor and the like are url_for's own words, never a query argument; nor are the route's own values.
    args = {k: v for k, v in args.items() if not k.startswith("_") and k not in (request.view_args or {})}
    base = g.get("page_url_base")
    if base is None:
        base = g.page_url_base = url_for(request.endpoint, **(request.view_args or {}))
    return _with_query(base, args, _anchor)


# A value no record has, so that it appears once in a built URL: the part before and after it stays.
_MARK = 987654321987654321


def record_url(endpoint: str, **value: int) -> str:
    """The URL of one record's page whose path holds one whole number (``url_for(endpoint, placement_id=7)``),
    for lists that link each row: the route is built once per request and endpoint."""
    ((name, key),) = value.items()
    parts = g.setdefault("record_url_parts", {})
    around = parts.get((endpoint, name))
    if around is None:
        built = url_for(endpoint, **{name: _MARK})
        before, mark, after = built.partition(str(_MARK))
        around = parts[(endpoint, name)] = (before, after) if mark and str(_MARK) not in after else None
    if around is None:  # the path does not show the number as written: route it as usual
        return url_for(endpoint, **value)
    return f"{around[0]}{int(key)}{around[1]}"
