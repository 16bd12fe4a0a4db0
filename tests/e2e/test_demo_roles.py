"""Each demo role logs in and lands on its own dashboard, which passes axe."""
import pytest

from residency.demo import PASSWORD, seed

pytestmark = pytest.mark.e2e

LANDINGS = [
    ("admin@demo.test", "/admin/", "Administration"),
    ("startup@demo.test", "/startup/", "My startup"),
    ("cluster@demo.test", "/cluster/", "Cluster"),
    ("hub@demo.test", "/hub/", "Hub"),
    ("funder@demo.test", "/funder/", "Funder"),
    ("oresund@demo.test", "/startup/", "My startup"),  # Denmark: a draft in the Danish call at BioVentureHub
    ("kuura@demo.test", "/startup/", "My startup"),  # Finland: placed in Oslo, a EUR funding draft
    ("business-finland@demo.test", "/funder/", "Funder"),
]


@pytest.fixture
def demo(app):
    seed()


@pytest.mark.parametrize("email, path, heading", LANDINGS)
def test_demo_role_logs_in_to_its_dashboard_and_it_passes_axe(demo, page, axe, email, path, heading):
    page.goto("/account/login")
    assert axe(page) == []
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{path}")
    assert page.get_by_role("heading", level=1).first.inner_text().startswith(heading)
    assert axe(page) == []


def test_public_pages_pass_axe(demo, page, axe):
    for path in ["/", "/calls", "/account/register"]:
        page.goto(path)
        assert axe(page) == [], path


def test_axe_check_can_fail(page, axe, live_server):
    """The accessibility check is real: a page with an unlabelled field and an image without alt fails it."""
    page.goto("/calls")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">');
        main.insertAdjacentHTML('beforeend', '<input type="text">');
    }""")
    found = {v["id"] for v in axe(page)}
    assert {"image-alt", "label"} <= found
