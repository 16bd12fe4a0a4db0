"""Column types and helpers shared by every model."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import DateTime, Integer, Numeric, func, type_coerce
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator


def in_values(column: str, values) -> str:
    """SQL for a check constraint: ``column`` holds one of ``values``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    SQLite drops the offset, so values are normalised to UTC on the way in and
    marked UTC on the way out; naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store UTC-aware datetimes")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


CENT = Decimal("0.01")
MONEY_DIGITS, MONEY_PLACES = 14, 2
MONEY_LIMIT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)  # numeric(14, 2) holds less than this


class Money(TypeDecorator):
    """An amount of money, exact on every database: ``numeric(14, 2)`` on PostgreSQL and
    integer minor units (cents, øre) in an INTEGER column on SQLite, whose NUMERIC would
    keep a REAL (a float).

    Binds take a ``Decimal`` or an ``int`` and refuse a float (``TypeError``): floats never
    reach money. Values are rounded to two places as PostgreSQL rounds (half away from
    zero), and an amount the column cannot hold is refused on SQLite as PostgreSQL
    refuses it. Results are ``Decimal`` with two places. Comparisons with bound values go
    through this type, so ``Model.amount > Decimal("5")`` compares minor units on SQLite;
    sum money with ``money_sum`` so an aggregate keeps the unit. Adding money to money and
    scaling by a factor keep the unit, but SQLite divides integers by truncating, and
    ``amount * amount`` is no amount: do other arithmetic on money in Python, in Decimal.
    """

    impl = Numeric(MONEY_DIGITS, MONEY_PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(Numeric(MONEY_DIGITS, MONEY_PLACES, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
            raise TypeError(f"money takes a Decimal or an int, not {type(value).__name__}: {value!r}")
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(f"money must be a finite amount, not {value!r}")
        amount = amount.quantize(CENT, ROUND_HALF_UP)
        if dialect.name != "sqlite":
            return amount
        if abs(amount) >= MONEY_LIMIT:
            raise ValueError(f"money out of range for numeric({MONEY_DIGITS}, {MONEY_PLACES}): {value!r}")
        return int(amount.scaleb(MONEY_PLACES))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            if isinstance(value, float):  # never stored, but AVG() of minor units is a REAL
                return Decimal(repr(value)).scaleb(-MONEY_PLACES).quantize(CENT, ROUND_HALF_UP)
            return Decimal(int(value)).scaleb(-MONEY_PLACES)
        return Decimal(value).quantize(CENT, ROUND_HALF_UP)

    def coerce_compared_value(self, op, value):
        # A value compared with, added to or subtracted from a money column is money too, so
        # it is bound in the column's unit (``Decimal("5")`` becomes 500 on SQLite); a factor
        # or a divisor is a plain number.
        if op in (operators.mul, operators.truediv, operators.floordiv, operators.mod):
            return Numeric(asdecimal=True) if isinstance(value, Decimal) else Integer()
        return self


def money_sum(column):
    """``SUM(column)`` of a money column, 0.00 when there are no rows, typed as money so
    the result is a two-place ``Decimal`` in currency units on every database."""
    return type_coerce(func.coalesce(func.sum(column), 0), Money)
