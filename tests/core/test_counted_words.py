"""Every count in reminders, e-mails and pages goes through ngettext (issue 14, item 2): '1 day', never
'1 days'; the subjects of reminders count the days their reminder was set for, not a number written
into the sentence."""
from __future__ import annotations

import os
import re

import pytest
from flask import render_template
from flask_babel import force_locale

from residency.core import outbox

from tests.core.test_words import ROOT

# A count in a sentence: a placeholder named for what it counts, in a string that is not plural-aware.
COUNTED = re.compile(r"""(?<![n\w])(?:_|_l|gettext|lazy_gettext)\(\s*(["'])(?:(?!\1).)*%\((days|months|minutes|hours|years|seats)\)""",
                     re.S)
WRITTEN_NUMBER = re.compile(r"""_l?\(\s*"[^"]*\bin \d+ days\b""")


def sources():
    for folder, extensions in (("templates", (".html", ".txt")), ("residency", (".py",))):
        for base, _dirs, files in os.walk(os.path.join(ROOT, folder)):
            for name in files:
                if name.endswith(extensions):
                    path = os.path.join(base, name)
                    with open(path, encoding="utf-8") as fh:
                        yield os.path.relpath(path, ROOT), fh.read()


def test_no_count_is_written_without_ngettext():
    offenders = [(path, found.group(0)[:80]) for path, text in sources()
                 for pattern in (COUNTED, WRITTEN_NUMBER) for found in pattern.finditer(text)]
    assert offenders == []


@pytest.mark.parametrize("template, context, one, many", [
    ("residency_starting", {"hub_name": "BVH"}, "Your residency at BVH starts in 1 day", "Your residency at BVH starts in 14 days"),
    ("residency_ending", {"hub_name": "BVH"}, "Your residency at BVH ends in 1 day", "Your residency at BVH ends in 30 days"),
    ("placement_offer_expiring", {"hub_name": "BVH"}, "Your offer from BVH expires in 1 day", "Your offer from BVH expires in 3 days"),
    ("funding_offer_expiring", {"funder_name": "Vinnova"}, "The grant offer from Vinnova expires in 1 day",
     "The grant offer from Vinnova expires in 3 days"),
    ("report_due", {"funder_name": "Vinnova"}, "A report to Vinnova is due in 1 day", "A report to Vinnova is due in 14 days"),
])
def test_a_reminders_subject_counts_the_days_it_was_set_for(app, template, context, one, many):
    with app.test_request_context():
        assert outbox.subject_of(template, context | {"days": 1}) == one
        assert outbox.subject_of(template, context) == many  # queued before the context carried the days


@pytest.mark.parametrize("language, one, many", [
    ("en", "The nomination deadline of Spring is in 1 day", "The nomination deadline of Spring is in 3 days"),
    ("nb", "Fristen for nominasjon i Spring går ut om 1 dag", "Fristen for nominasjon i Spring går ut om 3 dager"),
    ("sv", "Tidsfristen för nominering i Spring går ut om 1 dag", "Tidsfristen för nominering i Spring går ut om 3 dagar"),
])
def test_counted_subjects_take_the_readers_plural(app, language, one, many):
    with app.test_request_context(), force_locale(language):
        assert outbox.subject_of("nomination_deadline", {"call_title": "Spring", "days": 1}) == one
        assert outbox.subject_of("nomination_deadline", {"call_title": "Spring", "days": 3}) == many
        months = outbox.subject_of("impact_survey_due", {"months": 12})
        assert "12" in months and "%(" not in months


@pytest.mark.parametrize("template, context, one, many", [
    ("emails/hub_waiting.txt", {}, "more than 1 day for", "more than 10 days for"),
    ("emails/funding_pending.txt", {}, "more than 1 day for", "more than 10 days for"),
    ("emails/invitation.txt", {"inviter": "Ada", "organisation": "OCC", "token": "t"}, "works for 1 day)", "works for 10 days)"),
])
def test_reminder_bodies_count_in_the_plural_the_number_asks_for(app, template, context, one, many):
    with app.test_request_context():
        assert one in render_template(template, days=1, base_url="https://x.test", **context)
        assert many in render_template(template, days=10, base_url="https://x.test", **context)
    with app.test_request_context(), force_locale("nb"):
        text = render_template(template, days=1, base_url="https://x.test", **context)
        assert " 1 dag" in text and "1 dager" not in text
