"""The titles and explanations of error answers, shared by the pages and the JSON API."""
from __future__ import annotations

from residency.core.i18n import lazy_gettext as _l

TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    409: _l("Not possible now"),
    413: _l("The upload is too large"),
    422: _l("Please check your input"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Busy for a moment"),
}

EXPLANATIONS = {
    403: _l("You may see this page, but you may not do this."),
    413: _l("Files can be at most 10 MB. Go back, choose a smaller file and save again."),
    404: _l("There is nothing here, or it is not yours to see."),
    500: _l("An error on our side stopped this request. Nothing you did caused it; please try again later."),
}
