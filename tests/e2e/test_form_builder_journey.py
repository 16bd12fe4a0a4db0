"""Issue 15 in a real browser: an administrator builds a call's form with a question of every kind
and a conditional one, previews it and publishes the call; a startup fills it in, is refused with
each missing required question and broken word limit named, and submits; cluster staff read every
answer and export the queue with a column per question; the hub reads its nominee's answers; after
the release the startup reads the reviewer comment written for it and nothing else of the reviews."""
from __future__ import annotations

import csv
import io
import re

import pytest
from pypdf import PdfReader

from residency.core import workflow
from residency.core.extensions import db
from tests.factories import PASSWORD
from residency.domain.applications.models import Application
from residency.domain.review import nominations
from residency.domain.review import services as reviews

from tests.e2e.test_application_journey import fill_answers
from tests.scenarios import PDF

pytestmark = pytest.mark.e2e

# kind → (question, settings to fill in the editor, how the startup answers, how the answer reads)
QUESTIONS = {
    "short_text": ("Company website", {}, ("fill", "https://fjordcell.test"), "https://fjordcell.test"),
    "long_text": ("Describe the clinical need", {"Word limit (leave empty for none)": "6"},
                  ("fill", "Solid tumours relapse after surgery."), "Solid tumours relapse after surgery."),
    "number": ("Patents filed", {"Smallest answer allowed": "0", "Largest answer allowed": "50"}, ("fill", "3"), "3"),
    "money": ("Capital raised so far", {"Currency": ("select", "NOK")}, ("fill", "2500000"), "NOK\u00a02,500,000.00"),
    "date": ("Day the company was founded", {}, ("fill", "2021-05-04"), "4 May 2021"),
    "single_choice": ("Development stage", {"Choices, one per line (English)": "Preclinical\nClinical"},
                      ("select", "Clinical"), "Clinical"),
    "multiple_choice": ("Target markets", {"Choices, one per line (English)": "Nordics\nEurope\nUSA"},
                        ("check", ["Nordics", "USA"]), "Nordics, USA"),
    "yes_no": ("Do you work with animals?", {}, ("radio", "Yes"), "Yes"),
    "trl": ("TRL of the second product", {}, ("select", "5"), "5"),
    "country": ("Country of the lead investor", {}, ("select", "Germany"), "Germany"),
    "file": ("Letter of support", {}, ("file", "support.pdf"), "support.pdf"),
}
CONDITIONAL = "Animal licence number"
FOR_THE_STARTUP = "Strong team; the market section needs figures."
FOR_THE_OTHERS = "Internal: check the licence with the hub."


def log_in(page, email):
    page.context.clear_cookies()
    page.goto("/account/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


def add_question(page, call, kind, label, settings, extra=None):
    page.goto(f"/admin/calls/{call.id}/form")
    section = page.locator("section", has=page.get_by_role("heading", name="Add a question"))
    section.get_by_label("Section").select_option(label="Company")
    section.get_by_label("Kind of answer").select_option(kind)
    section.get_by_role("button", name="Write the question").click()
    page.get_by_label("Question (English)").fill(label)
    for name, value in settings.items():
        if isinstance(value, tuple):
            page.get_by_label(name).select_option(value[1])
        else:
            page.get_by_label(name).fill(value)
    if extra:
        extra(page)
    page.get_by_role("button", name="Add the question").click()
    page.wait_for_url(re.compile(rf".*/admin/calls/{call.id}/form(#.*)?$"))


def answer(page, label, how):
    way, value = how
    if way == "fill":
        page.get_by_label(label).fill(value)
    elif way == "select":
        page.get_by_label(label).select_option(label=value)
    elif way == "radio":
        page.get_by_role("group", name=label).get_by_label(value, exact=True).check()
    elif way == "check":
        for option in value:
            page.get_by_role("group", name=label).get_by_label(option, exact=True).check()


def test_a_programme_builds_its_form_and_every_party_reads_the_answers(page, make, axe, smtp_server, tmp_path):
    call = make.call(status="draft", title="Custom questions 2027")
    admin = make.admin()
    staff = [make.user(org=call.route.cluster, email=f"reviewer{i}@example.test") for i in range(2)]
    hub_admin = make.user(org=call.route.host_hub, email="hub-admin@example.test")
    startup = make.organisation("startup", name="Fjordcell AS", country=call.route.home_country)
    founder = make.user(org=startup, email="founder@example.test")
    db.session.commit()

    # The administrator builds the form.
    log_in(page, admin.email)
    page.goto(f"/admin/calls/{call.id}")
    page.get_by_role("link", name="Application form").click()
    assert axe(page) == []
    for kind, (label, settings, _how, _text) in QUESTIONS.items():
        add_question(page, call, kind, label, settings)
    add_question(page, call, "long_text", CONDITIONAL, {},
                 extra=lambda p: p.get_by_label("Ask this question only when").select_option(
                     label="Do you work with animals?: Yes"))
    page.get_by_text("asked when “Do you work with animals?” is “Yes”").wait_for()
    assert axe(page) == []
    # The preview, in Norwegian and in English, as a startup sees the form.
    page.get_by_role("link", name="Norsk bokmål").click()
    page.get_by_text("Hva gjør bedriften din?").wait_for()
    assert page.get_by_label("Company website").is_visible()
    assert axe(page) == []
    page.get_by_role("link", name="English").click()
    answer(page, "Do you work with animals?", ("radio", "No"))
    assert not page.get_by_label(CONDITIONAL).is_visible()  # asked only when the answer is yes
    page.get_by_role("link", name="Back to the form").click()
    page.goto(f"/admin/calls/{call.id}")
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("is now published").wait_for()

    # The startup fills it in: refused first, with every missing question and the word limit named.
    log_in(page, founder.email)
    page.goto(f"/calls/{call.id}")
    page.get_by_role("button", name="Start or continue your application").click()
    page.wait_for_url(re.compile(r".*/startup/applications/\d+$"))
    application_id = int(page.url.rsplit("/", 1)[1])
    assert axe(page) == []
    page.get_by_label("What does your company do?").fill("We build cell therapies for solid tumours.")
    fill_answers(page, call)
    page.locator("#attachments").set_input_files(files=[{"name": "deck.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    answer(page, "Do you work with animals?", ("radio", "Yes"))
    page.get_by_label("Describe the clinical need").fill("Solid tumours relapse after surgery within a year.")
    page.get_by_text("(8/6)").wait_for()  # the live word count
    page.get_by_role("button", name="Submit application").click()
    summary = page.locator(".form-errors")
    summary.wait_for()
    text = summary.inner_text()
    for kind, (label, *_rest) in QUESTIONS.items():
        if kind not in ("long_text", "yes_no"):
            assert label in text, kind
    assert CONDITIONAL in text and "Please shorten this to 6 words or fewer; it has 8 words." in text
    assert axe(page) == []
    for kind, (label, _settings, how, _text) in QUESTIONS.items():
        if kind == "file":
            page.locator("fieldset", has=page.get_by_text(label)).locator("input[type=file]").set_input_files(
                files=[{"name": "support.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        elif kind != "yes_no":
            answer(page, label, how)
    page.get_by_label(CONDITIONAL).fill("NO-2024-117")
    page.get_by_role("button", name="Submit application").click()
    page.get_by_text("Your application is submitted").wait_for()
    application = db.session.get(Application, application_id)
    assert application.status == "submitted"

    # Cluster staff read every answer and export the queue, a column per question.
    log_in(page, staff[0].email)
    page.goto(f"/cluster/applications/{application_id}")
    body = page.locator("main").inner_text()
    for kind, (label, _settings, _how, shown) in QUESTIONS.items():
        assert label in body and shown in body, kind
    assert "NO-2024-117" in body
    assert axe(page) == []
    page.goto(f"/cluster/queue?call={call.id}")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("CSV")).click()
    path = tmp_path / "queue.csv"
    download.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    header, row = rows[0], dict(zip(rows[0], rows[1]))
    for kind, (label, *_rest) in QUESTIONS.items():
        assert label in header, kind
    assert row["Development stage"] == "Clinical" and row["Capital raised so far"] == "2500000.00"
    assert row["Letter of support"] == "support.pdf" and row[CONDITIONAL] == "NO-2024-117"

    # ... and download the PDF dossier, whose text holds every answer.
    page.goto(f"/cluster/applications/{application_id}")
    with page.expect_download() as dossier:
        page.get_by_role("link", name="Download as PDF").first.click()
    pdf_path = tmp_path / "dossier.pdf"
    dossier.value.save_as(pdf_path)
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(str(pdf_path)).pages).replace("\u00a0", " ").split())
    for kind, (label, _settings, _how, shown) in QUESTIONS.items():
        assert " ".join(shown.replace("\u00a0", " ").split()) in text, kind
    assert "NO-2024-117" in text

    # Reviews (one comment for the startup, internal ones for the others), a nomination, the hub reads it.
    workflow.perform(application, "start_review", staff[0])
    db.session.commit()
    reviews.assign(application=application, actor=staff[0], reviewer_ids=[s.id for s in staff])
    quality, team = call.criteria
    reviews.save_review(application=application, actor=staff[0], scores={quality.id: 5, team.id: 4}, recommendation="nominate",
                        comment=FOR_THE_OTHERS, applicant_comment=FOR_THE_STARTUP, submit=True).or_raise()
    reviews.save_review(application=application, actor=staff[1], scores={quality.id: 4, team.id: 4}, recommendation="nominate",
                        comment="Internal: a good fit.", applicant_comment="", submit=True).or_raise()
    nominations.nominate(application=application, actor=staff[0], rationale="Best fit")
    log_in(page, hub_admin.email)
    page.goto(f"/hub/{call.route.host_hub_id}/inbox")
    page.get_by_role("link", name=re.compile("Fjordcell AS")).first.click()
    body = page.locator("main").inner_text()
    for kind, (label, _settings, _how, shown) in QUESTIONS.items():
        assert label in body and shown in body, kind

    # After the release the startup reads the comment written for it, and nothing else of the reviews.
    nominations.release(call_id=call.id, actor=staff[0])
    log_in(page, founder.email)
    page.goto(f"/startup/applications/{application_id}")
    body = page.locator("main").inner_text()
    assert "Feedback from the reviewers" in body and FOR_THE_STARTUP in body
    assert FOR_THE_OTHERS not in body and "Internal: a good fit." not in body and staff[0].name not in body
    assert axe(page) == []
