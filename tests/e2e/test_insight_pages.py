"""The insight dashboard in a real browser: axe finds nothing serious or critical."""
import pytest

from residency.demo import PASSWORD, seed

from tests.scenarios import programme

pytestmark = pytest.mark.e2e


def test_insight_dashboard_passes_axe(app, page, axe, make):
    seed()
    programme(make, n_apps=5)
    page.goto("/account/login")
    page.get_by_label("E-mail").fill("admin@demo.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    page.get_by_role("link", name="Insight").click()
    page.wait_for_url("**/insight/")
    assert page.get_by_role("heading", level=1).count() == 1
    assert page.locator("svg[role=img]").count() >= 3
    assert axe(page) == []
    page.get_by_label("Track").select_option("drugs")
    page.get_by_role("button", name="Show").first.click()
    page.wait_for_url("**/insight/?*track=drugs*")
    assert axe(page) == []
