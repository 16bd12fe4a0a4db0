"""The bounds of every input, in one place.

Web forms (``web/formtools.BoundedForm``), the JSON API's schemas and the services
all read their limits from here, so a field refuses the same value whichever way
it arrives, and nothing reaches the database that its column cannot hold:

- dates from 1900-01-01 to 2200-12-31;
- whole numbers within PostgreSQL's ``integer`` (ids up to 2**31 - 1), and within
  what the domain allows (seats, desks, benches, survey figures);
- money within ``Numeric(14, 2)``, what every amount column (``core.db.Money``)
  holds: at most 999 999 999 999.99, exact on PostgreSQL (numeric) and on SQLite
  (integer minor units);
- texts within their ``String(n)`` column, and long texts (``Text`` columns) within
  ``REASON_MAX`` or ``LONG_TEXT_MAX``;
- no control characters: none in a one-line field (names, e-mail addresses,
  subjects and anything that can reach a mail header), only tab and line breaks
  in a multi-line text. PostgreSQL refuses NUL in text outright.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import has_request_context
from flask_babel import get_locale
from residency.core.i18n import lazy_gettext as _l

from residency.core.i18n import format_clock, format_day

# ------------------------------------------------------------------ dates

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)

# ------------------------------------------------------------------ whole numbers

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1  # PostgreSQL integer; every id column
MAX_ID = INT_MAX

SEATS_MAX = 1000  # seats in a call
HUB_SPACE_MAX = 10000  # desks or benches in one of a hub's capacity periods
PLACEMENT_SPACE_MAX = 50  # desks or benches a startup asks for or is offered
EMPLOYEES_MAX = 100_000  # a startup's employees, today or in an impact survey
SURVEY_COUNT_MAX = 1_000_000  # patents, products, partnerships in an impact survey
RANK_MAX = 1000  # a nomination's rank within a call
REVIEWERS_MAX = 10  # reviewers per application when assigning evenly
COMPANY_AGE_MAX = 100  # a scheme's maximum company age in years
PAGE_MAX = 100_000  # a page number in a list
CRITERIA_MAX = 20  # scoring criteria of a call
INSTALMENTS_MAX = 10  # instalments in a funding scheme's plan

# ------------------------------------------------------------------ money

CENT = Decimal("0.01")
MONEY_MAX = Decimal("999999999999.99")  # Numeric(14, 2)

# ------------------------------------------------------------------ texts

NAME_MAX = 200  # people, organisations, calls, schemes, criteria, project titles: String(200)
EMAIL_MAX = 254  # String(254)
CITY_MAX = 100
WEBSITE_MAX = 300
TIMEZONE_MAX = 64
TOKEN_NAME_MAX = 100
VAT_NUMBER_MAX = 20  # String(20): SE556011748201 is the longest, with room for the spaces people type
LINE_MAX = 200  # any other one-line field
JOIN_MESSAGE_MAX = 1000  # String(1000)
REASON_MAX = 4000  # reasons, messages, conditions, comments and rationales (Text)
PAYMENT_REFERENCE_MAX = 100  # the reference of a payment in the funder's books (String)
LONG_TEXT_MAX = 10000  # descriptions, reports, assessment notes (Text)

# Allowed in a multi-line text; nothing else below U+0020 (nor DEL, nor U+0080-U+009F).
MULTILINE_ALLOWED = frozenset("\t\r\n")


class OutOfBounds(ValueError):
    """A value of the right kind but outside its bounds; ``message`` says which."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------ messages


def control_message(multiline: bool):
    if multiline:
        return _l("Remove the invisible control characters from this text.")
    return _l("Use plain text on one line, without line breaks or control characters.")


# The day every date message shows as its example, written as it is typed and as the reader says it.
EXAMPLE_DAY = date(2027, 3, 1)
EXAMPLE_CLOCK = time(14, 30)


def date_message():
    """A date out of bounds: the bounds as they are typed, and how to read them."""
    return _l("Enter a date between %(first)s and %(last)s, written year-month-day: %(example)s is %(example_day)s.",
              first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat(), example=EXAMPLE_DAY.isoformat(),
              example_day=format_day(EXAMPLE_DAY))


def date_format_message():
    """What was typed is no date: the form a date takes, with an example the reader can read back."""
    return _l("Enter a date like %(example)s (year-month-day: %(example_day)s).", example=EXAMPLE_DAY.isoformat(),
              example_day=format_day(EXAMPLE_DAY))


def datetime_format_message():
    """What was typed is no date and time: the form they take, with an example the reader can read back."""
    return _l("Enter a date and time like %(example)s (year-month-day hours:minutes: %(example_day)s, %(example_time)s).",
              example=f"{EXAMPLE_DAY.isoformat()} {EXAMPLE_CLOCK:%H:%M}", example_day=format_day(EXAMPLE_DAY),
              example_time=format_clock(EXAMPLE_CLOCK))


def number_message(low: int, high: int):
    return _l("Enter a whole number from %(low)s to %(high)s.", low=_grouped(low), high=_grouped(high))


def money_message(maximum: Decimal = MONEY_MAX):
    return _l("Enter an amount of at most %(max)s.", max=_grouped(maximum))


def length_message(maximum: int, actual: int):
    return _l("This can be at most %(max)d characters; it has %(n)d.", max=maximum, n=actual)


def _grouped(number) -> str:
    """12 345 678.90 with thin no-break groups, as amounts are written on the pages."""
    return f"{number:,}".replace(",", "\u00a0")


# ------------------------------------------------------------------ checks


def has_control_characters(text: str | None, multiline: bool = False) -> bool:
    """Whether ``text`` holds a control character (tab and line breaks allowed if ``multiline``)."""
    if not text:
        return False
    for ch in text:
        if (ch < " " or "\x7f" <= ch <= "\x9f") and not (multiline and ch in MULTILINE_ALLOWED):
            return True
        if ch in ("\u2028", "\u2029") and not multiline:  # Unicode line and paragraph separators
            return True
        if unicodedata.category(ch) == "Cs":  # a lone surrogate cannot be stored as UTF-8
            return True
    return False


def text_problem(text: str | None, maximum: int, multiline: bool = False):
    """The message for a text that is too long or holds control characters, or None."""
    if text is None:
        return None
    if has_control_characters(text, multiline):
        return control_message(multiline)
    length = len(text.replace("\r\n", "\n"))
    if length > maximum:
        return length_message(maximum, length)
    return None


def date_within(day: date | datetime | None) -> bool:
    if day is None:
        return True
    if isinstance(day, datetime):
        day = day.date()
    return FIRST_DAY <= day <= LAST_DAY


def parse_day(text: str | None) -> date | None:
    """'2030-03-01' as a date within the bounds; None for nothing. ValueError for what is no
    date, ``OutOfBounds`` for a date outside 1900-2200."""
    text = (text or "").strip()
    if not text:
        return None
    day = date.fromisoformat(text)
    if not date_within(day):
        raise OutOfBounds(date_message())
    return day


def int_within(value, low: int = INT_MIN, high: int = INT_MAX) -> bool:
    return value is None or (isinstance(value, int) and low <= value <= high)


def parse_int(text, low: int = INT_MIN, high: int = INT_MAX) -> int:
    """A whole number within ``low``..``high``: ValueError for what is none, ``OutOfBounds`` outside."""
    raw = str(text if text is not None else "").strip()
    if len(raw) > 40:  # int() would take long, or refuse beyond 4300 digits, for what is out of bounds anyway
        if raw.lstrip("+-").isdigit():
            raise OutOfBounds(number_message(low, high))
        raise ValueError("not a whole number")
    number = int(raw)
    if not low <= number <= high:
        raise OutOfBounds(number_message(low, high))
    return number


def parse_id(text) -> int | None:
    """A record id from a query string: None for nothing, for no number, and for one no record can have."""
    try:
        return parse_int(text, 1, MAX_ID)
    except ValueError:
        return None


def parse_page(text) -> int:
    """A page number from a query string: 1 for anything that is none (0 too), at most ``PAGE_MAX``."""
    try:
        return parse_int(text, 1, PAGE_MAX)
    except OutOfBounds:
        digits = str(text).strip().lstrip("+")
        return PAGE_MAX if digits.isdigit() and digits.strip("0") else 1
    except ValueError:
        return 1


_DOT_GROUPS = re.compile(r"[-+]?\d{1,3}(\.\d{3})+")


def _decimal_point(text: str) -> str:
    """An amount as people write it in any of the five languages, with '.' as its decimal point:
    '12 500,50' and '12500.5' everywhere; '12.500,50' and '1,500.50' (both marks: the last one is
    the decimal point); '12.500' is twelve thousand five hundred where the reader's language
    groups digits with dots (Danish, Icelandic) and twelve and a half elsewhere."""
    if "," in text and "." in text:
        decimal_mark = "," if text.rindex(",") > text.rindex(".") else "."
        group_mark = "." if decimal_mark == "," else ","
        return text.replace(group_mark, "").replace(decimal_mark, ".")
    if text.count(",") == 1:
        return text.replace(",", ".")
    if _DOT_GROUPS.fullmatch(text) and (text.count(".") > 1 or _groups_with_dots()):
        return text.replace(".", "")
    return text


def _groups_with_dots() -> bool:
    locale = get_locale() if has_request_context() else None
    return locale is not None and locale.number_symbols.get("latn", locale.number_symbols).get("group") == "."


def parse_money(value, maximum: Decimal = MONEY_MAX) -> Decimal:
    """A Decimal with two places from what a person typed ('12 500,50' and '12500.5' both work).

    ``InvalidOperation`` for what is no amount; ``OutOfBounds`` for one above ``maximum``
    (or below minus it), so that nothing the column cannot hold ever reaches it. Never a float."""
    if isinstance(value, float):
        raise InvalidOperation("amounts are never floats")
    if isinstance(value, Decimal):
        result = value
    else:
        text = str(value or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        result = Decimal(_decimal_point(text))
    if not result.is_finite():
        raise InvalidOperation
    if result.copy_abs() > maximum:  # copy_abs: no arithmetic, so no overflow on 1e999999
        raise OutOfBounds(money_message(maximum))
    return result.quantize(CENT, ROUND_HALF_UP)
