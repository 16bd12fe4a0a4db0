"""A founder's whole journey in a real browser: register, create the startup,
start a draft, come back later, complete, submit, get the receipt; then the
change-request loop and a withdrawal."""
import re
from datetime import date, timedelta

import pytest

from residency.core import outbox
from residency.core.extensions import db
from residency.domain.applications.models import Application

from tests.scenarios import PDF
from tests.factories import answers_of

pytestmark = pytest.mark.e2e


def fill_answers(page, call):
    page.get_by_label("Who is in the team?").fill("Two founders: a chemist and an oncologist.")
    page.get_by_label("Describe your technology and its stage").fill("A small-molecule inhibitor; in vivo proof of concept.")
    page.get_by_label("What expertise do you want from the hub?").fill("Translational and regulatory expertise.")
    page.get_by_label("What do you need in the lab?").fill("One chemistry bench.")
    page.get_by_label("How is the company funded today?").fill("Pre-seed of 5 MNOK.")
    page.get_by_label("What are your funding plans during the residency?").fill("Apply to Innovation Norway.")
    page.get_by_label("Desired start").fill(call.residency_starts_on.isoformat())
    page.get_by_label("Duration in months").fill("6")
    page.get_by_label("Office desks").fill("2")
    page.get_by_label("Lab benches").fill("1")


def test_register_create_draft_return_submit_and_receive_the_receipt(page, make, axe, smtp_server, tmp_path):
    call = make.call(title="BioVentureHub residency 2027")
    # Register.
    page.goto("/account/register")
    page.get_by_label("Your name").fill("Ingrid Founder")
    page.get_by_label("E-mail").fill("ingrid@fjordcell.test")
    page.locator("#password").fill("a long password")
    page.get_by_label("Repeat the password").fill("a long password")
    page.get_by_role("button", name="Create account").click()
    # Create the startup.
    page.wait_for_url("**/startup/start")
    assert axe(page) == []
    section = page.locator("section", has=page.get_by_role("heading", name="Register your startup"))
    section.get_by_label("Name of the startup").fill("Fjordcell AS")
    section.get_by_label("Country of registration").select_option("NO")
    section.get_by_label("Organisation number").fill("923 000 038")
    section.get_by_label("Founded on").fill("2023-02-01")
    section.get_by_label("Employees").fill("4")
    section.get_by_label("Track").select_option("drugs")
    section.get_by_label("Technology readiness level (TRL)").select_option("4")
    section.get_by_role("button", name="Register the startup").click()
    page.wait_for_url("**/startup/")
    # Start a draft from the call's page.
    page.goto(f"/calls/{call.id}")
    page.get_by_role("button", name="Start or continue your application").click()
    page.wait_for_url(re.compile(r".*/startup/applications/\d+$"))
    application_url = page.url
    assert axe(page) == []
    page.get_by_label("What does your company do?").fill("We build cell therapies for solid tumours.")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Saved.").wait_for()
    # Log out, log back in: the draft is there.
    page.get_by_role("button", name="Log out").click()
    page.goto("/account/login")
    page.get_by_label("E-mail").fill("ingrid@fjordcell.test")
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/startup/")
    page.get_by_role("rowheader").get_by_role("link", name="BioVentureHub residency 2027").click()
    assert page.get_by_label("What does your company do?").input_value() == "We build cell therapies for solid tumours."
    # A failed submit keeps what was typed.
    page.get_by_label("Who is in the team?").fill("Just me, for now.")
    page.get_by_role("button", name="Submit application").click()
    page.get_by_text("Please check the marked answers.").wait_for()
    assert page.get_by_label("Who is in the team?").input_value() == "Just me, for now."
    assert axe(page) == []
    # Complete, attach the pitch deck, submit.
    fill_answers(page, call)
    deck = tmp_path / "pitch-deck.pdf"
    deck.write_bytes(PDF)
    page.get_by_role("group", name="Pitch deck and other documents").get_by_label("Add a file").set_input_files(str(deck))
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("link", name="pitch-deck.pdf").wait_for()
    page.get_by_role("button", name="Submit application").click()
    page.get_by_text("Your application is submitted.").wait_for()
    assert page.url == application_url
    assert page.get_by_text("This is a read-only copy of what you submitted.").is_visible()
    # The receipt goes out through the outbox over real SMTP.
    assert outbox.deliver_due()["sent"] >= 1
    receipts = [m for m in smtp_server.messages if m["To"] == "ingrid@fjordcell.test"]
    assert len(receipts) == 1
    body = receipts[0].get_body(("plain",)).get_content()
    assert "Fjordcell AS" in body and "Two founders: a chemist and an oncologist." in body and "pitch-deck.pdf" in body


def _login(page, email, password):
    page.goto("/account/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_change_request_loop_and_withdrawal(page, make, axe):
    from tests.factories import PASSWORD
    from tests.web.applicant.test_applications import submitted_application

    app_, founder = submitted_application(make)
    staff = make.user(org=app_.call.route.cluster)
    _login(page, staff.email, PASSWORD)
    page.goto(f"/cluster/applications/{app_.id}")
    assert axe(page) == []
    page.get_by_text("Request changes").click()
    page.get_by_label("What should the startup change?").fill("Please describe your lab plan in detail.")
    page.get_by_label("Answer by (in the call's time zone)").fill((date.today() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Send the change request").click()
    page.get_by_text("The startup is asked to make changes").wait_for()
    page.get_by_role("button", name="Log out").click()

    _login(page, founder.email, PASSWORD)
    page.goto(f"/startup/applications/{app_.id}")
    page.get_by_text("Please describe your lab plan in detail.", exact=True).wait_for()
    page.get_by_label("What do you need in the lab?").fill("Two benches with a fume hood, BSL-1.")
    page.get_by_role("button", name="Resubmit application").click()
    page.get_by_text("Your application is submitted.").wait_for()
    db.session.expire_all()
    assert db.session.get(Application, app_.id).status == "submitted"
    assert answers_of(db.session.get(Application, app_.id))["lab_needs"] == "Two benches with a fume hood, BSL-1."

    # Withdraw, with a reason.
    page.get_by_label("Why do you withdraw the application?").fill("We chose another hub.")
    page.get_by_role("button", name="Withdraw the application").click()
    page.get_by_text("The application is withdrawn.").wait_for()
    db.session.expire_all()
    assert db.session.get(Application, app_.id).status == "withdrawn"
