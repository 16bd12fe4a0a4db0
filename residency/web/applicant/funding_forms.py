"""The funding application form. Every field is optional while drafting; the
service parses amounts exactly and the scheme's rules decide at submission."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from residency.domain.funding.services import MAX_DESCRIPTION
from residency.core import limits
from residency.web.formtools import BoundedForm, BoundedSubform, typed_amount
from residency.web.validators import MaxLength
from residency.domain.funding.labels import CATEGORY_LABELS

# Blank budget lines offered below the saved ones (the service skips blank lines).
BLANK_LINES = 4
MIN_LINES = 6



def _one_newline(text):
    """Browsers send a line break as CR LF but count it as one character against maxlength."""
    return text.replace("\r\n", "\n") if isinstance(text, str) else text


class BudgetLineForm(BoundedSubform):
    category = SelectField(_l("Category"), validate_choice=False,
                           choices=[("", _l("Choose"))] + list(CATEGORY_LABELS.items()))
    year = StringField(_l("Year"), render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 4})
    quarter = SelectField(_l("Quarter"), validate_choice=False,
                          choices=[("", _l("Choose"))] + [(str(q), _l("Q%(quarter)s", quarter=q)) for q in range(1, 5)])
    amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal", "autocomplete": "off"})


class FundingForm(BoundedForm):
    title = StringField(_l("Project title"), validators=[Optional()], render_kw={"maxlength": 200})
    description = TextAreaField(_l("Project description"), validators=[Optional()], filters=[_one_newline],
                                render_kw={"rows": 8, "maxlength": MAX_DESCRIPTION})
    period_start = StringField(_l("Project starts"), validators=[Optional()], render_kw={"type": "date"})
    period_end = StringField(_l("Project ends"), validators=[Optional()], render_kw={"type": "date"})
    vat_number = StringField(_l("VAT number (optional)"), validators=[Optional()],
                             render_kw={"autocomplete": "off", "maxlength": limits.VAT_NUMBER_MAX, "spellcheck": "false"})
    own_financing = StringField(_l("Own financing"), validators=[Optional()],
                                render_kw={"inputmode": "decimal", "autocomplete": "off"})
    amount_requested = StringField(_l("Amount requested"), validators=[Optional()],
                                   render_kw={"inputmode": "decimal", "autocomplete": "off"})
    budget = FieldList(FormField(BudgetLineForm))

    def validate(self, extra_validators=None) -> bool:
        """As every form; a budget line's refused cell is also named above the table, which shows no
        message per cell."""
        valid = super().validate(extra_validators)
        for n, row in enumerate(self.budget, start=1):
            for messages in row.errors.values():
                for message in messages:
                    self.budget.errors.append(str(_l("Budget line %(n)d: %(problem)s", n=n, problem=message)))
        return valid

    def values(self) -> dict:
        """What the startup typed, as plain strings for the service."""
        return {key: self[key].data or "" for key in
                ("title", "description", "period_start", "period_end", "vat_number", "own_financing",
                              "amount_requested")}

    def budget_rows(self) -> list[dict]:
        return [{"category": row.category.data or "", "year": row.year.data or "", "quarter": row.quarter.data or "",
                 "amount": row.amount.data or ""} for row in self.budget]

    def add_blank_lines(self) -> None:
        for _n in range(max(BLANK_LINES, MIN_LINES - len(self.budget.entries))):
            self.budget.append_entry()

    @classmethod
    def of(cls, fa) -> "FundingForm":
        """The saved application, with blank budget lines to add more."""
        form = cls(formdata=None, data={
            "title": fa.title, "description": fa.description,
            "period_start": fa.period_start.isoformat() if fa.period_start else "",
            "period_end": fa.period_end.isoformat() if fa.period_end else "",
            "vat_number": fa.vat_number or "",
            "own_financing": _plain(fa.own_financing), "amount_requested": _plain(fa.amount_requested),
            "budget": [{"category": line.category, "year": str(line.year), "quarter": str(line.quarter),
                        "amount": _plain(line.amount)} for line in fa.budget_lines],
        })
        form.add_blank_lines()
        return form


def _plain(amount) -> str:
    """An amount as typed back into a field ('' for nothing yet, 0 included)."""
    return "" if amount is None or amount == 0 else typed_amount(amount)


class ReportForm(BoundedForm):
    text = TextAreaField(_l("Your report"), validators=[Optional(), MaxLength(limits.LONG_TEXT_MAX)], filters=[_one_newline],
                         render_kw={"rows": 8})


class ReportAttachmentForm(BoundedForm):
    """A file for a report not yet submitted; its type and size are checked by the service, from the content."""

    attachment = FileField(_l("Add a file (PDF, image or office document, at most 10 MB)"), validators=[Optional()])


class AcceptGrantForm(BoundedForm):
    """Accepting binds the startup: a box it must tick, which works without JavaScript."""

    confirm = BooleanField(_l("I accept the grant on behalf of our startup, with the conditions and the report schedule shown."),
                           validators=[DataRequired(_l("Tick the box to confirm that you accept the grant."))])


class DeclineGrantForm(BoundedForm):
    reason = TextAreaField(_l("Why do you decline? (optional; the funder reads it)"),
                           validators=[Optional(), Length(max=limits.REASON_MAX)], render_kw={"rows": 3})
    confirm = BooleanField(_l("I decline the grant offer on behalf of our startup. This cannot be undone."),
                           validators=[DataRequired(_l("Tick the box to confirm that you decline the grant offer."))])
