"""Accounts: registration, sign-in with throttling, password reset and change, invitations."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from residency.core import pagination
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.core.uow import for_update, in_unit_of_work, savepoint, service, unit_of_work
from residency.domain.accounts import passwords, sessions, throttle
from residency.domain.accounts.models import (
    REMINDER_DELIVERY,
    Invitation,
    Membership,
    Organisation,
    PasswordReset,
    User,
)
from residency.domain.accounts.sessions import Device
from residency.core.db import utcnow
from residency.core.outbox import enqueue
from residency.core.outbox_models import OutboxMessage


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_new_password(password: str | None, *, email: str | None, name: str | None) -> None:
    """Refuse a new password that breaks the rule (passwords.password_problem), next to its field."""
    problem = passwords.password_problem(password, email=email, name=name)
    if problem is not None:
        raise Invalid(_l("Please choose another password."), {"password": [problem]})


@service
def register(*, name: str, email: str, password: str, language: str | None = None,
             device: Device | None = None, now: datetime | None = None) -> User:
    """Create an applicant's account (organisations come next) and sign it in on ``device``."""
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise _email_taken()
    check_new_password(password, email=email, name=name)
    user = User(name=name.strip(), email=email, language=language)
    user.set_password(password)
    try:
        with savepoint():  # PostgreSQL: a registration at the same moment may have taken the address
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        raise _email_taken() from None
    sessions.open_session(user, remember=False, device=device, now=now)
    return user


def _email_taken() -> Invalid:
    return Invalid(_l("An account with this e-mail address already exists."),
                   {"email": [_l("An account with this e-mail address already exists. Log in, or reset your password.")]})


@dataclass
class Login:
    """The outcome of a sign-in attempt: the user (signed in: ``user.sign_in``), or why not."""

    user: User | None = None
    refusal: object | None = None
    # Too many failed attempts: the refusal says how long to wait and the page offers a reset.
    locked: bool = False


def _attempt(email: str, password: str, remote_addr: str | None, now: datetime) -> Login:
    """Check a password as a throttled attempt; a right one gives the attempt's place back.

    Not one unit of work but two: the attempt's place is taken and committed *before*
    the password is checked (so parallel attempts cannot check more than the limit), and
    the slow hash runs while no lock is held. An unknown e-mail costs the same hashing work.
    """
    if in_unit_of_work():
        raise RuntimeError("a sign-in attempt commits its place before checking the password: call it on its own")
    try:
        with unit_of_work():
            throttle.reserve(email, remote_addr, now)
    except Conflict as refusal:
        return Login(refusal=refusal.message, locked=True)
    user = db.session.scalar(select(User).where(User.email == email))
    if not passwords.verify_for(user.password_hash if user is not None else None, password):
        return Login(refusal=_l("The e-mail address or the password is wrong."))
    return Login(user=user)


def authenticate(*, email: str, password: str, remote_addr: str | None, user_agent: str | None = None,
                 remember: bool = False, now: datetime | None = None) -> Login:
    """Sign in: the user with a new sign-in for this device, if the password is right.

    An unknown e-mail gets the same refusal, after the same work, as a wrong password.
    Too many failures for the account from this address, from this address at all, or
    for the account at all refuse further attempts without checking the password.
    """
    now = now or utcnow()
    email = normalise_email(email)
    outcome = _attempt(email, password, remote_addr, now)
    if outcome.user is not None:
        with unit_of_work():
            throttle.succeeded(email, remote_addr)
            sessions.open_session(outcome.user, remember=remember, device=Device(remote_addr, user_agent), now=now)
    return outcome


def change_password(*, user: User, current_password: str, new_password: str, device: Device | None = None,
                    now: datetime | None = None) -> User:
    """A signed-in user chooses a new password: every other sign-in ends, this device's goes on under a new key.

    The current password is checked as a throttled sign-in attempt, so a borrowed
    session cannot be used to guess it.
    """
    now = now or utcnow()
    device = device or Device()
    check_new_password(new_password, email=user.email, name=user.name)
    key = user.sign_in.key if user.sign_in is not None else None
    outcome = _attempt(user.email, current_password or "", device.remote_addr, now)
    if outcome.user is None or outcome.user.id != user.id:
        raise Invalid(_l("Please check your input"),
                      {"current_password": [outcome.refusal if outcome.locked else _l("This is not your current password.")]})
    with unit_of_work():
        throttle.clear_account(user.email)
        user.set_password(new_password)
        sessions.restart(user, key, device=device, now=now)
    return user


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
def reset_password(*, token: str, password: str, session_key: str | None = None, device: Device | None = None,
                   now: datetime | None = None) -> User:
    """A new password from a reset link: every sign-in of the account ends and its throttling starts again.

    If this device is signed in to the same account (``session_key``), it stays signed
    in under a new key (``user.sign_in``); otherwise the user logs in with the new password.
    """
    now = now or utcnow()
    reset = find_password_reset(token, now)
    user = reset.user
    check_new_password(password, email=user.email, name=user.name)
    reset.used_at = now
    user.set_password(password)
    # Any other open link for this account stops working too.
    for other in db.session.scalars(select(PasswordReset).where(PasswordReset.user_id == reset.user_id, PasswordReset.used_at.is_(None))):
        other.used_at = now
    throttle.clear_account(user.email)
    sessions.restart(user, session_key, device=device, now=now)
    return user


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


def find_invitation(token: str, now: datetime | None = None, lock: bool = False) -> Invitation:
    """The open invitation behind ``token``; ``lock`` holds it until the unit of work ends,
    so of several accepts at once only the first finds it open."""
    now = now or utcnow()
    stmt = select(Invitation).where(Invitation.token_hash == _hash(token))
    if lock:
        stmt = for_update(stmt).execution_options(populate_existing=True)
    invitation = db.session.scalar(stmt)
    if invitation is None or invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= now:
        raise NotFound(_l("This invitation is not valid any more: it was used, withdrawn or is older than 7 days. Ask the programme administrator for a new one."))
    return invitation


@service
def accept_invitation(*, token: str, name: str | None, password: str | None, device: Device | None = None,
                      replacing_key: str | None = None, now: datetime | None = None) -> User:
    """Join the inviting organisation; create the account if there is none for the e-mail.

    A new account is signed in on ``device`` (``user.sign_in``), ending the sign-in
    ``replacing_key`` of whoever was signed in there before.
    """
    now = now or utcnow()
    invitation = find_invitation(token, now, lock=True)
    user = db.session.scalar(select(User).where(User.email == invitation.email))
    if user is None:
        if not name or not password:
            raise Invalid(_l("Enter your name and choose a password."))
        check_new_password(password, email=invitation.email, name=name)
        user = User(email=invitation.email, name=name.strip())
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        if replacing_key:
            sessions.end(replacing_key)
        sessions.open_session(user, remember=False, device=device, now=now)
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


def notifications(user: User, page: int = 1, per_page: int = 20) -> pagination.Page:
    """One page of the user's messages, newest first (the index of user and time): a count and a select."""
    mine = OutboxMessage.user_id == user.id
    return pagination.by_offset(
        select(OutboxMessage).where(mine).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()),
        select(func.count()).select_from(OutboxMessage).where(mine), page, per_page)


def user_by_id(user_id: int) -> User | None:
    """The account behind a login session (its memberships come with it: every page asks for its roles)."""
    return db.session.get(User, user_id)


def organisation_of_member(user: User, organisation_id: int, kind: str | None = None) -> Organisation:
    """The organisation, if ``user`` belongs to it (and it is of ``kind``); NotFound otherwise."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or (kind and organisation.kind != kind) or not user.is_member_of(organisation.id):
        raise NotFound(_l("There is nothing here, or it is not yours to see."))
    return organisation
