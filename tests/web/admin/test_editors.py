"""The administrator's structured editors: scoring criteria and instalment plans as rows, a call's
description in paragraphs, the audit trail browsed from each record, and the outbox's messages."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from residency.core.extensions import db
from residency.domain.programme.models import Call

UTC = timezone.utc


def _call_form(route, **overrides):
    data = {"route_id": route.id, "title": "Spring residency", "description": "Come to Gothenburg.",
            "timezone": "Europe/Oslo", "opens_at": "2027-03-28T12:00", "closes_at": "2027-05-01T12:00",
            "nomination_deadline": "2027-06-01T12:00", "decision_deadline": "2027-06-15T12:00", "seats": "3",
            "residency_starts_on": "2027-09-01", "residency_ends_on": "2028-06-30",
            "criteria-0-name": "Science", "criteria-0-weight": "60", "criteria-1-name": "Team", "criteria-1-weight": "40"}
    data.update(overrides)
    return data


# ------------------------------------------------------------- description


def test_a_description_typed_in_a_browser_keeps_its_paragraphs(make, login):
    route = make.route()
    client = login(make.admin())
    text = "First paragraph.\r\nStill the first.\r\n\r\nSecond paragraph.\r\n\r\n\r\nThird."
    assert client.post("/admin/calls/new", data=_call_form(route, description=text)).status_code == 302
    call = db.session.scalar(select(Call))
    assert "\r" not in call.description
    assert call.paragraphs == ["First paragraph.\nStill the first.", "Second paragraph.", "Third."]
    page = client.get(f"/admin/calls/{call.id}").get_data(as_text=True)
    assert "<p>Second paragraph.</p>" in page and "<p>Third.</p>" in page


def test_a_description_stored_with_cr_lf_is_still_shown_in_paragraphs(make, client):
    call = make.call(status="published")
    call.description = "One.\r\n\r\nTwo."
    db.session.commit()
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "<p>One.</p>" in page and "<p>Two.</p>" in page


# ------------------------------------------------------------- scoring criteria


def _input_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    if found is None:
        return None
    value = re.search(r'value="([^"]*)"', found.group(0))
    return value.group(1) if value else ""


def _error(page: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}-error"[^>]*>([^<]*)<', page)
    return html.unescape(found.group(1)) if found else ""


def test_criteria_are_rows_of_name_and_weight_with_blank_rows_to_add_more(make, login):
    route = make.route()
    client = login(make.admin())
    page = client.get("/admin/calls/new").get_data(as_text=True)
    editor = re.search(r'<fieldset id="criteria".*?name="add_row"', page, re.S).group(0)
    assert "|" not in editor and "Criterion 3" in editor
    assert _input_value(page, "criteria-0-name") == "" and _input_value(page, "criteria-2-weight") == ""
    assert 'name="add_row" value="criteria"' in page
    form = _call_form(route) | {"criteria-2-name": "", "criteria-2-weight": "", "criteria-3-name": "Fit",
                                "criteria-3-weight": "12,5"}
    assert client.post("/admin/calls/new", data=form).status_code == 302
    call = db.session.scalar(select(Call))
    assert [(c.name, str(c.weight), c.position) for c in call.criteria] == [
        ("Science", "60.00", 0), ("Team", "40.00", 1), ("Fit", "12.50", 2)]
    edit = client.get(f"/admin/calls/{call.id}/edit").get_data(as_text=True)
    assert _input_value(edit, "criteria-2-name") == "Fit" and _input_value(edit, "criteria-2-weight") == "12.5"
    assert _input_value(edit, "criteria-3-name") == ""  # a blank row to add one more


def test_a_criterion_row_problem_is_shown_next_to_its_field_and_nothing_typed_is_lost(make, login):
    route = make.route()
    client = login(make.admin())
    form = _call_form(route) | {"criteria-1-weight": "0", "criteria-2-name": "", "criteria-2-weight": "5",
                                "criteria-3-name": "science", "criteria-3-weight": "1"}
    response = client.post("/admin/calls/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "more than 0" in _error(page, "criteria-1-weight")
    assert "Enter the criterion's name." in _error(page, "criteria-2-name")
    assert "listed twice" in _error(page, "criteria-3-name")
    assert 'aria-describedby="criteria-1-weight-error"' in page
    assert _input_value(page, "criteria-0-name") == "Science" and _input_value(page, "criteria-2-weight") == "5"
    assert db.session.scalar(select(Call)) is None


def test_no_criterion_at_all_is_refused_on_the_editor(make, login):
    route = make.route()
    form = {k: v for k, v in _call_form(route).items() if not k.startswith("criteria")}
    response = login(make.admin()).post("/admin/calls/new", data=form)
    assert response.status_code == 422
    assert "Add at least one scoring criterion." in _error(response.get_data(as_text=True), "criteria")


def test_add_a_row_shows_one_more_and_keeps_what_was_typed_without_saving(make, login):
    route = make.route()
    client = login(make.admin())
    response = client.post("/admin/calls/new", data=_call_form(route, title="Half typed") | {"add_row": "criteria"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _input_value(page, "title") == "Half typed"
    assert _input_value(page, "criteria-1-name") == "Team" and _input_value(page, "criteria-2-name") == ""
    assert "Please correct" not in page  # nothing was checked yet
    assert db.session.scalar(select(Call)) is None


def test_the_number_of_criteria_is_bounded(make, login):
    route = make.route()
    form = _call_form(route)
    for n in range(21):
        form |= {f"criteria-{n}-name": f"Criterion {n}", f"criteria-{n}-weight": "1"}
    response = login(make.admin()).post("/admin/calls/new", data=form)
    assert response.status_code == 422
    assert "Use at most 20 criteria." in _error(response.get_data(as_text=True), "criteria")
    assert db.session.scalar(select(Call)) is None
    full = login(make.admin()).post("/admin/calls/new", data=form | {"add_row": "criteria"}).get_data(as_text=True)
    assert 'name="add_row" value="criteria"' not in full  # no more rows are offered


# ------------------------------------------------------------- instalment plans


def _scheme_form(funder, **rows):
    data = {"funder_id": str(funder.id), "name": "Residency support", "currency": "NOK", "max_amount": "500000",
            "max_share_percent": "50", "home_countries": ["NO"], "report_kinds": ["progress", "final"], "active": "y",
            "instalments-0-label": "Advance", "instalments-0-percent": "30", "instalments-0-after": "acceptance",
            "instalments-1-label": "Interim", "instalments-1-percent": "50", "instalments-1-after": "progress_report",
            "instalments-2-label": "Final", "instalments-2-percent": "20", "instalments-2-after": "final_report"}
    data.update(rows)
    return data


def test_the_instalment_plan_is_rows_with_a_trigger_chosen_from_a_list(make, login):
    from residency.domain.funding.models import FundingScheme

    funder = make.organisation("funder")
    client = login(make.admin())
    page = client.get("/admin/schemes/new").get_data(as_text=True)
    assert "progress_report |" not in page and "| acceptance" not in page
    assert _input_value(page, "instalments-1-label") == "Interim" and _input_value(page, "instalments-1-percent") == "50"
    select_ = re.search(r'<select[^>]*name="instalments-1-after".*?</select>', page, re.S).group(0)
    assert re.search(r'<option[^>]*selected[^>]*value="progress_report"|<option value="progress_report" selected', select_)
    assert ">After the progress report is approved</option>" in select_
    assert _input_value(page, "instalments-3-label") == ""  # room for one more
    response = client.post("/admin/schemes/new", data=_scheme_form(funder, **{"instalments-1-percent": "45,5",
                                                                              "instalments-2-percent": "24.5"}))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    scheme = db.session.scalar(select(FundingScheme))
    assert scheme.instalments == [{"label": "Advance", "percent": "30", "after": "acceptance"},
                                  {"label": "Interim", "percent": "45.5", "after": "progress_report"},
                                  {"label": "Final", "percent": "24.5", "after": "final_report"}]
    edit = client.get(f"/admin/schemes/{scheme.id}/edit").get_data(as_text=True)
    assert _input_value(edit, "instalments-1-percent") == "45.5"


def test_instalment_problems_are_shown_on_their_row_and_the_shares_must_add_up_to_100(make, login):
    from residency.domain.funding.models import FundingScheme

    funder = make.organisation("funder")
    client = login(make.admin())
    response = client.post("/admin/schemes/new", data=_scheme_form(funder, **{
        "instalments-0-label": "", "instalments-1-after": "", "instalments-2-percent": "120"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter the instalment's label." in _error(page, "instalments-0-label")
    assert "Choose when the instalment is paid." in _error(page, "instalments-1-after")
    assert "at most 100" in _error(page, "instalments-2-percent")
    assert _input_value(page, "instalments-2-percent") == "120"
    response = client.post("/admin/schemes/new", data=_scheme_form(funder, **{"instalments-2-percent": "10"}))
    assert response.status_code == 422
    assert "add up to 90" in _error(response.get_data(as_text=True), "instalments")
    response = client.post("/admin/schemes/new", data=_scheme_form(funder, **{
        "instalments-0-after": "final_report", "instalments-2-after": "acceptance"}))
    assert "in the order they are paid" in _error(response.get_data(as_text=True), "instalments-1-after")
    assert db.session.scalar(select(FundingScheme)) is None


def test_add_an_instalment_keeps_the_typed_plan(make, login):
    funder = make.organisation("funder")
    response = login(make.admin()).post("/admin/schemes/new", data=_scheme_form(funder, **{
        "instalments-2-label": "Last", "add_row": "instalments"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _input_value(page, "instalments-2-label") == "Last" and _input_value(page, "instalments-3-label") == ""


# ------------------------------------------------------------- the audit trail


def test_the_audit_trail_is_browsed_newest_first_and_each_change_opens_its_records_trail(make, login):
    from residency.core import workflow

    admin = make.admin()
    application = make.application(status="submitted")
    call = make.call(status="draft")
    workflow.perform(call, "publish", admin)
    db.session.commit()
    client = login(admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'href="/admin/audit" aria-current="page"' in page or 'href="/admin/audit"' in page
    rows = re.findall(r'<a href="/admin/workflow/(\w+)/(\d+)">([^<]*)</a>', page)
    assert ("call", str(call.id), f"Call {call.id}") == rows[0]  # newest first
    assert ("application", str(application.id), f"Application {application.id}") in rows
    assert "Published" in page or "Publish" in page
    trail = client.get(f"/admin/workflow/application/{application.id}").get_data(as_text=True)
    assert 'href="/admin/audit?workflow=application&amp;record_id=' in trail or "/admin/audit" in trail


def test_the_audit_trail_is_searched_by_kind_record_actor_and_day(make, login):
    from residency.core import workflow

    admin = make.admin()
    first = make.application(status="submitted")
    second = make.application(status="submitted")
    staff = make.user(org=second.call.route.cluster, name="Kari Nordmann")
    workflow.perform(second, "start_review", staff)
    db.session.commit()
    client = login(admin)

    def records(query):
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        return re.findall(r'<a href="/admin/workflow/(\w+)/(\d+)">', response.get_data(as_text=True))

    assert set(records("workflow=application")) == {("application", str(first.id)), ("application", str(second.id))}
    assert records("workflow=call") == [] or all(kind == "call" for kind, _ in records("workflow=call"))
    assert set(records(f"workflow=application&record_id={first.id}")) == {("application", str(first.id))}
    assert records("actor=nordmann") == [("application", str(second.id))]
    assert records("actor=%25") == []  # a wildcard typed is a character searched for
    today = datetime.now(UTC).date()
    assert len(records(f"since={today - timedelta(days=1)}&until={today + timedelta(days=1)}")) >= 3
    # The factory publishes calls ten days back; nothing happened before that.
    assert records(f"until={today - timedelta(days=30)}") == []
    assert {kind for kind, _ in records(f"until={today - timedelta(days=5)}")} == {"call"}
    page = client.get("/admin/audit", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    kinds = re.search(r'<select[^>]*name="workflow".*?</select>', page, re.S).group(0)
    assert ">placement<" not in kinds and ">Placering<" in kinds


def test_a_bad_audit_search_is_explained_on_its_field(make, login):
    response = login(make.admin()).get("/admin/audit?record_id=abc&since=2027-05-02&until=2027-05-01")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="record_id-error"' in page and 'id="until-error"' in page


def test_the_audit_trail_pages_with_a_fixed_number_of_queries(make, login, count_queries):
    from residency.core import workflow

    admin = make.admin()
    client = login(admin)
    call = make.call(status="draft")

    def queries():
        with count_queries() as counted:
            assert client.get("/admin/audit").status_code == 200
        return counted.n

    workflow.perform(call, "publish", admin)
    db.session.commit()
    small = queries()
    for _n in range(30):
        workflow.perform(call, "close", admin)
        workflow.perform(call, "reopen", admin)
    db.session.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'rel="next"' in page
    assert queries() == small


def _also_programme_admin(make, user):
    from residency.domain.accounts.models import Membership

    db.session.add(Membership(user=user, organisation=make.organisation("operator")))
    db.session.commit()
    return user


def test_staff_record_pages_lead_a_programme_administrator_to_the_records_trail(make, login):
    from tests.scenarios import _in_progress, nominated_placements

    application = make.application(status="submitted")
    staff = make.user(org=application.call.route.cluster)
    url = f"/cluster/applications/{application.id}"
    trail = f'href="/admin/workflow/application/{application.id}"'
    assert trail not in login(staff).get(url).get_data(as_text=True)  # no administrator: no link
    assert trail in login(_also_programme_admin(make, staff)).get(url).get_data(as_text=True)

    hub_admin, placements = nominated_placements(make)
    placement = placements[0]
    page = login(_also_programme_admin(make, hub_admin)).get(f"/hub/placements/{placement.id}").get_data(as_text=True)
    assert f'href="/admin/workflow/placement/{placement.id}"' in page

    scheme, startup, founder, officer, fa = _in_progress(make)
    page = login(_also_programme_admin(make, officer)).get(f"/funder/funding/{fa.id}").get_data(as_text=True)
    assert f'href="/admin/workflow/funding/{fa.id}"' in page
    from residency.domain.funding.models import FundingReport

    reports = db.session.scalars(select(FundingReport).where(FundingReport.funding_application_id == fa.id)).all()
    assert reports
    for report in reports:
        assert f'href="/admin/workflow/report/{report.id}"' in page


# ------------------------------------------------------------- the outbox


def _queued_invitation(key="preview:1", recipient="new.staff@example.test", language="en"):
    from residency.core import outbox
    from residency.core.outbox_models import OutboxMessage

    outbox.enqueue(recipient=recipient, template="invitation", dedup_key=key, language=language,
                   context={"token": "tok", "organisation": "BioVentureHub", "inviter": "Ada", "days": 7})
    db.session.commit()
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == key))


def test_the_outbox_shows_subjects_not_template_keys_and_opens_a_rendered_preview(make, login):
    message = _queued_invitation()
    client = login(make.admin())
    listing = client.get("/admin/outbox").get_data(as_text=True)
    assert f'href="/admin/outbox/{message.id}"' in listing
    assert "<code>invitation</code>" not in listing
    response = client.get(f"/admin/outbox/{message.id}")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "You are invited to the Nordic Residency Exchange" in page
    assert "new.staff@example.test" in page
    text = re.search(r'<pre[^>]*id="preview-text"[^>]*>(.*?)</pre>', page, re.S).group(1)
    assert "BioVentureHub" in text
    assert 'sandbox=""' in page and "srcdoc=" in page  # the HTML, shown without running anything in it
    assert f'action="/admin/outbox/{message.id}/cancel"' in page
    assert message.delivery == "queued"  # looking sends nothing
    assert client.get("/admin/outbox/999999").status_code == 404


def test_a_preview_in_the_recipients_language(make, login):
    message = _queued_invitation(key="preview:sv", recipient="sv@example.test", language="sv")
    page = html.unescape(login(make.admin()).get(f"/admin/outbox/{message.id}").get_data(as_text=True))
    assert "You are invited" not in re.search(r'<pre[^>]*id="preview-text"[^>]*>(.*?)</pre>', page, re.S).group(1)


def test_cancel_and_resend_are_kept_with_who_did_them(make, login):
    from residency.core.outbox_models import OutboxAction

    message = _queued_invitation(key="audited:1")
    admin = make.admin()
    client = login(admin)
    next_url = f"/admin/outbox/{message.id}"
    assert client.post(f"/admin/outbox/{message.id}/cancel", data={"next": next_url}).headers["Location"].endswith(next_url)
    client.post(f"/admin/outbox/{message.id}/resend")
    actions = db.session.scalars(select(OutboxAction).where(OutboxAction.message_id == message.id)
                                 .order_by(OutboxAction.id)).all()
    assert [(a.action, a.actor_id, a.delivery_before) for a in actions] == [
        ("cancel", admin.id, "queued"), ("resend", admin.id, "cancelled")]
    page = client.get(next_url).get_data(as_text=True)
    assert f"Cancelled by {admin.name}" in page and f"Resent by {admin.name}" in page
    # A refused action (it is queued again: nothing to resend) leaves no row.
    client.post(f"/admin/outbox/{message.id}/resend")
    assert db.session.scalar(select(func.count()).select_from(OutboxAction)) == 2


def test_two_administrators_resending_at_once_queue_the_message_once(app, make):
    from residency.core.outbox_models import OutboxAction, OutboxMessage
    from residency.domain.programme import services
    from residency.domain.accounts.models import User
    from tests.concurrency import errors, race, winners

    message = make.outbox_message(delivery="failed", last_error="SMTPDataError: 554")
    admins = [make.admin().id for _ in range(4)]
    message_id = message.id

    def act(admin_id, barrier):
        actor = db.session.get(User, admin_id)
        barrier.wait()
        services.resend_message(actor, message_id)

    results = race(app, admins, act, hold=0.1)
    assert errors(results) == []
    assert winners(results) == 1
    assert all("already waiting to be sent" in v for v in results.values() if v != "won")
    assert db.session.get(OutboxMessage, message_id).delivery == "queued"
    assert db.session.scalar(select(func.count()).select_from(OutboxAction)) == 1
