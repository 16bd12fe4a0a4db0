"""Numbers in URLs stay within what the database can hold.

Record ids are 32-bit integers on PostgreSQL; a larger number in a path simply matches no
route (404) instead of overflowing the database driver.
"""
from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from residency.core.limits import MAX_ID  # noqa: F401 - the one bound of ids, re-exported for the routes


class BoundedInt(IntegerConverter):
    """Every ``<int:…>`` of the service: a whole number up to ``MAX_ID``; a larger one is not found.

    The refusal is a 404 raised here rather than werkzeug's ``max`` (which lets the router fall
    through to a 405 where another rule has the same path for other methods).
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise NotFound()
        return number


class RecordIdConverter(IntegerConverter):
    """The API's ``<record_id:…>``: 1 to ``MAX_ID``, documented as such in the OpenAPI document."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's parameter name
        super().__init__(map, min=1, max=MAX_ID)
