"""Forms of the administration area.

Forms check types and presence; the programme's rules (organisation numbers,
date order, duplicates) live in the services so they hold whatever the caller.
"""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from residency.core import limits
from residency.web.formtools import BoundedForm, BoundedSubform, RowList
from wtforms import (
    BooleanField,
    DateField,
    FormField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from residency.domain.accounts.labels import TRACK_LABELS, country_choices
from residency.web.validators import EmailAddress, MaxLength, WholeNumberWithin
from residency.domain.accounts.models import ORGANISATION_KINDS, TRACKS

KIND_LABELS = {
    "startup": _l("Startup"),
    "cluster": _l("Cluster"),
    "hub": _l("Hub"),
    "funder": _l("Funder"),
    "operator": _l("Operator (programme administration)"),
}
# What a record of each workflow is called (the audit trail's "kind of record").
WORKFLOW_TITLES = {
    "call": _l("Call"),
    "application": _l("Application"),
    "placement": _l("Placement"),
    "funding": _l("Funding application"),
    "report": _l("Funding report"),
    "route": _l("Route"),
}
CALL_ACTION_LABELS = {
    "publish": _l("Publish"),
    "close": _l("Close for applications"),
    "reopen": _l("Reopen"),
    "archive": _l("Archive"),
}
INVITATION_STATE_LABELS = {
    "pending": _l("Pending"),
    "accepted": _l("Accepted"),
    "expired": _l("Expired"),
    "revoked": _l("Withdrawn"),
}
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def optional_int(value):
    """Coerce a select's value; the empty placeholder becomes None."""
    if value in (None, ""):
        return None
    return int(value)


class ConfirmForm(BoundedForm):
    """A button that changes something: only the CSRF token."""


class OrganisationForm(BoundedForm):
    kind = SelectField(_l("Kind"), choices=[(k, KIND_LABELS[k]) for k in ORGANISATION_KINDS],
                       validators=[DataRequired(_l("Choose the kind of organisation."))])
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the organisation's name.")), Length(max=limits.NAME_MAX)])
    country = SelectField(_l("Country"), choices=country_choices)
    org_number = StringField(_l("Organisation number"), validators=[DataRequired(_l("Enter the organisation number."))])
    city = StringField(_l("City"), validators=[Optional(), Length(max=limits.CITY_MAX)])
    timezone = StringField(_l("Time zone"), validators=[Optional(), Length(max=limits.TIMEZONE_MAX)], render_kw={"list": "timezones"})
    website = URLField(_l("Website"), validators=[Optional(), Length(max=limits.WEBSITE_MAX)])
    founded_on = DateField(_l("Founded on"), validators=[Optional()])
    employees = IntegerField(_l("Employees"), validators=[Optional(), WholeNumberWithin(0, limits.EMPLOYEES_MAX)],
                             render_kw={"min": 0})
    track = SelectField(_l("Track"), choices=[("", _l("Choose a track"))] + [(t, TRACK_LABELS[t]) for t in TRACKS])
    trl = SelectField(_l("Technology readiness level (TRL)"), coerce=optional_int,
                      choices=[("", _l("Choose a level"))] + [(n, str(n)) for n in range(1, 10)])


class InvitationForm(BoundedForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter an e-mail address.")),
                                                 EmailAddress()])
    organisation_id = SelectField(_l("Organisation"), coerce=optional_int,
                                  validators=[DataRequired(_l("Choose a cluster, hub, funder or the operator."))])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RouteForm(BoundedForm):
    home_country = SelectField(_l("Home country of the startups"), choices=country_choices)
    host_hub_id = SelectField(_l("Host hub"), coerce=optional_int, validators=[DataRequired(_l("Choose the host hub."))])
    cluster_id = SelectField(_l("Nominating cluster"), coerce=optional_int,
                             validators=[DataRequired(_l("Choose the nominating cluster."))])
    funder_ids = MultiCheckboxField(_l("Eligible funders"), coerce=int, validators=[Optional()])


class CriterionRow(BoundedSubform):
    """One scoring criterion: its name, its weight (relative to the others) and what reviewers should look for."""

    name = StringField(_l("Name"), validators=[Length(max=limits.NAME_MAX)])
    weight = StringField(_l("Weight"), render_kw={"inputmode": "decimal", "autocomplete": "off", "size": 6})
    guidance = TextAreaField(_l("Guidance for the reviewers (optional)"), validators=[MaxLength(limits.REASON_MAX)],
                             render_kw={"rows": 2})


class RouteCloseForm(BoundedForm):
    reason = TextAreaField(_l("Why is the route closed? (for the audit trail)"),
                           validators=[Optional(), Length(max=limits.REASON_MAX)], render_kw={"rows": 3})


class CallForm(BoundedForm):
    route_id = SelectField(_l("Route"), coerce=optional_int, validators=[DataRequired(_l("Choose the call's route."))])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter the call's title.")), Length(max=limits.NAME_MAX)])
    description = TextAreaField(_l("Description"), render_kw={"rows": 5})
    timezone = StringField(_l("Time zone of the call"), validators=[Optional(), Length(max=limits.TIMEZONE_MAX)],
                           render_kw={"list": "timezones"})
    opens_at = DateTimeLocalField(_l("Opens"), format=LOCAL_FORMATS,
                                  validators=[InputRequired(_l("Enter when the call opens."))])
    closes_at = DateTimeLocalField(_l("Applications close"), format=LOCAL_FORMATS,
                                   validators=[InputRequired(_l("Enter when applications close."))])
    nomination_deadline = DateTimeLocalField(_l("Nomination deadline"), format=LOCAL_FORMATS,
                                             validators=[InputRequired(_l("Enter the nomination deadline."))])
    decision_deadline = DateTimeLocalField(_l("Placement decision deadline"), format=LOCAL_FORMATS,
                                           validators=[InputRequired(_l("Enter the decision deadline."))])
    seats = IntegerField(_l("Seats"), validators=[InputRequired(_l("Enter the number of seats.")),
                                                 WholeNumberWithin(1, limits.SEATS_MAX, below=_l("Offer at least one seat."))],
                         render_kw={"min": 1})
    residency_starts_on = DateField(_l("Residency window starts"),
                                    validators=[InputRequired(_l("Enter the first day of the residency window."))])
    residency_ends_on = DateField(_l("Residency window ends"),
                                  validators=[InputRequired(_l("Enter the last day of the residency window."))])
    criteria = RowList(FormField(CriterionRow), _l("Scoring criteria"), limit=limits.CRITERIA_MAX)
    feedback_in_decision_email = BooleanField(_l("Include the reviewers' comments for the startup in the decision e-mail"),
                                              default=True)


class CorrectionForm(BoundedForm):
    action = RadioField(_l("Correction"), choices=[("force", _l("Force to a chosen status")),
                                                   ("revert", _l("Revert to the previous status"))],
                        default="force", validators=[DataRequired(_l("Choose force or revert."))])
    target = SelectField(_l("New status"), validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give a reason; it is kept in the audit trail.")),
                                                     Length(max=limits.REASON_MAX)], render_kw={"rows": 3})


class ExtensionForm(BoundedForm):
    """A later deadline for one startup in one call."""

    startup_id = SelectField(_l("Startup"), coerce=int, validators=[DataRequired(_l("Choose the startup."))])
    closes_at = DateTimeLocalField(_l("New closing time (in the call's time zone)"), format=LOCAL_FORMATS,
                                   validators=[DataRequired(_l("Enter the new closing date and time."))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give a reason for the extension.")), Length(max=limits.REASON_MAX)],
                           render_kw={"rows": 2})


class AuditSearchForm(BoundedForm):
    """The audit trail's search (a GET form: it changes nothing, so it has no token)."""

    class Meta:
        csrf = False

    workflow = SelectField(_l("Kind of record"), default="", choices=[("", _l("All kinds"))] + list(WORKFLOW_TITLES.items()))
    record_id = IntegerField(_l("Record number"), validators=[Optional(), WholeNumberWithin(1, limits.INT_MAX)],
                             render_kw={"inputmode": "numeric"})
    actor = StringField(_l("Changed by"), validators=[Optional(), Length(max=limits.NAME_MAX)])
    since = DateField(_l("From (date)"), validators=[Optional()])
    until = DateField(_l("To (date)"), validators=[Optional()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The last day cannot be before the first."))
