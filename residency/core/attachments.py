"""Attachment files: type checked from the content, stored outside the web root
under a random name, where every web server reads them.

Where the bytes live is the setting ``ATTACHMENT_STORAGE``:

- ``"database"``: in the table ``attachment_blob``, written in the same transaction as the
  attachment's row (a refused or failed upload leaves nothing behind, a removed attachment's
  bytes go with it) and read back in chunks of ``CHUNK_BYTES``; every web server on the same
  PostgreSQL reads every file;
- ``"local"``: a folder of this machine (``ATTACHMENT_DIR``, by default ``instance/attachments``):
  one machine only;
- ``"auto"`` (the default): ``database`` on PostgreSQL, ``local`` on SQLite.

Reading looks in the other place when the configured one does not have the file, so files
stored before a switch keep working on the machine that holds them;
``flask --app residency attachments migrate-to-database`` copies the local ones into the table.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO, Iterable

from flask import current_app
from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import CheckConstraint, LargeBinary, String, delete, event, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from residency.core.db import UTCDateTime, utcnow
from residency.core.errors import Invalid
from residency.core.extensions import db
from residency.core.i18n import format_number
from residency.core.uow import unit_of_work

STORAGES = ("auto", "database", "local")
# Downloads from the database are read this much at a time (one short query each).
CHUNK_BYTES = 1024 * 1024

# Magic numbers of what may be attached; the file's name and declared type are ignored.
SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove, or None."""
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


# Office documents are ZIP packages; what the package declares as its main part says which kind.
# Macro-enabled packages (.docm, .xlsm, .pptm) declare other types and are refused, as are the old
# binary formats (.doc, .xls), which cannot be told apart from macro carriers by their first bytes.
OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml":
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml":
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ODF_TYPES = ("application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
             "application/vnd.oasis.opendocument.presentation")
OFFICE_TYPES = frozenset(OOXML_MAIN_PARTS.values()) | frozenset(ODF_TYPES)
# What a package's listing may hold before it is not read at all (a ZIP is read by its directory only).
_MAX_PACKAGE_ENTRIES = 10_000
_MAX_MANIFEST_BYTES = 256 * 1024


def sniff_document(data: bytes) -> str | None:
    """The content type ``data`` proves: a PDF or an image by its first bytes, or a Word, Excel,
    PowerPoint or OpenDocument file by the main part its package declares; None otherwise."""
    found = sniff(data[:16])
    if found is not None or not data.startswith(b"PK\x03\x04"):
        return found
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            entries = package.infolist()
            if len(entries) > _MAX_PACKAGE_ENTRIES:
                return None
            names = {entry.filename: entry for entry in entries}
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return None  # macros, whatever the package says it is
            mimetype = names.get("mimetype")
            if mimetype is not None and mimetype.file_size < 100:
                declared = package.read(mimetype).decode("ascii", "replace").strip()
                return declared if declared in ODF_TYPES else None
            manifest = names.get("[Content_Types].xml")
            if manifest is None or manifest.file_size > _MAX_MANIFEST_BYTES:
                return None
            declared = package.read(manifest).decode("utf-8", "replace")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError):
        return None
    parts = {found for found in re.findall(r'ContentType="([^"]+)"', declared) if found.endswith(".main+xml")}
    kinds = {OOXML_MAIN_PARTS.get(part) for part in parts}
    return kinds.pop() if len(kinds) == 1 and None not in kinds else None


# Attached files are at most this large (the web server refuses bigger requests before this is read).
MAX_FILE_BYTES = 10 * 1024 * 1024


def checked(filename: str, data: bytes, *, field: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The content type of a PDF, image or office document of at most ``max_bytes``, read from the
    content (the name and the declared type are ignored); Invalid, on ``field``, otherwise."""
    if not data:
        raise Invalid(_l("The file is empty."), {field: [_l("Choose a file to attach.")]})
    if len(data) > max_bytes:
        raise Invalid(_l("%(name)s is %(size)s MB; files can be at most %(max)d MB.", name=filename,
                         size=_megabytes(len(data)), max=max_bytes // (1024 * 1024)),
                      {field: [_l("Files can be at most %(max)d MB.", max=max_bytes // (1024 * 1024))]})
    content_type = sniff_document(data)
    if content_type is None:
        raise Invalid(_l("%(name)s is not a PDF, an image (PNG, JPEG, GIF, WebP) or an office document (Word, Excel, "
                         "PowerPoint, OpenDocument; without macros). Its content was checked, not its name.", name=filename),
                      {field: [_l("Only PDF files, images and office documents can be attached.")]})
    return content_type


def _megabytes(size: int) -> str:
    return format_number(Decimal(size) / 1048576, "#,##0.0")


def safe_name(filename: str) -> str:
    """The last part of an uploaded file's name, without control characters, at most 200 characters."""
    name = (filename or "attachment").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in name if ch.isprintable())[:200] or "attachment"


# The extensions each type is known by, the usual one first.
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/vnd.oasis.opendocument.presentation": (".odp",),
}


def named_for(filename: str, content_type: str) -> str:
    """``filename`` with an extension that says what the content is: a PDF named ``pitch-deck.html``
    is ``pitch-deck.pdf`` (the name's own extension is kept when it already fits)."""
    known = EXTENSIONS.get(content_type)
    if not known:
        return filename
    stem, dot, ext = filename.rpartition(".")
    if dot and stem and f".{ext.lower()}" in known:
        return filename
    return f"{stem if dot and stem else filename}{known[0]}"


class AttachmentBlob(db.Model):
    """The bytes of one attachment file, under the attachment's stored name (the ``database`` storage)."""

    __tablename__ = "attachment_blob"

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)


def check_setting(config) -> None:
    """Refuse to start with an ATTACHMENT_STORAGE nobody knows (a typo must not store files on one machine)."""
    if config.get("ATTACHMENT_STORAGE", "auto") not in STORAGES:
        raise RuntimeError(f"Unknown RESIDENCY_ATTACHMENT_STORAGE {config.get('ATTACHMENT_STORAGE')!r}; "
                           f"use one of {', '.join(STORAGES)}.")


def storage() -> str:
    """Where new files go: ``"database"`` or ``"local"`` (``"auto"`` resolved by the database in use)."""
    check_setting(current_app.config)
    chosen = current_app.config.get("ATTACHMENT_STORAGE", "auto")
    if chosen == "auto":
        return "database" if db.engine.dialect.name == "postgresql" else "local"
    return chosen


def storage_dir() -> str:
    path = current_app.config.get("ATTACHMENT_DIR") or os.path.join(current_app.instance_path, "attachments")
    os.makedirs(path, exist_ok=True)
    return path


def store(data: bytes) -> tuple[str, str]:
    """Store the bytes under a fresh random name; return (stored name, sha256). In the database
    storage the row joins the current unit of work (call it from inside one)."""
    name = secrets.token_hex(16)
    digest = hashlib.sha256(data).hexdigest()
    if storage() == "database":
        # A plain insert: the session keeps no copy of the bytes until it commits.
        db.session.execute(insert(AttachmentBlob).values(stored_name=name, sha256=digest, size_bytes=len(data),
                                                         content=data, created_at=utcnow()))
        return name, digest
    with open(os.path.join(storage_dir(), name), "xb") as fh:
        fh.write(data)
    return name, digest


# The local files the current transaction wrote (removed again if it rolls back) and those of the
# attachments it deleted (removed once it commits): see ``save`` and ``discard``.
_WRITTEN, _DISCARDED = "residency.attachments.written", "residency.attachments.discarded"


def save(data: bytes) -> tuple[str, str]:
    """``store``, kept in step with the transaction: a local file written by a transaction that
    rolls back is removed again (the database storage's row goes with the transaction anyway)."""
    name, digest = store(data)
    db.session.connection()  # a transaction is under way, so that its rollback is seen (and the file removed)
    db.session.info.setdefault(_WRITTEN, []).append(name)
    return name, digest


def discard(stored_name: str) -> None:
    """The bytes of an attachment whose row the current transaction deletes: in the database at once,
    a local file once the transaction has committed (a rollback keeps it, with its row)."""
    drop(stored_name)
    db.session.connection()
    db.session.info.setdefault(_DISCARDED, []).append(stored_name)


@event.listens_for(Session, "after_commit")
def _files_after_commit(session) -> None:
    session.info.pop(_WRITTEN, None)
    for name in session.info.pop(_DISCARDED, ()):
        remove(name)


@event.listens_for(Session, "after_rollback")
def _files_after_rollback(session) -> None:
    session.info.pop(_DISCARDED, None)
    for name in session.info.pop(_WRITTEN, ()):
        remove(name)


def drop(stored_name: str) -> None:
    """Inside the unit of work that deletes the attachment: its bytes in the database go with it
    (whatever the storage now, so a copy made before a switch goes too). A local file goes
    once the unit has succeeded (``remove``)."""
    db.session.execute(delete(AttachmentBlob).where(AttachmentBlob.stored_name == stored_name))


def path_of(stored_name: str) -> str:
    if not stored_name.isalnum():  # random hex only; never a path from outside
        raise ValueError("bad stored name")
    return os.path.join(storage_dir(), stored_name)


def remove(stored_name: str) -> None:
    """The local file, if there is one (after the unit of work: a file no transaction covers)."""
    try:
        os.remove(path_of(stored_name))
    except FileNotFoundError:
        pass


@dataclass(frozen=True)
class Stored:
    """A stored file to send: a local ``path``, or a ``file`` read from the database as it is sent."""

    size: int
    path: str | None = None
    file: BinaryIO | None = None


def open_stored(stored_name: str) -> Stored | None:
    """The file stored under ``stored_name``, from the configured storage or else the other one; None if neither has it."""
    path = path_of(stored_name)
    places = ("database", "local") if storage() == "database" else ("local", "database")
    for place in places:
        if place == "local" and os.path.isfile(path):
            return Stored(size=os.path.getsize(path), path=path)
        if place == "database":
            found = _open_blob(db.engine, stored_name)
            if found is not None:
                return found
    return None


def _open_blob(engine: Engine, stored_name: str) -> Stored | None:
    # Its own short connection, not the request's session: the rest is read after the view has
    # returned, while the server sends the response, and each chunk holds a connection only briefly.
    with engine.connect() as conn:
        row = conn.execute(select(AttachmentBlob.id, AttachmentBlob.size_bytes,
                                  func.substr(AttachmentBlob.content, 1, CHUNK_BYTES, type_=LargeBinary))
                           .where(AttachmentBlob.stored_name == stored_name)).first()
    if row is None:
        return None
    blob_id, size, first = row
    return Stored(size=size, file=io.BufferedReader(_BlobReader(engine, blob_id, size, bytes(first)), CHUNK_BYTES))


class _BlobReader(io.RawIOBase):
    """A blob read in chunks of ``CHUNK_BYTES``; at most one chunk is held at a time."""

    def __init__(self, engine: Engine, blob_id: int, size: int, first: bytes):
        super().__init__()
        self._engine, self._id, self._size = engine, blob_id, size
        self._chunk, self._at = memoryview(first), 0
        self._fetched = len(first)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._at >= len(self._chunk):
            if self._fetched >= self._size:
                return 0
            self._chunk, self._at = memoryview(self._next_chunk()), 0
        n = min(len(buffer), len(self._chunk) - self._at)
        buffer[:n] = self._chunk[self._at:self._at + n]
        self._at += n
        return n

    def _next_chunk(self) -> bytes:
        with self._engine.connect() as conn:
            chunk = conn.execute(select(func.substr(AttachmentBlob.content, self._fetched + 1, CHUNK_BYTES, type_=LargeBinary))
                                 .where(AttachmentBlob.id == self._id)).scalar()
        if not chunk:  # deleted while it was being sent: the response ends short of its Content-Length
            raise OSError(f"attachment blob {self._id} went away while it was read")
        self._fetched += len(chunk)
        return bytes(chunk)


@dataclass
class Copied:
    """What ``copy_to_database`` did, by file."""

    copied: int = 0
    present: int = 0
    missing: int = 0
    damaged: int = 0


def copy_to_database(files: Iterable[tuple[str, str]], delete_local: bool = False) -> Copied:
    """Copy local files into the database storage, each (stored name, sha256) in a unit of work of
    its own; files already there, missing here, or whose bytes no longer match their sha256 are
    counted and left alone. With ``delete_local`` a copied file's local copy goes after its commit."""
    report = Copied()
    for stored_name, sha256 in files:
        if db.session.scalar(select(AttachmentBlob.id).where(AttachmentBlob.stored_name == stored_name)) is not None:
            report.present += 1
            continue
        path = path_of(stored_name)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            report.missing += 1
            continue
        if not data or hashlib.sha256(data).hexdigest() != sha256:
            report.damaged += 1
            continue
        with unit_of_work():
            db.session.execute(insert(AttachmentBlob).values(stored_name=stored_name, sha256=sha256, size_bytes=len(data),
                                                             content=data, created_at=utcnow()))
        report.copied += 1
        if delete_local:
            remove(stored_name)
    return report
