"""Permission checks shared by the blueprints.

What you may not see answers 404; what you may see but not do answers 403.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from residency.core.extensions import db


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


def get_or_404(model, ident):
    record = db.session.get(model, ident)
    if record is None:
        abort(404)
    return record


def member_or_404(organisation_id: int, kind: str | None = None):
    """The organisation, if the current user belongs to it (and it is of ``kind``)."""
    from residency.domain.accounts.models import Organisation

    org = db.session.get(Organisation, organisation_id)
    if org is None or (kind and org.kind != kind) or not current_user.is_member_of(org.id):
        abort(404)
    return org
