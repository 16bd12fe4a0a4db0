"""The page where a logged-in user creates, lists and revokes personal API tokens."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from residency.core.i18n import gettext as _
from flask_login import current_user, login_required

from residency.core.errors import Invalid
from residency.core.db import utcnow
from residency.domain.accounts import tokens as api_tokens
from residency.web.api.forms import TokenForm

bp = Blueprint("api_tokens", __name__, url_prefix="/api/tokens")


@bp.route("", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        try:
            created = api_tokens.create(actor=current_user, name=form.name.data, days=form.days.data)
        except Invalid as error:
            for name, messages in error.field_errors.items():
                if name in form:
                    form[name].errors = list(form[name].errors) + [str(m) for m in messages]
        else:
            form = TokenForm(formdata=None)
    status = 422 if form.errors else 200
    response = render_template("api/tokens.html", form=form, created=created, tokens=api_tokens.tokens_of(current_user),
                               now=utcnow())
    # The new token is on this page once: keep it out of every cache.
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    token = api_tokens.revoke(actor=current_user, token_id=token_id)
    flash(_("The token %(name)s no longer works.", name=token.name), "success")
    return redirect(url_for("api_tokens.tokens"))
