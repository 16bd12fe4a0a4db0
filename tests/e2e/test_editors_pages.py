"""The administrator's structured editors, the audit trail and the outbox in a real browser:
rows added without JavaScript, messages on each row's field, and axe finds nothing serious."""
import pytest
from sqlalchemy import select

from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage

pytestmark = pytest.mark.e2e


def test_criteria_rows_are_added_and_refused_on_their_field(admin_page, axe):
    page = admin_page
    page.goto("/admin/calls/new")
    assert axe(page) == []
    page.locator("#criteria-0-name").fill("Science")
    page.locator("#criteria-0-weight").fill("60")
    page.locator("#criteria-1-name").fill("Team")
    page.locator("#criteria-1-weight").fill("0")
    page.locator("#criteria-2-name").fill("Fit")
    page.locator("#criteria-2-weight").fill("10")
    page.locator("#route_id").select_option(index=1)
    page.locator("#title").fill("Autumn round")
    for field, value in [("opens_at", "2031-01-10T09:00"), ("closes_at", "2031-02-10T12:00"),
                         ("nomination_deadline", "2031-03-10T12:00"), ("decision_deadline", "2031-04-10T12:00")]:
        page.locator(f"#{field}").fill(value)
    page.locator("#seats").fill("3")
    page.locator("#residency_starts_on").fill("2031-06-01")
    page.locator("#residency_ends_on").fill("2032-06-01")
    page.get_by_role("button", name="Add a criterion").click()
    assert page.locator("#criteria-3-name").input_value() == ""
    assert page.locator("#criteria-2-name").input_value() == "Fit"
    page.get_by_role("button", name="Save as draft").click()
    assert "more than 0" in page.locator("#criteria-1-weight-error").inner_text()
    assert page.locator("#criteria-1-weight").get_attribute("aria-invalid") == "true"
    assert axe(page) == []


def test_audit_trail_and_outbox_message_pages_pass_axe(admin_page, axe):
    page = admin_page
    for path in ["/admin/audit", "/admin/audit?workflow=application", "/admin/audit?record_id=abc&since=2030-01-02&until=2030-01-01"]:
        page.goto(path)
        assert page.get_by_role("heading", level=1).count() == 1, path
        assert axe(page) == [], path
    page.goto("/admin/audit")
    first = page.locator("tbody a").first
    first.click()
    assert "/admin/workflow/" in page.url
    message_id = db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id))
    if message_id is None:
        pytest.skip("the demo queues no e-mail")
    page.goto(f"/admin/outbox/{message_id}")
    assert page.locator("#preview-text").inner_text().strip()
    assert axe(page) == []
