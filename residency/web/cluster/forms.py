"""Forms of the cluster area."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from residency.core import limits
from residency.web.formtools import BoundedForm
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, Length


class RequestChangesForm(BoundedForm):
    message = TextAreaField(_l("What should the startup change?"), validators=[
        DataRequired(_l("Write what the startup should change.")), Length(max=limits.REASON_MAX)], render_kw={"rows": 5})
    respond_by = DateField(_l("Answer by (in the call's time zone)"), validators=[
        DataRequired(_l("Choose the date by which the startup should answer."))])


class ActionForm(BoundedForm):
    """A bare form for one-button actions (CSRF only)."""
