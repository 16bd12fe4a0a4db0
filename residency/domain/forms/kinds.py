"""What each kind of question accepts, how its answer is checked, and how it reads.

``clean`` turns what a person typed into the stored value (or a message for the field);
``problems_at_submission`` is what a draft may hold but a submission may not (a word limit
broken); ``answer_text`` is the answer as its reader writes it.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_name
from flask_babel import get_locale
from residency.core.i18n import lazy_gettext as _l
from residency.core.i18n import ngettext

from residency.core import limits
from residency.domain.accounts.labels import track_choices
from residency.core.i18n import country_name, format_day, format_money, format_number, formatting_locale

KIND_LABELS = {
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
    "number": _l("Whole number"),
    "money": _l("Amount of money"),
    "date": _l("Date"),
    "single_choice": _l("One choice from a list"),
    "multiple_choice": _l("Several choices from a list"),
    "yes_no": _l("Yes or no"),
    "file": _l("File upload"),
    "trl": _l("Technology readiness level (1–9)"),
    "country": _l("Country"),
}
CHOICE_KINDS = ("single_choice", "multiple_choice")
# Kinds whose answer is one of a few values another question may depend on.
CONDITION_KINDS = ("single_choice", "multiple_choice", "yes_no", "trl", "country")
FILE_TYPES = {"pdf": ("application/pdf",), "image": ("image/png", "image/jpeg", "image/gif", "image/webp")}
FILE_TYPE_LABELS = {"pdf": _l("PDF"), "image": _l("Images (PNG, JPEG, GIF, WebP)")}
CURRENCIES = ("NOK", "SEK", "DKK", "EUR", "ISK")
HOME_CURRENCY = {"NO": "NOK", "SE": "SEK", "DK": "DKK", "FI": "EUR", "IS": "ISK"}

SHORT_TEXT_MAX = 300
NUMBER_LIMIT = 10**9
FILE_MB_MAX = 10
FILES_MAX = 5
WORDS = re.compile(r"\w+(?:[-'’]\w+)*")


def language() -> str:
    return str(get_locale() or "en").split("_")[0]


def text_in(mapping: dict | None, lang: str | None = None) -> str:
    """A label, help or title in the reader's language, else in English."""
    mapping = mapping or {}
    return mapping.get(lang or language()) or mapping.get("en") or ""


def word_count(text: str | None) -> int:
    return len(WORDS.findall(text or ""))


def country_choices() -> list[tuple[str, str]]:
    """Every country by its name in the reader's language, the five Nordic ones first."""
    territories = formatting_locale().territories
    nordic = [(code, country_name(code)) for code in HOME_CURRENCY]
    others = sorted(((code, name) for code, name in territories.items()
                     if len(code) == 2 and code.isalpha() and code not in HOME_CURRENCY and code not in ("ZZ", "EU", "EZ", "UN", "QO", "XA", "XB")),
                    key=lambda item: item[1])
    return nordic + others


def is_country(code: str) -> bool:
    return code in HOME_CURRENCY or (len(code) == 2 and code.isalpha() and code.isupper()
                                     and code in formatting_locale().territories)


def choices_of(question) -> list[tuple[str, str]]:
    """(value, label in the reader's language) of a choice question."""
    if getattr(question, "binding", None) == "track":
        return [(value, str(label)) for value, label in track_choices()]
    if question.kind == "trl":
        return [(str(n), str(n)) for n in range(1, 10)]
    if question.kind == "yes_no":
        return [("yes", str(_l("Yes"))), ("no", str(_l("No")))]
    if question.kind == "country":
        return country_choices()
    return [(str(c.get("value")), text_in(c.get("label"))) for c in (question.settings or {}).get("choices", [])]


def bounds(question) -> tuple[int | Decimal | None, int | Decimal | None]:
    settings = question.settings or {}
    if question.kind == "money":
        low, high = settings.get("min"), settings.get("max")
        return (Decimal(str(low)) if low not in (None, "") else None, Decimal(str(high)) if high not in (None, "") else None)
    low, high = settings.get("min"), settings.get("max")
    return (int(low) if low not in (None, "") else None, int(high) if high not in (None, "") else None)


def currency_of(question) -> str:
    return (question.settings or {}).get("currency") or "EUR"


def max_chars(question) -> int:
    settings = question.settings or {}
    default = SHORT_TEXT_MAX if question.kind == "short_text" else limits.LONG_TEXT_MAX
    return min(int(settings.get("max_chars") or default), default)


def max_words(question) -> int | None:
    words = (question.settings or {}).get("max_words")
    return int(words) if words else None


def clean(question, raw):
    """(stored value, message or None) for what was typed; the value is None for no answer.

    A refused answer returns the message and no value: the caller keeps what was typed in the form."""
    kind = question.kind
    if kind == "multiple_choice":
        picked = [str(v) for v in (raw if isinstance(raw, (list, tuple)) else [raw] if raw else []) if v not in (None, "")]
        allowed = {value for value, _label in choices_of(question)}
        if any(v not in allowed for v in picked):
            return None, _l("Choose from the list.")
        ordered = [value for value, _label in choices_of(question) if value in picked]
        return (ordered or None), None
    text = "" if raw is None else str(raw)
    if kind in ("short_text", "long_text"):
        text = text.replace("\r\n", "\n").strip()
        problem = limits.text_problem(text, max_chars(question), multiline=kind == "long_text")
        return (None, problem) if problem else (text or None, None)
    text = text.strip()
    if not text:
        return None, None
    if len(text) > 200:
        return None, _l("That is not an answer this question takes.")
    if kind == "number":
        low, high = bounds(question)
        low = -NUMBER_LIMIT if low is None else low
        high = NUMBER_LIMIT if high is None else high
        try:
            return limits.parse_int(text.replace("\u00a0", "").replace(" ", ""), low, high), None
        except limits.OutOfBounds:
            return None, limits.number_message(low, high)
        except ValueError:
            return None, _l("Enter a whole number.")
    if kind == "money":
        low, high = bounds(question)
        try:
            amount = limits.parse_money(text)
        except limits.OutOfBounds as out:
            return None, out.message
        except (InvalidOperation, ValueError):
            return None, _l("Enter an amount like 150 000 or 150 000,50.")
        if (low is not None and amount < low) or (high is not None and amount > high):
            currency = currency_of(question)
            return None, _l("Enter an amount from %(low)s to %(high)s.",
                            low=format_money(low if low is not None else 0, currency),
                            high=format_money(high if high is not None else limits.MONEY_MAX, currency))
        return str(amount), None
    if kind == "date":
        try:
            day = limits.parse_day(text)
        except limits.OutOfBounds as out:
            return None, out.message
        except ValueError:
            return None, limits.date_format_message()
        return day.isoformat(), None
    if kind in ("single_choice", "yes_no", "trl"):
        if text not in {value for value, _label in choices_of(question)}:
            return None, _l("Choose from the list.")
        return (int(text) if kind == "trl" else text), None
    if kind == "country":
        code = text.upper()
        return (code, None) if is_country(code) else (None, _l("Choose a country from the list."))
    return None, None  # files are uploads, not typed answers


def problems_at_submission(question, value) -> list:
    """What a saved answer may not be when the application is submitted (beyond being given)."""
    words = max_words(question)
    if question.kind == "long_text" and words and word_count(value) > words:
        n = word_count(value)
        return [ngettext("Please shorten this to %(max)d words or fewer; it has %(num)d word.",
                         "Please shorten this to %(max)d words or fewer; it has %(num)d words.", n, max=words)]
    return []


def answered(value) -> bool:
    return value not in (None, "", [], {})


def answer_text(question, value) -> str:
    """The answer as its reader writes it: a choice by its label, a day, number or amount in the
    reader's language, yes or no in words."""
    if not answered(value):
        return ""
    kind = question.kind
    try:
        if kind == "multiple_choice":
            labels = dict(choices_of(question))
            return ", ".join(labels.get(str(v), str(v)) for v in value)
        if kind in ("single_choice", "yes_no"):
            return dict(choices_of(question)).get(str(value), str(value))
        if kind == "country":
            return country_label(str(value))
        if kind in ("number", "trl"):
            return format_number(int(value))
        if kind == "money":
            return format_money(Decimal(str(value)), currency_of(question))
        if kind == "date":
            return format_day(value if isinstance(value, date) else date.fromisoformat(str(value)))
    except (TypeError, ValueError, InvalidOperation, ArithmeticError):
        pass  # a value stored before its type was checked stands as it is
    return str(value)


def country_label(code: str) -> str:
    if code in HOME_CURRENCY:
        return country_name(code)
    return formatting_locale().territories.get(code, code)


def currency_label(code: str) -> str:
    return f"{code} ({get_currency_name(code, locale=formatting_locale())})"
