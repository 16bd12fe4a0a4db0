"""The one pager (core/pagination.py): page numbers from a query string, offset pages, keyset pages."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from residency.core import limits, pagination
from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.core.outbox_models import OutboxMessage


@pytest.mark.parametrize("raw, page", [
    (None, 1), ("", 1), ("1", 1), ("7", 7), (" 7 ", 7), ("0", 1), ("-3", 1), ("abc", 1), ("2.5", 1), ("1e3", 1),
    ("+4", 4), (str(limits.PAGE_MAX), limits.PAGE_MAX), (str(limits.PAGE_MAX + 1), limits.PAGE_MAX),
    ("9" * 50, limits.PAGE_MAX), ("9" * 5000, limits.PAGE_MAX), ("\x00", 1),
])
def test_page_numbers_are_bounded(raw, page):
    args = {} if raw is None else {"page": raw}
    assert pagination.page_number(args) == page


@pytest.mark.parametrize("args, cursor", [
    ({}, pagination.Cursor()), ({"after": "12"}, pagination.Cursor(after=12)), ({"before": "12"}, pagination.Cursor(before=12)),
    ({"after": "12", "before": "3"}, pagination.Cursor(after=12)), ({"after": "x", "before": "3"}, pagination.Cursor(before=3)),
    ({"after": "0"}, pagination.Cursor()), ({"after": str(limits.MAX_ID + 1)}, pagination.Cursor()),
    ({"after": "9" * 5000}, pagination.Cursor()),
])
def test_cursors_name_a_possible_key_or_none(args, cursor):
    assert pagination.Cursor.from_args(args) == cursor


def _audit_rows(n, record_id=1):
    rows = [StatusChange(workflow="call", record_id=record_id, from_state="draft", to_state="published", action="publish",
                         reason=f"row {i:02d}") for i in range(n)]
    db.session.add_all(rows)
    db.session.commit()
    return [r.id for r in rows]


def _offset_page(page, per_page=4):
    stmt = select(StatusChange).where(StatusChange.record_id == 1)
    return pagination.by_offset(stmt.order_by(StatusChange.id), stmt.with_only_columns(func.count()), page, per_page)


def test_offset_pages_cover_the_list_once_and_a_page_past_the_end_is_the_last():
    ids = _audit_rows(10)
    _audit_rows(3, record_id=2)  # another record's rows are not in the list
    seen = []
    for number in (1, 2, 3):
        page = _offset_page(number)
        assert (page.page, page.pages, page.total, page.first) == (number, 3, 10, (number - 1) * 4 + 1)
        seen += [r.id for r in page.rows]
    assert seen == ids
    assert (_offset_page(1).has_prev, _offset_page(1).has_next, _offset_page(3).has_next) == (False, True, False)
    assert (_offset_page(2).prev_args, _offset_page(2).next_args, _offset_page(3).prev_args) == (
        {"page": None}, {"page": 3}, {"page": 2})
    past = _offset_page(limits.PAGE_MAX)
    assert (past.page, past.asked, [r.id for r in past.rows]) == (3, limits.PAGE_MAX, ids[8:])
    assert past.message is not None and _offset_page(3).message is None


def test_an_empty_list_is_one_empty_page():
    page = _offset_page(5)
    assert (page.rows, page.page, page.pages, page.total, page.first, page.last) == ([], 1, 1, 0, 0, 0)
    assert page.asked == 5 and not page.has_next and not page.has_prev


def _keyed(cursor, per_page=4, descending=False):
    stmt = select(StatusChange).where(StatusChange.record_id == 1)
    return pagination.by_key(stmt, StatusChange.id, cursor, per_page, descending=descending)


@pytest.mark.parametrize("descending", [False, True])
def test_keyset_pages_walk_forward_and_back_without_losing_a_row(descending):
    ids = _audit_rows(10)
    ids = ids[::-1] if descending else ids
    pages, page = [], _keyed(pagination.Cursor(), descending=descending)
    while True:
        pages.append(page)
        if not page.has_next:
            break
        page = _keyed(pagination.Cursor(after=page.next_args["after"]), descending=descending)
    assert [[r.id for r in p.rows] for p in pages] == [ids[0:4], ids[4:8], ids[8:]]
    assert [(p.page, p.pages, p.first, p.last, p.total) for p in pages] == [
        (1, 3, 1, 4, 10), (2, 3, 5, 8, 10), (3, 3, 9, 10, 10)]
    # Back from the last page: the rows just before it; from the second, the plain first page.
    back = _keyed(pagination.Cursor(before=pages[2].prev_args["before"]), descending=descending)
    assert ([r.id for r in back.rows], back.page) == (ids[4:8], 2)
    assert back.prev_args == {"after": None, "before": None}


def test_a_keyset_page_past_the_end_is_empty_and_says_so():
    ids = _audit_rows(5)
    past = _keyed(pagination.Cursor(after=ids[-1]))
    assert (past.rows, past.total, past.has_next) == ([], 5, False)
    assert past.message is not None
    assert past.prev_args == {"after": None, "before": None}  # back to the first page
    gone = _keyed(pagination.Cursor(before=ids[0]))
    assert (gone.rows, gone.page) == ([], 1)


def test_a_keyset_page_with_a_leading_column_follows_it_and_names_rows_by_key(make):
    now = datetime.now(timezone.utc)
    # Ids in one order, creation times in the other: the list follows the time.
    ids = [make.outbox_message(created_at=now - timedelta(minutes=n)).id for n in range(7)]
    stmt = select(OutboxMessage)

    def page(cursor):
        return pagination.by_key(stmt, OutboxMessage.id, cursor, 3, descending=True, leading=(OutboxMessage.created_at,))

    first = page(pagination.Cursor())
    second = page(pagination.Cursor(after=first.last_key))
    third = page(pagination.Cursor(after=second.last_key))
    assert [[m.id for m in p.rows] for p in (first, second, third)] == [ids[0:3], ids[3:6], ids[6:]]
    assert [p.page for p in (first, second, third)] == [1, 2, 3]
    assert [m.id for m in page(pagination.Cursor(before=third.first_key)).rows] == ids[3:6]


@pytest.mark.parametrize("descending", [False, True])
def test_a_keyset_list_longer_than_the_count_cap_is_walked_both_ways_without_a_total(monkeypatch, count_queries,
                                                                                     descending):
    # The audit trail and the outbox hold a million and 300,000 rows at Nordic scale: each page counts at most
    # COUNT_CAP of them (lowered here to 10), so a longer list says "more than" and gives no page number deep in it.
    monkeypatch.setattr(pagination, "COUNT_CAP", 10)
    ids = _audit_rows(23)
    ids = ids[::-1] if descending else ids
    first = _keyed(pagination.Cursor(), descending=descending)
    assert (first.capped, first.count_known, first.position_known, first.total) == (True, False, True, 11)
    assert (first.page, first.has_prev, first.has_next, first.paged) == (1, False, True, True)
    pages, page = [first], first
    while page.has_next:
        page = _keyed(pagination.Cursor(after=page.next_args["after"]), descending=descending)
        pages.append(page)
    assert [[r.id for r in p.rows] for p in pages] == [ids[i:i + 4] for i in range(0, 23, 4)]
    # Up to the cap the rows ahead are counted, so the page number is known; past it, not.
    assert [(p.position_known, p.page if p.position_known else None) for p in pages] == [
        (True, 1), (True, 2), (True, 3), (False, None), (False, None), (False, None)]
    assert not pages[-1].has_next and pages[-1].has_prev
    # Newer, page by page, from the last one back to the plain first page: the same pages in reverse.
    back, walked = pages[-1], []
    while back.has_prev:
        arguments = back.prev_args
        cursor = pagination.Cursor(before=arguments["before"]) if arguments["before"] else pagination.Cursor()
        back = _keyed(cursor, descending=descending)
        walked.append([r.id for r in back.rows])
        assert back.has_next
    assert walked[-1] == ids[0:4] and sorted(sum(walked, [])) == sorted(ids[0:20])
    # Each count reads at most COUNT_CAP + 1 rows: a LIMIT inside the COUNT.
    with count_queries() as counted:
        _keyed(pagination.Cursor(after=pages[4].next_args["after"]), descending=descending)
    assert sum(" LIMIT " in s for s in counted.statements) >= 2


def test_an_uncapped_keyset_list_still_counts_exactly(monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 10)
    ids = _audit_rows(10)
    page = _keyed(pagination.Cursor(after=ids[3]))
    assert (page.capped, page.count_known, page.total, page.pages, page.page, page.more) == (False, True, 10, 3, 2, None)
