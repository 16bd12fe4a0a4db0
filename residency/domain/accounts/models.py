"""People, organisations and who belongs where."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from residency.core.extensions import db
from residency.core.db import UTCDateTime, in_values, utcnow
from residency.core.languages import LANGUAGES
from residency.domain.accounts import passwords

ORGANISATION_KINDS = ("startup", "cluster", "hub", "funder", "operator")
COUNTRIES = ("NO", "SE", "DK", "FI", "IS")
# The usual clock of each country: an organisation without a time zone of its own keeps its country's.
# Finland is an hour ahead of Norway, Sweden and Denmark; Iceland keeps UTC all year (no daylight saving).
COUNTRY_ZONES = {
    "NO": "Europe/Oslo",
    "SE": "Europe/Stockholm",
    "DK": "Europe/Copenhagen",
    "FI": "Europe/Helsinki",
    "IS": "Atlantic/Reykjavik",
}
TRACKS = ("drugs", "devices", "diagnostics", "digital_health", "bioindustrials", "other")
# How a user receives optional reminders; mandatory e-mails always go at once.
REMINDER_DELIVERY = ("immediate", "digest", "off")

# The programme role a membership gives follows from the organisation's kind.
ROLE_BY_KIND = {
    "startup": "applicant",
    "cluster": "cluster_staff",
    "hub": "hub_admin",
    "funder": "funder_officer",
    "operator": "programme_admin",
}


@dataclass(frozen=True)
class SignIn:
    """A sign-in as the device holds it: the secret key (only its hash is stored) and how long it lasts."""

    key: str
    remembered: bool
    expires_at: datetime


class User(db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    language: Mapped[str | None] = mapped_column(String(5))
    # The secret part of the user's private calendar feed address; a new one revokes the old.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    reminder_delivery: Mapped[str] = mapped_column(String(10), default="immediate", server_default="immediate")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(f"language IS NULL OR {in_values('language', LANGUAGES)}", name="language"),
        CheckConstraint(in_values("reminder_delivery", REMINDER_DELIVERY), name="reminder_delivery"),
    )

    # What Flask-Login asks of a user (the domain does not import it): every stored account may log in.
    # Two instances of the same account are equal, as Flask-Login's mixin had it.
    __hash__ = object.__hash__

    # The sign-in this instance came with (accounts.sessions sets it; it is never stored). Its key is
    # what Flask-Login keeps in the session and the remember cookie, so ending the sign-in ends both.
    sign_in = None  # SignIn | None

    @property
    def is_active(self) -> bool:
        return True

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        if self.sign_in is None:
            raise RuntimeError("sign in through residency.domain.accounts.sessions: this account has no sign-in here")
        return self.sign_in.key

    def __eq__(self, other):
        if isinstance(other, User):
            return self.id is not None and self.id == other.id
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def set_password(self, password: str) -> None:
        """Store the hash of ``password`` as it is: the rule for new passwords is the services' (passwords.py)."""
        self.password_hash = passwords.hash_password(password)

    def check_password(self, password: str) -> bool:
        return passwords.verify(self.password_hash, password)

    def organisations(self, kind: str | None = None) -> list["Organisation"]:
        return [m.organisation for m in self.memberships if kind is None or m.organisation.kind == kind]

    def roles(self) -> set[str]:
        return {m.role for m in self.memberships}

    @property
    def zone(self) -> str:
        """The reader's clock for what is about them alone (their notifications): their first
        organisation's (its own zone, else its country's usual one); UTC without any."""
        return next((o.zone for o in self.organisations()), "UTC")

    def has_role(self, role: str) -> bool:
        return role in self.roles()

    def is_member_of(self, organisation_id: int | None) -> bool:
        return any(m.organisation_id == organisation_id for m in self.memberships)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    org_number: Mapped[str] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(100))
    # Hubs show their deadlines and residency dates in their own zone.
    timezone: Mapped[str | None] = mapped_column(String(64))
    website: Mapped[str | None] = mapped_column(String(300))
    # Startup profile.
    founded_on: Mapped[date | None]
    employees: Mapped[int | None]
    track: Mapped[str | None] = mapped_column(String(20))
    trl: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("country", "org_number"),
        CheckConstraint(in_values("kind", ORGANISATION_KINDS), name="kind"),
        CheckConstraint(in_values("country", COUNTRIES), name="country"),
        CheckConstraint(f"track IS NULL OR {in_values('track', TRACKS)}", name="track"),
        CheckConstraint("trl IS NULL OR (trl BETWEEN 1 AND 9)", name="trl"),
        CheckConstraint("employees IS NULL OR employees >= 0", name="employees"),
        Index("ix_organisation_kind_name", "kind", "name"),
    )

    @property
    def zone(self) -> str:
        """The organisation's clock (a hub's offers, a funder's grant offers and reports): its own
        time zone, else its country's usual one (a Finnish funder is never read on Oslo's clock)."""
        return self.timezone or COUNTRY_ZONES.get(self.country, "UTC")

    def __repr__(self) -> str:
        return f"<Organisation {self.kind} {self.name}>"


class Membership(db.Model):
    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships", lazy="joined")

    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    @property
    def role(self) -> str:
        return ROLE_BY_KIND[self.organisation.kind]


class JoinRequest(db.Model):
    """A registered user asks to join an existing startup; a member decides."""

    __tablename__ = "join_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    message: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    approved: Mapped[bool | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        # One open request per person and startup.
        Index(
            "uq_join_request_open",
            "user_id",
            "organisation_id",
            unique=True,
            sqlite_where=db.text("decided_at IS NULL"),
            postgresql_where=db.text("decided_at IS NULL"),
        ),
    )


class Invitation(db.Model):
    """A programme administrator invites a staff member by e-mailed link."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship()


class PasswordReset(db.Model):
    """A single-use password reset token, stored hashed."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One sign-in on one device: its key is in that device's session and remember cookie.

    Only a hash of the key is stored. Logging out deletes the row, so a copy of the
    cookie is worth nothing afterwards; a new password deletes every other row of
    the account. A row is usable until ``expires_at``: a remembered sign-in for
    REMEMBER_COOKIE_DURATION from when it began, any other for SESSION_IDLE_TIMEOUT
    after it was last seen.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remembered: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What the owner sees in their list of signed-in devices.
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("expires_at > created_at", name="expires_after_start"),
        {"sqlite_autoincrement": True},
    )


class SignInThrottle(db.Model):
    """Failed sign-ins counted in a window, per bucket: one account from one address, one address, one account.

    The key is a hash of the bucket (no e-mail address or client address is stored in the clear);
    ``account`` is a hash of the e-mail, so a new password can clear that account's buckets.
    """

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    account: Mapped[str | None] = mapped_column(String(64), index=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(in_values("scope", ("pair", "account", "address")), name="scope"),
        CheckConstraint("failures >= 0", name="failures"),
    )
