"""Attachment files: type checked from the content, stored outside the web root
under a random name."""
from __future__ import annotations

import hashlib
import os
import secrets

from flask import current_app

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


# The extensions each type is known by, the usual one first.
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
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


def storage_dir() -> str:
    path = current_app.config.get("ATTACHMENT_DIR") or os.path.join(current_app.instance_path, "attachments")
    os.makedirs(path, exist_ok=True)
    return path


def store(data: bytes) -> tuple[str, str]:
    """Write the bytes under a fresh random name; return (stored name, sha256)."""
    name = secrets.token_hex(16)
    with open(os.path.join(storage_dir(), name), "xb") as fh:
        fh.write(data)
    return name, hashlib.sha256(data).hexdigest()


def path_of(stored_name: str) -> str:
    if not stored_name.isalnum():  # random hex only; never a path from outside
        raise ValueError("bad stored name")
    return os.path.join(storage_dir(), stored_name)


def remove(stored_name: str) -> None:
    try:
        os.remove(path_of(stored_name))
    except FileNotFoundError:
        pass
