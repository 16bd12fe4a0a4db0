"""Date messages a reader understands (issue 14, item 2): every date message says which form a date
takes, with an example written as it is typed and as the reader's language says it; a time typed in
a call's zone that the clocks skip or pass twice (Europe/Oslo, spring forward and fall back) is
refused on its field with what the clocks do that night, the zone named, never shifted silently."""
from __future__ import annotations

import html as htmllib
import re
from datetime import datetime, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import DateField, DateTimeLocalField
from wtforms.validators import Optional

from residency.core import limits
from residency.core.extensions import db
from residency.domain.programme import services as programme
from residency.domain.programme.models import Call
from residency.web.formtools import BoundedForm

from tests.web.admin.test_admin import _call_form

NBSP = "\u00a0"


@pytest.mark.parametrize("language, day, when", [
    ("en", "1 March 2027", "14:30"),
    ("nb", "1. mars 2027", "14:30"),
    ("fi", "1. maaliskuuta 2027", "14.30"),
])
def test_every_date_message_shows_the_form_with_an_example_the_reader_reads_back(app, language, day, when):
    with app.test_request_context(), force_locale(language):
        assert day in str(limits.date_format_message()) and "2027-03-01" in str(limits.date_format_message())
        assert day in str(limits.date_message()) and "1900-01-01" in str(limits.date_message())
        assert when in str(limits.datetime_format_message()) and "2027-03-01 14:30" in str(limits.datetime_format_message())
    with app.test_request_context():
        assert str(limits.date_format_message()) == "Enter a date like 2027-03-01 (year-month-day: 1 March 2027)."
        assert str(limits.datetime_format_message()) == (
            "Enter a date and time like 2027-03-01 14:30 (year-month-day hours:minutes: 1 March 2027, 14:30).")


class Dated(BoundedForm):
    class Meta:
        csrf = False

    day = DateField("Day", validators=[Optional()])
    moment = DateTimeLocalField("Moment", format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], validators=[Optional()])


@pytest.mark.parametrize("language, words", [("en", "1 March 2027"), ("nb", "1. mars 2027")])
def test_a_date_field_that_reads_no_date_says_the_form_instead_of_not_a_valid_date_value(app, language, words):
    with app.test_request_context(method="POST"), force_locale(language):
        form = Dated(formdata=MultiDict({"day": "01.03.2027", "moment": "1/3/2027 2pm"}))
        assert not form.validate()
        assert form.errors["day"] == [str(limits.date_format_message())] and words in form.errors["day"][0]
        assert form.errors["moment"] == [str(limits.datetime_format_message())]
        assert not any("Not a valid" in e for errors in form.errors.values() for e in errors)
        assert Dated(formdata=MultiDict({"day": "", "moment": ""})).validate()
        assert Dated(formdata=MultiDict({"day": "2027-03-01", "moment": "2027-03-01T14:30"})).validate()


def field_error(response, field_id: str) -> str:
    found = re.search(rf'<small id="{re.escape(field_id)}-error" class="field-error">(.*?)</small>',
                      response.get_data(as_text=True), re.S)
    return htmllib.unescape(found.group(1)).replace(NBSP, " ") if found else ""


def test_what_happens_on_the_nights_the_clocks_change_in_oslo(app):
    """The two nights of 2027 in Europe/Oslo: 02:30 on 28 March does not exist, 02:30 on 31 October happens twice."""
    with pytest.raises(programme.ClockChange) as gap:
        programme.local_to_utc(datetime(2027, 3, 28, 2, 30), "Europe/Oslo")
    assert (gap.value.kind, gap.value.before, gap.value.after) == ("gap", datetime(2027, 3, 28, 2), datetime(2027, 3, 28, 3))
    with pytest.raises(programme.ClockChange) as overlap:
        programme.local_to_utc(datetime(2027, 10, 31, 2, 30), "Europe/Oslo")
    assert (overlap.value.kind, overlap.value.before, overlap.value.after) == (
        "overlap", datetime(2027, 10, 31, 3), datetime(2027, 10, 31, 2))
    # Either side of the change is one moment, and is kept.
    assert programme.local_to_utc(datetime(2027, 3, 28, 3, 0), "Europe/Oslo") == datetime(2027, 3, 28, 1, tzinfo=timezone.utc)
    assert programme.local_to_utc(datetime(2027, 3, 28, 1, 59), "Europe/Oslo") == datetime(2027, 3, 28, 0, 59, tzinfo=timezone.utc)
    assert programme.local_to_utc(datetime(2027, 10, 31, 3, 0), "Europe/Oslo") == datetime(2027, 10, 31, 2, tzinfo=timezone.utc)
    assert programme.local_to_utc(datetime(2027, 10, 31, 1, 59), "Europe/Oslo") == datetime(2027, 10, 30, 23, 59, tzinfo=timezone.utc)


@pytest.mark.parametrize("language, typed, field, message", [
    ("en", dict(opens_at="2027-03-28T02:30"), "opens_at",
     "02:30 does not exist in Europe/Oslo: on 28 March 2027 the clocks go forward from 02:00 to 03:00. "
     "Choose 03:00 or later, or a time before 02:00."),
    ("en", dict(closes_at="2027-10-31T02:30", nomination_deadline="2027-11-01T12:00", decision_deadline="2027-11-02T12:00"),
     "closes_at",
     "02:30 happens twice in Europe/Oslo: on 31 October 2027 the clocks go back from 03:00 to 02:00, so the times from "
     "02:00 until 03:00 come twice. Choose a time before 02:00, or 03:00 or later."),
    ("nb", dict(opens_at="2027-03-28T02:30"), "opens_at", "28. mars 2027"),
])
def test_a_call_time_the_clocks_skip_or_pass_twice_is_refused_on_its_field_naming_the_zone(
        make, login, language, typed, field, message):
    client = login(make.user(org=make.organisation("operator"), language=language))
    response = client.post("/admin/calls/new", data=_call_form(make.route(), **typed))
    assert response.status_code == 422
    shown = field_error(response, field)
    assert message in shown and "Europe/Oslo" in shown
    assert db.session.scalar(select(func.count()).select_from(Call)) == 0
