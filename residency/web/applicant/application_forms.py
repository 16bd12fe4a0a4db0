"""The application form: every question optional while drafting; the service
decides what is complete at submission."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from residency.core import limits
from residency.web.formtools import BoundedForm
from residency.web.validators import MaxLength
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from residency.domain.applications.services import QUESTIONS, TYPED_FIELDS
from residency.domain.accounts.labels import track_choices


class ApplicationForm(BoundedForm):
    track = SelectField(_l("Track"), validators=[Optional()])
    trl = SelectField(_l("Technology readiness level (TRL)"), validators=[Optional()])
    # Plain text inputs: the service explains a bad date or number in words.
    desired_start = StringField(_l("Desired start"), validators=[Optional()], render_kw={"type": "date"})
    months = StringField(_l("Duration in months"), validators=[Optional()],
                         render_kw={"type": "number", "min": 1, "max": 24, "inputmode": "numeric"})
    desks = StringField(_l("Office desks"), validators=[Optional()],
                        render_kw={"type": "number", "min": 0, "max": 50, "inputmode": "numeric"})
    benches = StringField(_l("Lab benches"), validators=[Optional()],
                          render_kw={"type": "number", "min": 0, "max": 50, "inputmode": "numeric"})
    new_attachment = FileField(_l("Add an attachment (PDF or image, at most 10 MB)"), validators=[Optional()],
                               render_kw={"accept": "application/pdf,image/png,image/jpeg,image/gif,image/webp"})
    loaded_edit_id = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.track.choices = [("", _l("Choose a track"))] + track_choices()
        self.trl.choices = [("", _l("Choose a level"))] + [(str(n), str(n)) for n in range(1, 10)]

    def values(self) -> dict:
        """What the applicant typed, as plain values for the service."""
        values = {q.key: getattr(self, q.key).data or "" for q in QUESTIONS}
        values.update({key: getattr(self, key).data or "" for key in TYPED_FIELDS})
        return values

    def fill(self, values: dict) -> None:
        for key, value in values.items():
            if key in self:
                self[key].data = "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))


# One text area per question, declared from the service's list so the two never drift apart.
for _q in QUESTIONS:
    setattr(ApplicationForm, _q.key, TextAreaField(_q.label, validators=[Optional()],
                                                   render_kw={"rows": 5, "maxlength": _q.max_length}))


class WithdrawForm(BoundedForm):
    reason = TextAreaField(_l("Why do you withdraw the application?"), validators=[Optional(), MaxLength(limits.REASON_MAX)],
                           render_kw={"rows": 3})
