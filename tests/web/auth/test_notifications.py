"""The notifications page: the user's own messages, and the reminder preference."""
from residency.core import outbox
from residency.core.extensions import db
from residency.domain.accounts.models import User


def _message(user, n, optional=True):
    outbox.enqueue(recipient=user, template="call_closing", optional=optional, dedup_key=f"test:{user.id}:{n}",
                   context={"call_title": f"Call {n}", "due_text": "1 May", "application_id": n})
    db.session.commit()


def test_lists_only_my_messages_with_a_fixed_number_of_queries(client, make, login, count_queries):
    me, other = make.member("startup"), make.member("startup")
    _message(other, 0)
    _message(me, 1)
    login(me)
    with count_queries() as one:
        html = client.get("/account/notifications").get_data(as_text=True)
    assert "The call Call 1 closes on 1 May" in html and "Call 0" not in html
    for n in range(2, 30):
        _message(me, n)
    with count_queries() as many:
        html = client.get("/account/notifications?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in html
    assert one.n == many.n == 3


def test_reminder_preference_is_saved_and_validated(client, make, login):
    me = make.member("startup")
    login(me)
    assert client.post("/account/notifications", data={"reminder_delivery": "hourly"}).status_code == 422
    assert db.session.get(User, me.id).reminder_delivery == "immediate"
    assert client.post("/account/notifications", data={"reminder_delivery": "digest"}).status_code == 302
    assert db.session.get(User, me.id).reminder_delivery == "digest"
    _message(me, 1)
    assert "Held for the daily digest" in client.get("/account/notifications").get_data(as_text=True)
