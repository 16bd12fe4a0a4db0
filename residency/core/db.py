"""Column types and helpers shared by every model."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger, Date, DateTime, Integer, Numeric, Select, func, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.functions import FunctionElement
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
        if value is None or value.tzinfo is timezone.utc:
            return value
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


# ------------------------------------------------------------------ aggregates and date arithmetic
# SQLite and PostgreSQL write these differently; each is written here once, so that figures made
# in the database (insight) mean the same on both.


class seconds_between(FunctionElement):
    """Whole seconds from ``start`` to ``end`` (two datetime columns), truncated towards zero as
    ``int(timedelta.total_seconds())`` truncates, exact to the microsecond on both databases."""

    type = BigInteger()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    # EXTRACT(EPOCH ...) of an interval is an exact numeric on PostgreSQL 14 and later.
    return f"CAST(TRUNC(EXTRACT(EPOCH FROM ({end} - {start}))) AS BIGINT)"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): whole seconds from strftime('%s'), the
    # microseconds from the text, so no float (julianday) rounds the difference; / truncates.
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    micros = lambda v: f"CAST(substr({v}, 21, 6) AS INTEGER)"  # noqa: E731
    return (f"(((CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER)) * 1000000"
            f" + {micros(end)} - {micros(start)}) / 1000000)")


class day_after(FunctionElement):
    """The day after ``day`` (a date column or expression), as a date."""

    type = Date()
    name = "day_after"
    inherit_cache = True


@compiles(day_after)
def _day_after(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} + 1)"


@compiles(day_after, "sqlite")
def _day_after_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+1 day')"


def median_by(dialect: str, value, *keys) -> Select:
    """``SELECT keys..., median, count GROUP BY keys``: the median of ``value`` (a number
    column of one FROM: a table or a subquery already filtered) and how many values there
    are, per group of ``keys``; groups without values are absent. The median of an even
    number of values is the mean of the middle two.

    PostgreSQL has the ordered-set aggregate (``percentile_cont``); SQLite has none, so the
    values are numbered in order per group by window functions and the middle one or two
    kept. Both give a float (exact for integer values: at most a half)."""
    if dialect == "postgresql":
        return (select(*keys, func.percentile_cont(0.5).within_group(value).label("median"),
                       func.count(value).label("count"))
                .where(value.is_not(None)).group_by(*keys))
    ranked = select(*(k.label(f"k{i}") for i, k in enumerate(keys)), value.label("value"),
                    func.row_number().over(partition_by=list(keys), order_by=value).label("rn"),
                    func.count().over(partition_by=list(keys)).label("n")).where(value.is_not(None)).subquery()
    group = [ranked.c[f"k{i}"] for i in range(len(keys))]
    return (select(*(g.label(k.key) for g, k in zip(group, keys)), func.avg(ranked.c.value).label("median"),
                   func.max(ranked.c.n).label("count"))
            .where(ranked.c.rn.between((ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2)).group_by(*group))
