"""An application as a PDF dossier: the call, the startup, every answer in the form's order with
its question in the reader's language, the attachments listed, and for staff the status history.

``answers_in_order`` is the one place the dossier learns what the form asks; the pages and the
PDF read the answers through it. Everything is written in the reader's language (flask-babel's
locale of the request) with the formatters of ``core.i18n``, and times in the call's zone, named.
``core.pdf`` renders the HTML template (autoescaped: the answers are user input) and turns it
into a PDF without fetching anything.

Several dossiers are read in a fixed number of queries (``load``): the applications with their
call, route and startup, their attachments, and their histories with who made each change.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from residency.core.i18n import gettext as _
from residency.core.i18n import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from residency.core import pdf, workflow
from residency.core.db import utcnow
from residency.core.errors import NotFound
from residency.core.extensions import db
from residency.core.i18n import country_name, format_file_size, format_in_zone
from residency.core.models import StatusChange
from residency.domain.accounts.models import User
from residency.domain.applications import rules
from residency.domain.applications import services as applications
from residency.domain.applications.models import Application
from residency.domain.forms import services as forms
from residency.domain.programme.models import Call, Route

CONTENT_TYPE_LABELS = {
    "application/pdf": _l("PDF document"),
    "image/png": _l("PNG image"),
    "image/jpeg": _l("JPEG image"),
    "image/gif": _l("GIF image"),
    "image/webp": _l("WebP image"),
}


@dataclass(frozen=True)
class Section:
    """One section of the form: its title and its (question, answer) rows, as the reader reads them."""

    key: str
    title: str
    rows: list[tuple[str, str]]


def answers_in_order(application: Application, form=None, stored: dict | None = None) -> list[Section]:
    """Every answer of the application by section in the order of its call's form, each with its question's
    label, in the reader's language (a choice by its label, days, numbers and amounts as the language writes
    them; an unanswered question has the empty string). The files are the dossier's list of attachments.
    ``form`` and ``stored`` (its answers by question id) when the caller read them for several dossiers."""
    form = form or applications.form_of_application(application)
    values = (applications.values_from(application, form, stored) if stored is not None
              else applications.values_of(application, form))
    sections = []
    for section in applications.answers_in_order(application, form, values=values):
        rows = [(row.label, row.text) for row in section.rows if row.question.kind != "file"]
        if rows:
            sections.append(Section(key=section.key, title=section.title, rows=rows))
    return sections


@dataclass(frozen=True)
class AttachmentLine:
    name: str
    kind: str
    size: str


@dataclass(frozen=True)
class HistoryLine:
    when: str
    state: str
    action: str
    actor: str
    forced: bool
    reason: str
    note: str


@dataclass
class Dossier:
    """What the PDF shows, as text in the reader's language."""

    application_id: int
    call_title: str
    route: str
    startup_name: str
    startup_country: str
    org_number: str
    status: str
    submitted: str  # in the call's zone, the zone named; '' if never submitted
    zone: str
    sections: list[Section]
    attachments: list[AttachmentLine]
    history: list[HistoryLine] | None  # None: the startup's copy, which has none
    generated: str
    filename: str = field(default="")


@dataclass(frozen=True)
class Pdf:
    filename: str
    data: bytes


# ------------------------------------------------------------------ who may download


def applicant_pdf(user: User, application_id: int) -> Pdf:
    """The startup's copy (no history): 404 unless ``user`` is a member of the application's startup."""
    return render(dossier_of(applications.own_application(user, application_id), for_applicant=True))


def admin_pdf(user: User, application_id: int) -> Pdf:
    """The staff copy for a programme administrator: 404 for anyone else."""
    application = applications.application_for(user, application_id)
    if workflow.ADMIN not in workflow.roles_on(application, user):
        raise NotFound(_l("Not found."))
    return render(dossier_of(application, for_applicant=False))


# ------------------------------------------------------------------ reading


def load(application_ids: list[int], *, for_applicant: bool, now: datetime | None = None) -> list[Dossier]:
    """The dossiers of these applications (their order kept), in a fixed number of queries whatever their number:
    the applications with call, route, hub, cluster and startup; their attachments; their calls' forms
    and their answers; and, for staff, their histories with the actors. The caller has checked that the reader may see each of them."""
    if not application_ids:
        return []
    call = joinedload(Application.call)
    route = call.joinedload(Call.route)
    found = {a.id: a for a in db.session.scalars(
        select(Application).where(Application.id.in_(application_ids))
        .options(route.joinedload(Route.host_hub), route.joinedload(Route.cluster),
                 joinedload(Application.startup), selectinload(Application.attachments))).unique()}
    histories: dict[int, list[StatusChange]] | None = None
    if not for_applicant:
        histories = {i: [] for i in found}
        for change in db.session.scalars(
                select(StatusChange).where(StatusChange.workflow == "application",
                                           StatusChange.record_id.in_(list(found)))
                .options(joinedload(StatusChange.actor)).order_by(StatusChange.id)):
            histories[change.record_id].append(change)
    call_forms = forms.forms_of({a.call_id for a in found.values()})
    stored = forms.answer_rows(list(found))
    return [_dossier(found[i], None if histories is None else histories[i], now or utcnow(),
                     answers_in_order(found[i], call_forms[found[i].call_id], stored[i]))
            for i in application_ids if i in found]


def dossier_of(application: Application, *, for_applicant: bool, now: datetime | None = None) -> Dossier:
    """The dossier of one application the reader may see (its history read if for staff)."""
    history = None if for_applicant else workflow.history(application, for_applicant=False)
    return _dossier(application, history, now or utcnow())


def _dossier(application: Application, history: list[StatusChange] | None, now: datetime,
             sections: list[Section] | None = None) -> Dossier:
    call, startup = application.call, application.startup
    zone = call.timezone
    if history is None:
        status = workflow.label("application", rules.applicant_status(application), for_applicant=True)
    else:
        status = workflow.label("application", application.status, for_applicant=False)
    hub = call.route.host_hub
    return Dossier(
        application_id=application.id,
        call_title=call.title,
        route=_("From %(country)s to %(hub)s, %(city)s", country=country_name(call.route.home_country), hub=hub.name,
                city=hub.city or ""),
        startup_name=startup.name,
        startup_country=country_name(startup.country),
        org_number=startup.org_number or "",
        status=status,
        submitted=format_in_zone(application.submitted_at, zone) if application.submitted_at else "",
        zone=zone,
        sections=answers_in_order(application) if sections is None else sections,
        attachments=[AttachmentLine(name=a.download_name, kind=str(CONTENT_TYPE_LABELS.get(a.content_type, a.content_type)),
                                    size=format_file_size(a.size_bytes)) for a in application.attachments],
        history=None if history is None else [_history_line(c, zone) for c in history],
        generated=format_in_zone(now, zone),
        filename=filename_of(application.id, startup.name),
    )


def _history_line(change: StatusChange, zone: str) -> HistoryLine:
    wf = workflow.get("application")
    return HistoryLine(
        when=format_in_zone(change.created_at, zone),
        state=wf.label(change.to_state, False) if change.to_state in wf.states else change.to_state,
        action=wf.action_label(change.action),
        actor=change.actor.name if change.actor is not None else _("The system"),
        forced=change.forced,
        reason=change.reason or "",
        note=change.note or "",
    )


# ------------------------------------------------------------------ the PDF


TEMPLATE = "dossier/application.html"


def render(dossier: Dossier, font_config=None) -> Pdf:
    return Pdf(filename=dossier.filename, data=pdf.render_pdf(TEMPLATE, font_config=font_config, dossier=dossier))


def render_all(dossiers: Iterable[Dossier]) -> Iterator[Pdf]:
    """Each dossier's PDF as it is rendered (a fifth of a second or so each: the caller streams them),
    the fonts found once for all."""
    fonts = pdf.fonts()
    for dossier in dossiers:
        yield render(dossier, font_config=fonts)


def filename_of(application_id: int, startup_name: str) -> str:
    """'application-42-fjordbio-therapeutics-as.pdf': ASCII letters, digits and hyphens only, so that it is safe
    in a header, in a zip and on any file system ('Øresund' is 'oresund', a name of other scripts drops out)."""
    folded = unicodedata.normalize("NFKD", startup_name.replace("ø", "o").replace("Ø", "O")
                                   .replace("æ", "ae").replace("Æ", "AE").replace("ð", "d").replace("Ð", "D")
                                   .replace("þ", "th").replace("Þ", "Th").replace("ß", "ss"))
    slug = re.sub(r"[^a-z0-9]+", "-", folded.encode("ascii", "ignore").decode().lower()).strip("-")[:60].rstrip("-")
    return f"application-{application_id}{'-' + slug if slug else ''}.pdf"
