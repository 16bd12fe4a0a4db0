"""CSV helpers shared by every export: formula defusing, cell formatting and a streamed writer.

Every CSV the service hands out is UTF-8 with a byte order mark (so Excel reads it
as UTF-8), has a header row, writes dates in ISO 8601 and times in UTC, and
defuses text a spreadsheet would run as a formula (CSV/formula injection).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone
from decimal import Decimal

# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str | None) -> str:
    """Prefix a quote to text a spreadsheet would take for a formula (CSV/formula injection)."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def iso_utc(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else ""


def csv_cell(value) -> str:
    """One typed value as CSV text: money with two decimals, ISO dates, UTC times, defused text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):  # before date: a datetime is a date too
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return safe_text(value)
    return str(value)


def csv_stream(header: list[str], rows: Iterable[list], chunk_chars: int = 16_384) -> Iterator[str]:
    """The CSV text in chunks of about ``chunk_chars`` (the byte order mark and header first), so a
    response can stream it: memory holds one chunk, however many rows there are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow([safe_text(title) for title in header])
    yield "\ufeff" + flush()
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        if buffer.tell() >= chunk_chars:
            yield flush()
    rest = flush()
    if rest:
        yield rest
