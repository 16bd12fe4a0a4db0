"""Languages, and dates shown in the call's or hub's own time zone."""
from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_skeleton
from babel.dates import format_time as _babel_time
from babel.dates import format_timedelta as _babel_timedelta
from babel.dates import get_timezone_name
from babel.numbers import format_currency
from babel.numbers import format_decimal as _babel_decimal
from babel.units import format_unit
from flask import current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import LazyString, get_locale, get_translations
from flask_login import current_user

from residency.core.extensions import babel
from residency.core.languages import LANGUAGES

# Each language named in itself, as the switcher offers it.
LANGUAGE_NAMES = {"en": "English", "nb": "Norsk bokmål", "sv": "Svenska", "da": "Dansk", "fi": "Suomi", "is": "Íslenska"}
assert set(LANGUAGE_NAMES) == set(LANGUAGES)

# Browsers send other tags for some of the languages: "no" (Norwegian) and "nn" (Nynorsk) get bokmål.
ALIASES = {"no": "nb", "nn": "nb"}
# The English here is British (programme, organisation, 12 March 2027); Babel's plain "en" is American
# (March 12, 2027), so dates, numbers and amounts in English are formatted as en_GB writes them.
FORMAT_LOCALES = {"en": "en_GB"}


# ------------------------------------------------------------------ looking words up
# A page looks up a few hundred words, in its templates and in Python (labels, messages). Flask-Babel's
# own functions find the app context through three proxies and resolve the domain, the locale and
# its name again for every one of them; here the translations are kept on the app context with the
# locale object they are for, so each lookup is a context variable, two attribute reads and a
# dictionary lookup. ``force_locale`` (e-mails in their reader's language, the form preview) puts
# another locale object in force, whose translations are then looked up and kept instead.


def current_translations():
    """The translations of the locale in force (Flask-Babel's ``get_translations``, kept)."""
    ctx = _cv_app.get(None)
    if ctx is None:
        return get_translations()  # outside an app: the words as written
    kept_on = ctx.g.__dict__
    locale = _locale_in_force(kept_on)
    kept = kept_on.get("_residency_translations")
    if kept is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()
    kept_on["_residency_translations"] = (locale, translations)
    return translations


def _locale_in_force(kept_on: dict):
    """Flask-Babel's ``get_locale()`` read where Flask-Babel keeps it (``force_locale`` sets it there too)."""
    babel_ctx = kept_on.get("_flask_babel")
    locale = getattr(babel_ctx, "babel_locale", None) if babel_ctx is not None else None
    return locale if locale is not None else get_locale()  # chosen once per request by select_locale


def gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext``, through the kept translations: the same words, the same formatting."""
    text = current_translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num, **variables) -> str:
    """Flask-Babel's ``ngettext`` (``num`` is there to format as ``%(num)d``), through the kept translations."""
    variables.setdefault("num", num)
    return current_translations().ungettext(singular, plural, num) % variables


def pgettext(context: str, string: str, **variables) -> str:
    text = current_translations().upgettext(context, string)
    return text % variables if variables else text


def npgettext(context: str, singular: str, plural: str, num, **variables) -> str:
    variables.setdefault("num", num)
    return current_translations().unpgettext(context, singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """A word looked up when it is shown, in the reader's language (Flask-Babel's ``LazyString``)."""
    return LazyString(gettext, string, **variables)


_ = gettext
_l = lazy_gettext

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
    return browser_language(request.accept_languages, languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def browser_language(accepted, languages) -> str | None:
    """The first of the browser's languages (best first) that is offered, by its primary tag:
    "da-DK" is Danish, "en-US" English, "no" and "nn-NO" bokmål. ("en-US, da;q=0.5" is English:
    a region never makes a worse-liked language win.)"""
    for tag, quality in accepted:
        if quality <= 0:
            continue
        primary = tag.replace("_", "-").split("-")[0].lower()
        code = ALIASES.get(primary, primary)
        if code in languages:
            return code
    return None


def init_app(app) -> None:
    unknown = set(app.config["LANGUAGES"]) - set(LANGUAGES)
    if unknown:
        raise RuntimeError(f"LANGUAGES may only name languages of residency/core/languages.py, not {sorted(unknown)}")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    # Templates look their words up through the request's kept translations (Flask-Babel's own
    # callables resolve the domain, the context and the locale's name again for each of a page's
    # few hundred words); the same translations, the same newstyle formatting and escaping.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters["in_zone"] = format_in_zone
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["iso_in_zone"] = lambda value, zone: format_in_zone(datetime.fromisoformat(value), zone) if value else ""
    app.jinja_env.filters["day"] = format_day
    # E-mail contexts keep days as ISO text ("2030-03-01"): written as the reader's language writes them.
    app.jinja_env.filters["iso_day"] = lambda value: format_day(date.fromisoformat(value) if isinstance(value, str) else value) if value else ""
    app.jinja_env.filters["time_left"] = time_left
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["month"] = format_month
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.filters["file_size"] = format_file_size
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


def formatting_locale() -> Locale:
    """The Babel locale the reader's dates, numbers and amounts are written in."""
    ctx = _cv_app.get(None)
    locale = _locale_in_force(ctx.g.__dict__) if ctx is not None else None
    return _locale(str(locale or "en"))


# Pages format hundreds of moments each; parsing a locale or writing the same day or clock time
# again is the same work each time, so the results are kept per locale (a few thousand strings).
@lru_cache(maxsize=32)
def _locale(code: str) -> Locale:
    return Locale.parse(FORMAT_LOCALES.get(code, code))


@lru_cache(maxsize=4096)
def _long_day(locale: Locale, day: date) -> str:
    return _babel_date(day, format="long", locale=locale)


@lru_cache(maxsize=4096)
def _short_clock(locale: Locale, clock: time) -> str:
    return _babel_time(clock, format="short", locale=locale)


def format_in_zone(value: datetime | None, zone: str) -> str:
    """'12 March 2027, 12:00 CET (Europe/Oslo)': the moment in the zone, with the zone named.

    The day and the time are the locale's own long date and short time, joined as the locale
    joins them ('1. maaliskuuta 2027 12.00', '3. august 2026, 12:00')."""
    if value is None:
        return ""
    tz = ZoneInfo(zone)
    local = value.astimezone(tz)
    locale = formatting_locale()
    day = _long_day(locale, local.date())
    clock = _short_clock(locale, local.time().replace(second=0, microsecond=0))
    text = locale.datetime_formats["long"].format(clock, day)
    # The abbreviation (CET/CEST) and the IANA name say which clock the reader needs.
    return f"{text} {local.tzname()} ({zone})"


def format_day(value: date | None) -> str:
    """The locale's long date: '1 March 2027', '1. mars 2027', '1. maaliskuuta 2027'."""
    if value is None:
        return ""
    return _long_day(formatting_locale(), value)


def format_clock(value: time) -> str:
    """A time of day as the locale writes it, to the minute: '14:30', '14.30'."""
    return _short_clock(formatting_locale(), value.replace(second=0, microsecond=0))


def format_month(value: date, style: str = "long") -> str:
    """A month and its year as the locale writes them (its own skeletons): long 'March 2027', 'maaliskuu 2027',
    'marts 2027'; abbreviated 'Mar 2027', 'maalis 2027'; axis (a chart's narrow label) 'Mar 27', 'maalis 27'."""
    return _month_text(formatting_locale(), value, style)


@lru_cache(maxsize=1024)
def _month_text(locale: Locale, value: date, style: str) -> str:
    if style == "axis":
        return _babel_date(value, format="LLL yy", locale=locale)
    return format_skeleton("yMMM" if style == "abbreviated" else "yMMMM", value, locale=locale)


def format_number(value, format: str | None = None) -> str:
    """A number as the reader's locale writes it (1,500.5 / 1 500,5)."""
    try:
        return _number_text(formatting_locale(), type(value), value, format)
    except TypeError:  # not hashable: written, not kept
        return _babel_decimal(value, format=format, locale=formatting_locale())


# Insight and the lists write the same counts and amounts again and again (a page of insight writes
# some 750 numbers); the type is part of the key, so 1, 1.0 and Decimal("1") are each written as Babel writes them.
@lru_cache(maxsize=8192)
def _number_text(locale: Locale, _kind: type, value, format: str | None) -> str:
    return _babel_decimal(value, format=format, locale=locale)


def format_file_size(size_bytes: int) -> str:
    """A file's size as the reader's language writes it, in its own unit names: '820 byte', '12 kB',
    '1.5 MB', '1,5 Mt' (the binary multiples, as the pages give attached files' sizes)."""
    locale = formatting_locale()
    if size_bytes < 1024:
        return format_unit(size_bytes, "digital-byte", length="short", locale=locale)
    if size_bytes < 1024 * 1024:
        return format_unit(round(size_bytes / 1024), "digital-kilobyte", length="short", locale=locale)
    return format_unit(size_bytes / (1024 * 1024), "digital-megabyte", length="short", format="#,##0.0", locale=locale)


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


def ago(moment: datetime, now: datetime | None = None) -> str:
    """How long ago ``moment`` was, in the reader's language ('3 minutes ago', 'for 3 minutter siden')."""
    now = now or datetime.now(moment.tzinfo)
    return _babel_timedelta(moment - now, add_direction=True, threshold=1, locale=formatting_locale())


__all__ = ["format_in_zone", "ago", "format_clock", "format_day", "format_file_size", "format_month", "format_number", "format_money", "time_left", "is_timezone",
           "timezone_choices", "get_timezone_name", "LANGUAGES", "LANGUAGE_NAMES"]


def language_name(code: str) -> str:
    """A language's name in the reader's language ("Norwegian Bokmål", "norsk bokmål", "englanti")."""
    return Locale.parse(code).get_display_name(formatting_locale()) or code


def format_money(value, currency: str) -> str:
    """An exact amount in its currency as the reader's language writes amounts: 'NOK 150,000.00',
    '150 000,00 NOK', '150.000,00 DKK', '150.000 ISK', '40 000,00 €', '€40,000.00'.

    Crowns always carry their ISO code: across the five countries "kr" is four currencies (and
    Swedish Babel writes NOK as "Nkr", Danish DKK as "kr."), so every page, e-mail, chart and export
    names them the same way. The euro keeps the locale's own sign, which names one currency only.
    Babel does not apply CLDR's currency spacing, so a code that touches a digit gets its no-break space."""
    if value is None or value == "":
        return ""
    return _money_text(formatting_locale(), str(value), currency)


@lru_cache(maxsize=8192)
def _money_text(locale: Locale, value: str, currency: str) -> str:
    pattern = locale.currency_formats["standard"].pattern
    if currency in CROWNS:
        pattern = pattern.replace("¤", "¤¤")
    text = format_currency(Decimal(str(value)), currency, format=pattern, locale=locale)
    return _CODE_TOUCHES_DIGIT.sub("\u00a0", text)


CROWNS = ("NOK", "SEK", "DKK", "ISK")
# CLDR currencySpacing: a letter of the code next to a digit (either side) is set apart by a no-break space.
_CODE_TOUCHES_DIGIT = re.compile(r"(?<=[A-Z])(?=[-\u2212]?\d)|(?<=\d)(?=[A-Z])")
