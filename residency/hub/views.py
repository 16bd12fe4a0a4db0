"""The hub area."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..access import role_required

bp = Blueprint("hub", __name__, url_prefix="/hub")


@bp.get("/")
@role_required("hub_admin")
def dashboard():
    return render_template("hub/dashboard.html", organisations=current_user.organisations())
