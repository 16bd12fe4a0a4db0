"""A funding application's whole journey in a real browser, for Innovation Norway (NOK)
and for Vinnova (SEK): the startup applies (a rule refuses first, then the totals are
right to the øre/öre as typed and as saved), the officer assesses and grants, the
startup accepts in time, requests the instalments and submits the reports, the
officer approves and records each payment, and closes the grant. axe checks the main
pages on the way."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from residency.core.extensions import db
from residency.domain.funding.models import Disbursement, FundingApplication
from tests.factories import PASSWORD

from tests.scenarios import resident
from tests.e2e.test_application_journey import _login

pytestmark = pytest.mark.e2e

FUNDERS = {
    "NOK": ("NO", "Innovation Norway", "Europe/Oslo", "Fjordcell AS"),
    "SEK": ("SE", "Vinnova", "Europe/Stockholm", "Öresund Bio AB"),
}


@pytest.fixture
def desk(browser, live_server):
    """A second browser, for the funder officer, next to the founder's."""
    context = browser.new_context(base_url=live_server, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def amount(page, selector) -> str:
    """The text of an amount with no-break spaces as spaces."""
    return page.locator(selector).inner_text().replace("\xa0", " ").replace("\u202f", " ")


def fill_line(page, n, category, year, quarter, value):
    page.get_by_label(f"Category, line {n}", exact=True).select_option(category)
    page.get_by_label(f"Year, line {n}", exact=True).fill(year)
    page.get_by_label(f"Quarter, line {n}", exact=True).select_option(quarter)
    page.get_by_label(f"Amount, line {n}", exact=True).fill(value)


def report(page, name):
    return page.locator("article", has=page.get_by_role("heading", name=name, exact=True))


@pytest.mark.parametrize("currency", ["NOK", "SEK"])
def test_apply_grant_accept_pay_report_and_close(page, desk, make, axe, currency):
    country, funder_name, zone, startup_name = FUNDERS[currency]
    scheme, startup, founder, officer = resident(make, country, currency)
    scheme.funder.name, startup.name = funder_name, startup_name
    scheme.name = f"{funder_name} residency support"
    db.session.commit()

    # The startup finds the scheme from its dashboard and opens a draft.
    _login(page, founder.email, PASSWORD)
    page.goto("/startup/")
    page.get_by_role("link", name="Funding during the residency").click()
    page.get_by_role("heading", name="Schemes you can apply to").wait_for()
    assert axe(page) == []
    page.get_by_role("button", name=f"Apply to {scheme.name}").click()
    page.wait_for_url(re.compile(r".*/startup/funding/\d+$"))
    funding_url = page.url
    assert axe(page) == []

    # The description's counter and the totals follow what is typed.
    page.get_by_label("Project title").fill("Preclinical package")
    page.get_by_label("Project description").fill("GLP toxicology\nand CMC.")
    assert page.locator("#description-count").inner_text().startswith("23 of 10,000")
    page.get_by_label("Project starts").fill("2030-04-01")
    page.get_by_label("Project ends").fill("2030-12-31")
    fill_line(page, 1, "personnel", "2030", "2", "100000.10")
    fill_line(page, 2, "rent", "2030", "2", "20 000,20")
    fill_line(page, 3, "consumables", "2030", "3", "79999.71")
    page.get_by_label("Own financing").fill("50000.01")
    page.get_by_label("Amount requested").fill("150000")
    assert amount(page, "#live-total-costs") == f"{currency} 200,000.01"
    assert amount(page, "#live-share") == "75.00 %"
    assert "above the scheme’s maximum of 50 %" in page.locator("#live-share-note").inner_text()

    # Submitting above the maximum share is refused with the rule named; what was typed stays.
    page.get_by_role("button", name=f"Submit to {funder_name}").click()
    page.locator("#error-summary").wait_for()
    assert "Rule “maximum share of costs”" in page.locator("#error-summary").inner_text()
    assert "Rule “maximum share of costs”" in page.locator("#amount_requested-error").inner_text()
    assert page.get_by_label("Amount requested").input_value() == "150000"
    assert page.get_by_label("Amount, line 2", exact=True).input_value() == "20 000,20"
    assert axe(page) == []

    page.get_by_label("Own financing").fill("100000.01")
    page.get_by_label("Amount requested").fill("100000")
    assert amount(page, "#live-share") == "50.00 %" and amount(page, "#live-gap") == f"{currency} 0.00"
    page.get_by_role("button", name=f"Submit to {funder_name}").click()
    page.get_by_text(f"Your funding application is submitted to {funder_name}.").wait_for()
    # The server's totals, to the øre/öre.
    assert re.fullmatch(rf"{currency} ?200,000\.01", amount(page, "#saved-total-costs"))
    assert page.locator("#saved-share").inner_text().startswith("50.00 %")

    # The officer finds it in the queue, assesses and grants.
    _login(desk, officer.email, PASSWORD)
    desk.goto("/funder/")
    desk.get_by_role("link", name="Funding applications").click()
    desk.get_by_role("heading", name="Funding applications", level=1).wait_for()
    assert axe(desk) == []
    desk.get_by_role("rowheader").get_by_role("link", name=startup_name).click()
    desk.get_by_role("button", name="Start the assessment").click()
    desk.get_by_text("has started").wait_for()
    assert axe(desk) == []
    desk.get_by_role("textbox", name=re.compile("^Assessment notes")).fill("Strong team; CMC budget is tight.")
    desk.get_by_role("button", name="Save the notes").click()
    desk.get_by_text("The startup does not see them.").wait_for()
    desk.get_by_text("Grant", exact=True).click()
    desk.get_by_label("Amount granted").fill("99999.99")
    desk.get_by_label("Share of eligible costs (%)").fill("50")
    desk.get_by_label("Conditions").fill("Report on the toxicology milestones.")
    deadline = date.today() + timedelta(days=14)
    desk.get_by_label("Accept by").fill(deadline.isoformat())
    desk.get_by_label("Progress report due").fill("2030-07-01")
    desk.get_by_label("Final report due").fill("2031-01-31")
    desk.get_by_role("button", name="Grant and offer to the startup").click()
    desk.get_by_text(f"{startup_name} is offered").wait_for()
    assert desk.locator("#funding-status").inner_text() == "Granted, awaiting acceptance"

    # The startup reads the offer in the funder's time zone and accepts.
    page.goto(funding_url)
    accept_by = page.locator("#accept-by").inner_text()
    assert "23:59" in accept_by and accept_by.endswith(f"({zone})")
    assert "Strong team" not in page.content()  # assessment notes are the funder's own
    assert axe(page) == []
    page.get_by_label("I accept the grant on behalf of our startup").check()
    page.get_by_role("button", name="Accept the grant offer").click()
    page.get_by_text("You accepted the grant").wait_for()
    assert page.locator("#funding-status").inner_text() == "In progress"

    def pay(label):
        desk.goto(desk.url.split("#")[0])
        desk.get_by_text(f"Record the {label} instalment as paid").click()
        form = desk.locator("details[open] form")
        amount = form.locator("small", has_text="The instalment is").inner_text().split("is ", 1)[1].split(";")[0]
        form.get_by_label("Amount paid").fill(amount.replace("\u00a0", "").replace("\u202f", "").replace(",", "").lstrip("NOKSEDKEUR "))
        form.get_by_label("Payment reference").fill(f"BANK-{label}")
        form.get_by_role("button", name="Record the payment").click()
        desk.get_by_text("is recorded as paid").wait_for()

    def submit_report(name, text):
        card = report(page, name)
        card.get_by_label("Your report").fill(text)
        card.get_by_role("button", name=re.compile(r"(Re)?[Ss]ubmit the")).click()
        page.get_by_text("Your report is submitted").wait_for()

    # Advance after acceptance; interim after the progress report; final after the final report.
    page.get_by_role("button", name="Request the Advance instalment").click()
    page.get_by_text("You requested").wait_for()
    assert "This instalment follows the approval of the progress report." in page.locator("#instalments-section").inner_text()
    assert axe(page) == []
    pay("Advance")

    page.reload()
    submit_report("Progress report", "On track.")
    desk.reload()
    returning = report(desk, "Progress report")
    returning.locator("summary").click()
    returning.get_by_label("What should the startup add or change?").fill("Add the toxicology timeline.")
    returning.get_by_role("button", name="Return the report").click()
    desk.get_by_text("The report is returned").wait_for()
    page.reload()
    assert "Add the toxicology timeline." in report(page, "Progress report").inner_text()
    submit_report("Progress report", "On track; toxicology starts in May.")
    desk.reload()
    desk.get_by_role("button", name="Approve the progress report").click()
    desk.get_by_text("The report is approved.").wait_for()

    page.reload()
    page.get_by_role("button", name="Request the Interim instalment").click()
    page.get_by_text("You requested").wait_for()
    assert "This instalment follows the approval of the final report." in page.locator("#instalments-section").inner_text()
    pay("Interim")

    page.reload()
    submit_report("Final report", "Package delivered.")
    desk.reload()
    desk.get_by_role("button", name="Approve the final report").click()
    desk.get_by_text("The report is approved.").wait_for()
    page.reload()
    page.get_by_role("button", name="Request the Final instalment").click()
    page.get_by_text("You requested").wait_for()
    pay("Final")

    assert re.fullmatch(rf"{currency} ?99,999\.99", amount(desk, "#paid-total"))
    assert axe(desk) == []
    desk.get_by_role("button", name="Close the grant").click()
    desk.get_by_text("is closed").wait_for()
    page.reload()
    assert page.locator("#funding-status").inner_text() == "Closed"
    assert re.fullmatch(rf"{currency} ?99,999\.99", amount(page, "#paid-total"))

    db.session.expire_all()
    fa = db.session.query(FundingApplication).one()
    assert fa.status == "closed" and fa.scheme.currency == currency
    paid = sorted(d.amount for d in db.session.query(Disbursement))
    assert [str(a) for a in paid] == ["19999.99", "30000.00", "50000.00"]


def test_scheme_pages_pass_axe(page, make, axe):
    admin = make.admin()
    make.organisation("funder", name="Innovation Norway")
    _login(page, admin.email, PASSWORD)
    page.goto("/admin/schemes/new")
    assert axe(page) == []
    page.get_by_label("Funder").select_option(label="Innovation Norway")
    page.get_by_label("Name of the scheme").fill("Residency support")
    page.get_by_label("Maximum amount").fill("500 000")
    page.get_by_label("Maximum share of eligible costs (%)").fill("50")
    page.get_by_label("Norway").check()
    # The plan is rows; the usual one is offered, with a blank row for one more.
    page.locator("#instalments-2-percent").fill("10")
    page.get_by_role("button", name="Add an instalment").click()
    assert page.locator("#instalments-4-label").is_visible()
    assert page.locator("#instalments-2-percent").input_value() == "10"
    page.get_by_role("button", name="Save the scheme").click()
    assert "add up to 90" in page.locator("#instalments-error").inner_text()
    assert page.get_by_label("Name of the scheme").input_value() == "Residency support"
    assert axe(page) == []
    page.locator("#instalments-3-label").fill("Bonus")
    page.locator("#instalments-3-percent").fill("10")
    page.locator("#instalments-3-after").select_option(label="After the final report is approved")
    page.get_by_role("button", name="Save the scheme").click()
    page.get_by_text("is saved").wait_for()
    assert page.get_by_role("cell", name="Innovation Norway").is_visible()
    assert axe(page) == []
