"""Languages, and dates shown in the call's or hub's own time zone."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.dates import get_timezone_name
from babel.numbers import format_currency
from flask import current_app, has_request_context, request, session
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from residency.core.extensions import babel

LANGUAGE_NAMES = {"en": "English", "nb": "Norsk bokmål", "sv": "Svenska"}

COUNTRY_NAMES = {
    "NO": _l("Norway"),
    "SE": _l("Sweden"),
    "DK": _l("Denmark"),
    "FI": _l("Finland"),
    "IS": _l("Iceland"),
}


def country_name(code: str | None) -> str:
    return str(COUNTRY_NAMES.get(code, code or ""))


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # E-mails render under force_locale; anything else outside a request speaks the default.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    # Browsers often send "no" or "nn" for Norwegian; serve bokmål to both.
    best = request.accept_languages.best_match(languages + ["no", "nn"])
    if best in ("no", "nn"):
        return "nb"
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["in_zone"] = format_in_zone
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["iso_in_zone"] = lambda value, zone: format_in_zone(datetime.fromisoformat(value), zone) if value else ""
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["time_left"] = time_left
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["get_locale"] = get_locale


def is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return "/" in name or name == "UTC"


def timezone_choices() -> list[str]:
    return sorted(z for z in available_timezones() if z.startswith(("Europe/", "Atlantic/Reykjavik")) or z == "UTC")


def format_in_zone(value: datetime | None, zone: str) -> str:
    """'12 March 2027, 12:00 CET (Europe/Oslo)': the moment in the zone, with the zone named."""
    if value is None:
        return ""
    tz = ZoneInfo(zone)
    local = value.astimezone(tz)
    locale = str(get_locale() or "en")
    # The abbreviation (CET/CEST) and the IANA name say which clock the reader needs.
    text = _babel_datetime(local, format="d MMMM y, HH:mm", tzinfo=tz, locale=locale)
    return f"{text} {local.tzname()} ({zone})"


def format_day(value: date | None) -> str:
    if value is None:
        return ""
    return _babel_date(value, format="d MMMM y", locale=str(get_locale() or "en"))


def time_left(deadline: datetime, now: datetime) -> str:
    seconds = (deadline - now).total_seconds()
    if seconds <= 0:
        return _("closed")
    days = int(seconds // 86400)
    if days >= 1:
        return ngettext("%(num)d day left", "%(num)d days left", days)
    hours = int(seconds // 3600)
    if hours >= 1:
        return ngettext("%(num)d hour left", "%(num)d hours left", hours)
    return ngettext("%(num)d minute left", "%(num)d minutes left", max(1, int(seconds // 60)))


__all__ = ["format_in_zone", "format_day", "time_left", "is_timezone", "timezone_choices", "get_timezone_name"]


def format_money(value, currency: str) -> str:
    """An exact amount in its currency, formatted for the reader's language (150 000,00 kr / NOK 150,000.00)."""
    if value is None or value == "":
        return ""
    return format_currency(Decimal(str(value)), currency, locale=str(get_locale() or "en"))
