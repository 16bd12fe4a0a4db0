"""Forms of the funder's funding desk. Amounts are typed as text and parsed exactly
(Decimal) by the service; each form has a prefix so one page can hold them all. The workflow asks for a
``reason`` when changes are requested, a report is returned, a grant refused or cancelled,
so those fields are called ``reason`` and its refusal lands under them."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l
from residency.core import limits
from residency.web.formtools import BoundedForm, typed_amount
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import Length, Optional


class ConfirmForm(BoundedForm):
    """A button that changes something: only the CSRF token."""


class NotesForm(BoundedForm):
    notes = TextAreaField(_l("Assessment notes (staff only: never shown to the startup)"),
                          validators=[Optional(), Length(max=limits.LONG_TEXT_MAX)], render_kw={"rows": 5})


class ChangesForm(BoundedForm):
    reason = TextAreaField(_l("What should the startup change?"), validators=[Optional(), Length(max=limits.REASON_MAX)],
                            render_kw={"rows": 4})


class RejectForm(BoundedForm):
    reason = TextAreaField(_l("Why is the application not granted? The startup reads this."),
                           validators=[Optional(), Length(max=limits.REASON_MAX)], render_kw={"rows": 4})


class GrantForm(BoundedForm):
    amount = StringField(_l("Amount granted"), validators=[Optional()],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    share_percent = StringField(_l("Share of eligible costs (%)"), validators=[Optional()],
                                render_kw={"inputmode": "decimal", "autocomplete": "off"})
    conditions = TextAreaField(_l("Conditions"), validators=[Optional(), Length(max=limits.REASON_MAX)], render_kw={"rows": 3})
    offer_deadline = DateField(_l("Accept by (the offer lapses at 23:59 in the funder's time zone)"), validators=[Optional()])
    report_progress = DateField(_l("Progress report due"), validators=[Optional()])
    report_final = DateField(_l("Final report due"), validators=[Optional()])

    @classmethod
    def proposal(cls, defaults: dict) -> "GrantForm":
        """The grant form filled with the service's proposal, amounts as the reader types them."""
        data = dict(defaults, amount=typed_amount(defaults["amount"]), share_percent=typed_amount(defaults["share_percent"]))
        return cls(formdata=None, prefix="grant", data=data)

    def for_scheme(self, scheme) -> "GrantForm":
        """Only the reports the scheme asks for."""
        for kind in ("progress", "final"):
            if kind not in (scheme.report_kinds or []):
                delattr(self, f"report_{kind}")
        return self

    def report_due(self) -> dict:
        return {kind: self[f"report_{kind}"].data for kind in ("progress", "final") if f"report_{kind}" in self}


class PaymentForm(BoundedForm):
    """An instalment recorded paid: the day, the amount (checked against the instalment) and the reference."""

    paid_on = DateField(_l("Paid on"), validators=[Optional()])
    amount = StringField(_l("Amount paid"), validators=[Optional()], render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reference = StringField(_l("Payment reference"), validators=[Optional(), Length(max=limits.PAYMENT_REFERENCE_MAX)],
                            render_kw={"autocomplete": "off"})


class ReturnReportForm(BoundedForm):
    reason = TextAreaField(_l("What should the startup add or change?"), validators=[Optional(), Length(max=limits.REASON_MAX)],
                             render_kw={"rows": 3})


class CancelForm(BoundedForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=limits.REASON_MAX)], render_kw={"rows": 3})
