"""Counts said with their plural forms (issue 14, item 2): releasing one decision e-mails "1 startup"."""
from residency.domain.review import nominations

from tests.web.cluster.test_review_desk import desk


def test_releasing_one_decision_says_one_startup(client, make, login):
    call, [a, _b], [only] = desk(make, n_apps=1, seats=1)
    nominations.nominate(application=only, actor=a, rationale="Best")
    login(a)
    html = client.post(f"/cluster/calls/{call.id}/release", follow_redirects=True).get_data(as_text=True)
    assert "The decisions are released: 1 startup is e-mailed." in html
    assert "1 startups" not in html
