"""Permission checks shared by the blueprints.

What you may not see answers 404; what you may see but not do answers 403.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from residency.core.i18n import lazy_gettext as _l
from flask_login import current_user, login_required

from residency.domain.accounts.services import organisation_of_member

# Where each role lands after logging in, and the areas the menu offers, in order of precedence.
DASHBOARDS = [
    ("programme_admin", "admin.dashboard", _l("Administration")),
    ("cluster_staff", "cluster.dashboard", _l("Cluster")),
    ("hub_admin", "hub.dashboard", _l("Hub")),
    ("funder_officer", "funder.dashboard", _l("Funder")),
    ("applicant", "applicant.dashboard", _l("My startup")),
]


def role_required(role: str):
    """The view belongs to one role's area: others are refused with 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def member_or_404(organisation_id: int, kind: str | None = None):
    """The organisation, if the current user belongs to it (and it is of ``kind``); 404 otherwise."""
    return organisation_of_member(current_user, organisation_id, kind)


def same_site_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (the one rule for every ``next=``).

    Browsers drop tabs and newlines and read a backslash as a slash, so ``/\t/evil.example``
    or ``/\\evil.example`` would leave the site: any control character, space or backslash refuses it.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ch == "\\" or ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
