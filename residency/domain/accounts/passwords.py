"""The password rule, and hashing and checking passwords.

``password_problem`` is the one rule for a new password: forms show its answer
next to the field, and the services refuse what it refuses whatever called them.
Seeding (the demo, test factories) sets hashes directly and is not held to it.

Common and easily guessed passwords are found with zxcvbn (Dropbox's estimator,
maintained for Python): it carries the 30,000 most common passwords and sees
repeats, sequences, keyboard walks, dates and common words with digits added.
"""
from __future__ import annotations

import secrets

from flask import current_app
from residency.core.i18n import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn
from zxcvbn.matching import RANKED_DICTIONARIES

MIN_LENGTH = 10
MAX_LENGTH = 200
# zxcvbn looks at this many characters at most (it refuses longer input).
ESTIMATED_LENGTH = 72
# Fewer estimated guesses than this (zxcvbn's scores 0 and 1) is too easy to guess online.
MIN_GUESSES = 10**6
# A part of the name or e-mail shorter than this may appear in a password by chance.
PERSONAL_PART_LENGTH = 4


def _personal_parts(email: str | None, name: str | None) -> tuple[set[str], set[str]]:
    """What the password must not be (whole) and must not contain (parts), casefolded."""
    email = (email or "").strip().casefold()
    name = " ".join((name or "").split()).casefold()
    local = email.split("@", 1)[0]
    whole = {value for value in (email, local, name, name.replace(" ", "")) if value}
    words = set(name.split(" "))
    for separator in "._+-":
        local = local.replace(separator, " ")
    words |= set(local.split())
    parts = {part for part in whole | words if len(part) >= PERSONAL_PART_LENGTH}
    return whole, parts


def password_problem(password: str | None, *, email: str | None = None, name: str | None = None):
    """Why ``password`` may not be chosen by this person, in plain words; None if it may."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return _l("Use at least 10 characters.")
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(max)d characters.", max=MAX_LENGTH)
    folded = password.casefold()
    squeezed = "".join(folded.split())
    whole, parts = _personal_parts(email, name)
    if folded in whole or squeezed in whole or any(part in folded or part in squeezed for part in parts):
        return _l("Do not use your e-mail address or your name in the password.")
    if folded in RANKED_DICTIONARIES["passwords"] or zxcvbn(password[:ESTIMATED_LENGTH])["guesses"] < MIN_GUESSES:
        return _l("This password is too common or too easy to guess. Try a few unrelated words, or a short sentence.")
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def verify(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


# One hash of a random secret per hashing method, made once per process.
_DUMMY_HASHES: dict[str, str] = {}


def dummy_hash() -> str:
    """A hash of nothing anybody knows, made with the method and cost of real ones."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    return _DUMMY_HASHES[method]


def verify_for(password_hash: str | None, password: str) -> bool:
    """Check a password against an account's hash; with no account, spend the same work and say no.

    An unknown e-mail then costs as long as a wrong password, so timing does not tell
    which e-mail addresses have an account.
    """
    if password_hash is None:
        verify(dummy_hash(), password)
        return False
    return verify(password_hash, password)
