from residency.core.i18n import lazy_gettext as _l
from residency.core import limits
from residency.web.formtools import BoundedForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from residency.domain.accounts.passwords import password_problem
from residency.web.validators import EmailAddress


class PasswordRule:
    """The one password rule (domain/accounts/passwords.py), its answer shown next to the field.

    The form tells whose password it is with ``password_owner()``: (e-mail, name).
    """

    def __call__(self, form, field):
        email, name = form.password_owner()
        problem = password_problem(field.data, email=email, name=name)
        if problem is not None:
            raise ValidationError(str(problem))


class _OwnedPassword:
    """For the password of a known account: the view passes ``owner=`` (the user)."""

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def password_owner(self):
        return (self.owner.email, self.owner.name) if self.owner is not None else (None, None)


class RegisterForm(BoundedForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=limits.NAME_MAX)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address.")),
                                                 EmailAddress()])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password.")), PasswordRule()])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords differ."))])

    def password_owner(self):
        return self.email.data, self.name.data


class LoginForm(BoundedForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ForgotForm(BoundedForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address.")),
                                                 EmailAddress()])


class ResetForm(_OwnedPassword, BoundedForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password.")), PasswordRule()])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords differ."))])


class ChangePasswordForm(_OwnedPassword, BoundedForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password."))])
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password.")), PasswordRule()])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords differ."))])


class SignOutOthersForm(BoundedForm):
    """Sign out every other device: a button, only the CSRF token."""


class AcceptInvitationForm(BoundedForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=limits.NAME_MAX)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password.")), PasswordRule()])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords differ."))])


    def __init__(self, *args, email=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invited_email = email

    def password_owner(self):
        return self.invited_email, (self.name.data if "name" in self else None)


class ReminderPreferenceForm(BoundedForm):
    reminder_delivery = RadioField(_l("Optional reminders"), choices=[
        ("immediate", _l("E-mail each reminder at once")),
        ("digest", _l("One e-mail a day with all my reminders (daily digest)")),
        ("off", _l("No reminder e-mails; I check this page")),
    ], validators=[DataRequired(_l("Choose one of the options."))])
