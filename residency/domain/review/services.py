"""Reviews by cluster staff: who reviews which application, conflicts of
interest, scoring on the call's weighted criteria, and what each member of
staff may read of the others' reviews.

Rules kept here (and tested in tests/services/test_reviews.py):

- Reviewers are staff of the call's nominating cluster. A reviewer who declares
  a conflict of interest on an application is excluded from it for good: they
  cannot score it, any review they had is removed so it never counts, and they
  cannot be assigned to it again.
- A review is a draft until it is submitted; on submission its weighted score
  (sum(score x weight) / sum(weight), rounded half up to 2 places) is fixed.
- Others' reviews are shown to a member of staff only once they have submitted
  their own review of the application, or once the application is decided.
  A reviewer with a declared conflict is recused and never sees them.

Services take plain values and an actor, check permission on the object and run
in one unit of work (``@service``); bulk actions run each item in a savepoint of
their one unit, so a refused item is undone alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from residency.domain.applications import services as applications
from residency.core import limits, workflow
from residency.core.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from residency.core.extensions import db
from residency.core.uow import service
from residency.domain.review.models import RECOMMENDATIONS, Review, ReviewAssignment, ReviewScore
from residency.domain.applications.models import Application
from residency.domain.programme.models import Call, Criterion, normalise_newlines
from residency.domain.accounts.models import Membership, User
from residency.core.db import utcnow
from residency.domain.review.nominations import BulkOutcome, cluster_call, run_each

# Applications that are in the cluster's hands and not decided: they can be assigned and scored.
OPEN_STATES = ("submitted", "under_review", "changes_requested")
# Once decided, reviews are closed and every member of staff without a conflict may read them.
DECIDED_STATES = ("nominated", "not_nominated", "withdrawn")
SCORES = range(1, 6)
CENT = Decimal("0.01")
MAX_COMMENT = 4000
MAX_PER_APPLICATION = 10


# ------------------------------------------------------------------ scores


def weighted_score(scores: dict[int, int], criteria: list[Criterion]) -> Decimal:
    """sum(score x weight) / sum(weight) over the call's criteria, as a Decimal rounded half up to cents."""
    total = sum((Decimal(scores[c.id]) * Decimal(c.weight) for c in criteria), Decimal(0))
    weights = sum((Decimal(c.weight) for c in criteria), Decimal(0))
    return (total / weights).quantize(CENT, rounding=ROUND_HALF_UP)


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Summary:
    """The submitted reviews of an application, taken together."""

    count: int = 0
    mean: Decimal | None = None
    spread: Decimal | None = None  # highest weighted score minus lowest
    stdev: Decimal | None = None  # population standard deviation of the weighted scores
    criterion_means: dict = field(default_factory=dict)  # criterion id -> Decimal
    recommendations: dict = field(default_factory=dict)  # recommendation -> count


def summarise(reviews: list[Review], criteria: list[Criterion]) -> Summary:
    scores = [Decimal(r.weighted_score) for r in reviews if r.weighted_score is not None]
    summary = Summary(count=len(scores), recommendations={k: 0 for k in RECOMMENDATIONS})
    if not scores:
        return summary
    mean = sum(scores, Decimal(0)) / len(scores)
    variance = sum(((s - mean) ** 2 for s in scores), Decimal(0)) / len(scores)
    summary.mean = _round(mean)
    summary.spread = _round(max(scores) - min(scores))
    summary.stdev = _round(variance.sqrt())
    for c in criteria:
        given = [s.score for r in reviews for s in r.scores if s.criterion_id == c.id]
        if given:
            summary.criterion_means[c.id] = _round(Decimal(sum(given)) / len(given))
    for r in reviews:
        if r.recommendation in summary.recommendations:
            summary.recommendations[r.recommendation] += 1
    return summary


# -------------------------------------------------------------- permission


def _require_staff(application: Application, actor: User) -> None:
    """Staff of the nominating cluster, once the application is submitted (404 for who may not
    see it, 403 for who may see but not review it)."""
    workflow.require(application, actor, workflow.CLUSTER)


def cluster_application(user: User, application_id: int) -> Application:
    """The application on the cluster's pages: 404 unless ``user`` is staff of its nominating
    cluster (the startup and administrators read it in their own areas)."""
    application = applications.application_for(user, application_id)
    if workflow.CLUSTER not in workflow.roles_on(application, user):
        raise NotFound(_l("There is nothing here, or it is not yours to see."))
    return application


def cluster_staff(cluster_id: int) -> list[User]:
    """Everyone who may review for this cluster, by name."""
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == cluster_id).order_by(User.name, User.id)
    ))


def _assignments(application_id: int) -> list[ReviewAssignment]:
    return list(db.session.scalars(
        select(ReviewAssignment).where(ReviewAssignment.application_id == application_id)
        .options(joinedload(ReviewAssignment.reviewer)).order_by(ReviewAssignment.id)
    ))


def _assignment_of(application_id: int, reviewer_id: int) -> ReviewAssignment | None:
    return db.session.scalar(select(ReviewAssignment).where(
        ReviewAssignment.application_id == application_id, ReviewAssignment.reviewer_id == reviewer_id))


def _review_of(application_id: int, reviewer_id: int) -> Review | None:
    return db.session.scalar(select(Review).where(Review.application_id == application_id, Review.reviewer_id == reviewer_id))


def _flush() -> None:
    """Flush; two people writing the same assignment or review at once meet the unique
    constraint, and the later one is told to reload rather than shown an error page."""
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict(_l("Someone else changed these reviews a moment ago; reload the page and try again.")) from None


# -------------------------------------------------------------- assignment


def _eligible(application: Application, reviewer: User, assignments: dict[int, ReviewAssignment]):
    """A refusal message if ``reviewer`` cannot be assigned to ``application``, else None."""
    existing = assignments.get(reviewer.id)
    if existing is not None and existing.conflict_declared_at is not None:
        return _l("%(name)s declared a conflict of interest on this application and cannot review it.", name=reviewer.name)
    if existing is not None:
        return _l("%(name)s is already a reviewer of this application.", name=reviewer.name)
    if not reviewer.is_member_of(application.call.route.cluster_id):
        return _l("%(name)s is not a member of the nominating cluster.", name=reviewer.name)
    if reviewer.is_member_of(application.startup_id):
        return _l("%(name)s is a member of the applying startup.", name=reviewer.name)
    return None


@service
def assign(*, application: Application, actor: User, reviewer_ids: list[int], now: datetime | None = None) -> list[ReviewAssignment]:
    """Assign these staff members of the nominating cluster as reviewers; all or nothing."""
    now = now or utcnow()
    _require_staff(application, actor)
    if application.status not in OPEN_STATES:
        raise Conflict(_l("Reviewers can only be assigned to applications that are not decided yet."))
    ids = list(dict.fromkeys(int(i) for i in reviewer_ids or ()))
    if not ids:
        raise Invalid(_l("Choose at least one reviewer."), {"reviewers": [_l("Choose at least one reviewer.")]})
    current = {a.reviewer_id: a for a in _assignments(application.id)}
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    problems = []
    reviewers = []
    for reviewer_id in ids:
        reviewer = found.get(reviewer_id)
        refusal = _l("This person is not a member of the nominating cluster.") if reviewer is None else _eligible(application, reviewer, current)
        if refusal:
            problems.append(refusal)
        else:
            reviewers.append(reviewer)
    if problems:
        raise Invalid(problems[0], {"reviewers": problems})
    created = [ReviewAssignment(application_id=application.id, reviewer_id=r.id, assigned_by_id=actor.id, created_at=now,
                                reviewer=r) for r in reviewers]
    db.session.add_all(created)
    _flush()
    return created


@service
def declare_conflict(*, application: Application, actor: User, reason: str, now: datetime | None = None) -> ReviewAssignment:
    """The actor declares a conflict of interest and is excluded from the application for good.

    Any review they started or submitted is removed, so it is never counted."""
    now = now or utcnow()
    _require_staff(application, actor)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Say briefly what the conflict of interest is."), {"reason": [_l("A reason is required.")]})
    if len(reason) > MAX_COMMENT:
        raise Invalid(_l("Keep the reason under %(n)d characters.", n=MAX_COMMENT), {"reason": [_l("Too long.")]})
    assignment = _assignment_of(application.id, actor.id)
    if assignment is not None and assignment.conflict_declared_at is not None:
        raise Conflict(_l("You already declared a conflict of interest on this application."))
    if assignment is None:
        # Not assigned yet: the row records the conflict so nobody can assign them later.
        assignment = ReviewAssignment(application_id=application.id, reviewer_id=actor.id, assigned_by_id=actor.id, created_at=now)
        db.session.add(assignment)
    assignment.conflict_declared_at = now
    assignment.conflict_reason = reason
    review = _review_of(application.id, actor.id)
    if review is not None:
        db.session.delete(review)
    _flush()
    return assignment


# -------------------------------------------------------- assign evenly


@dataclass
class PlannedAssignment:
    """The reviewers an application would get; ``missing`` is how many could not be found."""

    application: Application
    reviewers: list[User]
    missing: int = 0


def plan_even_assignment(*, call_id: int, actor: User, per_application: int) -> tuple[Call, list[PlannedAssignment]]:
    """Give each submitted, undecided application of the call ``per_application`` reviewers,
    adding to the least loaded staff first (load = their reviews in this call), skipping
    staff with a declared conflict or already assigned. Nothing is written."""
    call = cluster_call(call_id, actor)
    if not 1 <= per_application <= MAX_PER_APPLICATION:
        raise Invalid(_l("Choose from 1 to %(n)d reviewers per application.", n=MAX_PER_APPLICATION),
                      {"per_application": [_l("From 1 to %(n)d.", n=MAX_PER_APPLICATION)]})
    staff = cluster_staff(call.route.cluster_id)
    apps = list(db.session.scalars(
        select(Application).where(Application.call_id == call.id, Application.status.in_(OPEN_STATES))
        .options(joinedload(Application.startup)).order_by(Application.id)
    ))
    by_app: dict[int, dict[int, ReviewAssignment]] = {a.id: {} for a in apps}
    load = {u.id: 0 for u in staff}
    rows = db.session.scalars(select(ReviewAssignment).join(Application).where(Application.call_id == call.id))
    for row in rows:
        if row.application_id in by_app:
            by_app[row.application_id][row.reviewer_id] = row
        if row.conflict_declared_at is None and row.reviewer_id in load:
            load[row.reviewer_id] += 1
    position = {u.id: i for i, u in enumerate(staff)}
    plan = []
    for application in apps:
        current = by_app[application.id]
        have = sum(1 for a in current.values() if a.conflict_declared_at is None)
        need = per_application - have
        if need <= 0:
            continue
        candidates = [u for u in staff if _eligible(application, u, current) is None]
        candidates.sort(key=lambda u: (load[u.id], position[u.id]))
        chosen = candidates[:need]
        for u in chosen:
            load[u.id] += 1
        plan.append(PlannedAssignment(application, chosen, need - len(chosen)))
    return call, plan


@service
def assign_planned(*, call_id: int, actor: User, plan: list[tuple[int, list[int]]], now: datetime | None = None) -> list[BulkOutcome]:
    """Carry out a previewed plan, application by application, each through ``assign``."""
    call = cluster_call(call_id, actor)
    reviewers = dict(plan)

    def act(application: Application):
        assign(application=application, actor=actor, reviewer_ids=reviewers[application.id], now=now)

    return run_each(call, [app_id for app_id, ids in plan if ids], act)


# ----------------------------------------------------------------- scoring


@dataclass
class SavedReview:
    """What saving a review did: ``review`` is saved (as a draft at least) whatever happens;
    ``refusal`` says why a submission was not taken, with every field to fix."""

    review: Review
    refusal: ServiceError | None = None

    def or_raise(self) -> Review:
        """The review, or the refusal raised (for callers that only accept a complete submission)."""
        if self.refusal is not None:
            raise self.refusal
        return self.review


@service
def save_review(*, application: Application, actor: User, scores: dict, recommendation: str | None, comment: str,
                submit: bool = False, applicant_comment: str | None = None, now: datetime | None = None) -> SavedReview:
    """Save the actor's review as a draft, or submit it (complete, then fixed).

    ``scores`` maps criterion ids to 1-5 (None or missing for not yet scored). ``comment`` is for
    the cluster's staff; ``applicant_comment`` (optional; None keeps what the draft has) is the
    feedback the startup reads once the decisions are released (``review.feedback``).
    Invalid values are refused by raising, and nothing is saved. An incomplete
    submission is saved as a draft, and the outcome's refusal names every field to fix."""
    now = now or utcnow()
    _require_staff(application, actor)
    assignment = _assignment_of(application.id, actor.id)
    if assignment is None:
        raise Forbidden(_l("Only the application's reviewers can score it; assign yourself first."))
    if assignment.conflict_declared_at is not None:
        raise Forbidden(_l("You declared a conflict of interest on this application and cannot score it."))
    if application.status not in OPEN_STATES:
        raise Conflict(_l("This application is decided; its reviews are closed."))
    review = _review_of(application.id, actor.id)
    if review is not None and review.submitted_at is not None:
        raise Conflict(_l("You already submitted your review of this application; it can no longer be changed."))

    criteria = application.call.criteria
    cleaned, errors = {}, {}
    for c in criteria:
        value = scores.get(c.id)
        if value in (None, ""):
            continue
        try:
            value = int(value)
        except (TypeError, ValueError):
            value = None
        if value not in SCORES:
            errors[f"score_{c.id}"] = [_l("Choose a score from 1 to 5.")]
        else:
            cleaned[c.id] = value
    recommendation = recommendation or None
    if recommendation is not None and recommendation not in RECOMMENDATIONS:
        errors["recommendation"] = [_l("Choose nominate, maybe or no.")]
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [_l("Keep the comment under %(n)d characters.", n=MAX_COMMENT)]
    if applicant_comment is not None:
        applicant_comment = normalise_newlines(applicant_comment).strip()
        if (problem := limits.text_problem(applicant_comment, limits.REASON_MAX, multiline=True)) is not None:
            errors["applicant_comment"] = [problem]
    if errors:
        raise Invalid(_l("Some answers need correcting; nothing was saved."), errors)

    if review is None:
        review = Review(application_id=application.id, reviewer_id=actor.id, created_at=now)
        db.session.add(review)
    review.recommendation = recommendation
    review.comment = comment
    if applicant_comment is not None:
        review.applicant_comment = applicant_comment
    review.updated_at = now
    existing = {s.criterion_id: s for s in review.scores}
    for c in criteria:
        if c.id in cleaned:
            if c.id in existing:
                existing[c.id].score = cleaned[c.id]
            else:
                review.scores.append(ReviewScore(criterion_id=c.id, score=cleaned[c.id]))
        elif c.id in existing:
            review.scores.remove(existing[c.id])
    if not submit:
        _flush()
        return SavedReview(review)

    missing = {f"score_{c.id}": [_l("Score this criterion before submitting.")] for c in criteria if c.id not in cleaned}
    if recommendation is None:
        missing["recommendation"] = [_l("Choose a recommendation before submitting.")]
    if not comment:
        missing["comment"] = [_l("Write a comment before submitting.")]
    if missing:
        _flush()
        return SavedReview(review, Invalid(_l("Your review is saved as a draft, but it is not complete yet."), missing))
    review.weighted_score = weighted_score(cleaned, criteria)
    review.submitted_at = now
    _flush()
    return SavedReview(review)


# ---------------------------------------------------------------- the panel


@dataclass
class ReviewerLine:
    assignment: ReviewAssignment
    review: Review | None

    @property
    def state(self) -> str:
        if self.assignment.conflict_declared_at is not None:
            return "conflict"
        if self.review is None:
            return "assigned"
        return "submitted" if self.review.submitted_at else "draft"


@dataclass
class ReviewPanel:
    """What one member of staff sees of an application's reviews."""

    criteria: list[Criterion]
    lines: list[ReviewerLine]
    staff: list[User]  # who could be assigned now
    mine: ReviewAssignment | None
    my_review: Review | None
    can_score: bool
    can_see_others: bool
    reviews: list[Review]  # every counted review (the viewer's own too), if the viewer may read them
    summary: Summary | None  # over every counted review, if the viewer may read them
    submitted_count: int

    @property
    def conflicted(self) -> bool:
        return self.mine is not None and self.mine.conflict_declared_at is not None

    @property
    def submitted(self) -> bool:
        return self.my_review is not None and self.my_review.submitted_at is not None


def may_see_others(application: Application, viewer: User, mine: ReviewAssignment | None, my_review: Review | None) -> bool:
    """Others' reviews stay hidden until the viewer has submitted their own, so nobody
    scores anchored on a colleague's numbers; once the application is decided they are
    open to all staff. A reviewer with a declared conflict is recused and never sees them."""
    if mine is not None and mine.conflict_declared_at is not None:
        return False
    if my_review is not None and my_review.submitted_at is not None:
        return True
    return application.status in DECIDED_STATES


def review_panel(*, application: Application, viewer: User) -> ReviewPanel:
    """The reviewers, the viewer's own review and, where the rules allow, the others' reviews."""
    _require_staff(application, viewer)
    assignments = _assignments(application.id)
    reviews = {r.reviewer_id: r for r in db.session.scalars(
        select(Review).where(Review.application_id == application.id)
        .options(joinedload(Review.reviewer), selectinload(Review.scores)))}
    by_reviewer = {a.reviewer_id: a for a in assignments}
    mine = by_reviewer.get(viewer.id)
    my_review = reviews.get(viewer.id)
    conflicted = {a.reviewer_id for a in assignments if a.conflict_declared_at is not None}
    counted = [r for r in reviews.values() if r.submitted_at is not None and r.reviewer_id not in conflicted]
    counted.sort(key=lambda r: (r.submitted_at, r.id))
    visible = may_see_others(application, viewer, mine, my_review)
    staff = []
    if application.status in OPEN_STATES:
        staff = [u for u in cluster_staff(application.call.route.cluster_id) if _eligible(application, u, by_reviewer) is None]
    return ReviewPanel(
        criteria=application.call.criteria,
        lines=[ReviewerLine(a, reviews.get(a.reviewer_id)) for a in assignments],
        staff=staff,
        mine=mine,
        my_review=my_review,
        can_score=(mine is not None and mine.conflict_declared_at is None and application.status in OPEN_STATES
                   and (my_review is None or my_review.submitted_at is None)),
        can_see_others=visible,
        reviews=counted if visible else [],
        summary=summarise(counted, application.call.criteria) if visible else None,
        submitted_count=len(counted),
    )


# -------------------------------------------------------- bulk start review


def start_review_preview(*, call_id: int, actor: User) -> tuple[Call, list[Application]]:
    """The submitted applications of the call: the ones "start review for all" would move."""
    call = cluster_call(call_id, actor)
    apps = list(db.session.scalars(
        select(Application).where(Application.call_id == call.id, Application.status == "submitted")
        .options(joinedload(Application.startup)).order_by(Application.id)
    ))
    return call, apps


@service
def start_review_many(*, call_id: int, actor: User, application_ids: list[int], now: datetime | None = None) -> list[BulkOutcome]:
    """Start the review of each previewed application, one by one through the workflow."""
    call = cluster_call(call_id, actor)
    return run_each(call, application_ids, lambda a: applications.start_review(application=a, actor=actor, now=now))
