"""The call form builder: a call's sections and questions, each question's editor, a preview in
every language exactly as a startup sees the form, and the form's history."""
from __future__ import annotations

from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from residency.core.i18n import gettext as _
from flask_login import current_user
from markupsafe import Markup

from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.i18n import LANGUAGE_NAMES
from residency.core.languages import LANGUAGES
from residency.domain.applications import services as applications
from residency.domain.forms import kinds
from residency.domain.forms import services as forms
from residency.domain.programme import services
from residency.web.access import role_required
from residency.web.admin.blueprint import bp
from residency.web.admin.form_forms import CopyFormForm, NewQuestionForm, SectionForm, question_data, question_form
from residency.web.admin.forms import ConfirmForm
from residency.web.applicant.application_forms import application_form
from residency.web.formtools import apply_field_errors

ADMIN = "programme_admin"


def _actor():
    return current_user._get_current_object()


def _new_question_form(form, **kwargs) -> NewQuestionForm:
    chooser = NewQuestionForm(**kwargs)
    chooser.section_key.choices = [(s.key, kinds.text_in(s.title)) for s in form.sections]
    chooser.kind.choices = [(k, str(label)) for k, label in kinds.KIND_LABELS.items()]
    return chooser


def _copy_form(call, **kwargs) -> CopyFormForm:
    copy = CopyFormForm(**kwargs)
    copy.from_call_id.choices = [(0, _("Choose a call"))] + [(c.id, c.title) for c in services.calls_with_forms(exclude=call.id)]
    return copy


def _overview(call, status=200, section_form=None, copy_form=None):
    form = applications.form_of_call(call)
    return render_template(
        "admin/form.html", call=call, form=form, active="calls", confirm=ConfirmForm(),
        chooser=_new_question_form(form, formdata=None), section_form=section_form or SectionForm(formdata=None),
        copy_form=copy_form or _copy_form(call, formdata=None), has_applications=services.call_has_applications(call.id),
        answered=forms.answered_questions(call.id), history=forms.history(call.id), KIND_LABELS=kinds.KIND_LABELS,
        CHANGE_LABELS=forms.CHANGE_LABELS, describe=forms.describe_change,
        LANGUAGE_NAMES=LANGUAGE_NAMES, languages=LANGUAGES), status


@bp.get("/calls/<int:call_id>/form")
@role_required(ADMIN)
def call_form_builder(call_id: int):
    """The call's application form: its sections and questions in order, what may change, its history."""
    return _overview(services.get_call(call_id))


def _editor_page(call, form, editor, question=None, kind=None, status=200):
    return render_template("admin/question_form.html", call=call, form=form, editor=editor, question=question,
                           kind=kind or (question.kind if question else None), languages=LANGUAGES, active="calls",
                           answered=question is not None and forms.has_answers(question),
                           KIND_LABELS=kinds.KIND_LABELS), status


@bp.route("/calls/<int:call_id>/form/questions/new", methods=["GET", "POST"])
@role_required(ADMIN)
def call_form_question_new(call_id: int):
    """A new question of a chosen kind at the end of a section."""
    call = services.get_call(call_id)
    form = applications.form_of_call(call)
    kind = request.values.get("kind", "")
    if kind not in kinds.KIND_LABELS:
        abort(404)
    editor = question_form(form, formdata=request.form if request.method == "POST" else None,
                           data={"kind": kind, "section_key": request.values.get("section_key", ""), "required": True,
                                 "file_types": ["pdf"]})
    if request.method == "POST" and editor.validate_on_submit():
        try:
            question = forms.add_question(_actor(), call, forms.QuestionInput(**(editor.values() | {"kind": kind})))
        except (Invalid, Conflict) as refusal:
            apply_field_errors(editor, refusal)
        else:
            flash(_("The question “%(question)s” is added.", question=kinds.text_in(question.label)), "success")
            return redirect(url_for(".call_form_builder", call_id=call.id, _anchor=f"q-{question.key}"))
    return _editor_page(call, form, editor, kind=kind, status=422 if request.method == "POST" else 200)


@bp.route("/calls/<int:call_id>/form/questions/<key>", methods=["GET", "POST"])
@role_required(ADMIN)
def call_form_question(call_id: int, key: str):
    """Edit a question: reword it in every language, change its help, limits, condition; its kind while unanswered."""
    call = services.get_call(call_id)
    form = applications.form_of_call(call)
    question = form.question(key) or abort(404)
    if request.method == "GET":
        return _editor_page(call, form, question_form(form, question, formdata=None, data=question_data(question)), question)
    editor = question_form(form, question)
    if editor.validate_on_submit():
        try:
            forms.update_question(_actor(), call, key, forms.QuestionInput(**editor.values()))
        except (Invalid, Conflict) as refusal:
            apply_field_errors(editor, refusal)
        else:
            flash(_("The question is saved."), "success")
            return redirect(url_for(".call_form_builder", call_id=call.id, _anchor=f"q-{key}"))
    return _editor_page(call, form, editor, question, status=422)


@bp.post("/calls/<int:call_id>/form/questions/<key>/<any(up, down):direction>")
@role_required(ADMIN)
def call_form_question_move(call_id: int, key: str, direction: str):
    """Move a question one place within its section."""
    call = services.get_call(call_id)
    if ConfirmForm().validate_on_submit():
        try:
            forms.move_question(_actor(), call, key, -1 if direction == "up" else 1)
        except Conflict as refusal:
            flash(str(refusal.message), "error")
    return redirect(url_for(".call_form_builder", call_id=call.id, _anchor=f"q-{key}"))


@bp.post("/calls/<int:call_id>/form/questions/<key>/remove")
@role_required(ADMIN)
def call_form_question_remove(call_id: int, key: str):
    """Remove a question no one answered (one with answers is hidden instead, from its editor)."""
    call = services.get_call(call_id)
    if ConfirmForm().validate_on_submit():
        try:
            forms.remove_question(_actor(), call, key)
        except Conflict as refusal:
            flash(str(refusal.message), "error")
        except NotFound:
            abort(404)
        else:
            flash(_("The question is removed."), "success")
    return redirect(url_for(".call_form_builder", call_id=call.id))


@bp.post("/calls/<int:call_id>/form/sections")
@role_required(ADMIN)
def call_form_section_new(call_id: int):
    """A new section at the end of the form."""
    call = services.get_call(call_id)
    section_form = SectionForm()
    if section_form.validate_on_submit():
        try:
            forms.add_section(_actor(), call, {lang: section_form[f"title_{lang}"].data or "" for lang in LANGUAGES})
        except (Invalid, Conflict) as refusal:
            apply_field_errors(section_form, refusal)
        else:
            flash(_("The section is added."), "success")
            return redirect(url_for(".call_form_builder", call_id=call.id))
    return _overview(call, 422, section_form=section_form)


@bp.post("/calls/<int:call_id>/form/copy")
@role_required(ADMIN)
def call_form_copy(call_id: int):
    """Replace the form, while the call has no applications, by a copy of another call's."""
    call = services.get_call(call_id)
    copy_form = _copy_form(call)
    if copy_form.validate_on_submit():
        try:
            forms.copy_form(_actor(), call, copy_form.from_call_id.data or 0)
        except Invalid as refusal:
            apply_field_errors(copy_form, refusal)
        except Conflict as refusal:
            flash(str(refusal.message), "error")
            return redirect(url_for(".call_form_builder", call_id=call.id))
        else:
            flash(_("The form is now a copy of the other call's."), "success")
            return redirect(url_for(".call_form_builder", call_id=call.id))
    return _overview(call, 422, copy_form=copy_form)


@bp.get("/calls/<int:call_id>/form/preview")
@role_required(ADMIN)
def call_form_preview(call_id: int):
    """The form exactly as a startup sees it, in the language chosen (nothing can be sent from it)."""
    call = services.get_call(call_id)
    lang = request.args.get("lang", "en")
    if lang not in LANGUAGES:
        abort(404)
    form = applications.form_of_call(call)
    # The form in the language previewed; the page around it in the administrator's own.
    with force_locale(lang):
        body = render_template("admin/_form_preview_body.html", page=SimpleNamespace(form=form, files={}),
                               application=SimpleNamespace(call=call, id=0), entry=application_form(form, formdata=None),
                               lang=lang)
    return render_template("admin/form_preview.html", call=call, body=Markup(body), lang=lang, languages=LANGUAGES,
                           LANGUAGE_NAMES=LANGUAGE_NAMES, active="calls")
