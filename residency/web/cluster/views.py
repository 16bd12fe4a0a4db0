"""The cluster area: the calls the cluster nominates for, and their applications."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from residency.core import workflow
from residency.web.access import role_required
from residency.domain.accounts.labels import register_filters
from residency.domain.review import queries as services
from residency.web.cluster.blueprint import bp



@bp.get("/")
@role_required("cluster_staff")
def dashboard():
    """The calls of the user's clusters with the number of applications in each status."""
    return render_template("cluster/dashboard.html", lines=services.dashboard(current_user),
                           columns=services.status_columns(), clusters=current_user.organisations("cluster"),
                           call_label=workflow.get("call").label)


@bp.get("/calls/<int:call_id>")
@role_required("cluster_staff")
def call(call_id: int):
    """One call of the user's cluster with its submitted applications (404 for another cluster's call)."""
    page = services.call_page(current_user, call_id)
    return render_template("cluster/call.html", page=page, call=page.call, label=workflow.get("application").label,
                           call_label=workflow.get("call").label)


# The application page and its actions (review, decisions) live in review_views.py.
