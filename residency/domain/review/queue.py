"""The cluster staff's review queue: filters, sorting, pagination, counts per status and exports.

Every list is built from one statement of plain columns (no ORM entities, so no
lazy loads). A page therefore costs the same few queries whatever the number of
rows: the cluster's calls, one grouped count per status, and the page itself.

Each statement reads only what its filters and its sort need, through indexes: the
call's applications by status and in submission order (``Application.submitted_at``,
kept by the workflow), the reader's own assignment and review as joins on their
(application, reviewer) keys, and the mean of the submitted reviews as a probe of
their index per row that needs it. The page's rows are chosen first and only they
are joined to their startup, call and scores, so the default page reads the next 25
entries of an index whatever the size of the call.
"""
from __future__ import annotations

import functools
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from residency.core.i18n import gettext as _
from residency.core.i18n import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import Integer, Numeric, and_, bindparam, case, func, literal_column, not_, or_, select, type_coerce
from sqlalchemy.orm import aliased

from residency.core import limits, workflow
from residency.core.csvtools import csv_stream, iso_utc
from residency.core.errors import NotFound
from residency.core.extensions import db
from residency.core.i18n import country_name
from residency.domain.accounts.labels import track_label
from residency.domain.accounts.models import TRACKS, Organisation, User
from residency.domain.applications.models import Application, Attachment
from residency.domain.forms import kinds as answer_kinds
from residency.domain.forms import services as forms
from residency.domain.programme.models import Call
from residency.domain.review.models import Review, ReviewAssignment
from residency.domain.accounts.scope import Scope
from residency.domain.applications import scope as application_scope
from residency.domain.review.queries import VISIBLE_STATES, cluster_calls
from residency.domain.review.services import DECIDED_STATES

PER_PAGE = 25
SORTS = ("submitted", "updated", "company", "score", "status", "trl")
DIRECTIONS = ("asc", "desc")
DEFAULT_SORT, DEFAULT_DIRECTION = "submitted", "asc"  # first come, first reviewed
TRLS = tuple(range(1, 10))
MIN_SCORE, MAX_SCORE = Decimal(1), Decimal(5)


@dataclass(frozen=True)
class QueueFilters:
    """What the reader asked for, as plain values (the URL's query string, parsed)."""

    call_id: int | None = None
    status: str | None = None
    track: str | None = None
    trl: int | None = None
    min_score: Decimal | None = None
    max_score: Decimal | None = None
    assigned_to_me: bool = False
    not_scored_by_me: bool = False
    search: str = ""
    sort: str = DEFAULT_SORT
    direction: str = DEFAULT_DIRECTION
    page: int = 1

    # Query-string names; they make shareable URLs, so they are short and stable.
    PARAMS = {
        "call_id": "call", "status": "status", "track": "track", "trl": "trl", "min_score": "min_score",
        "max_score": "max_score", "assigned_to_me": "assigned", "not_scored_by_me": "unscored", "search": "q",
        "sort": "sort", "direction": "dir", "page": "page",
    }

    @classmethod
    def from_args(cls, args: Mapping) -> tuple["QueueFilters", dict]:
        """Parse a query string; values that make no sense are dropped and reported by parameter name."""
        errors: dict[str, str] = {}

        def get(name: str) -> str:
            return (args.get(cls.PARAMS[name]) or "").strip()

        def whole(name: str, lo: int, hi: int | None, message) -> int | None:
            raw = get(name)
            if not raw:
                return None
            try:
                value = int(raw) if len(raw) <= 20 else None  # longer is beyond any bound here
            except ValueError:
                value = None
            if value is None or value < lo or (hi is not None and value > hi):
                errors[cls.PARAMS[name]] = str(message)
                return None
            return value

        def score(name: str) -> Decimal | None:
            raw = get(name).replace(",", ".")
            if not raw:
                return None
            try:
                value = Decimal(raw)
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite() or not MIN_SCORE <= value <= MAX_SCORE:
                errors[cls.PARAMS[name]] = str(_l("A score is a number from 1 to 5."))
                return None
            return value

        status = get("status") or None
        if status is not None and status not in VISIBLE_STATES:
            errors[cls.PARAMS["status"]] = str(_l("Choose one of the statuses."))
            status = None
        track = get("track") or None
        if track is not None and track not in TRACKS:
            errors[cls.PARAMS["track"]] = str(_l("Choose one of the tracks."))
            track = None
        search = get("search")[:limits.LINE_MAX]
        if limits.has_control_characters(search):
            errors[cls.PARAMS["search"]] = str(limits.control_message(False))
            search = ""
        sort = get("sort") if get("sort") in SORTS else DEFAULT_SORT
        direction = get("direction") if get("direction") in DIRECTIONS else DEFAULT_DIRECTION
        filters = cls(
            call_id=whole("call_id", 1, limits.MAX_ID, _l("Choose one of the calls.")),
            status=status,
            track=track,
            trl=whole("trl", 1, 9, _l("The TRL is a whole number from 1 to 9.")),
            min_score=score("min_score"),
            max_score=score("max_score"),
            assigned_to_me=get("assigned_to_me") in ("1", "on", "true", "yes"),
            not_scored_by_me=get("not_scored_by_me") in ("1", "on", "true", "yes"),
            search=search,
            sort=sort,
            direction=direction,
            page=whole("page", 1, limits.PAGE_MAX, _l("Pages are numbered from 1.")) or 1,
        )
        return filters, errors

    def args(self, **changes) -> dict:
        """The query string for these filters with ``changes`` applied; defaults are left out so URLs stay short."""
        values = replace(self, **changes) if changes else self
        out = {}
        for name, param in self.PARAMS.items():
            value = getattr(values, name)
            if value in (None, "", False) or (name == "page" and value == 1):
                continue
            if (name, value) in (("sort", DEFAULT_SORT), ("direction", DEFAULT_DIRECTION)):
                continue
            out[param] = 1 if value is True else value
        return out

    @cached_property
    def _args_of_any_call(self) -> dict:
        return self.args(call_id=None, page=1)

    def args_for_call(self, call_id: int) -> dict:
        """The query string of these filters on the first page of one call (the links of the call list and of
        each row): the same as ``args(call_id=call_id, page=1)``, made once for all the page's calls."""
        return {self.PARAMS["call_id"]: call_id, **self._args_of_any_call}

    def sorted_by(self, sort: str) -> dict:
        """The query string to sort by ``sort``: ascending first, descending when already ascending."""
        direction = "desc" if self.sort == sort and self.direction == "asc" else "asc"
        return self.args(sort=sort, direction=direction, page=1)


@dataclass(frozen=True)
class QueueRow:
    application_id: int
    startup_id: int
    startup_name: str
    org_number: str
    country: str
    call_id: int
    call_title: str
    call_timezone: str
    status: str
    track: str | None
    trl: int | None
    desired_start: date | None
    months: int | None
    desks: int | None
    benches: int | None
    mean_score: Decimal | None
    reviews: int
    submitted_at: datetime | None
    updated_at: datetime | None
    assigned_to_me: bool
    scored_by_me: bool
    conflict_declared: bool

    @property
    def status_label(self) -> str:
        return workflow.get("application").label(self.status, for_applicant=False)


@dataclass
class QueuePage:
    filters: QueueFilters
    calls: list[Call]
    rows: list[QueueRow]
    # Applications per status under every filter but the status filter.
    counts: dict = field(default_factory=dict)
    total: int = 0
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        """Position of the first row shown (1-based; 0 when there are none)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)

    @property
    def all_statuses(self) -> int:
        return sum(self.counts.values())

    @property
    def call(self) -> Call | None:
        return next((c for c in self.calls if c.id == self.filters.call_id), None)


# ------------------------------------------------------------------ services


def queue(actor: User, filters: QueueFilters, per_page: int = PER_PAGE) -> QueuePage:
    """One page of the actor's clusters' applications under ``filters``, with counts per status.

    A call filter naming a call the actor's clusters do not nominate for answers 404.
    Three queries: the calls, the counts per status, the page.
    """
    calls = cluster_calls(actor)
    _check_call(filters, calls)
    result = QueuePage(filters=filters, calls=calls, rows=[], per_page=per_page)
    if not calls:
        return result
    scope, shape, values = Scope.of(actor), _Shape.of(filters), _values(actor.id, filters)
    counted = db.session.execute(_counts_statement(scope, shape), values)
    result.counts = {status: n for status, n in counted}
    result.total = result.counts.get(filters.status, 0) if filters.status else result.all_statuses
    # A page past the end (rows went away since the link was made) shows the last page.
    result.page = min(filters.page, result.pages)
    values.update(limit=per_page, offset=(result.page - 1) * per_page)
    result.rows = [_row(r) for r in db.session.execute(_rows_statement(scope, shape, paged=True), values)]
    return result


def export_rows(actor: User, filters: QueueFilters, batch: int = 500) -> Iterator[QueueRow]:
    """Every row of the queue under ``filters`` (all pages), in the queue's order, read in batches.

    The permission check runs now; the rows are read as the caller iterates, so an
    export streams instead of holding the whole list.
    """
    calls = cluster_calls(actor)
    _check_call(filters, calls)
    stmt, values = _rows_statement(Scope.of(actor), _Shape.of(filters), paged=False), _values(actor.id, filters)

    def rows() -> Iterator[QueueRow]:
        if not calls:
            return
        for r in db.session.execute(stmt.execution_options(yield_per=batch), values):
            yield _row(r)

    return rows()


def application_ids(actor: User, filters: QueueFilters, limit: int) -> list[int]:
    """The ids of the queue's applications under ``filters`` (all pages), in the queue's order, at most
    ``limit`` of them: the same scope, filters and order as the page, without its columns. Two queries."""
    calls = cluster_calls(actor)
    _check_call(filters, calls)
    if not calls:
        return []
    shape = _Shape.of(filters)
    chosen, key = _filtered(select(Application.id), Scope.of(actor), shape, sort=shape.sort)
    return list(db.session.scalars(chosen.order_by(*_in_order(key, shape.direction, Application.id)).limit(limit),
                                   _values(actor.id, filters)))


# ------------------------------------------------------------------ exports


def export_columns() -> list[str]:
    return [
        _("Application id"), _("Startup"), _("Organisation number"), _("Country"), _("Call"), _("Status"),
        _("Track"), _("TRL"), _("Desired start"), _("Months"), _("Desks"), _("Benches"), _("Mean score"),
        _("Reviews"), _("Submitted at (UTC)"),
    ]


def _text(value) -> str:
    return "" if value is None else str(value)


def export_values(row: QueueRow) -> list:
    """One row of an export as typed values.

    The CSV writer of every export (``csvtools.csv_stream``) formats them and defuses
    text a spreadsheet would run as a formula; a workbook types its text cells as
    strings instead, so they keep their exact text."""
    return [
        row.application_id,
        _text(row.startup_name),
        _text(row.org_number),
        _text(country_name(row.country)),
        _text(row.call_title),
        _text(row.status_label),
        _text(track_label(row.track)),
        row.trl,
        row.desired_start,
        row.months,
        row.desks,
        row.benches,
        row.mean_score,
        row.reviews,
        row.submitted_at,
    ]


@dataclass
class ExportTable:
    """An export's header and its rows as typed values: the queue's own columns, then one column per
    question of the calls' forms (the typed answers are among the queue's own), in the form's order."""

    columns: list[str]
    rows: Iterator[list]


def export_table(actor: User, filters: QueueFilters, batch: int = 500) -> ExportTable:
    """The filtered queue with every answer: a fixed number of queries per ``batch`` rows, whatever
    the number of questions (the forms in two, the answers and the files of a batch in one each)."""
    calls = [c for c in cluster_calls(actor) if filters.call_id in (None, c.id)]
    rows = export_rows(actor, filters, batch)
    by_call = forms.forms_of([c.id for c in calls])
    asked: list[str] = []
    labels: dict[str, str] = {}
    for call in calls:  # the first call's order, then what later calls add
        for q in by_call[call.id].questions:
            if q.binding is None and q.key not in labels:
                asked.append(q.key)
                labels[q.key] = answer_kinds.text_in(q.label)
    if "attachments" not in labels and any(by_call[c.id].question("attachments") for c in calls):
        asked.append("attachments")
        labels["attachments"] = answer_kinds.text_in(by_call[calls[0].id].question("attachments").label)

    def values() -> Iterator[list]:
        chunk: list[QueueRow] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                yield from _with_answers(chunk, by_call, asked)
                chunk = []
        if chunk:
            yield from _with_answers(chunk, by_call, asked)

    return ExportTable(export_columns() + [labels[k] for k in asked], values())


def _with_answers(chunk: list[QueueRow], by_call: dict, asked: list[str]) -> Iterator[list]:
    ids = [r.application_id for r in chunk]
    stored = forms.answer_rows(ids)
    files: dict[tuple[int, int], list[str]] = {}
    for application_id, question_id, filename in db.session.execute(
            select(Attachment.application_id, Attachment.question_id, Attachment.filename)
            .where(Attachment.application_id.in_(ids)).order_by(Attachment.id)):
        files.setdefault((application_id, question_id), []).append(filename)
    for row in chunk:
        form = by_call.get(row.call_id)
        extra = []
        for key in asked:
            q = form.question(key) if form is not None else None
            if q is None:
                extra.append("")
            elif q.kind == "file":
                extra.append("; ".join(files.get((row.application_id, q.id), [])))
            else:
                extra.append(_typed_answer(q, stored[row.application_id].get(q.id)))
        yield export_values(row) + extra


def _typed_answer(question, value):
    """An answer as an export cell: numbers, amounts and days typed; choices by their labels."""
    if not answer_kinds.answered(value):
        return ""
    try:
        if question.kind in ("number", "trl"):
            return int(value)
        if question.kind == "money":
            return Decimal(str(value))
        if question.kind == "date":
            return date.fromisoformat(str(value))
    except (TypeError, ValueError, ArithmeticError):
        return str(value)
    if question.kind == "multiple_choice":
        names = dict(answer_kinds.choices_of(question))
        return "; ".join(names.get(str(v), str(v)) for v in value)
    if question.kind in ("single_choice", "yes_no", "country"):
        return answer_kinds.answer_text(question, value)
    return str(value)


def csv_lines(table: ExportTable) -> Iterator[str]:
    """The export as CSV text in chunks, through the one CSV writer every export uses
    (byte order mark, header, ISO dates, UTC times, formula defusing)."""
    return csv_stream(table.columns, table.rows)


def xlsx_bytes(table: ExportTable) -> bytes:
    """The export as an Excel workbook (write-only mode keeps memory flat while rows are added)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("Applications")[:31])
    header = []
    for title in table.columns:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for values in table.rows:
        cells = []
        for value in values:
            if isinstance(value, datetime):
                value = iso_utc(value)  # as in the CSV: ISO 8601 in UTC, as text
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, Decimal):
                cell.number_format = "0.00"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it starts with
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ statements


def _check_call(filters: QueueFilters, calls: list[Call]) -> None:
    if filters.call_id is not None and filters.call_id not in {c.id for c in calls}:
        raise NotFound(_l("There is nothing here, or it is not yours to see."))


@dataclass(frozen=True)
class _Shape:
    """Which filters a statement of the queue applies and in which order it reads: the statements are
    built once per shape and scope (``_counts_statement``, ``_rows_statement``) with the filters' values
    as parameters (``_values``); building them anew cost the queue about 2 ms a page."""

    call: bool
    status: bool
    track: bool
    trl: bool
    min_score: bool
    max_score: bool
    assigned_to_me: bool
    not_scored_by_me: bool
    search: bool
    sort: str
    direction: str

    @classmethod
    def of(cls, filters: QueueFilters) -> "_Shape":
        return cls(call=filters.call_id is not None, status=bool(filters.status), track=bool(filters.track),
                   trl=filters.trl is not None, min_score=filters.min_score is not None,
                   max_score=filters.max_score is not None, assigned_to_me=filters.assigned_to_me,
                   not_scored_by_me=filters.not_scored_by_me, search=bool(filters.search), sort=filters.sort,
                   direction=filters.direction)


def _values(actor_id: int, filters: QueueFilters) -> dict:
    """The parameters of the queue's statements: the reader and the filters' values."""
    # The search is a substring, whatever LIKE's wildcards it holds (escaped with "/").
    search = filters.search.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return {"actor_id": actor_id, "call_id": filters.call_id, "status": filters.status, "track": filters.track,
            "trl": filters.trl, "min_score": filters.min_score, "max_score": filters.max_score, "search": search}


def _reach(scope: Scope, shape: _Shape) -> list:
    """What every statement of the queue starts from: the applications the clusters see, to their calls
    or to the one call asked for (an index on the call leads to them)."""
    clauses = [application_scope.cluster_clause(scope)]
    if shape.call:
        clauses.append(Application.call_id == bindparam("call_id", type_=Integer))
    return clauses


def _reviews_of_row():
    """The mean (2 decimals) and the number of an application's submitted reviews, correlated: each
    is one probe of the submitted reviews' index for the rows that read it (the page's rows; for a
    score filter or sort, only the rows whose mean the reader may see), never an aggregate of every
    review of the programme."""
    submitted = (Review.application_id == Application.id, Review.submitted_at.is_not(None))
    mean = func.round(func.avg(Review.weighted_score), literal_column("2"))
    return (type_coerce(select(mean).where(*submitted).correlate(Application).scalar_subquery(), Numeric(6, 2)),
            select(func.count()).where(*submitted).correlate(Application).scalar_subquery())


@dataclass(frozen=True)
class _Mine:
    """The reader's own assignment and review of an application, as outer joins: each table holds at
    most one row per application and reviewer (their unique keys), so the joins never repeat an
    application and each is one probe of that key; or, for "assigned to me", the reader's own rows."""

    assignment: object
    review: object
    actor_id: object

    @classmethod
    def of(cls) -> "_Mine":
        """The reader's rows: the reader is the parameter ``actor_id``."""
        return cls(aliased(ReviewAssignment, name="my_assignment"), aliased(Review, name="my_review"),
                   bindparam("actor_id", type_=Integer))

    def joined(self, stmt):
        a, r = self.assignment, self.review
        return (stmt.outerjoin(a, and_(a.application_id == Application.id, a.reviewer_id == self.actor_id))
                .outerjoin(r, and_(r.application_id == Application.id, r.reviewer_id == self.actor_id)))

    @property
    def assigned(self):
        return and_(self.assignment.id.is_not(None), self.assignment.conflict_declared_at.is_(None))

    @property
    def conflict(self):
        return self.assignment.conflict_declared_at.is_not(None)

    @property
    def scored(self):
        return self.review.submitted_at.is_not(None)

    def visible(self, mean):
        """The mean as this reader may see it: only once they have submitted their own review
        (never while recused), or once the application is decided — the same rule as the
        application page, applied to the column, the score filter and the sort alike."""
        return case((and_(not_(self.conflict), or_(self.scored, Application.status.in_(DECIDED_STATES))), mean), else_=None)


def _track():
    # What the application states, else the startup's profile (as on the call page).
    return func.coalesce(Application.track, Organisation.track)


def _trl():
    return func.coalesce(Application.trl, Organisation.trl)


def _filtered(stmt, scope: Scope, shape: _Shape, by_status: bool = True, sort: str | None = None):
    """``stmt`` over the applications of the clusters' calls, narrowed by every filter of ``shape`` (the
    status filter only when ``by_status``), their values parameters (``_values``), with ``sort``'s key
    as ``sort_key`` when asked for. The startup, the reader's own rows and the scores are read only when
    a filter or the sort needs them, so the count without them is one pass over the call's index alone.
    Returns the statement and the sort key (None without ``sort``)."""
    needs_startup = shape.track or shape.trl or shape.search or sort in ("company", "trl")
    needs_score = shape.min_score or shape.max_score or sort == "score"
    needs_mine = needs_score or shape.assigned_to_me or shape.not_scored_by_me
    mine = _Mine.of()
    stmt = stmt.select_from(Application).where(*_reach(scope, shape))
    if needs_startup:
        stmt = stmt.join(Organisation, Organisation.id == Application.startup_id)
    if needs_mine:
        stmt = mine.joined(stmt)
    # The visible mean: the CASE reads the reviews only of the rows whose mean the reader may see.
    mean = mine.visible(_reviews_of_row()[0]) if needs_score else None
    if by_status and shape.status:
        stmt = stmt.where(Application.status == bindparam("status"))
    if shape.track:
        stmt = stmt.where(_track() == bindparam("track"))
    if shape.trl:
        stmt = stmt.where(_trl() == bindparam("trl", type_=Integer))
    if shape.min_score:
        stmt = stmt.where(mean >= bindparam("min_score", type_=Numeric(6, 2)))
    if shape.max_score:
        stmt = stmt.where(mean <= bindparam("max_score", type_=Numeric(6, 2)))
    if shape.assigned_to_me:
        stmt = stmt.where(mine.assigned)
    if shape.not_scored_by_me:
        stmt = stmt.where(and_(not_(mine.scored), not_(mine.conflict)))
    if shape.search:
        stmt = stmt.where(Organisation.name.icontains(bindparam("search"), escape="/"))
    if sort is None:
        return stmt, None
    # Expressions, not output names: PostgreSQL accepts an output name in ORDER BY only on its own.
    key = {
        "company": lambda: func.lower(Organisation.name),
        "submitted": lambda: Application.submitted_at,
        "updated": lambda: Application.updated_at,
        "score": lambda: mean,
        "status": _status_order,
        "trl": _trl,
    }[sort]()
    return stmt.add_columns(key.label("sort_key")), key


def _in_order(key, direction: str, tie):
    """Sorted by ``key`` with empty values last either way, then by id so that pages never overlap
    (``NULLS LAST`` rather than a test on the value, so that the index of the call's applications in
    submission order gives the default order as it stands, and a page is its next 25 entries)."""
    ordered = key.desc() if direction == "desc" else key.asc()
    return ordered.nulls_last(), tie.asc()


@functools.lru_cache(maxsize=512)
def _counts_statement(scope: Scope, shape: _Shape):
    """The counts per status under every filter but the status."""
    counting, _key = _filtered(select(Application.status, func.count()), scope, shape, by_status=False)
    return counting.group_by(Application.status)


@functools.lru_cache(maxsize=512)
def _rows_statement(scope: Scope, shape: _Shape, paged: bool):
    """The queue's rows under the filters of ``shape`` in the chosen order; ``paged``: ``limit`` of them
    from ``offset`` (parameters too).

    Two steps in one statement: the page's ids are chosen first, reading only what the filters and
    the sort need; then only those rows are joined to their startup, call, own review and scores."""
    chosen, key = _filtered(select(Application.id.label("id")), scope, shape, sort=shape.sort)
    chosen = chosen.order_by(*_in_order(key, shape.direction, Application.id))
    if paged:
        chosen = chosen.limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))
    page = chosen.subquery("page")
    mine = _Mine.of()
    mean, reviews = _reviews_of_row()
    columns = select(
        Application.id.label("application_id"),
        Organisation.id.label("startup_id"),
        Organisation.name.label("startup_name"),
        Organisation.org_number,
        Organisation.country,
        Call.id.label("call_id"),
        Call.title.label("call_title"),
        Call.timezone.label("call_timezone"),
        Application.status,
        _track().label("track"),
        _trl().label("trl"),
        Application.desired_start,
        Application.months,
        Application.desks,
        Application.benches,
        mine.visible(mean).label("mean_score"),
        reviews.label("reviews"),
        Application.submitted_at,
        Application.updated_at,
        mine.assigned.label("assigned_to_me"),
        mine.scored.label("scored_by_me"),
        mine.conflict.label("conflict_declared"),
    )
    stmt = (
        columns.select_from(page)
        .join(Application, Application.id == page.c.id)
        .join(Organisation, Organisation.id == Application.startup_id)
        .join(Call, Call.id == Application.call_id)
    )
    return mine.joined(stmt).order_by(*_in_order(page.c.sort_key, shape.direction, page.c.id))


def _status_order():
    # The order an application moves through, not the alphabet of its codes.
    return case({s: i for i, s in enumerate(VISIBLE_STATES)}, value=Application.status, else_=len(VISIBLE_STATES))


def _row(r) -> QueueRow:
    mean = r.mean_score
    if mean is not None and not isinstance(mean, Decimal):
        mean = Decimal(str(mean))
    return QueueRow(
        application_id=r.application_id, startup_id=r.startup_id, startup_name=r.startup_name, org_number=r.org_number,
        country=r.country, call_id=r.call_id, call_title=r.call_title, call_timezone=r.call_timezone, status=r.status,
        track=r.track, trl=r.trl, desired_start=r.desired_start, months=r.months, desks=r.desks, benches=r.benches,
        mean_score=mean.quantize(Decimal("0.01")) if mean is not None else None, reviews=int(r.reviews or 0),
        submitted_at=r.submitted_at, updated_at=r.updated_at, assigned_to_me=bool(r.assigned_to_me),
        scored_by_me=bool(r.scored_by_me), conflict_declared=bool(r.conflict_declared),
    )
