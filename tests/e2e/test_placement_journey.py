"""A placement's whole journey in a real browser: the hub offers from its inbox, the
startup accepts, the scheduler starts the residency, the hub completes it; axe checks
the inbox, occupancy, placement and offer pages."""
from datetime import datetime, time, timezone

import pytest

from residency.domain.review import nominations
from residency.domain.placements import services as placements
from residency.core import workflow
from residency.core.extensions import db
from residency.domain.placements.models import Placement
from tests.factories import PASSWORD

from tests.e2e.test_application_journey import _login

pytestmark = pytest.mark.e2e


def nominated_startup(make):
    route = make.route()
    hub = route.host_hub
    call = make.call(route=route, title="BioVentureHub residency 2027")
    make.capacity(hub, call.residency_starts_on, call.residency_ends_on, desks=4, benches=2)
    startup = make.organisation("startup", name="Fjordcell AS", country="NO")
    founder = make.user(org=startup, name="Ingrid Founder")
    application = make.application(call=call, startup=startup, author=founder, status="submitted")
    application.desired_start, application.months, application.desks, application.benches = call.residency_starts_on, 6, 2, 1
    staff = make.user(org=route.cluster)
    workflow.perform(application, "start_review", staff)
    db.session.commit()
    nominations.nominate(application=application, actor=staff, rationale="Strong team; needs a chemistry bench.")
    call.decisions_released_at = datetime.now(timezone.utc)
    db.session.commit()
    hub_admin = make.user(org=hub, name="Hanna Hub")
    placement = db.session.query(Placement).filter_by(application_id=application.id).one()
    return hub_admin, founder, placement


def test_offer_accept_start_and_complete(page, make, axe):
    hub_admin, founder, placement = nominated_startup(make)
    hub, call = placement.hub, placement.application.call
    start = call.residency_starts_on

    # The hub offers from its inbox, prefilled from the application.
    _login(page, hub_admin.email, PASSWORD)
    page.goto("/hub/")
    page.get_by_role("button", name=f"Placements at {hub.name}").click()
    page.get_by_role("heading", name="Waiting for your decision").wait_for()
    assert page.get_by_text("Strong team; needs a chemistry bench.").is_visible()
    assert axe(page) == []
    page.get_by_role("rowheader").get_by_role("link", name="Fjordcell AS").click()
    page.get_by_role("heading", name="Offer a residency").wait_for()
    assert axe(page) == []
    assert page.get_by_label("First day of the residency").input_value() == start.isoformat()
    assert page.get_by_label("Office desks").input_value() == "2"
    page.get_by_label("Conditions").fill("Rental agreement with a confidentiality clause")
    page.get_by_role("button", name="Send the offer").click()
    page.get_by_text("is offered a residency").wait_for()
    assert page.locator(".status-tag").inner_text() == "Offered"

    # Occupancy: the offer holds two desks in the first month.
    page.goto(f"/hub/{hub.id}/occupancy?from={start.strftime('%Y-%m')}")
    page.get_by_role("heading", name="Office desks").wait_for()
    first_row = page.get_by_role("table").first.locator("tbody tr").first
    # Capacity starts with the call's window, so it may vary within the first month.
    assert [c.split()[0] for c in first_row.locator("td").all_inner_texts()][1:4] == ["4", "0", "2"]
    assert axe(page) == []
    page.get_by_role("button", name="Log out").click()

    # The startup reads the offer in the hub's time zone and accepts.
    _login(page, founder.email, PASSWORD)
    page.goto("/startup/")
    page.get_by_role("link", name="Residency: Offer received").click()
    page.get_by_role("heading", name="The offer").wait_for()
    answer_by = page.locator("dt:text-is('Answer by') + dd time").inner_text()
    assert "23:59" in answer_by and answer_by.endswith("(Europe/Stockholm)")
    assert page.get_by_text("Rental agreement with a confidentiality clause").is_visible()
    assert axe(page) == []
    page.get_by_label("I accept the residency on behalf of our startup").check()
    page.get_by_role("button", name="Accept the offer").click()
    page.get_by_text("You accepted the offer.").wait_for()
    assert page.locator(".status-tag").inner_text() == "Accepted"

    # The scheduler (its own process, so a fresh session) starts the residency on its first day in Gothenburg.
    db.session.expire_all()
    assert placements.start_due_residencies(now=datetime.combine(start, time(12), timezone.utc)) == 1
    page.reload()
    assert page.locator(".status-tag").inner_text() == "In residence"
    page.get_by_role("button", name="Log out").click()

    # The hub completes it on the last day.
    _login(page, hub_admin.email, PASSWORD)
    page.goto(f"/hub/placements/{placement.id}")
    assert page.locator(".status-tag").inner_text() == "In residence"
    db.session.expire_all()
    ends_on = db.session.get(Placement, placement.id).ends_on
    completing = page.locator("details", has=page.locator("summary", has_text="Complete the residency"))
    completing.locator("summary").click()
    completing.get_by_label("Last day at the hub").fill(ends_on.isoformat())
    completing.get_by_role("button", name="Complete the residency").click()
    page.get_by_text("is completed").wait_for()
    assert page.locator(".status-tag").inner_text() == "Completed"
    db.session.expire_all()
    done = db.session.get(Placement, placement.id)
    assert (done.status, done.checked_out_on) == ("completed", ends_on)
    page.get_by_role("button", name="Log out").click()

    _login(page, founder.email, PASSWORD)
    page.goto(f"/startup/placements/{placement.id}")
    assert page.locator(".status-tag").inner_text() == "Completed"

    # The founder subscribes to the private calendar feed.
    page.get_by_role("link", name="Calendar feed").click()
    page.get_by_role("button", name="Create my calendar address").click()
    address = page.get_by_label("Your calendar address").input_value()
    assert address.endswith(".ics")
    assert axe(page) == []
    feed = page.request.get(address)
    assert feed.ok and b"BEGIN:VCALENDAR" in feed.body() and b"Fjordcell AS" in feed.body()
