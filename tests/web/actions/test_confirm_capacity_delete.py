"""Issue 14: deleting a capacity period is no longer one click: a confirmation page asks first."""
from datetime import date

from sqlalchemy import func, select

from residency.core.extensions import db
from residency.domain.programme.models import HubCapacity


def periods():
    return db.session.scalar(select(func.count()).select_from(HubCapacity))


def test_the_capacity_list_links_to_a_confirmation_page_that_deletes_only_when_confirmed(client, make, login):
    hub = make.organisation("hub", country="SE")
    period = make.capacity(hub, date(2030, 1, 1), date(2030, 6, 30), desks=4, benches=2)
    login(make.user(org=hub))
    listing = client.get(f"/hub/{hub.id}/capacity").get_data(as_text=True)
    # No one-click delete form on the list: a link to the confirmation page instead.
    assert f'<a href="/hub/{hub.id}/capacity/{period.id}/delete"' in listing
    assert f'action="/hub/{hub.id}/capacity/{period.id}/delete"' not in listing
    confirm = client.get(f"/hub/{hub.id}/capacity/{period.id}/delete")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "1 January 2030" in html and "30 June 2030" in html and "4 office desks" in html and "2 lab benches" in html
    assert 'name="confirmed"' in html and "Delete the period" in html
    assert periods() == 1
    # A post without the confirmation (an old page's one-click button) deletes nothing and asks.
    r = client.post(f"/hub/{hub.id}/capacity/{period.id}/delete", data={})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/hub/{hub.id}/capacity/{period.id}/delete")
    assert periods() == 1
    r = client.post(f"/hub/{hub.id}/capacity/{period.id}/delete", data={"confirmed": "yes"})
    assert r.status_code == 302 and periods() == 0


def test_the_confirmation_page_is_404_for_another_hub(client, make, login):
    hub = make.organisation("hub", country="SE")
    period = make.capacity(hub, date(2030, 1, 1), date(2030, 6, 30))
    login(make.member("hub", country="SE"))
    assert client.get(f"/hub/{hub.id}/capacity/{period.id}/delete").status_code == 404
    assert client.post(f"/hub/{hub.id}/capacity/{period.id}/delete", data={}).status_code == 404
    assert periods() == 1
