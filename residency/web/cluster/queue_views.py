"""The review queue: filters, sorting, search, pagination, counts and exports."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user

from residency.core.errors import Conflict
from residency.web.access import role_required
from residency.domain.accounts.labels import track_choices
from residency.domain.review import dossiers
from residency.domain.review import queue as queue_services
from residency.domain.review.queries import status_columns
from residency.web.cluster.blueprint import bp  # noqa: F401 - routes are added to the cluster blueprint
from residency.web.downloads import private_download

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/queue")
@role_required("cluster_staff")
def queue():
    """The applications to the cluster's calls, filtered, sorted and paged by the query string."""
    filters, errors = queue_services.QueueFilters.from_args(request.args)
    page = queue_services.queue(current_user, filters)
    return render_template("cluster/queue.html", page=page, filters=filters, errors=errors,
                           statuses=status_columns(), tracks=track_choices(), trls=queue_services.TRLS,
                           max_dossiers=dossiers.MAX_DOSSIERS)


@bp.get("/queue.csv")
@role_required("cluster_staff")
def queue_csv():
    """The whole filtered queue as CSV (UTF-8 with BOM), streamed row by row."""
    filters, _errors = queue_services.QueueFilters.from_args(request.args)
    table = queue_services.export_table(current_user, filters)
    response = Response(stream_with_context(queue_services.csv_lines(table)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return _attachment(response, "csv")


@bp.get("/queue.xlsx")
@role_required("cluster_staff")
def queue_xlsx():
    """The whole filtered queue as an Excel workbook."""
    filters, _errors = queue_services.QueueFilters.from_args(request.args)
    data = queue_services.xlsx_bytes(queue_services.export_table(current_user, filters))
    return _attachment(Response(data, mimetype=XLSX), "xlsx")


@bp.get("/queue.zip")
@role_required("cluster_staff")
def queue_zip():
    """The PDFs of the whole filtered queue in one zip, written as they are rendered; too many (or none)
    sends the reader back to the queue with a word on what to do."""
    filters, _errors = queue_services.QueueFilters.from_args(request.args)
    try:
        prepared = dossiers.queue_zip(current_user, filters)
    except Conflict as refusal:
        flash(str(refusal.message), "error")
        return redirect(url_for("cluster.queue", **filters.args()))
    return _attachment(Response(stream_with_context(prepared.chunks), mimetype="application/zip"), "zip")


def _attachment(response: Response, extension: str) -> Response:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    return private_download(response, f"review-queue-{stamp}.{extension}")
