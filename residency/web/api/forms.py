from residency.core.i18n import lazy_gettext as _l
from residency.core import limits
from residency.web.formtools import BoundedForm
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length

from residency.domain.accounts.tokens import EXPIRY_DAYS


class TokenForm(BoundedForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the token a name.")), Length(max=limits.TOKEN_NAME_MAX)])
    days = RadioField(_l("Valid for"), coerce=int, default=90,
                      choices=[(d, _l("%(num)d days", num=d)) for d in EXPIRY_DAYS])
