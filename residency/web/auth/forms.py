from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from residency.web.validators import EmailAddress

PASSWORD_RULE = Length(min=10, max=200, message=_l("Use at least 10 characters."))


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address.")),
                                                 EmailAddress()])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password.")), PASSWORD_RULE])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords differ."))])


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address.")),
                                                 EmailAddress()])


class ResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password.")), PASSWORD_RULE])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords differ."))])


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password.")), PASSWORD_RULE])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords differ."))])


class ReminderPreferenceForm(FlaskForm):
    reminder_delivery = RadioField(_l("Optional reminders"), choices=[
        ("immediate", _l("E-mail each reminder at once")),
        ("digest", _l("One e-mail a day with all my reminders (daily digest)")),
        ("off", _l("No reminder e-mails; I check this page")),
    ], validators=[DataRequired(_l("Choose one of the options."))])
