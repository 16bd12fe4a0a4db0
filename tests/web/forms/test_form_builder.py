"""Issue 15: each call asks its own questions. An administrator builds a call's form through the
builder's pages (a question of every kind, a conditional one), previews it in each language; a
startup fills it in, is refused with each missing required question and broken word limit named,
and submits; cluster staff and the hub read every answer; answers keep their meaning."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from residency.core import workflow
from residency.core.extensions import db
from residency.domain.applications import services as applications
from residency.domain.applications.models import Application
from residency.domain.forms import services as forms
from residency.domain.forms.models import FormChange
from residency.domain.placements.models import Placement
from residency.domain.review import nominations

from tests.scenarios import PDF, complete_values

# kind → (the question in English, in Norwegian, what the editor is given, what the startup answers, how it reads)
BUILT = {
    "short_text": ("Company website", "Nettsted", {}, "https://example.test", "https://example.test"),
    "long_text": ("Describe the clinical need", "Beskriv det kliniske behovet", {"max_words": "5"},
                  "Sepsis kills within hours.", "Sepsis kills within hours."),
    "number": ("Patents filed", "Patenter", {"minimum": "0", "maximum": "100"}, "3", "3"),
    "money": ("Capital raised", "Kapital hentet", {"minimum": "0", "maximum": "50000000", "currency": "NOK"},
              "1500000,50", "NOK\u00a01,500,000.50"),
    "date": ("Founded on", "Stiftet", {}, "2021-05-04", "4 May 2021"),
    "single_choice": ("Stage", "Fase", {"choices_en": "Preclinical\nClinical", "choices_nb": "Preklinisk\nKlinisk"},
                      "clinical", "Clinical"),
    "multiple_choice": ("Markets", "Markeder", {"choices_en": "Nordics\nEurope\nUSA"}, ["nordics", "usa"], "Nordics, USA"),
    "yes_no": ("Do you work with animals?", "Arbeider dere med dyr?", {}, "yes", "Yes"),
    "trl": ("TRL of your second product", "TRL for det andre produktet", {}, "5", "5"),
    "country": ("Country of your main investor", "Landet til hovedinvestoren", {}, "DE", "Germany"),
    "file": ("Letter of support", "Støttebrev", {"file_types": ["pdf"], "max_files": "1"}, None, "support.pdf"),
}


def _add(client, call, kind, section="company", **extra):
    label, label_nb, settings, _answer, _text = BUILT[kind]
    data = {"label_en": label, "label_nb": label_nb, "required": "y", "section_key": section} | settings | extra
    r = client.post(f"/admin/calls/{call.id}/form/questions/new?kind={kind}", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    return next(q for q in forms.form_of(call.id).questions if q.label.get("en") == label)


@pytest.fixture
def built(make, client, login):
    """A call whose form an administrator extended with a question of every kind and a conditional one."""
    call = make.call(status="draft")
    login(make.admin())
    keys = {kind: _add(client, call, kind).key for kind in BUILT}
    # Asked only of startups that work with animals.
    r = client.post(f"/admin/calls/{call.id}/form/questions/new?kind=long_text", data={
        "label_en": "Describe your animal licence", "section_key": "company", "required": "y",
        "shown_if": f"{keys['yes_no']}=yes"})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    keys["conditional"] = next(q.key for q in forms.form_of(call.id).questions if q.shown_if_key)
    return call, keys


def test_an_administrator_builds_previews_and_publishes_a_form(built, client, make):
    call, keys = built
    page = client.get(f"/admin/calls/{call.id}/form").get_data(as_text=True)
    for label, *_rest in BUILT.values():
        assert label in page
    assert "asked when “Do you work with animals?” is “Yes”" in page
    # The history names every question added.
    assert db.session.scalar(select(db.func.count()).select_from(FormChange).where(
        FormChange.call_id == call.id, FormChange.action == "added")) == len(BUILT) + 1
    # The preview in Norwegian: the Norwegian wording, the English one where none was given, a Norwegian form around it.
    preview = client.get(f"/admin/calls/{call.id}/form/preview?lang=nb").get_data(as_text=True)
    assert "Beskriv det kliniske behovet" in preview and "Preklinisk" in preview and "Describe your animal licence" in preview
    assert "Hva gjør bedriften din?" in preview  # the default form's own question, translated
    assert client.get(f"/admin/calls/{call.id}/form/preview?lang=xx").status_code == 404
    r = client.post(f"/admin/calls/{call.id}/publish")
    assert r.status_code == 302
    db.session.refresh(call)
    assert call.status == "published"


def _start(client, call) -> int:
    r = client.post(f"/startup/calls/{call.id}/apply")
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return int(re.search(r"/applications/(\d+)", r.headers["Location"]).group(1))


def _publish(call, make):
    workflow.perform(call, "publish", make.admin())
    db.session.commit()


def test_a_startup_is_told_each_missing_question_and_broken_word_limit_then_submits(built, client, make, login):
    call, keys = built
    _publish(call, make)
    startup = make.organisation("startup", country=call.route.home_country)
    founder = make.user(org=startup)
    login(founder)
    app_id = _start(client, call)
    form_page = client.get(f"/startup/applications/{app_id}").get_data(as_text=True)
    assert "Describe the clinical need" in form_page and "At most 5 words." in form_page
    assert 'class="required"' in form_page and "(required)" in form_page
    # Everything of the default form, none of the new questions, and a clinical need that is too long.
    data = complete_values(call) | {keys["long_text"]: "one two three four five six seven", "intent": "submit",
                                    keys["yes_no"]: "yes", "attachments": (io.BytesIO(PDF), "deck.pdf")}
    r = client.post(f"/startup/applications/{app_id}", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    summary = html[html.index('class="form-errors"'):html.index("</div>", html.index('class="form-errors"'))]
    for kind in BUILT:
        if kind not in ("long_text", "yes_no"):
            assert BUILT[kind][0] in summary, kind
    assert "Describe your animal licence" in summary  # asked: the startup works with animals
    assert "Please shorten this to 5 words or fewer; it has 7 words." in summary
    assert db.session.get(Application, app_id).status == "draft"
    # What was typed is kept, and the order of the summary is the form's.
    assert "one two three four five six seven" in html
    assert summary.index(BUILT["short_text"][0]) < summary.index(BUILT["number"][0]) < summary.index(BUILT["country"][0])
    answers = {keys[kind]: BUILT[kind][3] for kind in BUILT if kind != "file"}
    answers[keys["conditional"]] = "Licence 2024-117 from Mattilsynet."
    data = complete_values(call) | answers | {"intent": "submit", keys["file"]: (io.BytesIO(PDF), "support.pdf")}
    r = client.post(f"/startup/applications/{app_id}", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:4000]
    application = db.session.get(Application, app_id)
    assert application.status == "submitted"
    values = applications.values_of(application)
    assert values[keys["money"]] == "1500000.50" and values[keys["multiple_choice"]] == ["nordics", "usa"]
    assert values[keys["date"]] == "2021-05-04" and values[keys["trl"]] == 5 and values[keys["country"]] == "DE"
    # The read-only copy, and cluster staff, read every answer as its reader writes it.
    staff = make.user(org=call.route.cluster)
    login(staff)
    page = client.get(f"/cluster/applications/{app_id}").get_data(as_text=True)
    for kind, (label, _nb, _settings, _answer, text) in BUILT.items():
        assert label in page and text in page, kind
    assert "Licence 2024-117 from Mattilsynet." in page
    # And the hub, once the application is nominated.
    workflow.perform(application, "start_review", staff)
    db.session.commit()
    nominations.nominate(application=application, actor=staff, rationale="fit")
    hub_admin = make.user(org=call.route.host_hub)
    login(hub_admin)
    placement = db.session.scalar(select(Placement).where(Placement.application_id == app_id))
    page = client.get(f"/hub/placements/{placement.id}").get_data(as_text=True)
    for kind, (label, _nb, _settings, _answer, text) in BUILT.items():
        assert label in page and text in page, kind


def test_a_question_not_asked_is_not_required(built, client, make, login):
    """The conditional question is left out when its condition is not met."""
    call, keys = built
    _publish(call, make)
    founder = make.user(org=make.organisation("startup", country=call.route.home_country))
    login(founder)
    app_id = _start(client, call)
    answers = {keys[kind]: BUILT[kind][3] for kind in BUILT if kind != "file"} | {keys["yes_no"]: "no"}
    r = client.post(f"/startup/applications/{app_id}", data=complete_values(call) | answers | {
        "intent": "submit", keys["file"]: (io.BytesIO(PDF), "support.pdf"), "attachments": (io.BytesIO(PDF), "deck.pdf")})
    # Two files in one press, each to its question; the licence question is not asked, so not required.
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    application = db.session.get(Application, app_id)
    assert application.status == "submitted"
    assert sorted(a.filename for a in application.attachments) == ["deck.pdf", "support.pdf"]
    form = forms.form_of(call.id)
    by_question = {a.question_id: a.filename for a in application.attachments}
    assert by_question == {form.question("attachments").id: "deck.pdf", form.question(keys["file"]).id: "support.pdf"}


def test_answers_keep_their_meaning(built, client, make, login):
    """A question with answers keeps its kind and cannot be removed (it is hidden); every change is in the history."""
    call, keys = built
    _publish(call, make)
    founder = make.user(org=make.organisation("startup", country=call.route.home_country))
    application = applications.start(call=call, startup=founder.organisations("startup")[0], actor=founder)
    applications.save_draft(application=application, actor=founder, loaded_edit_id=None,
                            values={keys["short_text"]: "https://example.test", keys["single_choice"]: "clinical"})
    admin = make.admin()
    login(admin)
    base = f"/admin/calls/{call.id}/form/questions"
    r = client.post(f"{base}/{keys['short_text']}", data={"label_en": "Website", "kind": "number", "section_key": "company"})
    assert r.status_code == 422 and "This question has answers" in r.get_data(as_text=True)
    assert forms.form_of(call.id).question(keys["short_text"]).kind == "short_text"
    r = client.post(f"{base}/{keys['short_text']}/remove")
    assert r.status_code == 302
    assert forms.form_of(call.id).question(keys["short_text"]) is not None
    # Reworded and hidden: the answer stays, under the new wording, readable to staff.
    r = client.post(f"{base}/{keys['short_text']}", data={"label_en": "Website address", "label_nb": "Nettadresse",
                                                          "kind": "short_text", "section_key": "company", "hidden": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    assert applications.values_of(application)[keys["short_text"]] == "https://example.test"
    assert keys["short_text"] not in application_form_keys(call)
    # A choice with answers cannot be dropped; it can be reworded.
    r = client.post(f"{base}/{keys['single_choice']}", data={"label_en": "Stage", "section_key": "company", "kind": "single_choice",
                                                             "choices_en": "Preclinical"})
    assert r.status_code == 422
    r = client.post(f"{base}/{keys['single_choice']}", data={"label_en": "Stage", "section_key": "company", "kind": "single_choice",
                                                             "required": "y", "choices_en": "Preclinical\nIn clinical trials"})
    assert r.status_code == 302
    assert applications.values_of(application)[keys["single_choice"]] == "clinical"
    staff = make.user(org=call.route.cluster)
    # An unanswered question is removed; a question the programme reads is never removed or hidden.
    assert client.post(f"{base}/{keys['number']}/remove").status_code == 302
    assert forms.form_of(call.id).question(keys["number"]) is None
    assert client.post(f"{base}/months/remove").status_code == 302
    assert forms.form_of(call.id).question("months") is not None
    # ... but reworded: it stays asked and required whatever is sent (its editor offers neither box).
    r = client.post(f"{base}/months", data={"label_en": "Length of the residency in months", "section_key": "residency",
                                            "hidden": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    months = forms.form_of(call.id).question("months")
    assert months.label["en"] == "Length of the residency in months" and months.required and not months.hidden
    assert months.kind == "number"
    history = client.get(f"/admin/calls/{call.id}/form").get_data(as_text=True)
    assert "Question changed" in history and "“Website address”" in history and "Question removed" in history
    del staff


def application_form_keys(call):
    return [q.key for q in forms.form_of(call.id).questions if not q.hidden]


def test_only_administrators_change_a_form(make, client, login):
    call = make.call()
    staff = make.user(org=call.route.cluster)
    login(staff)
    assert client.get(f"/admin/calls/{call.id}/form").status_code == 403
    assert client.post(f"/admin/calls/{call.id}/form/questions/new?kind=short_text", data={"label_en": "x"}).status_code == 403
    assert len(forms.form_of(call.id).questions) == 14


def test_bad_input_in_the_editor_is_marked_and_changes_nothing(make, client, login):
    call = make.call(status="draft")
    login(make.admin())
    before = len(forms.form_of(call.id).questions)
    r = client.post(f"/admin/calls/{call.id}/form/questions/new?kind=number",
                    data={"label_en": "", "minimum": "10", "maximum": "2", "section_key": "company"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Write the question in English" in html and "must not be below the smallest" in html
    r = client.post(f"/admin/calls/{call.id}/form/questions/new?kind=single_choice",
                    data={"label_en": "Stage", "section_key": "company", "choices_en": ""})
    assert r.status_code == 422 and "Give at least one choice" in r.get_data(as_text=True)
    r = client.post(f"/admin/calls/{call.id}/form/questions/new?kind=short_text",
                    data={"label_en": "Stage", "section_key": "company", "label_nb": "x" * 5000})
    assert r.status_code == 422 and "at most 300 characters" in r.get_data(as_text=True)
    r = client.post(f"/admin/calls/{call.id}/form/questions/new?kind=long_text",
                    data={"label_en": "Why \x00", "section_key": "company"})
    assert r.status_code == 422
    assert client.get(f"/admin/calls/{call.id}/form/questions/new?kind=evil").status_code == 404
    assert len(forms.form_of(call.id).questions) == before


def test_a_new_call_can_start_from_another_calls_form(built, make, client):
    call, keys = built
    other = make.call(status="draft")
    r = client.post(f"/admin/calls/{other.id}/form/copy", data={"from_call_id": str(call.id)})
    assert r.status_code == 302
    assert forms.form_of(other.id).keys == forms.form_of(call.id).keys
    assert forms.form_of(other.id).question(keys["money"]).id != forms.form_of(call.id).question(keys["money"]).id


def test_a_condition_names_a_question_asked_before(built, client, make):
    """A question may depend only on one asked earlier, in the form as it will be after the change."""
    call, keys = built
    base = f"/admin/calls/{call.id}/form/questions"
    funding_choice = forms.add_question(make.admin(), call, forms.QuestionInput(
        section_key="funding", kind="yes_no", label={"en": "Have you raised money?"}))
    db.session.commit()
    # Asked in the first section, depending on a question of the fifth: refused, nothing added.
    before = len(forms.form_of(call.id).questions)
    r = client.post(f"{base}/new?kind=short_text", data={"label_en": "From whom?", "section_key": "company",
                                                        "shown_if": f"{funding_choice.key}=yes"})
    assert r.status_code == 422 and "Choose an earlier question" in r.get_data(as_text=True)
    assert len(forms.form_of(call.id).questions) == before
    # In the same section, after it: accepted. Then moving it above the question it depends on is refused.
    r = client.post(f"{base}/new?kind=short_text", data={"label_en": "From whom?", "section_key": "funding",
                                                        "shown_if": f"{funding_choice.key}=yes"})
    assert r.status_code == 302
    dependent = forms.form_of(call.id).questions
    key = next(q.key for q in dependent if q.label.get("en") == "From whom?")
    r = client.post(f"{base}/{key}/up", follow_redirects=True)
    assert "is asked only after" in r.get_data(as_text=True)
    order = [q.key for q in forms.form_of(call.id).questions]
    assert order.index(funding_choice.key) < order.index(key)
    # Moving the question it depends on to an earlier section is fine; moving the dependent one to it is not.
    r = client.post(f"{base}/{key}", data={"label_en": "From whom?", "section_key": "company", "kind": "short_text",
                                           "shown_if": f"{funding_choice.key}=yes"})
    assert r.status_code == 422
    assert forms.form_of(call.id).question(key).section.key == "funding"
