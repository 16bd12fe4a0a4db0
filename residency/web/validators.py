"""Form validators shared by every area."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError


class EmailAddress:
    """An e-mail address in plain words; the demo's ``.test`` domains are allowed outside production."""

    def __init__(self, message=None):
        self.message = message or _l("Enter an e-mail address like name@example.com.")

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            validate_email(field.data.strip(), check_deliverability=False,
                           test_environment=current_app.config.get("ENV_NAME") != "production")
        except EmailNotValidError:
            raise ValidationError(self.message)
