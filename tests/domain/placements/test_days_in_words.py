"""Refusals write their days as the reader's language does (issue 14, item 2): "1. januar 2030",
never "2030-01-01"."""
from datetime import date

import pytest
from flask_babel import force_locale

from residency.core.errors import Invalid
from residency.domain.applications import services as svc
from tests.scenarios import complete_values, nominated_placements, offer


def test_an_offer_outside_the_calls_window_names_the_window_in_the_readers_words(make, app):
    hub_admin, [placement] = nominated_placements(make)  # window 2030-01-01 to 2031-12-31
    with app.test_request_context(), force_locale("nb"), pytest.raises(Invalid) as refused:
        offer(placement, hub_admin, start=date(2029, 6, 1), end=date(2029, 9, 30))
    said = " ".join(str(m) for messages in refused.value.field_errors.values() for m in messages)
    assert "1. januar 2030" in said and "31. desember 2031" in said and "2030-01-01" not in said, said


def test_a_desired_start_outside_the_window_names_the_window_in_the_readers_words(make, app):
    call = make.call()
    startup = make.organisation("startup", country="NO")
    founder = make.user(org=startup)
    application = svc.start(call=call, startup=startup, actor=founder)
    with app.test_request_context(), force_locale("sv"), pytest.raises(Invalid) as refused:
        svc.save_draft(application=application, actor=founder, loaded_edit_id=None,
                       values=complete_values(call, desired_start="2000-01-01"))
    said = " ".join(str(m) for m in refused.value.field_errors["desired_start"])
    assert call.residency_starts_on.isoformat() not in said, said
    from babel.dates import format_date
    assert format_date(call.residency_starts_on, "long", locale="sv") in said
