"""Bad input never gives a 500 and never changes anything (issue 12, item 4).

Each reproduction of the issue: a date far outside 1900-2200, a number beyond its column or
its domain, an amount beyond Numeric(14, 2), a text beyond its limit, a NUL byte or a line
break where none belongs. Each is refused with a message next to its field, the typed value
stays in the form, and nothing is stored; on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import html as htmllib
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from residency.core import limits
from residency.core.extensions import db
from residency.core.models import StatusChange
from residency.domain.accounts import tokens
from residency.domain.accounts.models import Organisation, User
from residency.domain.applications.models import Application
from residency.domain.funding import services as funding
from residency.domain.funding.models import FundingApplication, FundingReport
from residency.domain.impact.models import ImpactSurvey
from residency.domain.placements import services as placements
from residency.domain.placements.models import Placement
from residency.domain.programme.models import Call

from tests.scenarios import NOW, _in_progress, fill, resident

UTC = timezone.utc
HUGE = "9" * 30
TOO_MUCH = "99999999999999999999999.99"
MILLION = "x" * 1_000_000


def page(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True)).replace("\xa0", " ")


def field_error(response, field_id: str) -> str:
    """The message shown next to a field (``<small id="<field>-error">``), '' if none."""
    found = re.search(rf'<small id="{re.escape(field_id)}-error" class="field-error">(.*?)</small>',
                      response.get_data(as_text=True), re.S)
    return htmllib.unescape(found.group(1)).replace("\xa0", " ") if found else ""


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {tokens.create(actor=user, name='script', days=30).secret}"}


# ------------------------------------------------------------------ query parameters


@pytest.mark.parametrize("month", ["9999-05", "0001-01", "1899-12", "2201-01", "99999-01", "2030-13", "1e3-01"])
def test_occupancy_of_a_month_out_of_range_shows_the_current_months_with_a_message(client, make, login, month):
    hub = make.organisation("hub", country="SE", timezone="Europe/Stockholm")
    login(make.user(org=hub))
    response = client.get(f"/hub/{hub.id}/occupancy", query_string={"from": month})
    assert response.status_code == 200
    assert "Choose a month like 2030-03" in page(response)
    assert client.get(f"/hub/{hub.id}/occupancy", query_string={"from": "2200-12"}).status_code == 200


@pytest.mark.parametrize("kind, args, param", [
    ("grants", {"to": "9999-12-31"}, "to"),
    ("grants", {"from": "0001-01-01"}, "from"),
    ("applications", {"call": HUGE}, "call"),
    ("applications", {"call": str(2**31)}, "call"),
    ("placements", {"to": "2201-01-01"}, "to"),
    ("surveys", {"status": "due\x00"}, "status"),
])
def test_export_parameters_are_checked_before_the_first_byte(client, make, login, kind, args, param):
    login(make.admin())
    response = client.get(f"/exports/{kind}.csv", query_string=args)
    assert response.status_code == 400
    assert response.mimetype == "text/html"  # the page with the message, never a download that breaks off
    html = page(response)
    assert "Enter a date between 1900-01-01 and 2200-12-31" in html or "Choose one of" in html


def test_export_on_the_bounds_streams(client, make, login):
    login(make.admin())
    response = client.get("/exports/grants.csv", query_string={"from": "1900-01-01", "to": "2200-12-31",
                                                               "call": str(limits.MAX_ID)})
    assert response.status_code == 200 and response.mimetype == "text/csv"


@pytest.mark.parametrize("call", [HUGE, str(2**31), "-" + HUGE])
def test_insight_with_a_call_no_record_can_have_is_not_found(client, make, login, call):
    login(make.admin())
    assert client.get("/insight/", query_string={"call": call}).status_code == 404
    assert client.get("/insight/", query_string={"route": call}).status_code == 404
    assert client.get("/insight/", query_string={"month": "9999-05"}).status_code == 200


@pytest.mark.parametrize("args", [{"call": HUGE}, {"page": HUGE}, {"q": "fjord\x00bio"}, {"page": "²"}, {"trl": HUGE}])
def test_queue_filters_out_of_range_are_reported_not_a_500(client, make, login, args):
    call = make.call()
    login(make.user(org=call.route.cluster))
    assert client.get("/cluster/queue", query_string=args).status_code in (200, 400)
    assert client.get("/cluster/queue.csv", query_string=args).status_code in (200, 400)


@pytest.mark.parametrize("url", ["/admin/outbox?page=²", "/admin/outbox?page=" + "9" * 5000,
                                 "/admin/workflow?workflow=application&record_id=²",
                                 "/admin/invitations/new?organisation_id=" + "9" * 5000,
                                 "/admin/calls/new?route_id=¹", "/admin/schemes/new?funder_id=" + HUGE,
                                 "/account/notifications?page=" + HUGE, "/funder/funding?q=a%00b&scheme=" + HUGE])
def test_list_pages_take_any_number_or_text_in_their_parameters(client, make, login, url):
    admin = make.admin()
    if url.startswith("/funder"):
        admin = make.user(org=make.organisation("funder"))
    login(admin)
    assert client.get(url).status_code in (200, 302)


# ------------------------------------------------------------------ dates


def test_funding_period_beyond_2200_is_refused_and_the_officer_can_still_open_it(client, make, login):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder)
    fill(fa, founder)
    data = {"title": "Preclinical package", "description": "GLP toxicology and CMC.", "period_start": "2030-04-01",
            "period_end": "9999-12-31", "own_financing": "100000.00", "amount_requested": "100000.00",
            "budget-0-category": "personnel", "budget-0-year": "2030", "budget-0-quarter": "2", "budget-0-amount": "200000.00",
            "intent": "submit"}
    response = login(founder).post(f"/startup/funding/{fa.id}", data=data)
    assert response.status_code == 422
    assert field_error(response, "period_end") == ("Enter a date between 1900-01-01 and 2200-12-31, written year-month-day: "
                                                   "2027-03-01 is 1 March 2027.")
    assert 'value="9999-12-31"' in response.get_data(as_text=True)  # what was typed stays in the form
    db.session.expire_all()
    stored = db.session.get(FundingApplication, fa.id)
    assert stored.period_end == date(2030, 12, 31) and stored.status == "draft"
    # Corrected, it goes in, and the officer opens it.
    data["period_end"] = "2200-12-31"
    assert login(founder).post(f"/startup/funding/{fa.id}", data=data).status_code == 302
    assert db.session.get(FundingApplication, fa.id).status == "submitted"
    assert login(officer).get(f"/funder/funding/{fa.id}").status_code == 200


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01"])
def test_every_date_field_refuses_a_day_outside_1900_to_2200(client, make, login, day):
    hub = make.organisation("hub", country="SE", timezone="Europe/Stockholm")
    login(make.user(org=hub))
    response = client.post(f"/hub/{hub.id}/capacity", data={"starts_on": "2030-01-01", "ends_on": day, "desks": "1",
                                                            "benches": "1"})
    assert response.status_code == 422
    assert "Enter a date between 1900-01-01 and 2200-12-31, written year-month-day" in field_error(response, "ends_on")
    assert f'value="{day}"' in response.get_data(as_text=True)


def test_api_dates_share_the_bounds(client, make):
    scheme, startup, founder, officer = resident(make)
    placement = db.session.scalar(select(Placement))
    hub_admin = make.user(org=placement.hub)
    response = client.post(f"/api/v1/placements/{placement.id}/transitions", headers=bearer(hub_admin),
                           json={"action": "extend", "ends_on": "9999-12-31"})
    assert response.status_code == 422
    assert "Enter a date between 1900-01-01 and 2200-12-31, written year-month-day" in response.get_json()["errors"]["ends_on"][0]


# ------------------------------------------------------------------ whole numbers


def test_a_30_digit_survey_figure_is_refused_next_to_its_field(client, make, login):
    scheme, startup, founder, officer = resident(make)
    placement = db.session.scalar(select(Placement))
    survey = ImpactSurvey(placement_id=placement.id, startup_id=startup.id, months_after=12,
                          due_on=date.today() - timedelta(days=1), currency="NOK")
    db.session.add(survey)
    db.session.commit()
    answers = {"employees": HUGE, "revenue": TOO_MUCH, "capital_raised": "0", "export_revenue": "0", "patents_filed": "0",
               "products_launched": "-1", "partnerships_with_host": "1"}
    response = login(founder).post(f"/startup/surveys/{survey.id}", data=answers)
    assert response.status_code == 422
    assert field_error(response, "employees") == "Enter a whole number from 0 to 100 000."
    assert field_error(response, "revenue") == "Enter an amount of at most 999 999 999 999.99."
    assert field_error(response, "products_launched") == "Enter a whole number of 0 or more."
    assert f'value="{HUGE}"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ImpactSurvey, survey.id).submitted_at is None
    answers.update(employees="100000", revenue="999999999999.99", products_launched="0")
    assert login(founder).post(f"/startup/surveys/{survey.id}", data=answers).status_code == 302
    stored = db.session.get(ImpactSurvey, survey.id)
    assert stored.employees == 100000 and stored.revenue == Decimal("999999999999.99")


def _call_form(**over):
    data = {"title": "Spring round", "description": "", "timezone": "Europe/Stockholm", "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-02-01T12:00", "nomination_deadline": "2030-03-01T12:00",
            "decision_deadline": "2030-04-01T12:00", "seats": "3", "residency_starts_on": "2030-06-01",
            "residency_ends_on": "2031-06-01", "criteria-0-name": "Team", "criteria-0-weight": "50",
            "criteria-1-name": "Science", "criteria-1-weight": "50"}
    data.update(over)
    return data


@pytest.mark.parametrize("seats, message", [(HUGE, "Enter a whole number from 1 to 1 000."),
                                            (str(2**31), "Enter a whole number from 1 to 1 000."),
                                            ("1001", "Enter a whole number from 1 to 1 000.")])
def test_huge_seats_are_refused(client, make, login, seats, message):
    route = make.route()
    login(make.admin())
    response = client.post("/admin/calls/new", data=_call_form(route_id=str(route.id), seats=seats))
    assert response.status_code == 422
    assert message in field_error(response, "seats") or "Not a valid integer value." in field_error(response, "seats")
    assert db.session.scalar(select(func.count()).select_from(Call)) == 0
    assert client.post("/admin/calls/new", data=_call_form(route_id=str(route.id), seats="1000")).status_code == 302


def test_huge_desks_and_benches_are_refused_on_the_page_and_in_the_api(client, make, login):
    hub = make.organisation("hub", country="SE", timezone="Europe/Stockholm")
    hub_admin = make.user(org=hub)
    login(hub_admin)
    response = client.post(f"/hub/{hub.id}/capacity", data={"starts_on": "2030-01-01", "ends_on": "2030-12-31",
                                                            "desks": HUGE, "benches": "10001"})
    assert response.status_code == 422
    assert field_error(response, "benches") == "Enter a whole number from 0 to 10 000."
    assert field_error(response, "desks")  # no integer at all
    scheme, startup, founder, officer = resident(make)
    placement = db.session.scalar(select(Placement))
    response = client.post(f"/api/v1/placements/{placement.id}/transitions", headers=bearer(make.user(org=placement.hub)),
                           json={"action": "offer", "desks": 10**30, "benches": 1})
    assert response.status_code == 422


# ------------------------------------------------------------------ money


def test_an_amount_beyond_numeric_14_2_is_refused_next_to_its_field(client, make, login):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder)
    data = {"title": "Preclinical package", "description": "GLP toxicology.", "period_start": "2030-04-01",
            "period_end": "2030-12-31", "own_financing": "0", "amount_requested": TOO_MUCH,
            "budget-0-category": "personnel", "budget-0-year": "2030", "budget-0-quarter": "2", "budget-0-amount": TOO_MUCH,
            "intent": "save"}
    response = login(founder).post(f"/startup/funding/{fa.id}", data=data)
    assert response.status_code == 422
    assert field_error(response, "amount_requested") == "Enter an amount of at most 999 999 999 999.99."
    assert TOO_MUCH in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FundingApplication, fa.id).amount_requested == Decimal("0.00")
    assert not db.session.get(FundingApplication, fa.id).budget_lines


def test_the_largest_amount_is_stored_and_exported_exactly(client, make, login, app):
    """Decimal end to end, on SQLite too (in integer minor units there): 14 digits come back exact."""
    scheme, startup, founder, officer = resident(make)
    scheme.max_amount = limits.MONEY_MAX
    db.session.commit()
    fa = funding.start(scheme=scheme, startup=startup, actor=founder)
    data = {"title": "Preclinical package", "description": "GLP toxicology.", "period_start": "2030-04-01",
            "period_end": "2030-12-31", "own_financing": "500000000000,00", "amount_requested": "499 999 999 999,99",
            "budget-0-category": "personnel", "budget-0-year": "2030", "budget-0-quarter": "2",
            "budget-0-amount": "999999999999.99", "intent": "save"}
    assert login(founder).post(f"/startup/funding/{fa.id}", data=data).status_code == 302
    db.session.expire_all()
    stored = db.session.get(FundingApplication, fa.id)
    assert stored.amount_requested == Decimal("499999999999.99")
    assert isinstance(stored.amount_requested, Decimal)
    assert stored.budget_lines[0].amount == Decimal("999999999999.99")
    raw = db.session.execute(text("SELECT amount_requested FROM funding_application WHERE id = :id"), {"id": fa.id}).scalar()
    if db.engine.dialect.name == "sqlite":  # integer minor units (core.db.Money)
        assert raw == 49999999999999 and isinstance(raw, int)
    else:
        assert raw == Decimal("499999999999.99")
    funding.submit(fa=stored, actor=founder)
    csv_text = login(make.admin()).get("/exports/grants.csv").get_data(as_text=True)
    assert "499999999999.99" in csv_text and "1e+" not in csv_text.lower()


@pytest.mark.parametrize("amount", [TOO_MUCH, "1e30", "1e999999999"])
def test_scheme_and_grant_amounts_have_the_same_bound(client, make, login, amount):
    scheme, startup, founder, officer, fa = _in_progress(make)
    login(make.admin())
    response = client.post(f"/admin/schemes/{scheme.id}/edit", data={
        "funder_id": str(scheme.funder_id), "name": scheme.name, "currency": "NOK", "max_amount": amount,
        "max_share_percent": "50", "instalments-0-label": "All", "instalments-0-percent": "100", "instalments-0-after": "acceptance", "home_countries": ["NO"],
        "report_kinds": ["progress", "final"], "active": "y"})
    assert response.status_code == 422
    assert field_error(response, "max_amount")


# ------------------------------------------------------------------ texts


def test_a_withdrawal_reason_of_a_megabyte_is_refused(client, make, login):
    call = make.call()
    startup = make.organisation("startup")
    founder = make.user(org=startup)
    application = make.application(call=call, startup=startup, author=founder, status="submitted")
    response = login(founder).post(f"/startup/applications/{application.id}/withdraw", data={"reason": MILLION})
    assert response.status_code in (302, 422)
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "submitted"
    assert db.session.scalar(select(func.count()).select_from(StatusChange).where(StatusChange.action == "withdraw")) == 0
    # The API has the same limit.
    api = client.post(f"/api/v1/applications/{application.id}/transitions", headers=bearer(founder),
                      json={"action": "withdraw", "reason": "x" * (limits.REASON_MAX + 1)})
    assert api.status_code == 422
    for reason in ("why\x00not", "\ud800"):  # a NUL byte; a lone surrogate, which no database can store
        api = client.post(f"/api/v1/applications/{application.id}/transitions", headers=bearer(founder),
                          data=json.dumps({"action": "withdraw", "reason": reason}),
                          content_type="application/json")
        assert api.status_code == 422, reason
        assert api.get_json()["errors"]["reason"] == ["Remove the invisible control characters from this text."]
    ok = login(founder).post(f"/startup/applications/{application.id}/withdraw",
                             data={"reason": "Line one\r\nline two\twith a tab"})
    assert ok.status_code == 302
    assert db.session.get(Application, application.id).status == "withdrawn"


def test_a_report_text_has_the_same_limit_on_the_page_and_in_the_api(client, make, login):
    scheme, startup, founder, officer, fa = _in_progress(make)
    report = db.session.scalar(select(FundingReport).where(FundingReport.kind == "progress"))
    too_long = "x" * (limits.LONG_TEXT_MAX + 1)
    field = f"report-{report.id}-text"
    response = login(founder).post(f"/startup/funding/{fa.id}/reports/{report.id}", data={field: MILLION})
    assert response.status_code == 422
    assert field_error(response, field) == "This can be at most 10000 characters; it has 1000000."
    api = client.post(f"/api/v1/reports/{report.id}/transitions", headers=bearer(founder),
                      json={"action": "submit", "text": too_long})
    assert api.status_code == 422
    db.session.expire_all()
    assert db.session.get(FundingReport, report.id).status == "due"
    # Exactly at the limit, with line breaks as a browser sends them, goes in.
    at_limit = ("x" * 99 + "\r\n") * (limits.LONG_TEXT_MAX // 100)
    assert login(founder).post(f"/startup/funding/{fa.id}/reports/{report.id}", data={field: at_limit}).status_code == 302
    assert db.session.get(FundingReport, report.id).status == "submitted"


@pytest.mark.parametrize("typed", ["a\x00b", "\x00", "name\x1b[31m", "a\x7fb", "a\u0085b"])
def test_a_nul_byte_or_control_character_in_the_login_form_is_a_form_message(client, make, typed):
    response = client.post("/account/login", data={"email": typed, "password": "whatever-it-is"})
    assert response.status_code == 422
    assert field_error(response, "email") == "Use plain text on one line, without line breaks or control characters."


@pytest.mark.parametrize("field, typed", [("name", "Eve\r\nBcc: victim@example.com"), ("name", "Eve\x00"),
                                          ("email", "eve@example.com\nBcc: x@example.com"), ("name", "Eve\tTab")])
def test_names_and_addresses_refuse_line_breaks_and_control_characters(client, field, typed):
    data = {"name": "Eve Example", "email": "eve@example.com", "password": "a long and unusual passphrase",
            "confirm": "a long and unusual passphrase"}
    data[field] = typed
    response = client.post("/account/register", data=data)
    assert response.status_code == 422
    assert field_error(response, field) == "Use plain text on one line, without line breaks or control characters."
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_control_characters_are_refused_in_every_kind_of_text_field(client, make, login):
    login(make.admin())
    response = client.post("/admin/organisations/new", data={
        "kind": "cluster", "name": "Oslo\x00Cluster", "country": "NO", "org_number": "923000038", "city": "Os\x00lo",
        "timezone": "Europe/Oslo", "website": "https://example.org/\x00"})
    assert response.status_code == 422
    for name in ("name", "city", "website"):
        assert "control characters" in field_error(response, name), name
    assert db.session.scalar(select(func.count()).select_from(Organisation).where(Organisation.kind == "cluster")) == 0
    # A multi-line text keeps its line breaks and tabs but refuses the rest.
    route = make.route()
    response = client.post("/admin/calls/new", data=_call_form(route_id=str(route.id), description="Line\r\nnext\x00"))
    assert field_error(response, "description") == "Remove the invisible control characters from this text."
    assert client.post("/admin/calls/new", data=_call_form(route_id=str(route.id),
                                                            description="Line\r\n\tnext")).status_code == 302
    assert db.session.scalar(select(Call.description)) == "Line\n\tnext"


# ------------------------------------------------------------------ check-out


def _active(make):
    scheme, startup, founder, officer = resident(make)
    placement = db.session.scalar(select(Placement))
    placements.start_due_residencies(now=datetime(2030, 3, 1, 12, tzinfo=UTC))
    db.session.expire_all()
    placement = db.session.get(Placement, placement.id)
    assert placement.status == "active"
    return placement, make.user(org=placement.hub)


@pytest.mark.parametrize("action", ["complete", "terminate"])
def test_a_check_out_before_the_residency_started_is_refused(client, make, login, action):
    placement, hub_admin = _active(make)
    response = login(hub_admin).post(f"/hub/placements/{placement.id}/{action}",
                                     data={f"{action}-checked_out_on": "2020-01-01", f"{action}-reason": "Moved out"})
    assert response.status_code == 422
    assert field_error(response, f"{action}-checked_out_on") == \
        "The last day at the hub cannot be before the residency started (1 March 2030)."
    assert 'value="2020-01-01"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "active"
    assert db.session.scalar(select(func.count()).select_from(ImpactSurvey)) == 0


def test_a_check_out_before_the_check_in_is_refused(client, make, login):
    placement, hub_admin = _active(make)
    placements.record_check_in(placement=placement, actor=hub_admin, checked_in_on=date(2030, 3, 10))
    with pytest.raises(Exception) as refused:
        placements.complete(placement=placement, actor=hub_admin, checked_out_on=date(2030, 3, 9))
    assert "moved in (10 March 2030)" in str(refused.value)
    response = login(hub_admin).post(f"/hub/placements/{placement.id}/complete",
                                     data={"complete-checked_out_on": "2030-03-10"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "completed"
    assert db.session.scalar(select(func.count()).select_from(ImpactSurvey)) == 3


# ------------------------------------------------------------------ one place for bounds


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_form_of_the_service_gets_the_bounds(app):
    """Every form is a ``BoundedForm`` (a nested one a ``BoundedSubform``), so a new form's fields
    refuse control characters and out-of-range values without anyone remembering to."""
    import pkgutil
    import importlib

    import residency.web
    from flask_wtf import FlaskForm
    from wtforms import Form

    from residency.web.formtools import BoundedForm, BoundedSubform

    for module in pkgutil.walk_packages(residency.web.__path__, "residency.web."):
        importlib.import_module(module.name)
    ours = [c for c in _subclasses(Form) if c.__module__.startswith("residency.")]
    assert len(ours) > 40
    unbounded = [f"{c.__module__}.{c.__qualname__}" for c in ours
                 if not issubclass(c, (BoundedForm, BoundedSubform)) and c not in (BoundedForm, BoundedSubform)]
    assert not unbounded
    assert not [c for c in _subclasses(FlaskForm) if c.__module__.startswith("residency.") and not issubclass(c, BoundedForm)]


def test_limits_have_one_home_shared_by_forms_api_and_services():
    from residency.domain.funding import schemes
    from residency.domain.funding import services as funding_services
    from residency.web.api import schemas
    from residency.web.applicant.funding_forms import ReportForm
    from residency.web.routing import MAX_ID

    assert MAX_ID == limits.MAX_ID == 2**31 - 1
    assert schemes.MAX_AMOUNT == limits.MONEY_MAX and funding_services.MAX_DESCRIPTION == limits.LONG_TEXT_MAX
    text_max = next(v.max for v in schemas.TransitionSchema().fields["text"].validators if hasattr(v, "max"))
    reason_max = next(v.max for v in schemas.TransitionSchema().fields["reason"].validators if hasattr(v, "max"))
    assert text_max == limits.LONG_TEXT_MAX and reason_max == limits.REASON_MAX
    with pytest.raises(limits.OutOfBounds):
        limits.parse_money(TOO_MUCH)
    with pytest.raises(Exception):
        limits.parse_money(1e5)  # never a float
    assert limits.parse_money("999 999 999 999,99") == limits.MONEY_MAX


def test_a_budget_line_cell_refused_is_named_above_the_table(client, make, login):
    scheme, startup, founder, officer = resident(make)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder)
    data = {"title": "Preclinical package", "description": "GLP toxicology.", "period_start": "2030-04-01",
            "period_end": "2030-12-31", "own_financing": "0", "amount_requested": "100",
            "budget-0-category": "personnel", "budget-0-year": "2030", "budget-0-quarter": "2", "budget-0-amount": "1\x00",
            "intent": "save"}
    response = login(founder).post(f"/startup/funding/{fa.id}", data=data)
    assert response.status_code == 422
    assert "Budget line 1: Use plain text on one line, without line breaks or control characters." in page(response)


@pytest.mark.parametrize("url", ["/calendar/a%00b.ics", "/calendar/%C2%85.ics", "/account/reset/a%00b",
                                 "/account/invitation/a%00b", "/admin/workflow/a%00b/1"])
def test_a_nul_byte_in_a_path_is_not_found(client, make, login, url):
    login(make.admin())
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("secret", ["rx_abc\x00def", "x" * 5000, "æøå"])
def test_any_bearer_token_is_refused_plainly(client, secret):
    assert client.get("/api/v1/applications", headers={"Authorization": "Bearer " + secret}).status_code == 401
