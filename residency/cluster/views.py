"""The cluster area."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..access import role_required

bp = Blueprint("cluster", __name__, url_prefix="/cluster")


@bp.get("/")
@role_required("cluster_staff")
def dashboard():
    return render_template("cluster/dashboard.html", organisations=current_user.organisations())
