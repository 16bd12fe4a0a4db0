"""Reviewer feedback: the comments reviewers write for the startup, apart from their internal
comment, scores and recommendation.

The startup reads them on its application page once ``rules.feedback_visible`` says so, and,
where the call asks for it, in its decision e-mail. Only the text of each submitted review's
comment for the startup goes out: never who wrote it, nor anything else of the review.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from residency.core.extensions import db
from residency.domain.applications import rules
from residency.domain.applications.models import Application
from residency.domain.programme.models import Call
from residency.domain.review.models import Review


def feedback_of(application_ids: Iterable[int]) -> dict[int, list[str]]:
    """The comments for the startup of each application's submitted reviews, in the order they were
    submitted (empty ones left out); one query for any number of applications."""
    ids = list(dict.fromkeys(application_ids))
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    rows = db.session.execute(
        select(Review.application_id, Review.applicant_comment)
        .where(Review.application_id.in_(ids), Review.submitted_at.is_not(None), Review.applicant_comment != "")
        .order_by(Review.application_id, Review.submitted_at, Review.id))
    for application_id, comment in rows:
        found.setdefault(application_id, []).append(comment)
    return found


def applicant_feedback(application: Application) -> list[str]:
    """What the startup's page shows under "Feedback from the reviewers": nothing until the decision
    is released."""
    if not rules.feedback_visible(application):
        return []
    return feedback_of([application.id]).get(application.id, [])


def decision_email_feedback(call: Call, application_ids: Iterable[int]) -> dict[int, list[str]]:
    """The feedback each decision e-mail of the call carries: none where the call leaves it out.
    (Decision e-mails go out only once the call's decisions are released.)"""
    if not call.feedback_in_decision_email:
        return {}
    return feedback_of(application_ids)
