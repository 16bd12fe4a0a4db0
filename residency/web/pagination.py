"""Links between the pages of a list (``core.pagination``): the same page with some query
arguments changed and every other one kept, so filters and the other lists' pages survive."""
from __future__ import annotations

from flask import request, url_for


def page_url(_anchor: str | None = None, **changes) -> str:
    """This page's URL with ``changes`` applied to its query string (None removes an argument)."""
    args = request.args.to_dict(flat=False)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args[name] = [value]
    # url_for reads _anchor, _external and the like as its own; the route's own values stay as they are.
    args = {k: v for k, v in args.items() if not k.startswith("_") and k not in (request.view_args or {})}
    return url_for(request.endpoint, **(request.view_args or {}), **args, _anchor=_anchor)
