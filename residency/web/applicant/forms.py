"""Forms of the startup's area."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from residency.core import limits
from residency.web.formtools import BoundedForm
from residency.web.validators import WholeNumberWithin
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from residency.core import orgnumbers
from residency.domain.accounts.labels import country_choices, track_choices
from residency.domain.accounts.models import COUNTRIES

TRL_RANGE = NumberRange(min=1, max=9, message=_l("The technology readiness level is a whole number from 1 to 9."))


def _choose(label):
    return [("", label)]


def _int_or_none(value):
    if value in (None, ""):
        return None
    return int(value)


def _country_field():
    return SelectField(_l("Country of registration"), validators=[DataRequired(_l("Choose the country."))])


def _org_number_field():
    return StringField(_l("Organisation number"), validators=[
        DataRequired(_l("Enter the organisation number.")), Length(max=20, message=_l("Use at most 20 characters.")),
        _check_org_number])


def _country_choices():
    return _choose(_l("Choose a country")) + country_choices()


def _check_org_number(form, field):
    """The country's own rule, so that every mistake shows at once (the service checks again)."""
    if form.country.data in COUNTRIES and field.data:
        try:
            orgnumbers.check(form.country.data, field.data)
        except orgnumbers.InvalidOrgNumber as error:
            raise ValidationError(error.message) from None


class StartupForm(BoundedForm):
    """A startup's profile, for creating and for editing it."""

    name = StringField(_l("Name of the startup"), validators=[
        DataRequired(_l("Enter the startup's name.")), Length(max=limits.NAME_MAX, message=_l("Use at most 200 characters."))])
    country = _country_field()
    org_number = _org_number_field()
    city = StringField(_l("City"), validators=[Optional(), Length(max=limits.CITY_MAX, message=_l("Use at most 100 characters."))])
    founded_on = DateField(_l("Founded on"), validators=[InputRequired(_l("Enter the date the company was founded."))])
    employees = IntegerField(_l("Employees"), validators=[
        InputRequired(_l("Enter the number of employees (0 if none yet).")),
        WholeNumberWithin(0, limits.EMPLOYEES_MAX, below=_l("Enter a number of employees of 0 or more."))])
    track = SelectField(_l("Track"), validators=[DataRequired(_l("Choose the track."))])
    trl = SelectField(_l("Technology readiness level (TRL)"), coerce=_int_or_none,
                      validators=[InputRequired(_l("Choose the technology readiness level.")), TRL_RANGE])
    submit = SubmitField(_l("Register the startup"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = _country_choices()
        self.track.choices = _choose(_l("Choose a track")) + track_choices()
        self.trl.choices = _choose(_l("Choose a level")) + [(n, str(n)) for n in range(1, 10)]

    def values(self) -> dict:
        """The profile as plain values for the service."""
        return {name: self[name].data for name in
                ("name", "country", "org_number", "city", "founded_on", "employees", "track", "trl")}


class JoinForm(BoundedForm):
    """Ask the members of a registered startup to let you in."""

    country = _country_field()
    org_number = _org_number_field()
    message = TextAreaField(_l("Message to the members (optional)"), validators=[
        Optional(), Length(max=limits.JOIN_MESSAGE_MAX, message=_l("Use at most 1000 characters."))])
    submit = SubmitField(_l("Ask to join"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = _country_choices()


class AcceptOfferForm(BoundedForm):
    """Accepting a placement binds the startup: a box it must tick (no JavaScript needed), and the
    version of the terms it read, so that an answer to an offer the hub has changed since is refused."""

    confirm = BooleanField(_l("I accept the residency on behalf of our startup, with the dates, space and conditions shown."),
                           validators=[DataRequired(_l("Tick the box to confirm that you accept the offer."))])
    terms = HiddenField()
