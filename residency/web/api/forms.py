from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length

from residency.domain.accounts.tokens import EXPIRY_DAYS


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the token a name.")), Length(max=100)])
    days = RadioField(_l("Valid for"), coerce=int, default=90,
                      choices=[(d, _l("%(num)d days", num=d)) for d in EXPIRY_DAYS])
