"""Forms of the hub's area."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from residency.core import limits
from residency.web.formtools import BoundedForm
from residency.web.validators import WholeNumberWithin
from wtforms import DateField, HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

COUNT_RANGE = WholeNumberWithin(0, limits.HUB_SPACE_MAX, below=_l("Enter a whole number of 0 or more."))
OFFER_RANGE = WholeNumberWithin(0, limits.PLACEMENT_SPACE_MAX, below=_l("Enter a whole number of 0 or more."))


class CapacityForm(BoundedForm):
    """Desks and benches the hub offers from one day to another, both included."""

    starts_on = DateField(_l("First day"), validators=[InputRequired(_l("Enter the first day of the period."))])
    ends_on = DateField(_l("Last day"), validators=[InputRequired(_l("Enter the last day of the period."))])
    desks = IntegerField(_l("Office desks"), validators=[InputRequired(_l("Enter the number of office desks (0 if none).")),
                                                        COUNT_RANGE])
    benches = IntegerField(_l("Lab benches"), validators=[InputRequired(_l("Enter the number of lab benches (0 if none).")),
                                                         COUNT_RANGE])

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The last day cannot be before the first day."))


class ConfirmForm(BoundedForm):
    """The confirmation page's form of a destructive action: only its own button sends ``confirmed``."""

    confirmed = HiddenField()


# ------------------------------------------------------------------ placements


class OfferForm(BoundedForm):
    """Dates, desks and benches offered to a nominee, the day by which they must answer and the conditions."""

    starts_on = DateField(_l("First day of the residency"), validators=[InputRequired(_l("Enter the first day of the residency."))])
    ends_on = DateField(_l("Last day of the residency"), validators=[InputRequired(_l("Enter the last day of the residency."))])
    desks = IntegerField(_l("Office desks"), validators=[InputRequired(_l("Enter the number of office desks (0 if none).")),
                                                        OFFER_RANGE])
    benches = IntegerField(_l("Lab benches"), validators=[InputRequired(_l("Enter the number of lab benches (0 if none).")),
                                                         OFFER_RANGE])
    offer_expires_on = DateField(_l("Answer by (the offer lapses at 23:59 in the hub's time zone)"),
                                 validators=[InputRequired(_l("Enter the date by which the startup must answer."))])
    conditions = TextAreaField(_l("Conditions"), validators=[Optional(), Length(max=limits.REASON_MAX)], render_kw={"rows": 3})


class ReasonForm(BoundedForm):
    """Waitlist (reason optional) or reject (reason required by the workflow)."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=limits.REASON_MAX)], render_kw={"rows": 3})


class ExtendForm(BoundedForm):
    ends_on = DateField(_l("New last day"), validators=[InputRequired(_l("Enter the new last day of the residency."))])


class TerminateForm(BoundedForm):
    reason = TextAreaField(_l("Why does the residency end early?"), validators=[Optional(), Length(max=limits.REASON_MAX)], render_kw={"rows": 3})
    checked_out_on = DateField(_l("Last day at the hub"), validators=[Optional()])


class CompleteForm(BoundedForm):
    checked_out_on = DateField(_l("Last day at the hub"), validators=[Optional()])


class CheckInForm(BoundedForm):
    checked_in_on = DateField(_l("Day the startup moved in"), validators=[InputRequired(_l("Enter the day the startup moved in."))])
