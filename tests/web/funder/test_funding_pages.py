"""Funding pages: the administrator's schemes, the startup's applications and the funder's desk.

The precondition (a startup with an accepted placement on a route whose funder has a
scheme) is built through the services, as in tests/services/test_funding.py."""
from __future__ import annotations

import html as htmllib
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from residency.domain.funding import services as funding
from residency.core.extensions import db
from residency.domain.funding.models import Disbursement, FundingApplication, FundingReport, FundingScheme

from tests.factories import make_scheme
from tests.scenarios import payment_of, resident

BUDGET = [("personnel", "2030", "2", "100000.10"), ("rent", "2030", "2", "20000.20"), ("consumables", "2030", "3", "79999.71")]


def form_data(title="Preclinical package", own="100000.01", requested="100000.00", budget=BUDGET, intent="save", **extra):
    data = {"title": title, "description": "GLP toxicology and CMC.", "period_start": "2030-04-01",
            "period_end": "2030-12-31", "own_financing": own, "amount_requested": requested, "intent": intent}
    for n, (category, year, quarter, amount) in enumerate(budget):
        data.update({f"budget-{n}-category": category, f"budget-{n}-year": year, f"budget-{n}-quarter": quarter,
                     f"budget-{n}-amount": amount})
    # A blank line, as the page offers: skipped.
    n = len(budget)
    data.update({f"budget-{n}-category": "", f"budget-{n}-year": "", f"budget-{n}-quarter": "", f"budget-{n}-amount": ""})
    data.update(extra)
    return data


def text(response) -> str:
    """The page as a reader sees it: entities decoded, no-break spaces (money formatting) as spaces."""
    return htmllib.unescape(response.get_data(as_text=True)).replace("\xa0", " ").replace("\u202f", " ")


def shows(page: str, amount: str) -> bool:
    """Whether the page shows an amount like 'NOK 500,000.00' (Babel writes 'NOK500,000.00' in English)."""
    return re.search(re.escape(amount).replace(r"\ ", " ?"), page) is not None


def draft(make, country="NO", currency="NOK"):
    scheme, startup, founder, officer = resident(make, country, currency)
    fa = funding.start(scheme=scheme, startup=startup, actor=founder)
    return scheme, startup, founder, officer, fa


def fill(fa, founder, **kw):
    budget = [{"category": c, "year": y, "quarter": q, "amount": a} for c, y, q, a in kw.pop("budget", BUDGET)]
    values = {"title": "Preclinical package", "description": "GLP toxicology and CMC.", "period_start": "2030-04-01",
              "period_end": "2030-12-31", "own_financing": "100000.01", "amount_requested": "100000.00"}
    values.update(kw)
    funding.save_draft(fa=fa, actor=founder, values=values, budget=budget)


def submitted(make, country="NO", currency="NOK"):
    scheme, startup, founder, officer, fa = draft(make, country, currency)
    fill(fa, founder)
    funding.submit(fa=fa, actor=founder)
    return scheme, startup, founder, officer, fa


def granted(make, country="NO", currency="NOK", accept=True):
    scheme, startup, founder, officer, fa = submitted(make, country, currency)
    funding.start_assessment(fa=fa, actor=officer)
    funding.grant(fa=fa, actor=officer, amount="99999.99", share_percent="50", conditions="Report quarterly",
                  offer_deadline=date.today() + timedelta(days=14),
                  report_due={"progress": date(2030, 7, 1), "final": date(2031, 1, 31)})
    if accept:
        funding.accept_offer(fa=fa, actor=founder)
    return scheme, startup, founder, officer, fa


def paid_form(fa, disbursement):
    """The payment form of ``disbursement`` as an officer fills it in."""
    return {f"paid-{disbursement.id}-{key}": str(value) for key, value in payment_of(fa, disbursement).items()}


def reports_of(fa):
    progress, final = sorted(db.session.scalars(select(FundingReport).where(FundingReport.funding_application_id == fa.id)),
                             key=lambda r: r.kind != "progress")
    return progress, final


def field_value(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return found.group(1) if found else ""


# ================================================================== the administrator's schemes


SCHEME_FORM = {"name": "Residency support", "currency": "NOK", "max_amount": "500 000,00", "max_share_percent": "50",
               "instalments-0-label": "Advance", "instalments-0-percent": "30", "instalments-0-after": "acceptance",
               "instalments-1-label": "Interim", "instalments-1-percent": "50", "instalments-1-after": "progress_report",
               "instalments-2-label": "Final", "instalments-2-percent": "20", "instalments-2-after": "final_report",
               "home_countries": ["NO"], "max_company_age_years": "5", "report_kinds": ["progress", "final"], "active": "y"}


def test_admin_creates_lists_and_edits_a_scheme(make, login):
    funder = make.organisation("funder", name="Innovation Norway")
    client = login(make.admin())
    assert client.get("/admin/schemes/new").status_code == 200
    response = client.post("/admin/schemes/new", data=SCHEME_FORM | {"funder_id": str(funder.id)})
    assert response.status_code == 302, text(response)[:2000]
    scheme = db.session.scalar(select(FundingScheme))
    assert scheme.max_amount == Decimal("500000.00") and scheme.max_share_percent == Decimal("50.00")
    assert scheme.instalments == [{"label": "Advance", "percent": "30", "after": "acceptance"},
                                  {"label": "Interim", "percent": "50", "after": "progress_report"},
                                  {"label": "Final", "percent": "20", "after": "final_report"}]
    assert scheme.home_countries == ["NO"] and scheme.max_company_age_years == 5 and scheme.active
    page = text(client.get("/admin/schemes"))
    assert "Residency support" in page and "Innovation Norway" in page and shows(page, "NOK 500,000.00")
    assert f"/admin/schemes/{scheme.id}/edit" in page and 'aria-current="page"' in page
    edit = text(client.get(f"/admin/schemes/{scheme.id}/edit"))
    assert field_value(edit, "instalments-1-label") == "Interim" and field_value(edit, "instalments-1-percent") == "50"
    response = client.post(f"/admin/schemes/{scheme.id}/edit", data=SCHEME_FORM | {
        "funder_id": str(funder.id), "max_share_percent": "40", "active": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert scheme.max_share_percent == Decimal("40.00") and not scheme.active


@pytest.mark.parametrize("change, field, words", [
    ({"instalments-2-percent": "10"}, "instalments", "add up to 90"),
    ({"instalments-0-after": "payday"}, "instalments-0-after", "Choose when the instalment is paid."),
    ({"instalments-0-after": "final_report", "instalments-2-after": "acceptance"}, "instalments-1-after",
     "in the order they are paid"),
    ({"report_kinds": ["final"]}, "instalments-1-after", "which the report schedule does not ask for"),
    ({"max_amount": "lots"}, "max_amount", "Enter an amount"),
    ({"max_share_percent": "120"}, "max_share_percent", "at most 100"),
    ({"home_countries": []}, "home_countries", "Tick the home countries"),
    ({"name": ""}, "name", "Enter the scheme's name"),
    ({"currency": "USD"}, "currency", "Choose NOK, SEK, DKK or EUR"),
])
def test_scheme_form_refuses_with_field_messages_and_saves_nothing(make, login, change, field, words):
    funder = make.organisation("funder")
    client = login(make.admin())
    response = client.post("/admin/schemes/new", data=SCHEME_FORM | {"funder_id": str(funder.id)} | change)
    assert response.status_code == 422
    page = text(response)
    assert words in re.search(rf'id="{field}-error"[^>]*>([^<]*)<', page).group(1)
    assert db.session.scalar(select(func.count()).select_from(FundingScheme)) == 0
    assert "Residency support" in page or field == "name"  # typed values are kept


def test_scheme_currency_and_plan_are_locked_once_used(make, login):
    scheme, startup, founder, officer, fa = granted(make)
    client = login(make.admin())
    data = SCHEME_FORM | {"funder_id": str(scheme.funder_id), "name": scheme.name, "currency": "SEK",
                          "instalments-0-label": "All", "instalments-0-percent": "100", "instalments-0-after": "acceptance", "instalments-1-label": "", "instalments-1-percent": "",
                          "instalments-1-after": "", "instalments-2-label": "", "instalments-2-percent": "", "instalments-2-after": ""}
    response = client.post(f"/admin/schemes/{scheme.id}/edit", data=data)
    assert response.status_code == 422
    page = text(response)
    assert "the currency can no longer change" in page and "it can no longer change" in page
    db.session.expire_all()
    assert scheme.currency == "NOK" and len(scheme.instalments) == 3


def test_scheme_pages_are_for_programme_administrators_only(make, login):
    client = login(make.member("funder"))
    assert client.get("/admin/schemes").status_code == 403
    assert client.post("/admin/schemes/new", data=SCHEME_FORM).status_code == 403


# ================================================================== the startup


def test_startup_applies_from_the_list_and_sees_totals_exact_to_the_ore(make, login):
    scheme, startup, founder, officer = resident(make)
    client = login(founder)
    assert 'href="/startup/funding"' in text(client.get("/startup/"))
    listing = text(client.get("/startup/funding"))
    assert scheme.name in listing and f"Apply to {scheme.name}" in listing
    response = client.post("/startup/funding/apply", data={"startup_id": startup.id, "scheme_id": scheme.id})
    assert response.status_code == 302
    fa = db.session.scalar(select(FundingApplication))
    assert response.headers["Location"].endswith(f"/startup/funding/{fa.id}")
    page = text(client.get(f"/startup/funding/{fa.id}"))
    assert 'id="funding-form"' in page and "js/funding.js" in page and "<script>" not in page and "style=" not in page
    assert 'maxlength="10000"' in page and 'id="description-count"' in page
    response = client.post(f"/startup/funding/{fa.id}", data=form_data())
    assert response.status_code == 302
    page = text(client.get(f"/startup/funding/{fa.id}"))
    # 100000.10 + 20000.20 + 79999.71, to the øre; the share is 100000.00 / 200000.01.
    assert shows(page, 'id="saved-total-costs">NOK 200,000.01<')
    assert shows(page, 'id="saved-amount-requested">NOK 100,000.00<')
    assert "50.00 %" in page
    assert shows(page, "NOK 120,000.30")  # second quarter of 2030
    db.session.expire_all()
    assert funding.totals(fa).total_costs == Decimal("200000.01")
    # The saved lines come back in the form, with blank lines to add more.
    assert field_value(page, "budget-2-amount") == "79999.71" and field_value(page, "budget-3-amount") == ""


def test_swedish_reader_sees_kronor_in_swedish_formatting(make, login):
    scheme, startup, founder, officer, fa = draft(make, "SE", "SEK")
    founder.language = "sv"
    db.session.commit()
    fill(fa, founder)
    page = text(login(founder).get(f"/startup/funding/{fa.id}"))
    # Crowns carry their code: "kr" alone would not say which of four.
    assert 'id="saved-total-costs">200 000,01 SEK<' in page
    assert "50,00 %" in page


@pytest.mark.parametrize("case, words, field", [
    ("country", "Rule “home country”", None),
    ("age", "Rule “company age”", None),
    ("amount", "Rule “maximum amount”", "amount_requested"),
    ("share", "Rule “maximum share of costs”", "amount_requested"),
    ("plan", "Rule “financing plan”", "own_financing"),
])
def test_submission_refusals_name_the_rule_and_keep_what_was_typed(make, login, case, words, field):
    scheme, startup, founder, officer, fa = draft(make)
    if case == "country":
        scheme.home_countries = ["SE"]
    if case == "age":
        startup.founded_on = date(2015, 1, 1)
    db.session.commit()
    requested, own = {"amount": ("600000.00", "600000.01"), "share": ("150000.00", "50000.01"),
                      "plan": ("100000.00", "1.00")}.get(case, ("100000.00", "100000.01"))
    budget = BUDGET if case != "amount" else [("personnel", "2030", "2", "1200000.01")]
    response = login(founder).post(f"/startup/funding/{fa.id}", data=form_data(
        requested=requested, own=own, budget=budget, intent="submit", title=f"Typed {case}"))
    assert response.status_code == 422
    page = text(response)
    summary = page[page.index('id="error-summary"'):page.index("</div>", page.index('id="error-summary"'))]
    assert words in summary and "cannot be submitted yet" in summary
    if field:
        assert words in re.search(rf'id="{field}-error"[^>]*>([^<]*)<', page).group(1)
    assert field_value(page, "amount_requested") == requested and field_value(page, "title") == f"Typed {case}"
    db.session.expire_all()
    assert fa.status == "draft" and fa.title == f"Typed {case}"  # the draft is kept; nothing was sent


def test_bad_input_saves_nothing_and_is_shown_on_its_field(make, login):
    scheme, startup, founder, officer, fa = draft(make)
    response = login(founder).post(f"/startup/funding/{fa.id}", data=form_data(own="12,3,4", title="Not kept"))
    assert response.status_code == 422
    page = text(response)
    assert "Nothing was saved" in page and "Enter an amount like" in page
    assert field_value(page, "own_financing") == "12,3,4" and field_value(page, "title") == "Not kept"
    db.session.expire_all()
    assert fa.title == "" and not fa.budget_lines


def test_description_longer_than_ten_thousand_characters_is_refused(make, login):
    scheme, startup, founder, officer, fa = draft(make)
    response = login(founder).post(f"/startup/funding/{fa.id}", data=form_data(description="x" * 10001))
    assert response.status_code == 422
    assert "at most 10000 characters; it has 10001" in text(response)
    # Line breaks count once, as the browser counts them.
    ok = login(founder).post(f"/startup/funding/{fa.id}", data=form_data(description="a\r\n" * 3333 + "a"))
    assert ok.status_code == 302


def test_no_placement_no_application(make, login):
    funder = make.organisation("funder")
    scheme = make_scheme(funder)
    startup = make.organisation("startup", country="NO")
    founder = make.user(org=startup)
    client = login(founder)
    assert "Rule “residency”" in text(client.get("/startup/funding"))
    response = client.post("/startup/funding/apply", data={"startup_id": startup.id, "scheme_id": scheme.id})
    assert response.status_code == 409
    assert "Rule “residency”: you can apply only with an accepted or active residency placement." in text(response)
    assert db.session.scalar(select(func.count()).select_from(FundingApplication)) == 0


def test_change_request_loop_shows_the_officers_message(make, login):
    scheme, startup, founder, officer, fa = submitted(make)
    officer_client = login(officer)
    assert officer_client.post(f"/funder/funding/{fa.id}/start-assessment").status_code == 302
    # A change request needs a message.
    response = officer_client.post(f"/funder/funding/{fa.id}/request-changes", data={"changes-reason": ""})
    assert response.status_code == 422 and "A reason is required." in text(response)
    response = officer_client.post(f"/funder/funding/{fa.id}/request-changes",
                                   data={"changes-reason": "Split the CMC costs by quarter."})
    assert response.status_code == 302
    client = login(founder)
    page = text(client.get(f"/startup/funding/{fa.id}"))
    assert "Split the CMC costs by quarter." in page and "Changes requested" in page
    assert "Resubmit to" in page
    response = client.post(f"/startup/funding/{fa.id}", data=form_data(intent="submit", title="Revised package"))
    assert response.status_code == 302
    db.session.expire_all()
    assert fa.status == "submitted" and fa.title == "Revised package"


def test_assessment_notes_are_never_shown_to_the_startup(make, login):
    scheme, startup, founder, officer, fa = submitted(make)
    response = login(officer).post(f"/funder/funding/{fa.id}/notes", data={"notes-notes": "Team is thin on CMC."})
    assert response.status_code == 302
    assert "Team is thin on CMC." in text(login(officer).get(f"/funder/funding/{fa.id}"))
    client = login(founder)
    for url in (f"/startup/funding/{fa.id}", "/startup/funding", "/startup/"):
        assert "Team is thin on CMC." not in text(client.get(url)), url
    # Nor after the grant, when the startup sees the most.
    funding.start_assessment(fa=fa, actor=officer)
    funding.grant(fa=fa, actor=officer, amount="1000", share_percent="10", conditions="", offer_deadline=date.today() + timedelta(days=3),
                  report_due={"progress": date(2030, 7, 1), "final": date(2031, 1, 31)})
    assert "Team is thin on CMC." not in text(client.get(f"/startup/funding/{fa.id}"))


def test_grant_offer_deadline_is_shown_in_the_funders_zone_and_accepted(make, login):
    scheme, startup, founder, officer, fa = submitted(make)
    funding.start_assessment(fa=fa, actor=officer)
    deadline = date.today() + timedelta(days=10)
    officer_client = login(officer)
    grant_form = text(officer_client.get(f"/funder/funding/{fa.id}"))
    assert field_value(grant_form, "grant-amount") == "100000.00"  # what was asked, within the limits
    response = officer_client.post(f"/funder/funding/{fa.id}/grant", data={
        "grant-amount": "99 999,99", "grant-share_percent": "50", "grant-conditions": "Report quarterly",
        "grant-offer_deadline": deadline.isoformat(), "grant-report_progress": "2030-07-01", "grant-report_final": "2031-01-31"})
    assert response.status_code == 302, text(response)[:3000]
    client = login(founder)
    page = text(client.get(f"/startup/funding/{fa.id}"))
    accept_by = re.search(r'id="accept-by">([^<]*)<', page).group(1)
    assert "23:59" in accept_by and accept_by.endswith("(Europe/Oslo)") and str(deadline.day) in accept_by
    assert shows(page, "NOK 99,999.99")
    assert client.post(f"/startup/funding/{fa.id}/accept", data={"accept-confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert fa.status == "in_progress"


def test_grant_above_the_schemes_limits_is_refused_with_the_rule(make, login):
    scheme, startup, founder, officer, fa = submitted(make)
    funding.start_assessment(fa=fa, actor=officer)
    response = login(officer).post(f"/funder/funding/{fa.id}/grant", data={
        "grant-amount": "500000.01", "grant-share_percent": "51", "grant-offer_deadline": (date.today() + timedelta(days=5)).isoformat(),
        "grant-report_progress": "2030-07-01", "grant-report_final": ""})
    assert response.status_code == 422
    page = text(response)
    assert "Rule “maximum amount”" in page and "Rule “maximum share of costs”" in page
    assert "Enter the date the report is due." in page
    assert field_value(page, "grant-amount") == "500000.01"
    db.session.expire_all()
    assert fa.status == "under_assessment" and fa.granted_amount is None


def test_expired_offer_cannot_be_accepted(make, login):
    scheme, startup, founder, officer, fa = granted(make, accept=False)
    from datetime import datetime, timezone

    fa.offer_expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    db.session.commit()
    client = login(founder)
    page = text(client.get(f"/startup/funding/{fa.id}"))
    assert "The time to accept this offer has passed." in page and "Accept the grant offer" not in page
    response = client.post(f"/startup/funding/{fa.id}/accept", data={"accept-confirm": "y"})
    assert response.status_code == 409 and "The grant offer expired" in text(response)


def test_instalments_reports_payments_and_closing_through_the_pages(make, login):
    scheme, startup, founder, officer, fa = granted(make)
    client, desk = login(founder), None
    page = text(client.get(f"/startup/funding/{fa.id}"))
    # 30 / 50 / 20 % of 99 999.99: the last instalment takes the rounding.
    for amount in ("30,000.00", "50,000.00", "19,999.99"):
        assert shows(page, f"NOK {amount}")
    assert "This instalment follows the approval of the progress report." in page
    assert client.post(f"/startup/funding/{fa.id}/instalments/0").status_code == 302
    refused = client.post(f"/startup/funding/{fa.id}/instalments/1")
    assert refused.status_code == 409 and "follows the approval of the progress report" in text(refused)

    desk = login(officer)
    advance = db.session.scalar(select(Disbursement).where(Disbursement.instalment == 0))
    assert desk.post(f"/funder/funding/{fa.id}/disbursements/{advance.id}/paid", data=paid_form(fa, advance)).status_code == 302
    progress, final = reports_of(fa)

    client = login(founder)
    empty = client.post(f"/startup/funding/{fa.id}/reports/{progress.id}", data={f"report-{progress.id}-text": " "})
    assert empty.status_code == 422 and "The report is empty." in text(empty)
    assert client.post(f"/startup/funding/{fa.id}/reports/{progress.id}",
                       data={f"report-{progress.id}-text": "On track."}).status_code == 302
    desk = login(officer)
    assert desk.post(f"/funder/funding/{fa.id}/reports/{progress.id}/return",
                     data={f"return-{progress.id}-reason": "Add the toxicology timeline."}).status_code == 302
    client = login(founder)
    page = text(client.get(f"/startup/funding/{fa.id}"))
    assert "Add the toxicology timeline." in page and "Resubmit the progress report" in page
    assert client.post(f"/startup/funding/{fa.id}/reports/{progress.id}",
                       data={f"report-{progress.id}-text": "On track; tox starts in May."}).status_code == 302
    desk = login(officer)
    assert desk.post(f"/funder/funding/{fa.id}/reports/{progress.id}/approve").status_code == 302

    client = login(founder)
    assert client.post(f"/startup/funding/{fa.id}/instalments/1").status_code == 302
    desk = login(officer)
    interim = db.session.scalar(select(Disbursement).where(Disbursement.instalment == 1))
    assert desk.post(f"/funder/funding/{fa.id}/disbursements/{interim.id}/paid", data=paid_form(fa, interim)).status_code == 302
    # Closing before the final instalment is paid is refused.
    refused = desk.post(f"/funder/funding/{fa.id}/close")
    assert refused.status_code == 409 and "after every instalment is paid" in text(refused)

    client = login(founder)
    refused = client.post(f"/startup/funding/{fa.id}/instalments/2")
    assert refused.status_code == 409 and "follows the approval of the final report" in text(refused)
    assert db.session.scalar(select(func.count()).select_from(Disbursement)) == 2
    assert client.post(f"/startup/funding/{fa.id}/reports/{final.id}", data={f"report-{final.id}-text": "Done."}).status_code == 302
    desk = login(officer)
    assert desk.post(f"/funder/funding/{fa.id}/reports/{final.id}/approve").status_code == 302
    client = login(founder)
    assert client.post(f"/startup/funding/{fa.id}/instalments/2").status_code == 302
    desk = login(officer)
    last = db.session.scalar(select(Disbursement).where(Disbursement.instalment == 2))
    assert desk.post(f"/funder/funding/{fa.id}/disbursements/{last.id}/paid", data=paid_form(fa, last)).status_code == 302
    page = text(desk.get(f"/funder/funding/{fa.id}"))
    assert shows(page, 'id="paid-total">NOK 99,999.99<')
    assert desk.post(f"/funder/funding/{fa.id}/close").status_code == 302
    db.session.expire_all()
    assert fa.status == "closed"
    assert "Closed" in text(login(founder).get(f"/startup/funding/{fa.id}"))


def test_officer_rejects_with_a_reason_the_startup_reads(make, login):
    scheme, startup, founder, officer, fa = submitted(make)
    funding.start_assessment(fa=fa, actor=officer)
    desk = login(officer)
    assert desk.post(f"/funder/funding/{fa.id}/reject", data={"reject-reason": ""}).status_code == 422
    assert desk.post(f"/funder/funding/{fa.id}/reject", data={"reject-reason": "Outside the scheme's focus."}).status_code == 302
    page = text(login(founder).get(f"/startup/funding/{fa.id}"))
    assert "Not granted" in page and "Outside the scheme's focus." in page


def test_officer_cancels_a_grant_in_progress_with_a_reason_the_startup_reads(make, login):
    scheme, startup, founder, officer, fa = granted(make)
    desk = login(officer)
    page = text(desk.get(f"/funder/funding/{fa.id}"))
    assert "Cancel the grant" in page and f'action="/funder/funding/{fa.id}/cancel"' in page
    response = desk.post(f"/funder/funding/{fa.id}/cancel", data={"cancel-reason": " "})
    assert response.status_code == 422
    page = text(response)
    assert "A reason is required." in re.search(r'id="cancel-reason-error"[^>]*>([^<]*)<', page).group(1)
    db.session.expire_all()
    assert fa.status == "in_progress"
    response = desk.post(f"/funder/funding/{fa.id}/cancel", data={"cancel-reason": "The company was wound up."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/funder/funding/{fa.id}#cancelling")
    page = text(desk.get(f"/funder/funding/{fa.id}"))
    assert f"The grant to {startup.name} is cancelled." in page
    assert "Cancelled" in page and f'action="/funder/funding/{fa.id}/cancel"' not in page
    db.session.expire_all()
    assert fa.status == "cancelled"
    page = text(login(founder).get(f"/startup/funding/{fa.id}"))
    assert "Cancelled" in page and "The company was wound up." in page
    # Once cancelled there is nothing left to cancel.
    refused = login(officer).post(f"/funder/funding/{fa.id}/cancel", data={"cancel-reason": "Again"})
    assert refused.status_code == 409 and "This cannot be done now" in text(refused)


def test_a_grant_offer_not_yet_accepted_cannot_be_cancelled(make, login):
    scheme, startup, founder, officer, fa = granted(make, accept=False)
    desk = login(officer)
    assert f'action="/funder/funding/{fa.id}/cancel"' not in text(desk.get(f"/funder/funding/{fa.id}"))
    refused = desk.post(f"/funder/funding/{fa.id}/cancel", data={"cancel-reason": "Changed our mind"})
    assert refused.status_code == 409 and "This cannot be done now" in text(refused)
    db.session.expire_all()
    assert fa.status == "granted"


def test_acting_out_of_turn_is_409_with_the_reason(make, login):
    scheme, startup, founder, officer, fa = submitted(make)
    response = login(officer).post(f"/funder/funding/{fa.id}/grant", data={
        "grant-amount": "1000", "grant-share_percent": "10", "grant-offer_deadline": (date.today() + timedelta(days=5)).isoformat(),
        "grant-report_progress": "2030-07-01", "grant-report_final": "2031-01-31"})
    assert response.status_code == 409 and "This cannot be done now" in text(response)


# ================================================================== permissions


def _startup_posts(fa, report_id):
    return [f"/startup/funding/{fa.id}", f"/startup/funding/{fa.id}/accept", f"/startup/funding/{fa.id}/instalments/0",
            f"/startup/funding/{fa.id}/reports/{report_id}"]


def _funder_posts(fa, report_id, disbursement_id):
    base = f"/funder/funding/{fa.id}"
    return [f"{base}/start-assessment", f"{base}/notes", f"{base}/request-changes", f"{base}/grant", f"{base}/reject",
            f"{base}/disbursements/{disbursement_id}/paid", f"{base}/reports/{report_id}/approve",
            f"{base}/reports/{report_id}/return", f"{base}/close", f"{base}/cancel"]


def test_officer_of_the_other_funder_gets_404_on_every_funding_page_and_post(make, login):
    scheme, startup, founder, officer, fa = granted(make)
    funding.request_instalment(fa=fa, actor=founder, index=0)
    progress, _final = reports_of(fa)
    disbursement = db.session.scalar(select(Disbursement))
    other = make.member("funder", name="Vinnova")
    make_scheme(other.organisations("funder")[0], currency="SEK", countries=("SE",))
    client = login(other)
    assert client.get(f"/funder/funding/{fa.id}").status_code == 404
    for url in _funder_posts(fa, progress.id, disbursement.id):
        assert client.post(url).status_code == 404, url
    assert client.get(f"/startup/funding/{fa.id}").status_code == 404
    for url in _startup_posts(fa, progress.id):
        assert client.post(url, data=form_data()).status_code == 404, url
    assert fa.startup.name not in text(client.get("/funder/funding"))
    db.session.expire_all()
    assert disbursement.paid_at is None and progress.status == "due"


def test_a_startup_sees_only_its_own(make, login):
    scheme, startup, founder, officer, fa = granted(make)
    progress, _final = reports_of(fa)
    stranger = make.member("startup")
    client = login(stranger)
    assert client.get(f"/startup/funding/{fa.id}").status_code == 404
    for url in _startup_posts(fa, progress.id):
        assert client.post(url, data=form_data()).status_code == 404, url
    assert fa.title not in text(client.get("/startup/funding"))
    # A draft is the startup's own: its funder's officers do not see it at all.
    other_draft = funding.start(scheme=scheme, startup=startup, actor=founder)
    desk = login(officer)
    assert desk.get(f"/funder/funding/{other_draft.id}").status_code == 404
    assert desk.post(f"/funder/funding/{other_draft.id}/start-assessment").status_code == 404


def test_who_may_see_but_not_act_gets_403(make, login):
    scheme, startup, founder, officer, fa = granted(make, accept=False)
    progress, _final = reports_of(fa)
    # The startup is not a funder officer: the funder's desk is closed to it.
    client = login(founder)
    assert client.get("/funder/funding").status_code == 403
    assert client.get(f"/funder/funding/{fa.id}").status_code == 403
    assert client.post(f"/funder/funding/{fa.id}/close").status_code == 403
    assert client.post(f"/funder/funding/{fa.id}/cancel", data={"cancel-reason": "Not mine"}).status_code == 403
    # The officer sees the application but cannot act for the startup.
    desk = login(officer)
    assert desk.post(f"/startup/funding/{fa.id}/accept").status_code == 403
    assert desk.post(f"/startup/funding/{fa.id}", data=form_data()).status_code == 403
    assert desk.post(f"/startup/funding/{fa.id}/reports/{progress.id}",
                     data={f"report-{progress.id}-text": "Not mine"}).status_code == 403
    db.session.expire_all()
    assert fa.status == "granted" and progress.status == "due"


# ================================================================== the funder's queue


def test_queue_filters_by_scheme_status_and_startup(make, login):
    scheme, startup, founder, officer, fa = submitted(make)
    second = make_scheme(scheme.funder, countries=("NO",))
    second.name = "Second scheme"
    db.session.commit()
    unsent = funding.start(scheme=scheme, startup=startup, actor=founder)  # a draft: never listed
    unsent.title = "Secret draft"
    db.session.commit()
    client = login(officer)
    page = text(client.get("/funder/funding"))
    assert startup.name in page and "Preclinical package" in page and "Secret draft" not in page
    assert "Submitted, awaiting assessment" in page
    assert "Preclinical package" not in text(client.get(f"/funder/funding?scheme={second.id}"))
    assert "Preclinical package" in text(client.get(f"/funder/funding?scheme={scheme.id}"))
    assert "Preclinical package" not in text(client.get("/funder/funding?status=under_assessment"))
    assert "Preclinical package" in text(client.get("/funder/funding?status=submitted"))
    assert "Preclinical package" in text(client.get(f"/funder/funding?q={startup.name[:5].lower()}"))
    assert "Preclinical package" not in text(client.get("/funder/funding?q=nobody%25"))


def test_queue_uses_the_same_number_of_queries_for_1_and_12_rows(make, login, count_queries):
    scheme, startup, founder, officer, fa = granted(make)
    funding.request_instalment(fa=fa, actor=founder, index=0)
    client = login(officer)

    def measure():
        db.session.expire_all()
        with count_queries() as counted:
            response = client.get("/funder/funding")
        assert response.status_code == 200
        return counted.n, text(response)

    one, page = measure()
    assert "1 instalment to pay" in page
    for n in range(11):
        other = make.organisation("startup", name=f"Startup row {n}", country="NO")
        member = make.user(org=other)
        extra = FundingApplication(scheme=scheme, startup=other, placement=fa.placement, created_by_id=member.id,
                                   title=f"Row {n}", status="draft")
        db.session.add(extra)
        db.session.commit()
        from residency.core import workflow

        workflow.perform(extra, "submit", member)
        db.session.commit()
    many, page = measure()
    assert page.count('href="/funder/funding/') == 12
    assert many == one == 6
