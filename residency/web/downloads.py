"""Files the pages hand out, with the same headers everywhere: a download, never cached on the way."""
from __future__ import annotations

from flask import Response

from residency.domain.applications.dossier import Pdf


def private_download(response: Response, filename: str) -> Response:
    """``filename`` must be plain ASCII without quotes (``dossier.filename_of`` names are)."""
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def pdf_download(pdf: Pdf) -> Response:
    return private_download(Response(pdf.data, mimetype="application/pdf"), pdf.filename)
