"""Words shown for a programme's records (a route is named by its home country and host hub)."""
from __future__ import annotations

from residency.core.i18n import gettext as _

from residency.core.i18n import country_name


def route_label(home_country: str, hub_name: str) -> str:
    """“Norway → BioVentureHub” in the reader's language: how every page names a route."""
    return _("%(country)s → %(hub)s", country=country_name(home_country), hub=hub_name)
