"""Funding schemes, set up by programme administrators: the funder, currency and
limits, the instalment plan, eligibility and the report schedule.

Plain values in; ``Invalid`` with field errors keyed by form field out, before
anything changes; one unit of work per service. ``services.py`` applies the schemes' rules.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from residency.core.i18n import lazy_gettext as _l
from residency.core.i18n import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from residency.core import limits, pagination
from residency.core.errors import Invalid, NotFound
from residency.core.extensions import db
from residency.core.uow import service
from residency.domain.funding.services import money
from residency.domain.funding.labels import MILESTONE_CHOICES
from residency.domain.accounts.models import COUNTRIES, Organisation, User
from residency.domain.funding.models import CURRENCIES, REPORT_KINDS, FundingApplication, FundingScheme
from residency.domain.funding.models import GRANTED_STATES
from residency.domain.programme.services import _require_admin

# What must be approved before an instalment is paid, in the order a grant runs.
MILESTONES = ("acceptance", "progress_report", "final_report")
assert tuple(MILESTONE_CHOICES) == MILESTONES
# An instalment after a report needs the scheme to ask for that report.
MILESTONE_REPORT = {"progress_report": "progress", "final_report": "final"}
MAX_AMOUNT = limits.MONEY_MAX  # Numeric(14, 2)
HUNDRED = Decimal("100")
CENT = Decimal("0.01")


def list_schemes(page: int = 1, per_page: int = 50) -> pagination.Page:
    """One page of schemes with their funder (joined), by funder and name: a count and a select."""
    return pagination.by_offset(
        select(FundingScheme).join(FundingScheme.funder).options(contains_eager(FundingScheme.funder))
        .order_by(Organisation.name, FundingScheme.name, FundingScheme.id),
        select(func.count()).select_from(FundingScheme), page, per_page)


def get_scheme(scheme_id: int) -> FundingScheme:
    scheme = db.session.get(FundingScheme, scheme_id)
    if scheme is None:
        raise NotFound(_l("There is no such funding scheme."))
    return scheme


def funders() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).where(Organisation.kind == "funder").order_by(Organisation.name)))


# ------------------------------------------------------------------ the instalment plan


def _percent_text(value: Decimal) -> str:
    """'30' or '12.5': how the plan stores a percentage (``funding.plan`` reads it back exactly)."""
    return f"{value.normalize():f}"


def parse_instalments(rows: list[dict] | None, report_kinds: list[str] = ()) -> tuple[list[dict], dict]:
    """Instalments as rows of ``label``, ``percent`` (its share of the grant) and ``after`` (a
    milestone), as typed; a wholly blank row is skipped. Returns (steps, errors): each problem on its
    row's field (``instalments-<row>-label``, ``-percent``, ``-after``; the row counted as given, blank
    rows included), those of the whole plan on ``instalments``. An instalment after a report needs
    ``report_kinds`` to ask for that report."""
    steps, errors = [], {}
    last_milestone = 0
    for number, row in enumerate(list(rows or [])):
        label = (row.get("label") or "").strip()
        percent_text = str(row.get("percent") or "").strip()
        after = (row.get("after") or "").strip()
        if not label and not percent_text and not after:
            continue
        problems: dict[str, list] = {}
        if not label:
            problems["label"] = [_l("Enter the instalment's label.")]
        elif len(label) > 100:
            problems["label"] = [_l("Use at most 100 characters.")]
        percent = None
        try:
            percent = Decimal(percent_text.replace(",", ".").rstrip("%").replace(" ", "").replace("\u00a0", ""))
            if not percent.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems["percent"] = [_l("Enter the share of the grant as a number, like 30 or 12.5.")]
        else:
            if not 0 < percent <= HUNDRED or percent != percent.quantize(CENT):
                problems["percent"] = [_l("The share must be more than 0 and at most 100, with at most two decimals.")]
        if after not in MILESTONES:
            problems["after"] = [_l("Choose when the instalment is paid.")]
        elif MILESTONES.index(after) < last_milestone:
            problems["after"] = [_l("List the instalments in the order they are paid: those after the grant offer is "
                                    "accepted first, then those after the progress report, then those after the final report.")]
        elif MILESTONE_REPORT.get(after) and MILESTONE_REPORT[after] not in report_kinds:
            problems["after"] = [_l("“%(label)s” follows the %(report)s report, which the report schedule does not ask for.",
                                    label=label, report=_report_word(MILESTONE_REPORT[after]))]
        if after in MILESTONES and "after" not in problems:
            last_milestone = MILESTONES.index(after)
        if problems:
            errors.update({f"instalments-{number}-{field}": messages for field, messages in problems.items()})
            continue
        steps.append({"label": label, "percent": _percent_text(percent), "after": after})
    if not errors:
        if not steps:
            errors["instalments"] = [_l("Add at least one instalment.")]
        elif len(steps) > limits.INSTALMENTS_MAX:
            errors["instalments"] = [ngettext("Use at most %(num)d instalment.", "Use at most %(num)d instalments.",
                                              limits.INSTALMENTS_MAX)]
        else:
            total = sum((Decimal(s["percent"]) for s in steps), Decimal("0"))
            if total != HUNDRED:
                errors["instalments"] = [_l("The percentages add up to %(total)s; they must add up to 100.",
                                            total=_percent_text(total))]
    return steps, errors


def instalment_rows(steps: list[dict]) -> list[dict]:
    """A saved plan as rows for the edit form."""
    return [{"label": s.get("label", ""), "percent": _percent_text(Decimal(str(s["percent"]))),
             "after": s.get("after", "acceptance")} for s in steps or []]


def default_plan(advance: str, interim: str, final: str) -> list[dict]:
    """The usual plan, offered when a scheme is created (30 % on acceptance, 50 % after the progress
    report, 20 % after the final report), with its labels in the administrator's language."""
    return [{"label": advance, "percent": "30", "after": "acceptance"},
            {"label": interim, "percent": "50", "after": "progress_report"},
            {"label": final, "percent": "20", "after": "final_report"}]


def form_values(scheme: FundingScheme) -> dict:
    """A saved scheme as the administrator typed it, for the edit form."""
    return dict(funder_id=scheme.funder_id, name=scheme.name, currency=scheme.currency, max_amount=str(scheme.max_amount),
                max_share_percent=_percent_text(scheme.max_share_percent), instalments=instalment_rows(scheme.instalments),
                home_countries=list(scheme.home_countries or []), max_company_age_years=scheme.max_company_age_years,
                report_kinds=list(scheme.report_kinds or []), active=scheme.active)


# ------------------------------------------------------------------ saving


def _values(*, scheme: FundingScheme | None, funder_id, name, currency, max_amount, max_share_percent, instalments,
            home_countries, max_company_age_years, report_kinds, active) -> dict:
    errors: dict[str, list] = {}
    name = (name or "").strip()
    funder = db.session.get(Organisation, funder_id) if funder_id else None
    if funder is None or funder.kind != "funder":
        errors["funder_id"] = [_l("Choose the funder.")]
    if not name:
        errors["name"] = [_l("Enter the scheme's name.")]
    elif len(name) > 200:
        errors["name"] = [_l("Use at most 200 characters.")]
    elif funder is not None:
        same = select(FundingScheme.id).where(FundingScheme.funder_id == funder.id,
                                              func.lower(FundingScheme.name) == name.lower())
        if scheme is not None:
            same = same.where(FundingScheme.id != scheme.id)
        if db.session.scalar(same):
            errors["name"] = [_l("%(funder)s already has a scheme called “%(name)s”.", funder=funder.name, name=name)]
    if currency not in CURRENCIES:
        errors["currency"] = [_l("Choose NOK, SEK, DKK or EUR.")]
    amount = None
    try:
        amount = money(max_amount)
        if amount <= 0 or amount > MAX_AMOUNT:
            errors["max_amount"] = [_l("Enter an amount above 0, like 500000 or 500 000,00.")]
    except limits.OutOfBounds as bound:
        errors["max_amount"] = [bound.message]
    except (InvalidOperation, ValueError):
        errors["max_amount"] = [_l("Enter an amount like 500000 or 500 000,00.")]
    share = None
    try:
        share = Decimal(str(max_share_percent or "").replace(",", ".").rstrip("%").strip())
        if not share.is_finite() or not 0 < share <= HUNDRED or share != share.quantize(CENT):
            raise InvalidOperation
    except InvalidOperation:
        errors["max_share_percent"] = [_l("Enter a percentage above 0 and at most 100, like 50 or 37.5.")]
    countries = list(dict.fromkeys(home_countries or []))
    if not countries:
        errors["home_countries"] = [_l("Tick the home countries whose companies may apply.")]
    elif any(c not in COUNTRIES for c in countries):
        errors["home_countries"] = [_l("Choose Nordic countries only.")]
    if max_company_age_years is not None and not 1 <= max_company_age_years <= 100:
        errors["max_company_age_years"] = [_l("Enter a number of years from 1 to 100, or leave it empty for no limit.")]
    kinds = [k for k in REPORT_KINDS if k in (report_kinds or [])]
    if len(kinds) != len(set(report_kinds or [])):
        errors["report_kinds"] = [_l("Choose progress or final reports.")]
    steps, problems = parse_instalments(instalments, kinds)
    errors.update(problems)
    if scheme is not None and not errors:
        errors.update(_locked_changes(scheme, funder, currency, steps, kinds))
    if errors:
        raise Invalid(_l("Please correct the marked fields. Nothing was saved."), errors)
    return dict(funder_id=funder.id, name=name, currency=currency, max_amount=amount,
                max_share_percent=share.quantize(CENT), instalments=steps, home_countries=countries,
                max_company_age_years=max_company_age_years, report_kinds=kinds, active=bool(active))


def _report_word(kind: str) -> str:
    return str({"progress": _l("progress"), "final": _l("final")}[kind])


def _locked_changes(scheme: FundingScheme, funder: Organisation, currency: str, steps: list, kinds: list) -> dict:
    """Applications are written in the scheme's currency to its funder, and grants are paid by its
    plan: those stay as they are once someone has applied, or once a grant is made."""
    errors: dict[str, list] = {}
    applied = db.session.scalar(select(func.count()).select_from(FundingApplication).where(
        FundingApplication.scheme_id == scheme.id)) or 0
    if applied:
        if funder.id != scheme.funder_id:
            errors["funder_id"] = [_l("Startups have applied to this scheme; its funder can no longer change.")]
        if currency != scheme.currency:
            errors["currency"] = [_l("Startups have applied in %(currency)s; the currency can no longer change.",
                                     currency=scheme.currency)]
    granted = db.session.scalar(select(func.count()).select_from(FundingApplication).where(
        FundingApplication.scheme_id == scheme.id, FundingApplication.status.in_(GRANTED_STATES))) or 0
    if granted:
        if [(s["label"], Decimal(s["percent"]), s["after"]) for s in steps] != [
                (s.get("label", ""), Decimal(str(s["percent"])), s.get("after", "acceptance")) for s in scheme.instalments or []]:
            errors["instalments"] = [_l("Grants under this scheme are paid by this plan; it can no longer change. "
                                        "Create a new scheme for a new plan.")]
        if kinds != list(scheme.report_kinds or []):
            errors["report_kinds"] = [_l("Grants under this scheme collect these reports; the schedule can no longer change.")]
    return errors


@service
def create_scheme(actor: User, **values) -> FundingScheme:
    """Create a scheme; ``values`` as for ``_values`` (instalments as rows, see ``parse_instalments``)."""
    _require_admin(actor)
    scheme = FundingScheme(**_values(scheme=None, **values))
    db.session.add(scheme)
    db.session.flush()
    return scheme


@service
def update_scheme(actor: User, scheme_id: int, **values) -> FundingScheme:
    _require_admin(actor)
    scheme = get_scheme(scheme_id)
    for key, value in _values(scheme=scheme, **values).items():
        setattr(scheme, key, value)
    db.session.flush()
    return scheme
