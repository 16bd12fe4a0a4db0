"""The startup's impact surveys after a residency."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from residency.core.i18n import gettext as _
from residency.core.i18n import lazy_gettext as _l
from flask_login import current_user
from residency.web.formtools import BoundedForm
from wtforms import StringField

from residency.domain.impact import services as impact
from residency.web.access import role_required
from residency.core.errors import Conflict, Invalid
from residency.web.formtools import apply_field_errors
from residency.core.db import utcnow
from residency.web.applicant.blueprint import bp


class SurveyForm(BoundedForm):
    employees = StringField(_l("Employees today"), render_kw={"inputmode": "numeric"})
    revenue = StringField(_l("Revenue in the last 12 months"), render_kw={"inputmode": "decimal"})
    capital_raised = StringField(_l("Capital raised in the last 12 months"), render_kw={"inputmode": "decimal"})
    export_revenue = StringField(_l("Export revenue in the last 12 months"), render_kw={"inputmode": "decimal"})
    patents_filed = StringField(_l("Patents filed in the last 12 months"), render_kw={"inputmode": "numeric"})
    products_launched = StringField(_l("Products launched in the last 12 months"), render_kw={"inputmode": "numeric"})
    partnerships_with_host = StringField(_l("Partnerships with the host hub or its companies"), render_kw={"inputmode": "numeric"})


@bp.route("/surveys/<int:survey_id>", methods=["GET", "POST"])
@role_required("applicant")
def survey(survey_id: int):
    """Fill in an impact survey once it is due; read it afterwards."""
    found = impact.survey_for(current_user, survey_id)
    form = SurveyForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            impact.submit(survey=found, actor=current_user, values=form.data)
        except (Invalid, Conflict) as refusal:
            form.form_errors.append(str(refusal.message))
            apply_field_errors(form, refusal)
            status = 409 if isinstance(refusal, Conflict) else 422
        else:
            flash(_("Thank you: your answers are saved."), "success")
            return redirect(url_for("applicant.dashboard"))
    return render_template("applicant/survey.html", survey=found, form=form, today=utcnow().date()), status
