"""Issue 14: a withdrawal without a reason marks the field; a refusal is said once per form."""

from residency.core.extensions import db
from residency.domain.applications.models import Application

from tests.scenarios import nominated_placements


def test_a_withdrawal_without_a_reason_marks_the_field_and_changes_nothing(client, make, login):
    call = make.call()
    app_ = make.application(call=call, status="submitted")
    login(make.user(org=app_.startup))
    r = client.post(f"/startup/applications/{app_.id}/withdraw", data={"reason": "  "})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="reason-error"' in html and 'aria-invalid="true"' in html
    assert db.session.get(Application, app_.id).status == "submitted"


def test_a_refused_offer_is_said_once_next_to_its_form(client, make, login):
    hub_admin, [placement] = nominated_placements(make, 1, desks=1, benches=0)
    login(hub_admin)
    r = client.post(f"/hub/placements/{placement.id}/offer", data={
        "offer-starts_on": "2030-03-01", "offer-ends_on": "2030-08-31", "offer-desks": "2", "offer-benches": "0",
        "offer-offer_expires_on": "2030-02-01", "offer-conditions": ""})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert html.count("Not enough space at the hub") == 1
    assert html.count('class="form-errors"') == 1
