"""Accounts: registration, login with throttling, password reset, invitations."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.domain.accounts.models import (
    Invitation,
    LoginFailure,
    Membership,
    Organisation,
    PasswordReset,
    User,
)
from residency.core.db import utcnow
from residency.core.outbox import enqueue


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(*, name: str, email: str, password: str, language: str | None = None) -> User:
    """Create an applicant's account (organisations come next)."""
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Invalid(_l("An account with this e-mail address already exists."),
                      {"email": [_l("An account with this e-mail address already exists. Log in, or reset your password.")]})
    user = User(name=name.strip(), email=email, language=language)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(*, email: str, password: str, remote_addr: str | None, now: datetime | None = None) -> User:
    """The user, if the password is right; the same refusal for an unknown e-mail.

    After LOGIN_MAX_FAILURES failures in the window, further attempts for that
    e-mail are refused without checking the password.
    """
    now = now or utcnow()
    email = normalise_email(email)
    cfg = current_app.config
    window_start = now - timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"])
    failures = db.session.scalar(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.email == email, LoginFailure.created_at >= window_start)
    )
    if failures >= cfg["LOGIN_MAX_FAILURES"]:
        raise Conflict(_l("Too many failed attempts. Wait %(minutes)d minutes, or reset your password.",
                          minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"]))
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.check_password(password):
        db.session.add(LoginFailure(email=email, remote_addr=remote_addr, created_at=now))
        db.session.commit()
        raise Invalid(_l("The e-mail address or the password is wrong."))
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    db.session.commit()
    return user


def request_password_reset(*, email: str, now: datetime | None = None) -> None:
    """E-mail a single-use reset link if the account exists; say nothing either way."""
    now = now or utcnow()
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        return
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(user=user, token_hash=_hash(token), created_at=now,
                          expires_at=now + timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"]))
    db.session.add(reset)
    db.session.flush()
    enqueue(recipient=user, template="password_reset", context={"token": token, "name": user.name},
            dedup_key=f"password-reset:{reset.id}")
    db.session.commit()


def find_password_reset(token: str, now: datetime | None = None) -> PasswordReset:
    now = now or utcnow()
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise NotFound(_l("This reset link is not valid any more. Links work once and for one hour; ask for a new one."))
    return reset


def reset_password(*, token: str, password: str, now: datetime | None = None) -> User:
    now = now or utcnow()
    reset = find_password_reset(token, now)
    reset.used_at = now
    reset.user.set_password(password)
    # Any other open link for this account stops working too.
    for other in db.session.scalars(select(PasswordReset).where(PasswordReset.user_id == reset.user_id, PasswordReset.used_at.is_(None))):
        other.used_at = now
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == reset.user.email))
    db.session.commit()
    return reset.user


def invite(*, actor: User, email: str, organisation: Organisation, now: datetime | None = None) -> Invitation:
    """A programme administrator invites a staff member of a cluster, hub, funder or the operator."""
    now = now or utcnow()
    email = normalise_email(email)
    if organisation.kind == "startup":
        raise Invalid(_l("Startups register themselves; invitations are for staff."), {"organisation_id": [_l("Choose a cluster, hub, funder or the operator.")]})
    existing = db.session.scalar(select(User).where(User.email == email))
    if existing is not None and existing.is_member_of(organisation.id):
        raise Invalid(_l("%(email)s is already a member of %(organisation)s.", email=email, organisation=organisation.name),
                      {"email": [_l("Already a member.")]})
    token = secrets.token_urlsafe(32)
    invitation = Invitation(email=email, organisation=organisation, token_hash=_hash(token), invited_by=actor,
                            created_at=now, expires_at=now + timedelta(days=current_app.config["INVITATION_DAYS"]))
    db.session.add(invitation)
    db.session.flush()
    enqueue(recipient=existing or email, template="invitation",
            context={"token": token, "organisation": organisation.name, "inviter": actor.name,
                     "days": current_app.config["INVITATION_DAYS"]},
            dedup_key=f"invitation:{invitation.id}", language=existing.language if existing else None)
    db.session.commit()
    return invitation


def find_invitation(token: str, now: datetime | None = None) -> Invitation:
    now = now or utcnow()
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _hash(token)))
    if invitation is None or invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= now:
        raise NotFound(_l("This invitation is not valid any more: it was used, withdrawn or is older than 7 days. Ask the programme administrator for a new one."))
    return invitation


def accept_invitation(*, token: str, name: str | None, password: str | None, now: datetime | None = None) -> User:
    """Join the inviting organisation; create the account if there is none for the e-mail."""
    now = now or utcnow()
    invitation = find_invitation(token, now)
    user = db.session.scalar(select(User).where(User.email == invitation.email))
    if user is None:
        if not name or not password:
            raise Invalid(_l("Enter your name and choose a password."))
        user = User(email=invitation.email, name=name.strip())
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
    if not user.is_member_of(invitation.organisation_id):
        db.session.add(Membership(user=user, organisation_id=invitation.organisation_id, created_at=now))
    invitation.accepted_at = now
    db.session.commit()
    return user


def set_language(user: User | None, language: str) -> None:
    if user is not None:
        user.language = language
        db.session.commit()


def account_exists(email: str) -> bool:
    return db.session.scalar(select(User.id).where(User.email == normalise_email(email))) is not None


def set_reminder_delivery(user: User, choice: str) -> None:
    """At once, a daily digest, or off, for optional reminders (mandatory e-mails always go at once)."""
    from residency.domain.accounts.models import REMINDER_DELIVERY

    if choice not in REMINDER_DELIVERY:
        raise Invalid(_l("Choose how you receive reminders."), {"reminder_delivery": [_l("Choose one of the options.")]})
    user.reminder_delivery = choice
    db.session.commit()


def notifications(user: User, page: int = 1, per_page: int = 20):
    """The user's messages, newest first, one page (two queries whatever the number)."""
    from residency.core.outbox_models import OutboxMessage

    total = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.user_id == user.id))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user.id)
                                   .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page)))
    return rows, page, pages, total
