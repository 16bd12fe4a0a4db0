"""Funding schemes in the administration area: list, create, edit.

Registered on the admin blueprint (imported by ``residency.web`` before the blueprint is registered).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from residency.core.i18n import gettext as _

from residency.core import limits, pagination
from residency.web.access import role_required
from residency.core.errors import Invalid
from residency.web.formtools import add_blank_rows, add_row_asked, apply_field_errors
from residency.domain.funding import schemes as services
from residency.domain.funding.labels import labels
from residency.web.admin.scheme_forms import SchemeForm
from residency.web.admin.views import ADMIN, _actor, _status, bp


@bp.get("/schemes")
@role_required(ADMIN)
def schemes():
    """Every funder's schemes with their limits, plan, eligibility and reports."""
    return render_template("admin/schemes.html", page=services.list_schemes(pagination.page_number(request.args)),
                           active="schemes", **labels())


def _form(**kwargs) -> SchemeForm:
    form = SchemeForm(**kwargs)
    form.funder_id.choices = [("", _("Choose a funder"))] + [(f.id, f.name) for f in services.funders()]
    return form


def _page(form, scheme=None):
    add_blank_rows(form.instalments, at_least=3)
    return render_template("admin/scheme_form.html", form=form, scheme=scheme, active="schemes"), _status(form)


@bp.route("/schemes/new", methods=["GET", "POST"])
@role_required(ADMIN)
def scheme_new():
    """A funder's scheme: currency, limits, instalment plan, eligibility and report schedule."""
    if request.method == "GET":
        form = _form(data={"report_kinds": ["progress", "final"], "active": True,
                           "instalments": services.default_plan(_("Advance"), _("Interim"), _("Final"))})
        if limits.parse_id(request.args.get("funder_id")):
            form.funder_id.data = limits.parse_id(request.args.get("funder_id"))
    else:
        form = _form()
    if add_row_asked(form.instalments, request.form):
        return _page(form)
    if form.validate_on_submit():
        try:
            scheme = services.create_scheme(_actor(), **form.values())
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            flash(_("The scheme “%(name)s” of %(funder)s is saved.", name=scheme.name, funder=scheme.funder.name), "success")
            return redirect(url_for(".schemes"))
    return _page(form)


@bp.route("/schemes/<int:scheme_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def scheme_edit(scheme_id: int):
    scheme = services.get_scheme(scheme_id)
    if request.method == "GET":
        return _page(_form(formdata=None, data=services.form_values(scheme)), scheme)
    form = _form()
    if add_row_asked(form.instalments, request.form):
        return _page(form, scheme)
    if form.validate_on_submit():
        try:
            services.update_scheme(_actor(), scheme.id, **form.values())
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            flash(_("The scheme “%(name)s” is saved.", name=scheme.name), "success")
            return redirect(url_for(".schemes"))
    return _page(form, scheme)
