"""The review form: each criterion's guidance next to it, and a comment for the startup apart from
the internal one, bounded like every text."""
import html
import re

from sqlalchemy import func, select

from residency.core import workflow
from residency.core.extensions import db
from residency.domain.review import services as reviews
from residency.domain.review.models import Review


def _reviewer_on(make, **call_kw):
    call = make.call(**call_kw)
    reviewer = make.user(org=call.route.cluster)
    app_ = make.application(call=call, status="submitted")
    workflow.perform(app_, "start_review", reviewer)
    db.session.commit()
    reviews.assign(application=app_, actor=reviewer, reviewer_ids=[reviewer.id])
    return call, reviewer, app_


def _error(page: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}-error"[^>]*>([^<]*)<', page)
    return html.unescape(found.group(1)) if found else ""


def test_each_criterion_shows_its_guidance_and_the_comment_for_the_startup_says_who_reads_it(make, login):
    call, reviewer, app_ = _reviewer_on(make)
    quality, team = call.criteria
    quality.guidance = "Look for evidence in animals or people."
    db.session.commit()
    page = login(reviewer).get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    group = re.search(rf'<fieldset class="choices-inline"[^>]*aria-describedby="score_{quality.id}-hint".*?</fieldset>',
                      page, re.S)
    assert group and "Look for evidence in animals or people." in group.group(0) and "Quality" in group.group(0)
    assert f'aria-describedby="score_{team.id}-hint"' not in page  # no guidance, no hint
    assert 'name="applicant_comment"' in page
    assert "The startup reads this comment, without your name, once the call's decisions are released." in html.unescape(page)


def test_the_comment_for_the_startup_is_saved_apart_from_the_internal_one(make, login):
    call, reviewer, app_ = _reviewer_on(make)
    client = login(reviewer)
    response = client.post(f"/cluster/applications/{app_.id}/review", data={
        "intent": "save", "comment": "Internal only", "applicant_comment": "Clear market analysis."})
    assert response.status_code == 302
    review = db.session.scalar(select(Review))
    assert (review.comment, review.applicant_comment) == ("Internal only", "Clear market analysis.")
    page = client.get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    assert "Clear market analysis.</textarea>" in page  # the draft shows it back


def test_a_too_long_comment_for_the_startup_is_refused_next_to_its_field_and_nothing_is_saved(make, login):
    call, reviewer, app_ = _reviewer_on(make)
    quality, team = call.criteria
    response = login(reviewer).post(f"/cluster/applications/{app_.id}/review", data={
        "intent": "submit", f"score_{quality.id}": "4", f"score_{team.id}": "3", "recommendation": "maybe",
        "comment": "Internal", "applicant_comment": "x" * 4001})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at most 4000 characters; it has 4001" in _error(page, "applicant_comment")
    assert 'aria-describedby="applicant_comment-hint applicant_comment-error"' in page
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0


def test_staff_who_may_read_the_reviews_see_what_each_wrote_for_the_startup(make, login):
    call, reviewer, app_ = _reviewer_on(make)
    quality, team = call.criteria
    reviews.save_review(application=app_, actor=reviewer, scores={quality.id: 4, team.id: 4}, recommendation="maybe",
                        comment="Internal", applicant_comment="Good pitch.", submit=True).or_raise()
    page = login(reviewer).get(f"/cluster/applications/{app_.id}").get_data(as_text=True)
    assert "Comment for the startup" in page and "Good pitch." in page
