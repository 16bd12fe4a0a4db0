"""Issue 14: the list of what an incomplete submission lacks follows the form's order (it listed the
typed answers first: track, TRL, start, months, desks, benches, then the texts), and each required
question is marked as such on the form."""
from __future__ import annotations

import re

from residency.domain.applications import services as applications


def test_the_refusal_lists_the_questions_in_the_forms_order(make, client, login):
    call = make.call()
    founder = make.user(org=make.organisation("startup", country=call.route.home_country))
    login(founder)
    r = client.post(f"/startup/calls/{call.id}/apply")
    app_id = int(re.search(r"/applications/(\d+)", r.headers["Location"]).group(1))
    # Track and TRL come from the startup's profile; everything else is missing.
    r = client.post(f"/startup/applications/{app_id}", data={"intent": "submit", "track": "", "trl": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    summary = html[html.index('class="form-errors"'):html.index("</div>", html.index('class="form-errors"'))]
    listed = re.findall(r'<li><a href="#([\w-]+)">', summary)
    form = applications.form_of_call(call)
    in_order = [q.key if q.kind != "file" else f"{q.key}-files" for q in form.questions]
    assert listed == [key for key in in_order if key in listed]
    assert listed[:3] == ["summary", "team", "track"] and listed[-1] == "attachments-files"


def test_required_questions_are_marked_and_word_limits_shown(make, client, login):
    call = make.call()
    admin = make.admin()
    from residency.domain.forms import services as forms

    forms.add_question(admin, call, forms.QuestionInput(section_key="company", kind="long_text",
                                                        label={"en": "Your market in 50 words"}, max_words="50"))
    forms.add_question(admin, call, forms.QuestionInput(section_key="company", kind="short_text",
                                                        label={"en": "Your website, if any"}, required=False))
    founder = make.user(org=make.organisation("startup", country=call.route.home_country))
    login(founder)
    r = client.post(f"/startup/calls/{call.id}/apply")
    html = client.get(r.headers["Location"]).get_data(as_text=True)

    def label_of(text):
        return re.search(r'<label for="[\w-]+">' + re.escape(text) + r"(.*?)</label>", html, re.S).group(1)

    assert "(required)" in label_of("Your market in 50 words") and "(required)" in label_of("What does your company do?")
    assert "(required)" not in label_of("Your website, if any")
    assert "At most 50 words." in html and 'data-word-limit="50"' in html
