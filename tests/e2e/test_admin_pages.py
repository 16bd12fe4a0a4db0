"""The administrator's pages in a real browser: axe finds nothing serious, forms work by label."""
import pytest
from sqlalchemy import select

from residency.core.extensions import db
from residency.domain.programme.models import Call

pytestmark = pytest.mark.e2e


def test_every_admin_page_passes_axe(admin_page, axe):
    call_id = db.session.scalar(select(Call.id).order_by(Call.id))
    for path in ["/admin/", "/admin/organisations", "/admin/organisations/new", "/admin/organisations/1/edit",
                 "/admin/invitations", "/admin/invitations/new", "/admin/routes", "/admin/routes/new", "/admin/calls",
                 "/admin/calls/new", f"/admin/calls/{call_id}", f"/admin/calls/{call_id}/edit",
                 f"/admin/workflow/call/{call_id}", "/admin/outbox"]:
        admin_page.goto(path)
        assert admin_page.get_by_role("heading", level=1).count() == 1, path
        assert axe(admin_page) == [], path


def test_startup_profile_follows_the_chosen_kind_and_errors_pass_axe(admin_page, axe):
    page = admin_page
    page.goto("/admin/organisations/new")
    profile = page.locator("#startup-profile")
    assert profile.is_hidden()
    page.get_by_label("Kind").select_option("startup")
    assert profile.is_visible()
    page.get_by_label("Name").fill("Typo AS")
    page.get_by_label("Organisation number").fill("923000012")
    page.get_by_role("button", name="Register the organisation").click()
    assert "fails its check digit" in page.locator("#org_number-error").inner_text()
    assert page.get_by_label("Name").input_value() == "Typo AS"
    assert axe(page) == []
