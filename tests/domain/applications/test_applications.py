"""Application services: drafts, eligibility, submission, change requests, attachments, extensions."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.scenarios import PDF, EXE, complete_values  # noqa: F401
from residency.domain.applications import services as svc
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.applications.models import Application
from residency.core.outbox_models import OutboxMessage
from tests.factories import answers_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200


@pytest.fixture
def setup(make):
    call = make.call()
    startup = make.organisation("startup", country="NO")
    founder = make.user(org=startup)
    return call, startup, founder


def test_start_prefills_from_the_profile_and_records_the_author(setup):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    assert (application.status, application.track, application.trl) == ("draft", startup.track, startup.trl)
    assert [e.fields for e in svc.edits_of(application)] == [["created"]]


def test_startup_from_the_wrong_country_is_refused(make, app):
    call = make.call()  # route NO -> hub in SE
    swede = make.organisation("startup", country="SE")
    with app.test_request_context(), pytest.raises(Conflict, match="registered in Norway"):
        svc.start(call=call, startup=swede, actor=make.user(org=swede))
    assert db.session.scalars(select(Application)).all() == []


def test_second_application_to_the_same_call_is_refused(setup, app):
    call, startup, founder = setup
    svc.start(call=call, startup=startup, actor=founder)
    with app.test_request_context(), pytest.raises(Conflict, match="already has an application"):
        svc.start(call=call, startup=startup, actor=make_second_member(startup))
    assert len(db.session.scalars(select(Application)).all()) == 1


def make_second_member(startup):
    from tests.factories import Factories

    return Factories().user(org=startup)


def test_non_member_gets_404(setup, make):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    with pytest.raises(NotFound):
        svc.save_draft(application=application, actor=make.member("startup"), values={}, loaded_edit_id=None)


def test_partial_draft_saves_and_every_change_is_attributed(setup):
    call, startup, founder = setup
    colleague = make_second_member(startup)
    application = svc.start(call=call, startup=startup, actor=founder)
    svc.save_draft(application=application, actor=founder, values={"summary": "We cure things."}, loaded_edit_id=None)
    svc.save_draft(application=application, actor=colleague, values={"summary": "We cure things.", "team": "Two founders."},
                   loaded_edit_id=None)
    edits = svc.edits_of(application)
    assert [(e.user_id, e.fields) for e in edits[1:]] == [(founder.id, ["summary"]), (colleague.id, ["team"])]
    assert answers_of(application)["team"] == "Two founders."


def test_concurrent_edits_of_the_same_field_never_overwrite_silently(setup):
    call, startup, founder = setup
    colleague = make_second_member(startup)
    application = svc.start(call=call, startup=startup, actor=founder)
    loaded = svc.latest_edit_id(application)  # both open the form now
    svc.save_draft(application=application, actor=colleague, values={"team": "Colleague's text"}, loaded_edit_id=loaded)
    conflicts = svc.save_draft(application=application, actor=founder,
                               values={"team": "Founder's text", "summary": "Founder's summary"}, loaded_edit_id=loaded)
    assert conflicts == ["team"]
    assert answers_of(application)["team"] == "Colleague's text"
    assert answers_of(application)["summary"] == "Founder's summary"


def test_invalid_values_change_nothing(setup):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    with pytest.raises(Invalid) as err:
        svc.save_draft(application=application, actor=founder, values={"summary": "kept?", "months": "30", "trl": "x"},
                       loaded_edit_id=None)
    assert set(err.value.field_errors) == {"months", "trl"}
    db.session.expire_all()
    assert not any(answers_of(db.session.get(Application, application.id)).get(k) for k in ("summary", "team"))


def test_incomplete_submit_keeps_the_draft_and_names_every_missing_field(setup):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    with pytest.raises(Invalid) as err:
        svc.submit(application=application, actor=founder, values={"summary": "Saved anyway"}, loaded_edit_id=None).or_raise()
    assert {"team", "technology", "desired_start", "months", "attachments"} <= set(err.value.field_errors)
    assert "summary" not in err.value.field_errors
    db.session.expire_all()
    saved = db.session.get(Application, application.id)
    assert saved.status == "draft" and answers_of(saved)["summary"] == "Saved anyway"


def test_complete_submit_sends_a_receipt_with_a_copy_of_the_answers(setup):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    svc.add_attachment(application=application, actor=founder, filename="deck.pdf", data=PDF)
    svc.submit(application=application, actor=founder, values=complete_values(call), loaded_edit_id=None)
    assert application.status == "submitted"
    receipt = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "application_submitted"))
    assert receipt.recipient == founder.email
    answers = {entry["key"]: entry["value"] for entry in receipt.context["answers"]}
    assert answers["team"] == "Answer to team" and answers["months"] == 6
    # Each question as it was worded then, in every language (the receipt is rendered in its reader's).
    team = next(entry for entry in receipt.context["answers"] if entry["key"] == "team")
    assert team["label"]["en"] == "Who is in the team?" and team["label"]["nb"] and team["label"]["nb"] != team["label"]["en"]
    assert receipt.context["attachments"] == ["deck.pdf"]
    with pytest.raises(Conflict):
        svc.save_draft(application=application, actor=founder, values={"team": "late edit"}, loaded_edit_id=None)


def test_desired_start_must_be_in_the_residency_window(setup):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    too_early = (call.residency_starts_on - timedelta(days=1)).isoformat()
    with pytest.raises(Invalid) as err:
        svc.save_draft(application=application, actor=founder, values={"desired_start": too_early}, loaded_edit_id=None)
    assert "desired_start" in err.value.field_errors


def test_submission_after_the_deadline_is_refused_and_an_extension_lets_one_startup_in(setup, make):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    svc.add_attachment(application=application, actor=founder, filename="deck.pdf", data=PDF)
    late = call.closes_at + timedelta(hours=1)
    with pytest.raises(Invalid, match="no longer accepts"):
        svc.submit(application=application, actor=founder, values=complete_values(call), loaded_edit_id=None, now=late).or_raise()
    assert application.status == "draft"
    admin = make.admin()
    with pytest.raises(Forbidden):
        svc.grant_extension(call=call, startup=startup, closes_at=call.closes_at + timedelta(days=2), reason="x", actor=founder)
    svc.grant_extension(call=call, startup=startup, closes_at=call.closes_at + timedelta(days=2), reason="Illness", actor=admin)
    svc.submit(application=application, actor=founder, values=complete_values(call), loaded_edit_id=None, now=late)
    assert application.status == "submitted"
    # Another startup without the extension is still refused after the deadline.
    other = make.organisation("startup", country="NO")
    with pytest.raises(Conflict):
        svc.start(call=call, startup=other, actor=make.user(org=other), now=late)


@pytest.mark.parametrize("data, words", [
    (EXE, "not a PDF or an image"),
    (ELF, "not a PDF or an image"),
    (b"just some text, named .pdf", "not a PDF or an image"),
    (PDF + b"0" * (10 * 1024 * 1024), "at most 10 MB"),
])
def test_bad_attachments_are_refused_and_nothing_is_stored(setup, app, data, words):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    with app.test_request_context(), pytest.raises(Invalid) as err:
        svc.add_attachment(application=application, actor=founder, filename="deck.pdf", data=data)
    assert words in str(err.value.message)
    assert application.attachments == []


def test_at_most_five_attachments(setup):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    for n in range(5):
        svc.add_attachment(application=application, actor=founder, filename=f"f{n}.png", data=PNG)
    with pytest.raises(Invalid):
        svc.add_attachment(application=application, actor=founder, filename="sixth.png", data=PNG)
    assert len(application.attachments) == 5
    stored = application.attachments[0]
    assert stored.stored_name != "f0.png" and stored.content_type == "image/png"


def test_attachments_are_visible_to_members_and_the_cluster_after_submission_only(setup, make):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    attachment = svc.add_attachment(application=application, actor=founder, filename="deck.pdf", data=PDF)
    cluster_staff = make.user(org=call.route.cluster)
    with pytest.raises(NotFound):  # a draft is the startup's own
        svc.attachment_for(user=cluster_staff, application_id=application.id, attachment_id=attachment.id)
    with pytest.raises(NotFound):
        svc.attachment_for(user=make.member("startup"), application_id=application.id, attachment_id=attachment.id)
    svc.submit(application=application, actor=founder, values=complete_values(call), loaded_edit_id=None)
    assert svc.attachment_for(user=cluster_staff, application_id=application.id, attachment_id=attachment.id) == attachment


def test_change_request_loop(setup, make):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    svc.add_attachment(application=application, actor=founder, filename="deck.pdf", data=PDF)
    svc.submit(application=application, actor=founder, values=complete_values(call), loaded_edit_id=None)
    staff = make.user(org=call.route.cluster)
    with pytest.raises(Invalid):
        svc.request_changes(application=application, actor=staff, message="Add the lab plan", respond_by=date(2000, 1, 1))
    respond_by = (datetime.now(timezone.utc) + timedelta(days=7)).date()
    svc.request_changes(application=application, actor=staff, message="Add the lab plan", respond_by=respond_by)
    assert application.status == "changes_requested" and application.response_due_at is not None
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "application_changes_requested"))
    assert mail.context["reason"] == "Add the lab plan"
    svc.submit(application=application, actor=founder, values=complete_values(call, lab_needs="BSL-2 bench"), loaded_edit_id=None)
    assert application.status == "submitted" and application.response_due_at is None
    assert answers_of(application)["lab_needs"] == "BSL-2 bench"


def test_withdraw_needs_a_reason_and_ends_editing(setup):
    call, startup, founder = setup
    application = svc.start(call=call, startup=startup, actor=founder)
    with pytest.raises(Invalid):
        svc.withdraw(application=application, actor=founder, reason="")
    svc.withdraw(application=application, actor=founder, reason="We found another hub")
    assert application.status == "withdrawn"
    # Withdrawn does not block a new application to the same call.
    again = svc.start(call=call, startup=startup, actor=founder)
    assert again.id != application.id
