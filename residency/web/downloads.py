"""Files the pages hand out, with the same headers everywhere: a download, never cached by a browser
or a proxy (the file is private to who may see it). A stored attachment comes from this machine's
folder, or from the database in chunks while it is sent."""
from __future__ import annotations

from flask import Response, abort, send_file

from residency.core.attachments import open_stored
from residency.domain.applications.dossier import Pdf


def send_stored(stored_name: str, *, content_type: str, download_name: str, etag: str):
    stored = open_stored(stored_name) or abort(404)
    if stored.path is not None:
        response = send_file(stored.path, mimetype=content_type, as_attachment=True, download_name=download_name, max_age=0)
    else:
        response = send_file(stored.file, mimetype=content_type, as_attachment=True, download_name=download_name,
                             max_age=0, conditional=False, etag=etag)
        response.content_length = stored.size
    response.headers["Cache-Control"] = "private, no-store"
    return response


def private_download(response: Response, filename: str) -> Response:
    """``filename`` must be plain ASCII without quotes (``dossier.filename_of`` names are)."""
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def pdf_download(pdf: Pdf) -> Response:
    return private_download(Response(pdf.data, mimetype="application/pdf"), pdf.filename)
