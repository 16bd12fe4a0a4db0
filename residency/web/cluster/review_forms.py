"""Forms of the review desk: reviewers, conflicts, scoring, decisions and bulk actions.

Forms only parse and check the shape of what was sent; the rules live in the
services (residency.reviews, residency.nominations), whose refusals are put
back under the fields they concern.
"""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from residency.core import limits
from residency.web.formtools import BoundedForm
from residency.web.validators import MaxLength, WholeNumberWithin
from wtforms import IntegerField, RadioField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from residency.domain.review.models import RECOMMENDATIONS

RECOMMENDATION_LABELS = {
    "nominate": _l("Nominate"),
    "maybe": _l("Maybe"),
    "no": _l("Do not nominate"),
}
assert set(RECOMMENDATION_LABELS) == set(RECOMMENDATIONS)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AssignReviewersForm(BoundedForm):
    # No "required" validator: it would mark every checkbox required; the service refuses an empty choice.
    reviewers = CheckboxesField(_l("Reviewers to add"), coerce=int, validate_choice=False)


class ConflictForm(BoundedForm):
    reason = TextAreaField(_l("What is the conflict of interest?"), validators=[
        DataRequired(_l("Say briefly what the conflict of interest is.")), Length(max=limits.REASON_MAX)], render_kw={"rows": 3})


class ReviewForm(BoundedForm):
    """Scores per criterion are added per call by ``review_form``."""

    recommendation = RadioField(_l("Your recommendation"), choices=list(RECOMMENDATION_LABELS.items()),
                                validators=[Optional()])
    comment = TextAreaField(_l("Comment for the other reviewers"), validators=[Length(max=limits.REASON_MAX)], render_kw={"rows": 5})
    # Feedback the startup reads once the decisions are released (residency.domain.review.feedback).
    applicant_comment = TextAreaField(_l("Comment for the startup (optional)"), validators=[MaxLength(limits.REASON_MAX)],
                                      render_kw={"rows": 4})

    def score_fields(self):
        return [f for f in self if f.name.startswith("score_")]

    def scores(self) -> dict:
        return {int(f.name.removeprefix("score_")): f.data for f in self.score_fields()}


def review_form(call, **kwargs) -> ReviewForm:
    """The review form of ``call``: one 1-5 radio group per weighted criterion."""

    class CallReviewForm(ReviewForm):
        pass

    for criterion in call.criteria:
        setattr(CallReviewForm, f"score_{criterion.id}", RadioField(
            criterion.name, choices=[(i, str(i)) for i in range(1, 6)], coerce=int, validators=[Optional()]))
    return CallReviewForm(**kwargs)


class NominateForm(BoundedForm):
    rationale = TextAreaField(_l("Why do you nominate this startup?"), validators=[
        DataRequired(_l("Give the rationale for the nomination.")), Length(max=limits.REASON_MAX)], render_kw={"rows": 4})
    rank = IntegerField(_l("Rank within the call (optional)"), validators=[
        Optional(), NumberRange(min=1, message=_l("Use 1 for the strongest candidate.")),
        WholeNumberWithin(1, limits.RANK_MAX)])


class DeclineForm(BoundedForm):
    reason = TextAreaField(_l("Internal reason (staff only)"), validators=[
        DataRequired(_l("A reason is required.")), Length(max=limits.REASON_MAX)], render_kw={"rows": 3})
    message = TextAreaField(_l("Message to the startup"), validators=[
        DataRequired(_l("A message for the startup is required.")), Length(max=limits.REASON_MAX)], render_kw={"rows": 4})


class UnnominateForm(BoundedForm):
    reason = TextAreaField(_l("Why is the nomination taken back? (staff only)"), validators=[
        DataRequired(_l("A reason is required.")), Length(max=limits.REASON_MAX)], render_kw={"rows": 3})


class AssignEvenlyForm(BoundedForm):
    class Meta:
        csrf = False  # a GET form: it only shows a preview

    per_application = IntegerField(_l("Reviewers per application"), default=2, validators=[
        DataRequired(_l("Say how many reviewers each application needs.")),
        NumberRange(min=1, max=limits.REVIEWERS_MAX, message=_l("From 1 to %(max)d.", max=limits.REVIEWERS_MAX))])
