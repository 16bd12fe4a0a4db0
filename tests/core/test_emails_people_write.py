"""E-mails a person would write (issue 14, item 3): the real e-mails the services queue, rendered in the
reader's language or delivered over a real SMTP server on loopback: no ISO dates, labels rather than
codes, the answers in the form's order without "?:", the answer-by time of a change request, the
offer's conditions, links that lead to the service's pages, a Content-Language header and a subject
that names the call and the startup."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from residency.core import outbox
from residency.core.extensions import db
from residency.core.outbox_models import OutboxMessage
from residency.domain.applications import services as svc
from tests.scenarios import PDF, complete_values, nominated_placements, offer

ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _mail(template):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                              .order_by(OutboxMessage.id.desc())).first()


def _in(message, language):
    message.language = language
    return outbox.render(message)


@pytest.fixture
def submitted(make):
    call = make.call(title="Oncology residency 2027")
    startup = make.organisation("startup", country="NO", name="Fjordbio AS")
    founder = make.user(org=startup, language="nb")
    application = svc.start(call=call, startup=startup, actor=founder)
    svc.add_attachment(application=application, actor=founder, filename="deck.pdf", data=PDF)
    svc.submit(application=application, actor=founder, values=complete_values(call, track="diagnostics"), loaded_edit_id=None)
    return call, application, founder


def test_the_receipt_writes_the_desired_start_as_the_reader_writes_dates(app, submitted):
    call, _application, _founder = submitted
    mail = _in(_mail("application_submitted"), "nb")
    for body in (mail.body, mail.html):
        assert not ISO_DAY.search(body), ISO_DAY.findall(body)
    from babel.dates import format_date
    assert format_date(call.residency_starts_on, "long", locale="nb") in mail.body


def test_the_receipt_names_the_track_not_its_code(app, submitted):
    mail = _in(_mail("application_submitted"), "en")
    assert "Track:\nDiagnostics" in mail.body
    assert "diagnostics" not in mail.body
    nb = _in(_mail("application_submitted"), "nb")
    assert "diagnostics" not in nb.body and "Diagnostikk" in nb.body


def test_the_receipt_lists_the_answers_in_the_forms_order_without_question_colons(app, submitted):
    mail = _in(_mail("application_submitted"), "en")
    assert "?:" not in mail.body
    # The form: company (summary), team, technology (track, TRL, technology), the residency
    # (expertise, lab needs, start, months, desks, benches), funding.
    order = ["What does your company do?", "Who is in the team?", "Track", "Technology readiness level (TRL)",
             "Describe your technology and its stage", "What expertise do you want from the hub?",
             "What do you need in the lab?", "Desired start", "Duration in months", "Office desks", "Lab benches",
             "How is the company funded today?", "What are your funding plans during the residency?"]
    positions = [mail.body.index(label) for label in order]
    assert positions == sorted(positions)


def test_the_change_request_says_by_when_to_answer(app, make, submitted):
    call, application, _founder = submitted
    staff = make.user(org=call.route.cluster)
    respond_by = (datetime.now(timezone.utc) + timedelta(days=9)).date()
    svc.request_changes(application=application, actor=staff, message="Add the lab plan", respond_by=respond_by)
    from babel.dates import format_date
    mail = _in(_mail("application_changes_requested"), "nb")
    day = format_date(respond_by, "long", locale="nb")
    assert day in mail.body and day in mail.html
    assert "Add the lab plan" in mail.body


def test_the_offer_e_mail_shows_the_offers_conditions_and_no_iso_days(app, make):
    hub_admin, [placement] = nominated_placements(make)
    offer(placement, hub_admin)
    mail = _in(_mail("placement_offered"), "nb")
    assert "Rental agreement with confidentiality clause" in mail.body
    assert "Rental agreement with confidentiality clause" in mail.html
    assert "1. mars 2030" in mail.body and "31. august 2030" in mail.body
    assert not ISO_DAY.search(mail.body)


def test_the_subjects_name_the_call_and_the_startup(app, make, submitted):
    call, application, _founder = submitted
    receipt = _in(_mail("application_submitted"), "en")
    assert "Oncology residency 2027" in receipt.subject and "Fjordbio AS" in receipt.subject
    staff = make.user(org=call.route.cluster)
    svc.request_changes(application=application, actor=staff, message="More", respond_by=date.today() + timedelta(days=5))
    changes = _in(_mail("application_changes_requested"), "nb")
    assert "Oncology residency 2027" in changes.subject and "Fjordbio AS" in changes.subject
    hub_admin, [placement] = nominated_placements(make)
    offer(placement, hub_admin)
    offered = _in(_mail("placement_offered"), "en")
    assert placement.application.call.title in offered.subject and placement.application.startup.name in offered.subject


def test_every_link_in_the_e_mails_leads_to_a_page_of_the_service(app, make, submitted):
    """Links start with the service's public address and name a route it serves."""
    call, application, _founder = submitted
    staff = make.user(org=call.route.cluster)
    svc.request_changes(application=application, actor=staff, message="More", respond_by=date.today() + timedelta(days=5))
    hub_admin, [placement] = nominated_placements(make)
    offer(placement, hub_admin)
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    adapter = app.url_map.bind("localhost")
    checked = 0
    for message in db.session.scalars(select(OutboxMessage)):
        mail = outbox.render(message)
        for link in re.findall(r"https?://[^\s\"<>]+", mail.body + mail.html):
            assert link == base or link.startswith(base + "/"), link
            path = link[len(base):].split("?")[0] or "/"
            adapter.match(path)  # raises NotFound for a link to nowhere
            checked += 1
    assert checked


def test_a_delivered_e_mail_says_its_language(app, smtp_server, submitted):
    assert outbox.deliver_due()["sent"] >= 1
    [message] = [m for m in smtp_server.messages if m["X-Residency-Dedup"].endswith(":application_submitted:user-%d" % submitted[2].id)]
    assert message["Content-Language"] == "nb"


@pytest.mark.parametrize("count, subject", [(1, "You have 1 application to score before the nomination deadline"),
                                            (3, "You have 3 applications to score before the nomination deadline")])
def test_a_counting_subject_takes_the_plural_of_its_count(app, make, count, subject):
    outbox.enqueue(recipient="reviewer@example.test", template="reviews_due", language="en",
                   context={"count": count, "call_title": "Oncology residency 2027", "due_text": "1 March 2030"},
                   dedup_key=f"reviews-due:{count}")
    db.session.commit()
    assert outbox.render(_mail("reviews_due")).subject == subject
