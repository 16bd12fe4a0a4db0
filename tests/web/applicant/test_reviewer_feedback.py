"""The startup's application page: "Feedback from the reviewers" once the call's decisions are
released, with the comments written for it and nothing else of the reviews."""
from html import unescape

from residency.domain.review import nominations
from tests.scenarios import FEEDBACK, INTERNAL, OTHER_FEEDBACK, reviewed_and_decided


def test_the_startup_reads_the_comment_for_it_after_the_release_and_nothing_else(make, login):
    call, staff, first, _second = reviewed_and_decided(make)
    founder = first.created_by
    client = login(founder)

    before = client.get(f"/startup/applications/{first.id}").get_data(as_text=True)
    assert "Under review" in before
    assert "Feedback from the reviewers" not in before and FEEDBACK not in before

    nominations.release(call_id=call.id, actor=staff[0])
    page = unescape(client.get(f"/startup/applications/{first.id}").get_data(as_text=True))
    section = page[page.index('aria-labelledby="reviewer-feedback"'):page.index('aria-labelledby="timeline"')]
    assert "Feedback from the reviewers" in section and FEEDBACK in section
    # Not the internal comment, the scores (3.40 and 2.00 weighted, 5 and 1 given), the recommendation,
    # a draft's comment, the reviewers' names, nor another startup's feedback.
    for hidden in (INTERNAL, "3.40", "2.00", "Do not nominate", "A draft that was never submitted.", OTHER_FEEDBACK,
                   "Reviewer Alma", "Reviewer Bo", "Reviewer Cai"):
        assert hidden not in page, hidden


def test_the_feedback_is_in_the_readers_language_around_the_comment(make, login):
    call, staff, first, _second = reviewed_and_decided(make)
    nominations.release(call_id=call.id, actor=staff[0])
    norwegian = make.user(org=first.startup, language="nb")
    page = login(norwegian).get(f"/startup/applications/{first.id}").get_data(as_text=True)
    assert "Tilbakemelding fra fagvurdererne" in page and FEEDBACK in page


def test_no_feedback_section_when_no_reviewer_wrote_for_the_startup(make, login):
    call, staff, _first, second = reviewed_and_decided(make)
    third = make.application(call=call, status="submitted")
    nominations.release(call_id=call.id, actor=staff[0])
    client = login(third.created_by)
    assert "Feedback from the reviewers" not in client.get(f"/startup/applications/{third.id}").get_data(as_text=True)
    client = login(second.created_by)
    page = unescape(client.get(f"/startup/applications/{second.id}").get_data(as_text=True))
    assert OTHER_FEEDBACK in page and FEEDBACK not in page
