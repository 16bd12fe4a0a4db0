"""The startup's area: its organisation, members and applications."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..access import role_required

bp = Blueprint("applicant", __name__, url_prefix="/startup")


@bp.get("/start")
@login_required
def start():
    """A new account creates its startup or asks to join one."""
    return render_template("applicant/start.html")


@bp.get("/")
@role_required("applicant")
def dashboard():
    return render_template("applicant/dashboard.html", startups=current_user.organisations("startup"))
