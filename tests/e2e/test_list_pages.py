"""Paginated lists in a real browser: the pager is a named navigation that says where the reader
is, its links keep the filters, and axe finds nothing serious on a middle page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.demo import PASSWORD, seed
from residency.domain.accounts.models import Organisation, User

from tests.factories import valid_org_number

pytestmark = pytest.mark.e2e


def _sign_in(page, email):
    page.goto("/account/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


def test_admin_lists_page_with_their_filters_and_pass_axe(app, page, axe):
    seed()
    db.session.add_all([Organisation(kind="hub", name=f"Paged hub {i:03d}", country="SE", timezone="Europe/Stockholm",
                                     org_number=valid_org_number("SE", 90_000 + i)) for i in range(120)])
    now = datetime.now(timezone.utc)
    db.session.add_all([OutboxMessage(dedup_key=f"paged:{i}", recipient=f"paged{i}@example.test", template="invitation",
                                      context={}, delivery="failed", attempts=6, last_error="boom",
                                      created_at=now - timedelta(minutes=i), next_attempt_at=now) for i in range(120)])
    db.session.commit()
    _sign_in(page, "admin@demo.test")

    page.goto("/admin/organisations?kind=hub")
    pager = page.get_by_role("navigation", name="Pages of organisations")
    assert "Page 1 of 3" in pager.inner_text()
    pager.get_by_role("link", name="Next").click()
    page.wait_for_url("**kind=hub&page=2*")
    pager = page.get_by_role("navigation", name="Pages of organisations")
    assert "Page 2 of 3" in pager.inner_text()
    assert pager.get_by_role("link", name="Previous").count() == 1
    assert page.get_by_text("51–100 of").count() == 1
    assert axe(page) == []

    page.goto("/admin/outbox?delivery=failed")
    page.get_by_role("navigation", name="Pages of messages").get_by_role("link", name="Older").click()
    page.wait_for_url("**delivery=failed&after=*")
    assert "Page 2 of 3" in page.get_by_role("navigation", name="Pages of messages").inner_text()
    assert axe(page) == []

    page.goto("/admin/organisations?page=99")
    assert page.get_by_role("status").filter(has_text="There is no page 99").count() == 1
    assert axe(page) == []


def test_the_hub_inbox_pages_each_section_and_passes_axe(app, page, axe):
    seed()
    hub_admin = db.session.scalar(select(User).where(User.email == "hub@demo.test"))
    hub = hub_admin.organisations("hub")[0]
    from tests.web.hub.test_inbox_pages import Hub

    class DemoHub(Hub):
        def __init__(self, hub):  # the demo's hub and one of its calls
            from residency.domain.programme.models import Call, Route

            self.hub = hub
            self.call = db.session.scalar(select(Call).join(Route).where(Route.host_hub_id == hub.id).order_by(Call.id))
            self.reviewer = None
            self.ranks = {self.call.id: 1000}

    DemoHub(hub).add(60)
    _sign_in(page, "hub@demo.test")
    page.goto(f"/hub/{hub.id}/inbox")
    pager = page.get_by_role("navigation", name="Pages of nominees waiting for your decision")
    assert "Page 1 of 3" in pager.inner_text()
    pager.get_by_role("link", name="Next").click()
    page.wait_for_url("**waiting_page=2*")
    assert "Page 2 of 3" in page.get_by_role("navigation", name="Pages of nominees waiting for your decision").inner_text()
    assert axe(page) == []
