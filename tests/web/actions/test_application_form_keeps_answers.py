"""Issue 14: one answer out of range no longer costs the other answers typed with it."""
import re

from residency.core.extensions import db
from residency.domain.applications.models import Application

from tests.scenarios import complete_values
from tests.web.applicant.test_applications import applicant, start  # noqa: F401 (the fixture)
from tests.factories import answers_of


def test_an_out_of_range_answer_is_marked_and_the_others_are_saved(client, applicant):  # noqa: F811
    call, startup, founder = applicant
    app_id = start(client, call)
    values = complete_values(call, months="99", team="Two chemists and a clinician")
    r = client.post(f"/startup/applications/{app_id}", data=values | {"intent": "save", "loaded_edit_id": "0"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Your other answers are saved" in html and 'id="months-error"' in html
    assert re.search(r'name="months"[^>]*value="99"|value="99"[^>]*name="months"', html)
    app_ = db.session.get(Application, app_id)
    assert answers_of(app_)["team"] == "Two chemists and a clinician" and answers_of(app_)["summary"] == "Answer to summary"
    assert app_.desks == 2 and app_.months is None
    # The corrected answer saves on its own, without a conflict with the member's own earlier save.
    edit_id = re.search(r'name="loaded_edit_id"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="loaded_edit_id"', html)
    loaded = next(g for g in edit_id.groups() if g)
    r = client.post(f"/startup/applications/{app_id}", data=values | {"months": "6", "intent": "save", "loaded_edit_id": loaded})
    assert r.status_code == 302 and db.session.get(Application, app_id).months == 6


def test_submitting_with_an_out_of_range_answer_saves_the_rest_and_submits_nothing(client, applicant):  # noqa: F811
    call, startup, founder = applicant
    app_id = start(client, call)
    r = client.post(f"/startup/applications/{app_id}", data=complete_values(call, desks="999") | {
        "intent": "submit", "loaded_edit_id": "0"})
    assert r.status_code == 422 and 'id="desks-error"' in r.get_data(as_text=True)
    app_ = db.session.get(Application, app_id)
    assert app_.status == "draft" and answers_of(app_)["team"] == "Answer to team" and app_.desks is None
