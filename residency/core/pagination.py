"""One pager for every list: a ``Page`` of rows and where it stands in the list.

Every list page reads a fixed two statements whatever the list holds: one indexed COUNT
and one query for the page's rows (the caller loads what those rows show, for those rows
only). Two ways to find the page:

- ``by_offset``: lists in an indexed order that is no single increasing key (organisations
  by kind and name, funding applications by their last change). The page number comes from
  the query string (``page_number``, bounded by ``limits.PAGE_MAX``); a number past the end
  shows the last page, with a message saying so.
- ``by_key``: lists ordered by an increasing key (the audit trail oldest first, the outbox
  newest first). The link to the next page carries the last key shown (``after``), the
  link back the first (``before``), so a page deep in the list costs what the first costs:
  there is no OFFSET to walk. The page number shown is counted in the same COUNT statement.
  A key past the end gives an empty page with a message and a way back to the first page.

The template macro ``pager`` (templates/_pagination.html) draws the links, keeping every
other query argument (``web.pagination.page_url``).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from residency.core.i18n import gettext as _
from residency.core.i18n import ngettext
from sqlalchemy import func, literal, select, tuple_

from residency.core import limits
from residency.core.extensions import db
from residency.core.i18n import format_number

PER_PAGE = 25
AFTER, BEFORE = "after", "before"  # the query arguments of a keyset list
# A keyset list counts at most this many rows, for its size and for the rows ahead of a page: a longer
# list says "more than 10,000" and a page deeper than that gives no page number (counting the seeded
# programme's million audit rows took 60 ms a page, its 300,000 outbox messages as long).
COUNT_CAP = 10_000


def page_number(args: Mapping, param: str = "page") -> int:
    """The page asked for in a query string: 1 for anything that is no page number, at most ``PAGE_MAX``."""
    return limits.parse_page(args.get(param))


@dataclass(frozen=True)
class Cursor:
    """Where a keyset list was asked to continue: after or before one key (in the list's order)."""

    after: int | None = None
    before: int | None = None

    @classmethod
    def from_args(cls, args: Mapping) -> "Cursor":
        # A key no record can have (no number, below 1, beyond an id column) is no key: the first page.
        after = limits.parse_id(args.get(AFTER))
        return cls(after=after, before=None if after is not None else limits.parse_id(args.get(BEFORE)))


@dataclass
class Page:
    """One page of a list. ``first`` and ``last`` are the 1-based positions of the rows shown
    (0 and 0 on an empty page); ``prev_args`` and ``next_args`` the query arguments of the
    neighbouring pages (None removes an argument), for ``page_url``."""

    rows: list
    page: int = 1
    per_page: int = PER_PAGE
    total: int = 0
    param: str = "page"
    # Rows of the list before this page (offset pages: (page - 1) * per_page).
    position: int = 0
    # The page number asked for when it was past the end (this is then the last page).
    asked: int | None = None
    keyed: bool = False
    first_key: int | None = None
    last_key: int | None = None
    extra: dict = field(default_factory=dict)
    # A keyset list longer than COUNT_CAP: ``total`` is then COUNT_CAP + 1, ``position`` exact only while
    # ``position_known``; whether another page follows is read with the page itself (``more``).
    capped: bool = False
    position_known: bool = True
    more: bool | None = None

    @property
    def count_known(self) -> bool:
        return not self.capped

    @property
    def cap(self) -> int:
        return COUNT_CAP

    @property
    def pages(self) -> int:
        """Pages in the list as seen from here (a keyset page need not start on a multiple of ``per_page``)."""
        before = math.ceil(self.position / self.per_page)
        after = math.ceil(max(0, self.total - self.position - len(self.rows)) / self.per_page)
        return max(1, before + (1 if self.rows else 0) + after, self.page)

    @property
    def first(self) -> int:
        return self.position + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.position + len(self.rows)

    @property
    def has_prev(self) -> bool:
        return self.position > 0

    @property
    def has_next(self) -> bool:
        if self.more is not None:
            return self.more
        return self.position + len(self.rows) < self.total

    @property
    def paged(self) -> bool:
        """Whether the list has more than this page (its pager is drawn)."""
        return self.pages > 1 if self.count_known else self.has_prev or self.has_next

    @property
    def prev_args(self) -> dict:
        if not self.keyed:
            return {self.param: self.page - 1 if self.page > 2 else None}
        # Back to the plain first page when what comes before fits on it.
        back = self.first_key if self.rows and self.position > self.per_page else None
        return {AFTER: None, BEFORE: back}

    @property
    def next_args(self) -> dict:
        if not self.keyed:
            return {self.param: self.page + 1}
        return {AFTER: self.last_key, BEFORE: None}

    @property
    def first_args(self) -> dict:
        return {AFTER: None, BEFORE: None} if self.keyed else {self.param: None}

    @property
    def message(self) -> str | None:
        """Why this page is not the one asked for, or None (read while the page is drawn, in its language)."""
        if self.asked is not None:
            return ngettext("There is no page %(asked)s: the list has %(pages)s page, shown here.",
                            "There is no page %(asked)s: the list has %(pages)s pages. This is the last one.",
                            self.pages, asked=format_number(self.asked), pages=format_number(self.pages))
        if self.keyed and not self.rows and self.total:
            return _("Nothing more to show here: the list has ended, or changed since this link was made.")
        return None


def empty(per_page: int = PER_PAGE, param: str = "page") -> Page:
    return Page(rows=[], per_page=per_page, param=param)


def by_offset(rows_stmt, count_stmt, page: int, per_page: int = PER_PAGE, *, param: str = "page",
              scalars: bool = True) -> Page:
    """The page ``page`` of ``rows_stmt`` (already ordered, ending with a unique column so that
    pages never overlap), counted by ``count_stmt`` (or the number itself, when one grouped
    count served several lists); past the end, the last page."""
    total = count_stmt if isinstance(count_stmt, int) else db.session.scalar(count_stmt) or 0
    shown = shown_page(page, total, per_page)
    result = db.session.execute(rows_stmt.limit(per_page).offset((shown - 1) * per_page))
    return numbered(list(result.scalars().unique() if scalars else result), page, total, per_page, param=param)


def shown_page(asked: int, total: int, per_page: int = PER_PAGE) -> int:
    """The page shown when ``asked`` is asked for: the last one when it is past the end."""
    return min(max(1, asked), max(1, math.ceil(total / per_page)))


def numbered(rows: list, asked: int, total: int, per_page: int = PER_PAGE, *, param: str = "page") -> Page:
    """The ``Page`` of ``rows`` read elsewhere (for instance several lists' pages in one statement)."""
    shown = shown_page(asked, total, per_page)
    return Page(rows=rows, page=shown, per_page=per_page, total=total, param=param, position=(shown - 1) * per_page,
                asked=asked if asked > shown else None)


def by_key(stmt, key, cursor: Cursor, per_page: int = PER_PAGE, *, descending: bool = False, leading=(), options=(),
           key_of: Callable = lambda row: row.id, scalars: bool = True) -> Page:
    """A page of ``stmt`` (filtered, neither ordered nor with loader options: those are
    ``options``, for the page's rows only) in the order of ``leading`` columns and then the
    unique increasing ``key`` (``descending`` for newest first), after or before the row whose
    key is in ``cursor``: one COUNT, one query, both along the index of those columns.

    ``leading`` (the outbox's creation time) keeps the order a person reads when the key alone
    is not quite it; the cursor still names one row by its key, and the row's own values of
    the leading columns are read in the same statement. The COUNT gives the list's total and
    the rows ahead of the page, from which the page number is told."""
    columns = (*leading, key)

    def position(cols):
        return tuple_(*cols) if leading else cols[-1]

    def at(cursor_key: int):
        if not leading:
            return cursor_key
        # The cursor row's own values; correlate(None): never the outer statement's row.
        return tuple_(*(select(column).where(key == cursor_key).correlate(None).scalar_subquery()
                        for column in leading), literal(cursor_key))

    anchor = cursor.after if cursor.after is not None else cursor.before
    row = position(columns)
    # Counted up to COUNT_CAP + 1 rows only (LIMIT in the subquery): the COUNT stays one short pass along the index.
    count = select(func.count()).select_from(stmt.with_only_columns(*columns).limit(COUNT_CAP + 1).subquery("listed"))
    if anchor is not None:
        # The rows ahead of the page, counted along the index in the same statement: up to the
        # cursor's row after it (the page before showed them), before it otherwise (the page then
        # shows the last ``per_page`` of those).
        if cursor.after is not None:
            ahead = row >= at(anchor) if descending else row <= at(anchor)
        else:
            ahead = row > at(anchor) if descending else row < at(anchor)
        count = count.add_columns(select(func.count()).select_from(
            stmt.where(ahead).with_only_columns(*columns).limit(COUNT_CAP + 1).subquery("ahead")).scalar_subquery())
    counted = db.session.execute(count).one()
    total, ahead_count = counted[0], counted[1] if anchor is not None else 0
    forward = [c.desc() if descending else c.asc() for c in columns]
    backward = [c.asc() if descending else c.desc() for c in columns]
    if cursor.after is not None:
        page_stmt = stmt.where(row < at(cursor.after) if descending else row > at(cursor.after)).order_by(*forward)
    elif cursor.before is not None:
        page_stmt = stmt.where(row > at(cursor.before) if descending else row < at(cursor.before)).order_by(*backward)
    else:
        page_stmt = stmt.order_by(*forward)
    total, ahead = int(total or 0), int(ahead_count or 0)
    capped = total > COUNT_CAP
    # Past the cap the rows counted no longer tell whether another page follows: one row more is read to know.
    result = db.session.execute(page_stmt.options(*options).limit(per_page + 1 if capped else per_page))
    rows = list(result.scalars().unique() if scalars else result)
    more = None
    if capped:
        beyond = len(rows) > per_page
        rows = rows[:per_page]
        # Reading forward, the row beyond is the next page's; reading back from a cursor, the cursor's row follows.
        more = beyond if cursor.before is None else bool(rows)
        if cursor.before is not None and not beyond:
            ahead = len(rows)  # the page reached the head of the list
    position_known = ahead <= COUNT_CAP
    if cursor.before is not None:
        rows.reverse()
        ahead = max(0, ahead - len(rows))
    return Page(rows=rows, page=math.ceil(ahead / per_page) + 1, per_page=per_page, total=total,
                position=ahead, keyed=True, first_key=key_of(rows[0]) if rows else None,
                last_key=key_of(rows[-1]) if rows else None, capped=capped, position_known=position_known,
                more=more)
