"""The funder area."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..access import role_required

bp = Blueprint("funder", __name__, url_prefix="/funder")


@bp.get("/")
@role_required("funder_officer")
def dashboard():
    return render_template("funder/dashboard.html", organisations=current_user.organisations())
