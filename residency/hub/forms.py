"""Forms of the hub's area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField
from wtforms.validators import InputRequired, NumberRange, ValidationError

COUNT_RANGE = NumberRange(min=0, max=10000, message=_l("Enter a whole number of 0 or more."))


class CapacityForm(FlaskForm):
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
