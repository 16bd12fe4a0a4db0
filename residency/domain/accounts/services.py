"""Accounts: registration, login with throttling, password reset, invitations."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.core.uow import service
from residency.domain.accounts.models import (
    REMINDER_DELIVERY,
    Invitation,
    LoginFailure,
    Membership,
    Organisation,
    PasswordReset,
    User,
)
from residency.core.db import utcnow
from residency.core.outbox import enqueue
from residency.core.outbox_models import OutboxMessage


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@service
def register(*, name: str, email: str, password: str, language: str | None = None) -> User:
    """Create an applicant's account (organisations come next)."""
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Invalid(_l("An account with this e-mail address already exists."),
                      {"email": [_l("An account with this e-mail address already exists. Log in, or reset your password.")]})
    user = User(name=name.strip(), email=email, language=language)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


@dataclass
class Login:
    """The outcome of a login attempt: the user, or why not (the failure is recorded either way)."""

    user: User | None = None
    refusal: object | None = None


@service
def authenticate(*, email: str, password: str, remote_addr: str | None, now: datetime | None = None) -> Login:
    """The user, if the password is right; the same refusal for an unknown e-mail.

    A wrong password is not an error of the unit: the failure is stored and the
    refusal returned. After LOGIN_MAX_FAILURES failures in the window, further
    attempts for that e-mail are refused (Conflict) without checking the password.
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
        return Login(refusal=_l("The e-mail address or the password is wrong."))
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    return Login(user=user)


@service
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


def find_password_reset(token: str, now: datetime | None = None) -> PasswordReset:
    now = now or utcnow()
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise NotFound(_l("This reset link is not valid any more. Links work once and for one hour; ask for a new one."))
    return reset


@service
def reset_password(*, token: str, password: str, now: datetime | None = None) -> User:
    now = now or utcnow()
    reset = find_password_reset(token, now)
    reset.used_at = now
    reset.user.set_password(password)
    # Any other open link for this account stops working too.
    for other in db.session.scalars(select(PasswordReset).where(PasswordReset.user_id == reset.user_id, PasswordReset.used_at.is_(None))):
        other.used_at = now
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == reset.user.email))
    return reset.user


@service
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
    return invitation


def find_invitation(token: str, now: datetime | None = None) -> Invitation:
    now = now or utcnow()
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _hash(token)))
    if invitation is None or invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= now:
        raise NotFound(_l("This invitation is not valid any more: it was used, withdrawn or is older than 7 days. Ask the programme administrator for a new one."))
    return invitation


@service
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
    db.session.flush()
    return user


@service
def set_language(user: User | None, language: str) -> None:
    if user is not None:
        user.language = language


def account_exists(email: str) -> bool:
    return db.session.scalar(select(User.id).where(User.email == normalise_email(email))) is not None


@service
def set_reminder_delivery(user: User, choice: str) -> None:
    """At once, a daily digest, or off, for optional reminders (mandatory e-mails always go at once)."""
    if choice not in REMINDER_DELIVERY:
        raise Invalid(_l("Choose how you receive reminders."), {"reminder_delivery": [_l("Choose one of the options.")]})
    user.reminder_delivery = choice


def notifications(user: User, page: int = 1, per_page: int = 20):
    """The user's messages, newest first, one page (two queries whatever the number)."""
    total = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.user_id == user.id))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user.id)
                                   .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page)))
    return rows, page, pages, total


def user_by_id(user_id: int) -> User | None:
    """The account behind a login session (its memberships come with it: every page asks for its roles)."""
    return db.session.get(User, user_id)


def organisation_of_member(user: User, organisation_id: int, kind: str | None = None) -> Organisation:
    """The organisation, if ``user`` belongs to it (and it is of ``kind``); NotFound otherwise."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or (kind and organisation.kind != kind) or not user.is_member_of(organisation.id):
        raise NotFound(_l("There is nothing here, or it is not yours to see."))
    return organisation
