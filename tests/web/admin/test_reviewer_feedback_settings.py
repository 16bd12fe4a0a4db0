"""The call form: guidance for the reviewers on each criterion row, and whether the reviewers'
comments for the startup go into the decision e-mail."""
import html
import re

from sqlalchemy import select

from residency.core.extensions import db
from residency.domain.programme.models import Call
from tests.web.admin.test_editors import _call_form


def _error(page: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}-error"[^>]*>([^<]*)<', page)
    return html.unescape(found.group(1)) if found else ""


def test_guidance_is_typed_on_the_criterion_row_and_the_email_option_is_on_by_default(make, login):
    route = make.route()
    client = login(make.admin())
    new = client.get("/admin/calls/new").get_data(as_text=True)
    assert 'name="criteria-0-guidance"' in new
    assert re.search(r'<input[^>]*checked[^>]*name="feedback_in_decision_email"|<input[^>]*name="feedback_in_decision_email"[^>]*checked', new)
    form = _call_form(route) | {"criteria-0-guidance": "Is there proof of concept?", "feedback_in_decision_email": "y"}
    assert client.post("/admin/calls/new", data=form).status_code == 302
    call = db.session.scalar(select(Call))
    assert [c.guidance for c in call.criteria] == ["Is there proof of concept?", ""]
    assert call.feedback_in_decision_email is True
    edit = client.get(f"/admin/calls/{call.id}/edit").get_data(as_text=True)
    assert "Is there proof of concept?</textarea>" in edit
    assert "Is there proof of concept?" in client.get(f"/admin/calls/{call.id}").get_data(as_text=True)

    # Unticked: left out of the decision e-mail.
    form = _call_form(route) | {"criteria-0-guidance": "Is there proof of concept?"}
    form.pop("route_id")
    assert client.post(f"/admin/calls/{call.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Call, call.id).feedback_in_decision_email is False


def test_too_long_guidance_is_refused_on_its_row_and_nothing_is_saved(make, login):
    route = make.route()
    client = login(make.admin())
    response = client.post("/admin/calls/new", data=_call_form(route) | {"criteria-1-guidance": "y" * 4001})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at most 4000 characters" in _error(page, "criteria-1-guidance")
    assert db.session.scalar(select(Call)) is None
