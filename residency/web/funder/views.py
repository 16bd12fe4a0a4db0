"""The funder area: routes the funder supports and their calls."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from residency.core import workflow
from residency.web.access import role_required
from residency.domain.funding import funders as services
from residency.web.funder.blueprint import bp



@bp.get("/")
@role_required("funder_officer")
def dashboard():
    """The routes the user's funder is eligible on, and their calls."""
    return render_template("funder/dashboard.html", overviews=services.dashboard(current_user),
                           funders=current_user.organisations("funder"), call_label=workflow.get("call").label)


@bp.get("/routes/<int:route_id>")
@role_required("funder_officer")
def route(route_id: int):
    """One route the user's funder is eligible on (404 for any other)."""
    return render_template("funder/route.html", overview=services.route_overview(current_user, route_id),
                           call_label=workflow.get("call").label)
