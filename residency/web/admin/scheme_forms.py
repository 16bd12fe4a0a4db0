"""The funding scheme form. Amounts and percentages are typed as text and parsed
exactly (Decimal) by the service, which checks every field at once (so the form
itself requires nothing) and the instalment plan."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from residency.core import limits
from residency.web.formtools import BoundedForm, BoundedSubform, RowList, row_values
from wtforms import BooleanField, FormField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from residency.domain.funding.labels import MILESTONE_CHOICES, REPORT_LABELS
from residency.domain.accounts.labels import country_choices
from residency.domain.funding.models import CURRENCIES
from residency.web.admin.forms import MultiCheckboxField, optional_int

class InstalmentRow(BoundedSubform):
    """One instalment of the plan: its label, its share of the grant and the milestone it follows."""

    label = StringField(_l("Name"), validators=[Length(max=100)])
    percent = StringField(_l("Share of the grant (%)"), render_kw={"inputmode": "decimal", "autocomplete": "off", "size": 6})
    after = SelectField(_l("Paid"), validate_choice=False,
                        choices=[("", _l("Choose when it is paid"))] + list(MILESTONE_CHOICES.items()))


class SchemeForm(BoundedForm):
    funder_id = SelectField(_l("Funder"), coerce=optional_int, validate_choice=False)
    name = StringField(_l("Name of the scheme"), validators=[Length(max=limits.NAME_MAX)])
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], validate_choice=False)
    max_amount = StringField(_l("Maximum amount"),
                             render_kw={"inputmode": "decimal", "autocomplete": "off"})
    max_share_percent = StringField(_l("Maximum share of eligible costs (%)"),
                                    render_kw={"inputmode": "decimal", "autocomplete": "off"})
    instalments = RowList(FormField(InstalmentRow), _l("Instalment plan"), limit=limits.INSTALMENTS_MAX)
    home_countries = MultiCheckboxField(_l("Home countries of the companies"), validators=[Optional()],
                                        choices=country_choices())
    max_company_age_years = IntegerField(
        _l("Company at most this many years old"), validators=[Optional(), NumberRange(
            min=1, max=limits.COMPANY_AGE_MAX, message=_l("Enter a number of years from 1 to 100, or leave it empty for no limit."))],
        render_kw={"min": 1, "max": 100, "inputmode": "numeric"})
    report_kinds = MultiCheckboxField(_l("Reports the startup submits"), validators=[Optional()],
                                      choices=list(REPORT_LABELS.items()))
    active = BooleanField(_l("Active: residents may apply"), default=True)

    def values(self) -> dict:
        return dict(funder_id=self.funder_id.data, name=self.name.data, currency=self.currency.data,
                    max_amount=self.max_amount.data, max_share_percent=self.max_share_percent.data,
                    instalments=row_values(self.instalments), home_countries=self.home_countries.data or [],
                    max_company_age_years=self.max_company_age_years.data, report_kinds=self.report_kinds.data or [],
                    active=self.active.data)
