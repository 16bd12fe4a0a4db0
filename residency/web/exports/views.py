"""Programme insight: the exports page and the streamed CSV downloads."""
from __future__ import annotations

from flask import Response, render_template, request, stream_with_context
from flask_login import current_user, login_required

from residency.domain.insight import exports
from residency.web.exports.blueprint import bp



@bp.get("/")
@login_required
def index():
    """The exports this viewer may download, each with its filters."""
    shown = exports.page(current_user)
    return render_template("exports/index.html", exports=shown.exports, calls=shown.calls, errors={}, kind=None,
                           filters=None)


@bp.get("/<any(applications, placements, grants, surveys):kind>.csv")
@login_required
def download(kind: str):
    """One export as CSV (UTF-8 with BOM), streamed in batches; bad filters show the page again with 400."""
    # Every parameter is checked, and the first rows read, before the first byte is sent.
    filters, errors = exports.ExportFilters.from_args(request.args, kind)
    prepared = exports.export(current_user, kind, filters)
    if errors:
        shown = exports.page(current_user)
        return render_template("exports/index.html", exports=shown.exports, calls=shown.calls, errors=errors, kind=kind,
                               filters=filters), 400
    response = Response(stream_with_context(prepared.start().lines()), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{prepared.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
