"""Settings per environment.

``load(app, name)`` applies a settings class and then every ``RESIDENCY_*``
environment variable (``RESIDENCY_MAIL_SERVER=smtp.example.org`` sets
``MAIL_SERVER``). It is called by the app factory, never at import time.
"""
from __future__ import annotations

import json
import os
from datetime import timedelta

from residency.core.languages import LANGUAGES as _LANGUAGES

DEFAULT_SECRET_KEY = "dev-only-not-secret"


class Base:
    ENV_NAME = "base"
    SECRET_KEY = DEFAULT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = "sqlite:///residency.sqlite3"  # relative to instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # A change waits this long for a lock (SQLite's write lock, a PostgreSQL row lock), then
    # the user is told to try again (503) instead of waiting for ever.
    DATABASE_LOCK_TIMEOUT_SECONDS = 30
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    # "Keep me logged in" lasts this long at most, counted from the sign-in; the server ends it then too.
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    # Any other sign-in ends after this long without a request (and after REMEMBER_COOKIE_DURATION at most).
    SESSION_IDLE_TIMEOUT = timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # a form left open all afternoon must still submit

    # Offered languages: a subset of residency/core/languages.py (all of them by default).
    LANGUAGES = list(_LANGUAGES)
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 8025
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Nordic Residency Exchange <no-reply@residency.test>"
    MAIL_TIMEOUT = 10  # seconds any one SMTP step may take (connect, each reply) before delivery gives up
    # Tests deliver to a real SMTP server on loopback, so sending is never suppressed.
    MAIL_SUPPRESS_SEND = False
    # Where the development mail sink files what it receives (relative: in instance/). The sink
    # listens on MAIL_PORT, or on a free port when that one is taken; `make run` points the web
    # and scheduler processes at the port it got.
    MAIL_SINK_DIR = "mail"

    # Attachments are at most 10 MB each; a little more gets through so the
    # applicant reads the plain refusal with their answers kept, not a bare 413.
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    ATTACHMENT_DIR = None  # default: instance/attachments, outside the web root
    # Where attachment files are stored: "database" (every web server on one PostgreSQL reads them),
    # "local" (ATTACHMENT_DIR, one machine only), or "auto": database on PostgreSQL, local on SQLite.
    ATTACHMENT_STORAGE = "auto"

    # Reminder offsets (in the call's or hub's time zone, by the local clock).
    REMINDERS = {
        "call_closing_days": [7, 1],
        "change_request_days": 2,
        "reviews_due_days": 3,
        "nomination_deadline_days": 3,
        "hub_waiting_days": 10,
        "offer_expiring_days": 3,
        "residency_starting_days": 14,
        "residency_ending_days": 30,
        "funding_pending_days": 30,
        "grant_offer_expiring_days": 3,
        "report_due_days": 14,
    }
    REMINDER_BATCH_SIZE = 1000
    # Seconds between runs of each periodic job, by name (see residency/jobs.py).
    JOB_INTERVALS: dict = {}
    SCHEDULER_LOCK_KEY = 73_650_001  # PostgreSQL advisory lock held by the active scheduler

    OUTBOX_MAX_ATTEMPTS = 6
    OUTBOX_BACKOFF_SECONDS = 60  # doubles after each failed attempt
    OUTBOX_BATCH_SIZE = 200
    # A delivery run owns its batch this long; a run that died lets the rest go when it passes.
    OUTBOX_LEASE_SECONDS = 300

    PASSWORD_HASH_METHOD = "scrypt"
    # Failed sign-ins allowed per window: for one account from one address, from one address
    # across accounts, and for one account from every address (see domain/accounts/throttle.py).
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 100
    LOGIN_FAILURE_WINDOW_MINUTES = 15
    INVITATION_DAYS = 7
    PASSWORD_RESET_MINUTES = 60

    # The address every link in an e-mail starts with. `make run` sets it to the address it serves
    # (http://localhost:<PORT>); in production set RESIDENCY_PUBLIC_BASE_URL=https://your.host.
    PUBLIC_BASE_URL = "http://localhost:5000"
    # How many proxies (load balancer, nginx) stand in front of gunicorn and set X-Forwarded-*:
    # with 0 their headers are ignored; set it right, or every user shares the proxy's address.
    PROXY_HOPS = 0
    # GET /healthz: 503 when the database does not answer HEALTHZ_QUERY within this many
    # milliseconds (on SQLite, also while another connection holds the write lock).
    HEALTHZ_TIMEOUT_MS = 1000
    HEALTHZ_QUERY = "SELECT 1"
    LOG_JSON = True


class Development(Base):
    ENV_NAME = "development"


class Testing(Base):
    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    MAIL_PORT = 2525
    LOG_JSON = False
    # Fast hashing keeps hundreds of logins in the suite quick; production uses scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    WTF_CSRF_ENABLED = False  # tests that check CSRF switch it back on


class Production(Base):
    ENV_NAME = "production"
    SECRET_KEY = None
    PUBLIC_BASE_URL = None  # must be set: RESIDENCY_PUBLIC_BASE_URL=https://your.host
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    MAIL_PORT = 25


ENVIRONMENTS = {
    "development": Development,
    "testing": Testing,
    "production": Production,
}

PREFIX = "RESIDENCY_"


def _coerce(raw: str, current):
    """Read an environment value as the type of the setting it overrides."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int) and not isinstance(current, bool):
        return int(raw)
    if isinstance(current, (list, dict)):
        return json.loads(raw)
    if isinstance(current, timedelta):
        return timedelta(seconds=int(raw))
    return raw


def load(app, name: str | None = None, environ=None) -> None:
    """Apply the settings class for ``name`` and the RESIDENCY_* overrides."""
    environ = os.environ if environ is None else environ
    name = name or environ.get("RESIDENCY_ENV", "development")
    if name not in ENVIRONMENTS:
        raise RuntimeError(f"Unknown RESIDENCY_ENV {name!r}; use one of {sorted(ENVIRONMENTS)}")
    app.config.from_object(ENVIRONMENTS[name])
    for key, raw in environ.items():
        if key.startswith(PREFIX) and key != "RESIDENCY_ENV":
            setting = key[len(PREFIX):]
            app.config[setting] = _coerce(raw, app.config.get(setting))
