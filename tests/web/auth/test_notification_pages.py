"""The notifications page at scale: the reader's messages newest first, page after page without
losing one; a page number that makes no sense shows a clear page; 10 or 60 messages, the same
statements."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage

from tests.web.paging import ids, link, walk

ROW = r"The call Call (\d+) closes"
LABEL = "Pages of messages"
PER_PAGE = 20
NOW = datetime.now(timezone.utc)


def _messages(user, start, n):
    db.session.add_all([OutboxMessage(dedup_key=f"page:{user.id}:{i}", recipient=user.email, user_id=user.id,
                                      template="call_closing", context={"call_title": f"Call {i}", "due_text": "1 May",
                                                                        "application_id": i},
                                      created_at=NOW - timedelta(minutes=i), next_attempt_at=NOW)
                        for i in range(start, start + n)])
    db.session.commit()
    return list(range(start + n))


def _count(count_queries, client, url) -> int:
    db.session.expire_all()
    with count_queries() as counted:
        assert client.get(url).status_code == 200
    return counted.n


def test_messages_page_newest_first_with_a_fixed_number_of_queries(make, login, client, count_queries):
    me, other = make.member("startup"), make.member("startup")
    _messages(other, 1000, 5)
    shown = _messages(me, 0, 10)
    login(me)
    few = _count(count_queries, client, "/account/notifications")
    assert walk(client, "/account/notifications", LABEL, ROW) == [shown]
    shown = _messages(me, 10, 50)
    pages = walk(client, "/account/notifications", LABEL, ROW)
    assert pages == [shown[0:20], shown[20:40], shown[40:60]]
    second = link(client.get("/account/notifications").get_data(as_text=True), LABEL, "next")
    assert "page=2" in second and second.endswith("#messages")
    assert _count(count_queries, client, "/account/notifications") == _count(count_queries, client, second) == few


@pytest.mark.parametrize("page, shown", [("0", 1), ("x", 1), ("-1", 1), ("2", 2), ("3", 3), ("8", 3), ("9" * 40, 3)])
def test_a_page_number_that_makes_no_sense_shows_a_clear_page(make, login, client, page, shown):
    me = make.member("startup")
    numbers = _messages(me, 0, 60)
    login(me)
    response = client.get(f"/account/notifications?page={page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ids(html, ROW) == numbers[(shown - 1) * PER_PAGE:shown * PER_PAGE]
    assert f"Page {shown} of 3" in html
