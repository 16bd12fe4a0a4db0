"""Files attached to funding reports: a startup attaches PDFs, images and office documents to a
report it has not yet submitted (or that the funder returned) and removes them again; everyone who
may see the report (the startup, the funder's officers, programme administrators) lists and
downloads them; anyone else gets 404.

The bytes are stored as an application's attachments are (``residency.core.attachments``, in the
database or the local folder), in step with the unit of work: a refused or failed upload leaves no
file behind, and a removed attachment's file goes once the removal is committed.
"""
from __future__ import annotations

from datetime import datetime

from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select

from residency.core import attachments as files
from residency.core import workflow
from residency.core.db import utcnow
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.core.uow import for_update, service
from residency.domain.accounts.models import User
from residency.domain.funding.models import FundingReport, ReportAttachment

MAX_REPORT_ATTACHMENTS = 5
MAX_FILE_BYTES = files.MAX_FILE_BYTES
# The report states in which the startup still writes the report (and so changes its files).
OPEN_REPORT_STATES = ("due", "returned")
FIELD = "attachment"


def files_open(report: FundingReport) -> bool:
    """Whether the startup may add or remove the report's files now: the grant is under way and
    the report not submitted (or returned for changes)."""
    return report.status in OPEN_REPORT_STATES and report.funding_application.status == "in_progress"


def _open_for(report: FundingReport, actor: User) -> FundingReport:
    workflow.require(report, actor, workflow.APPLICANT)
    # Two members attaching at once count each other's files: the report is held until the unit ends.
    db.session.execute(for_update(select(FundingReport.id).where(FundingReport.id == report.id)))
    if not files_open(report):
        raise Conflict(_l("This report was submitted; its attachments can no longer be changed."))
    return report


@service
def add_attachment(*, report: FundingReport, actor: User, filename: str, data: bytes,
                   now: datetime | None = None) -> ReportAttachment:
    """Attach a PDF, an image or an office document of at most 10 MB (5 files a report); the type
    is read from the content."""
    _open_for(report, actor)
    if len(report.attachments) >= MAX_REPORT_ATTACHMENTS:
        raise Invalid(_l("A report can have at most %(n)d attachments; remove one first.", n=MAX_REPORT_ATTACHMENTS),
                      {FIELD: [_l("At most %(n)d attachments.", n=MAX_REPORT_ATTACHMENTS)]})
    name = files.safe_name(filename)
    content_type = files.checked(name, data, field=FIELD, max_bytes=MAX_FILE_BYTES)
    stored_name, digest = files.save(data)
    attachment = ReportAttachment(report=report, uploaded_by_id=actor.id, filename=files.named_for(name, content_type),
                                  stored_name=stored_name, content_type=content_type, size_bytes=len(data),
                                  sha256=digest, created_at=now or utcnow())
    db.session.add(attachment)
    db.session.flush()
    return attachment


@service
def remove_attachment(*, report: FundingReport, actor: User, attachment_id: int) -> None:
    """Remove one of the report's files while the report is not submitted."""
    _open_for(report, actor)
    attachment = db.session.get(ReportAttachment, attachment_id)
    if attachment is None or attachment.report_id != report.id:
        raise NotFound(_l("Not found."))
    files.discard(attachment.stored_name)
    report.attachments.remove(attachment)  # delete-orphan: the row goes
    db.session.flush()


def attachment_for(*, user: User, report_id: int, attachment_id: int) -> ReportAttachment:
    """A file of a report ``user`` may see (404 for anyone else, and for a file of another report)."""
    report = workflow.require(db.session.get(FundingReport, report_id), user)
    attachment = db.session.get(ReportAttachment, attachment_id)
    if attachment is None or attachment.report_id != report.id:
        raise NotFound(_l("Not found."))
    return attachment


def discard_files_of(report_ids) -> None:
    """Inside the unit of work that deletes these reports (a grant decision taken back, an offer
    declined): their files go with them."""
    for stored_name in db.session.scalars(select(ReportAttachment.stored_name)
                                          .where(ReportAttachment.report_id.in_(report_ids))):
        files.discard(stored_name)
    db.session.execute(ReportAttachment.__table__.delete().where(ReportAttachment.report_id.in_(report_ids)))


def stored_files() -> list[tuple[str, str]]:
    """(stored name, sha256) of every report's file, oldest first (for copying files between storages)."""
    return [tuple(row) for row in db.session.execute(select(ReportAttachment.stored_name, ReportAttachment.sha256)
                                                     .order_by(ReportAttachment.id))]
