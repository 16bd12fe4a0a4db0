"""Words shown for stored codes (tracks, countries), shared by the actor areas."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l

from residency.core.i18n import COUNTRY_NAMES
from residency.domain.accounts.models import COUNTRIES, TRACKS

TRACK_LABELS = {
    "drugs": _l("Drugs"),
    "devices": _l("Medical devices"),
    "diagnostics": _l("Diagnostics"),
    "digital_health": _l("Digital health"),
    "bioindustrials": _l("Bioindustrials"),
    "other": _l("Other"),
}
assert set(TRACK_LABELS) == set(TRACKS)


def track_label(code: str | None) -> str:
    """The track's name in the reader's language ('' when unset)."""
    return str(TRACK_LABELS.get(code, code or ""))


def country_choices() -> list[tuple[str, object]]:
    return [(code, COUNTRY_NAMES[code]) for code in COUNTRIES]


def track_choices() -> list[tuple[str, object]]:
    return [(code, TRACK_LABELS[code]) for code in TRACKS]


def register_filters(state) -> None:
    """Blueprint ``record_once`` hook: the template filters the actor areas share."""
    state.app.jinja_env.filters.setdefault("track_label", track_label)


DELIVERY_LABELS = {
    "queued": _l("Queued"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "held": _l("Held for the daily digest"),
    "digested": _l("Sent in a daily digest"),
    "muted": _l("Not e-mailed (reminders off)"),
    "cancelled": _l("Cancelled"),
}
