"""The cluster's PDF dossiers: one application's, and a zip of those of a filtered review queue.

The zip takes the queue's own statement (``queue.application_ids``: its scope, filters and order),
reads the dossiers in a fixed number of queries, and is written as each PDF is rendered, so the
download starts at once and memory holds one PDF at a time. It is bounded: a queue of more than
``MAX_DOSSIERS`` applications is refused with a word to filter it further.
"""
from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from residency.core.i18n import lazy_gettext as _l

from residency.core.db import utcnow
from residency.core.errors import Conflict
from residency.domain.accounts.models import User
from residency.domain.applications import dossier
from residency.domain.review import queue
from residency.domain.review.queue import QueueFilters
from residency.domain.review.services import cluster_application

MAX_DOSSIERS = 200


def cluster_pdf(user: User, application_id: int) -> dossier.Pdf:
    """The staff copy (with the history) for staff of the application's nominating cluster; 404 otherwise."""
    return dossier.render(dossier.dossier_of(cluster_application(user, application_id), for_applicant=False))


@dataclass
class QueueZip:
    count: int
    chunks: Iterator[bytes]


def queue_zip(actor: User, filters: QueueFilters, now: datetime | None = None) -> QueueZip:
    """A zip of the staff PDFs of every application of the queue under ``filters`` (all pages, in the queue's
    order). Refused (409) when no application or more than ``MAX_DOSSIERS`` match; a call filter naming another
    cluster's call answers 404, as the queue does. The data is read now (six queries however many match);
    the PDFs are rendered as the chunks are read."""
    ids = queue.application_ids(actor, filters, limit=MAX_DOSSIERS + 1)
    if not ids:
        raise Conflict(_l("No application in the queue matches these filters, so there is nothing to download."))
    if len(ids) > MAX_DOSSIERS:
        raise Conflict(_l("More than %(max)d applications match these filters; a download holds at most %(max)d. "
                          "Filter the queue further, for example by call or status.", max=MAX_DOSSIERS))
    dossiers = dossier.load(ids, for_applicant=False, now=now or utcnow())
    return QueueZip(count=len(dossiers), chunks=_zipped(dossiers))


class _Chunks:
    """A write-only file for ``zipfile`` that hands on what was written (it cannot seek, so each entry
    carries its sizes after its data, which every unzip tool reads)."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def _zipped(dossiers: list[dossier.Dossier]) -> Iterator[bytes]:
    out = _Chunks()
    width = len(str(len(dossiers)))
    # PDFs are compressed already: stored, not deflated again.
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for position, rendered in enumerate(dossier.render_all(dossiers), start=1):
            # Numbered in the queue's order, so the folder lists them as the queue did.
            with archive.open(f"{position:0{width}d}-{rendered.filename}", "w") as entry:
                entry.write(rendered.data)
            yield out.take()
    yield out.take()
