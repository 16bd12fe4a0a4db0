"""The administration area."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..access import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required("programme_admin")
def dashboard():
    return render_template("admin/dashboard.html", organisations=current_user.organisations())
