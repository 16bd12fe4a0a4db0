"""The page a notification is about: the one its e-mail links to.

Each e-mail's text template ends with the link to its record (``{{ base_url }}/startup/
placements/{{ placement_id }}``); the notifications page opens the same record, read
from that template, so a new e-mail needs no second list here.
"""
from __future__ import annotations

import re
from functools import lru_cache

from flask import current_app, url_for
from jinja2 import TemplateNotFound

# The record pages e-mails link to: path prefix -> endpoint (its one argument is named like the context key).
RECORD_PAGES = {
    "/startup/applications/": "applicant.application",
    "/startup/placements/": "applicant.placement",
    "/startup/funding/": "applicant.funding_application",
    "/startup/surveys/": "applicant.survey",
    "/startup/organisations/": "applicant.organisation",
    "/funder/funding/": "funder.funding_application",
    "/hub/placements/": "hub.placement",
    "/cluster/calls/": "cluster.call",
}
_LINK = re.compile(r"\{\{ base_url \}\}(/[a-z]+/[a-z]+/)\{\{ (\w+) \}\}")


@lru_cache(maxsize=None)
def _record_page(template: str) -> tuple[str, str] | None:
    """(endpoint, context key) of the record the e-mail ``template`` links to, or None."""
    try:
        source, _name, _uptodate = current_app.jinja_loader.get_source(current_app.jinja_env, f"emails/{template}.txt")
    except TemplateNotFound:
        return None
    found = _LINK.search(source)
    if found is None or found.group(1) not in RECORD_PAGES:
        return None
    return RECORD_PAGES[found.group(1)], found.group(2)


def record_link(template: str, context: dict | None) -> str | None:
    """The address of the record a notification is about, or None when it is about none."""
    page = _record_page(template)
    if page is None or not context or context.get(page[1]) in (None, ""):
        return None
    endpoint, key = page
    return url_for(endpoint, **{key: context[key]})
