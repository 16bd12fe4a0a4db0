"""Refusals that services raise and views turn into pages or JSON."""
from __future__ import annotations


class ServiceError(Exception):
    status_code = 400

    def __init__(self, message, field_errors: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.field_errors = field_errors or {}


class Invalid(ServiceError):
    """Bad input: nothing was changed."""

    status_code = 422


class Forbidden(ServiceError):
    """You may see this, but not do this."""

    status_code = 403


class NotFound(ServiceError):
    """Not there, or not yours to see."""

    status_code = 404


class Conflict(ServiceError):
    """Not allowed now (the record is in another state, or a rule stands in the way)."""

    status_code = 409


class Busy(ServiceError):
    """The database could not take this change in time (a lock was held too long): try again."""

    status_code = 503
