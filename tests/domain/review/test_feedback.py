"""Reviewer feedback: the startup reads the comments written for it, and nothing else of the
reviews, once the call's decisions are released; its decision e-mail carries them if the call says so."""
import pytest
from sqlalchemy import func, select

from residency.core.errors import Invalid
from residency.core.extensions import db
from residency.core.outbox import render
from residency.core.outbox_models import OutboxMessage
from residency.domain.applications import rules
from residency.domain.applications.models import Application
from residency.domain.review import feedback, nominations, services as reviews
from residency.domain.review.models import Review
from tests.scenarios import FEEDBACK, INTERNAL, OTHER_FEEDBACK, reviewed_and_decided


def test_the_startup_reads_only_the_comments_for_it_and_only_after_the_release(make):
    call, staff, first, second = reviewed_and_decided(make)
    assert first.status == "not_nominated"
    # Decided, but held back: nothing yet.
    assert not rules.feedback_visible(first)
    assert feedback.applicant_feedback(first) == [] and feedback.applicant_feedback(second) == []

    nominations.release(call_id=call.id, actor=staff[0])
    db.session.expire_all()
    first, second = db.session.get(Application, first.id), db.session.get(Application, second.id)
    assert rules.feedback_visible(first)
    # Its own reviewer's comment for it; not the empty one, not a draft's, not the internal comment,
    # not the other startup's.
    assert feedback.applicant_feedback(first) == [FEEDBACK]
    assert feedback.applicant_feedback(second) == [OTHER_FEEDBACK]
    assert INTERNAL not in str(feedback.feedback_of([first.id, second.id]))


def test_an_open_application_shows_no_feedback_even_after_the_release(make):
    call, staff, first, _second = reviewed_and_decided(make)
    nominations.release(call_id=call.id, actor=staff[0])
    later = make.application(call=call, status="submitted")
    assert not rules.feedback_visible(later) and feedback.applicant_feedback(later) == []


def test_the_decision_email_carries_the_feedback_in_the_readers_language(make, app):
    call, staff, first, second = reviewed_and_decided(make)
    swede = make.user(org=first.startup, language="sv")
    nominations.release(call_id=call.id, actor=staff[0])
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "decision_not_nominated")).all()
    to_first = [m for m in mails if m.context["application_id"] == first.id]
    assert to_first and all(m.context["feedback"] == [FEEDBACK] for m in to_first)
    assert all(m.context["feedback"] == [OTHER_FEEDBACK] for m in mails if m.context["application_id"] == second.id)
    assert INTERNAL not in str([m.context for m in mails])
    with app.test_request_context():
        english = render(next(m for m in to_first if m.user_id == first.created_by_id))
        swedish = render(next(m for m in to_first if m.user_id == swede.id))
    for body in (english.body, english.html):
        assert "Feedback from the reviewers" in body and FEEDBACK in body
        assert INTERNAL not in body and OTHER_FEEDBACK not in body and "Reviewer Alma" not in body
    assert "Återkoppling från bedömarna" in swedish.body and FEEDBACK in swedish.body
    assert "Feedback from the reviewers" not in swedish.body


def test_the_call_can_leave_the_feedback_out_of_the_decision_email(make, app):
    call, staff, first, _second = reviewed_and_decided(make, feedback_in_decision_email=False)
    nominations.release(call_id=call.id, actor=staff[0])
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.user_id == first.created_by_id,
                                                         OutboxMessage.template == "decision_not_nominated"))
    assert mail.context["feedback"] == []
    with app.test_request_context():
        rendered = render(mail)
    assert FEEDBACK not in rendered.body and "Feedback from the reviewers" not in rendered.body
    assert "Thank you for applying." in rendered.body
    # The page shows it all the same.
    assert feedback.applicant_feedback(db.session.get(Application, first.id)) == [FEEDBACK]


def test_a_decision_made_after_the_release_is_mailed_with_its_feedback(make):
    call, staff, first, _second = reviewed_and_decided(make)
    nominations.release(call_id=call.id, actor=staff[0])
    late = make.application(call=call, status="submitted")
    from residency.core import workflow

    workflow.perform(late, "start_review", staff[0])
    reviews.assign(application=late, actor=staff[0], reviewer_ids=[staff[1].id])
    quality, team = call.criteria
    reviews.save_review(application=late, actor=staff[1], scores={quality.id: 4, team.id: 4}, recommendation="nominate",
                        comment="Internal", applicant_comment="Well argued.", submit=True).or_raise()
    nominations.nominate(application=late, actor=staff[0], rationale="Late but strong")
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.user_id == late.created_by_id,
                                                         OutboxMessage.template == "decision_nominated"))
    assert mail.context["feedback"] == ["Well argued."]


@pytest.mark.parametrize("text, fragment", [
    ("x" * 4001, "at most 4000 characters"),
    ("Fine\x07 work", "control characters"),
])
def test_a_comment_for_the_startup_too_long_or_with_control_characters_is_refused_and_nothing_saved(make, text, fragment):
    call = make.call()
    reviewer = make.user(org=call.route.cluster)
    app_ = make.application(call=call, status="submitted")
    reviews.assign(application=app_, actor=reviewer, reviewer_ids=[reviewer.id])
    with pytest.raises(Invalid) as refused:
        reviews.save_review(application=app_, actor=reviewer, scores={}, recommendation=None, comment="Draft",
                            applicant_comment=text)
    assert any(fragment in str(m) for m in refused.value.field_errors["applicant_comment"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0


def test_a_draft_keeps_its_comment_for_the_startup_when_a_caller_does_not_send_one(make):
    call = make.call()
    reviewer = make.user(org=call.route.cluster)
    app_ = make.application(call=call, status="submitted")
    reviews.assign(application=app_, actor=reviewer, reviewer_ids=[reviewer.id])
    reviews.save_review(application=app_, actor=reviewer, scores={}, recommendation=None, comment="",
                        applicant_comment="  Kept.\r\nTwo lines.  ")
    review = reviews.save_review(application=app_, actor=reviewer, scores={}, recommendation=None, comment="x").review
    assert review.applicant_comment == "Kept.\nTwo lines."
