"""Funding applications during the residency: eligibility by the scheme's rules,
budgets with exact totals, assessment, grant decisions, instalments and reports.

Money is Decimal with two places throughout; amounts are never floats.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from residency.core.i18n import lazy_gettext as _l
from residency.core.i18n import ngettext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from residency.core import limits, orgnumbers, workflow
from residency.core.db import money_sum, utcnow
from residency.core.errors import Conflict, Invalid, NotFound
from residency.core.extensions import db
from residency.core.i18n import country_name, format_day, format_money, format_number
from residency.core.models import StatusChange
from residency.core.outbox import enqueue
from residency.core.uow import each_in_own_unit, service
from residency.core.uow import for_update
from residency.domain.accounts.models import Organisation, User
from residency.domain.accounts.queries import members
from residency.domain.applications.models import Application
from residency.domain.funding import report_files
from residency.domain.funding.models import (
    BUDGET_CATEGORIES,
    BudgetLine,
    Disbursement,
    FundingApplication,
    FundingReport,
    FundingScheme,
)
from residency.domain.placements.models import Placement
from residency.domain.programme.models import Call, Route

CENT = Decimal("0.01")
EDITABLE = ("draft", "changes_requested")
ELIGIBLE_PLACEMENTS = ("accepted", "active")
MAX_DESCRIPTION = limits.LONG_TEXT_MAX


def money(value) -> Decimal:
    """A Decimal with two places from user input ('12 500,50' and '12500.5' both work), within what
    the amount columns hold (``limits.MONEY_MAX``): ``limits.OutOfBounds`` beyond it, never a float."""
    return limits.parse_money(value)


@dataclass
class Totals:
    total_costs: Decimal
    own_financing: Decimal
    amount_requested: Decimal
    requested_share_percent: Decimal | None  # of total costs
    by_category: dict
    by_quarter: dict


def totals(fa: FundingApplication) -> Totals:
    by_category: dict[str, Decimal] = {}
    by_quarter: dict[tuple, Decimal] = {}
    for line in fa.budget_lines:
        by_category[line.category] = by_category.get(line.category, Decimal("0.00")) + line.amount
        by_quarter[(line.year, line.quarter)] = by_quarter.get((line.year, line.quarter), Decimal("0.00")) + line.amount
    total = sum(by_category.values(), Decimal("0.00"))
    share = (fa.amount_requested * 100 / total).quantize(CENT, ROUND_HALF_UP) if total else None
    return Totals(total, fa.own_financing, fa.amount_requested, share, by_category, dict(sorted(by_quarter.items())))


# ------------------------------------------------------------------ eligibility


def eligible_placements(startup_ids) -> dict[int, Placement]:
    """The latest accepted or active placement of each startup (with its route's funders), in two queries."""
    ids = list(set(startup_ids))
    found: dict[int, Placement] = {}
    if not ids:
        return found
    for startup_id, placement in db.session.execute(
            select(Application.startup_id, Placement).join(Placement.application)
            .where(Placement.status.in_(ELIGIBLE_PLACEMENTS), Application.startup_id.in_(ids))
            .options(joinedload(Placement.hub),
                     joinedload(Placement.application).joinedload(Application.call).joinedload(Call.route)
                     .selectinload(Route.funders))
            .order_by(Placement.id.desc())):
        found.setdefault(startup_id, placement)
    return found


def eligible_placement(startup: Organisation) -> Placement | None:
    return eligible_placements([startup.id]).get(startup.id)


def schemes_by_placement(placements: list[Placement]) -> dict[int, list[FundingScheme]]:
    """The active schemes of the funders on each placement's route, by placement, in one query."""
    funders_of = {p.id: {f.id for f in p.application.call.route.funders} for p in placements}
    funder_ids = set().union(*funders_of.values()) if funders_of else set()
    schemes = list(db.session.scalars(select(FundingScheme).where(
        FundingScheme.funder_id.in_(funder_ids), FundingScheme.active.is_(True))
        .options(joinedload(FundingScheme.funder)).order_by(FundingScheme.name))) if funder_ids else []
    return {pid: [s for s in schemes if s.funder_id in ids] for pid, ids in funders_of.items()}


def rule_errors(fa: FundingApplication, now: datetime) -> dict:
    """Every scheme rule the application breaks, each message naming the rule."""
    scheme, startup = fa.scheme, fa.startup
    errors: dict[str, list] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    if scheme.home_countries and startup.country not in scheme.home_countries:
        add("__all__", _l("Rule “home country”: %(scheme)s is for companies registered in %(countries)s; %(startup)s is registered in %(country)s.",
                          scheme=scheme.name, countries=", ".join(country_name(c) for c in scheme.home_countries), startup=startup.name,
                          country=country_name(startup.country)))
    if scheme.max_company_age_years:
        if startup.founded_on is None:
            add("__all__", _l("Rule “company age”: add the founding date to the startup's profile."))
        else:
            limit = scheme.max_company_age_years
            today = now.date()
            try:
                cutoff = today.replace(year=today.year - limit)
            except ValueError:  # 29 February
                cutoff = today.replace(year=today.year - limit, day=28)
            if startup.founded_on < cutoff:
                add("__all__", ngettext("Rule “company age”: %(scheme)s is for companies at most %(num)d year old; %(startup)s was founded on %(founded)s.",
                                        "Rule “company age”: %(scheme)s is for companies at most %(num)d years old; %(startup)s was founded on %(founded)s.",
                                        limit, scheme=scheme.name, startup=startup.name, founded=format_day(startup.founded_on)))
    if fa.placement is None or fa.placement.status not in ELIGIBLE_PLACEMENTS or fa.placement.application.startup_id != startup.id:
        add("__all__", _l("Rule “residency”: you can apply only with an accepted or active residency placement."))
    t = totals(fa)
    if fa.amount_requested > scheme.max_amount:
        add("amount_requested", _l("Rule “maximum amount”: at most %(max)s can be requested; you ask for %(amount)s.",
                                   max=_money(scheme.max_amount, scheme), amount=_money(fa.amount_requested, scheme)))
    if t.total_costs and t.requested_share_percent is not None and t.requested_share_percent > scheme.max_share_percent:
        add("amount_requested", _l("Rule “maximum share of costs”: at most %(max)s %% of the eligible costs can be funded; you ask for %(share)s %%.",
                                   max=format_number(scheme.max_share_percent), share=format_number(t.requested_share_percent)))
    if t.total_costs == 0:
        add("budget", _l("Rule “budget”: enter the project's costs by category and quarter."))
    elif fa.own_financing + fa.amount_requested != t.total_costs:
        add("own_financing", _l("Rule “financing plan”: own financing (%(own)s) and the amount requested (%(asked)s) must add up to the total costs (%(total)s).",
                                own=_money(fa.own_financing, scheme), asked=_money(fa.amount_requested, scheme),
                                total=_money(t.total_costs, scheme)))
    if fa.amount_requested <= 0:
        add("amount_requested", _l("Enter the amount you apply for."))
    for key, label in (("title", _l("Give the project a title.")), ("description", _l("Describe the project."))):
        if not getattr(fa, key).strip():
            add(key, label)
    if fa.period_start is None or fa.period_end is None:
        add("period_start", _l("Enter the project period."))
    return errors


def _money(amount: Decimal, scheme: FundingScheme) -> str:
    """An amount in the scheme's currency, written as every page writes money (core.i18n.format_money)."""
    return format_money(amount, scheme.currency)


def funder_zone(scheme: FundingScheme) -> str:
    """The funder's time zone: grant offers lapse at the end of a day on the funder's clock."""
    return scheme.funder.zone


# ------------------------------------------------------------------ the startup


# What every check and page of one application reads: its scheme (whose funder's officers
# may see it) with the funder, and the startup.
WITH_SCHEME_AND_STARTUP = (joinedload(FundingApplication.scheme).joinedload(FundingScheme.funder),
                           joinedload(FundingApplication.startup))


def funding_for(user: User, funding_id: int) -> FundingApplication:
    """A funding application ``user`` may see; 404 for any other."""
    return workflow.require(db.session.get(FundingApplication, funding_id, options=WITH_SCHEME_AND_STARTUP), user)


def answerable_by(user: User, funding_id: int) -> FundingApplication:
    """A funding application ``user`` answers for (a member of its startup): 404 for one they may
    not see, 403 for one they see only as the funder."""
    return workflow.require(funding_for(user, funding_id), user, workflow.APPLICANT)


@service
def start(*, scheme: FundingScheme, startup: Organisation, actor: User, now: datetime | None = None) -> FundingApplication:
    """Open a draft for a scheme of a funder on the startup's route; rules are checked at submission."""
    now = now or utcnow()
    if startup.kind != "startup" or not actor.is_member_of(startup.id):
        raise NotFound(_l("Not found."))
    placement = eligible_placement(startup)
    if placement is None:
        raise Conflict(_l("Rule “residency”: you can apply only with an accepted or active residency placement."))
    if scheme.funder_id not in {f.id for f in placement.application.call.route.funders} or not scheme.active:
        raise NotFound(_l("Not found."))
    fa = FundingApplication(scheme=scheme, startup=startup, placement=placement, created_by_id=actor.id,
                            period_start=placement.starts_on, period_end=placement.ends_on, created_at=now, updated_at=now)
    db.session.add(fa)
    db.session.flush()
    return fa


@service
def save_draft(*, fa: FundingApplication, actor: User, values: dict, budget: list[dict]) -> Totals:
    """Save the answers and the budget; amounts are parsed exactly. Bad input changes nothing."""
    _write_draft(fa, actor, values, budget)
    return totals(fa)


def _write_draft(fa: FundingApplication, actor: User, values: dict, budget: list[dict]) -> None:
    """Check and apply the answers and the budget (flushes; the caller commits)."""
    workflow.require(fa, actor, workflow.APPLICANT)
    if fa.status not in EDITABLE:
        raise Conflict(_l("This funding application was submitted and can no longer be edited."))
    errors: dict[str, list] = {}
    cleaned = {}
    for key in ("title", "description"):
        cleaned[key] = (values.get(key) or "").strip()
    if len(cleaned["title"]) > limits.NAME_MAX:
        errors["title"] = [_l("Use at most 200 characters.")]
    if len(cleaned["description"]) > MAX_DESCRIPTION:
        errors["description"] = [_l("The description can be at most %(max)d characters; it has %(n)d.", max=MAX_DESCRIPTION,
                                    n=len(cleaned["description"]))]
    for key, multiline in (("title", False), ("description", True)):
        if limits.has_control_characters(cleaned[key], multiline):
            errors[key] = [limits.control_message(multiline)]
    for key in ("period_start", "period_end"):
        raw = values.get(key)
        try:
            if isinstance(raw, str):
                raw = limits.parse_day(raw)
            elif not limits.date_within(raw):
                raise limits.OutOfBounds(limits.date_message())
        except limits.OutOfBounds as bound:
            errors[key] = [bound.message]
            raw = None
        except ValueError:
            errors[key] = [limits.date_format_message()]
            raw = None
        cleaned[key] = raw
    vat = _vat_number(fa.startup, values.get("vat_number"))
    if isinstance(vat, dict):
        errors.update(vat)
    else:
        cleaned["vat_number"] = vat
    if cleaned["period_start"] and cleaned["period_end"] and cleaned["period_end"] < cleaned["period_start"]:
        errors["period_end"] = [_l("The project ends after it starts.")]
    for key in ("own_financing", "amount_requested"):
        try:
            amount = money(values.get(key) or "0")
            if amount < 0:
                raise InvalidOperation
            cleaned[key] = amount
        except limits.OutOfBounds as bound:
            errors[key] = [bound.message]
        except (InvalidOperation, ValueError):
            errors[key] = [_l("Enter an amount like 150000 or 150 000,50.")]
    lines = []
    for n, line in enumerate(budget):
        raw_amount = str(line.get("amount") or "").strip()
        if not raw_amount and not line.get("category"):
            continue
        try:
            amount = money(raw_amount or "0")
            year, quarter = int(line.get("year")), int(line.get("quarter"))
            if line.get("category") not in BUDGET_CATEGORIES or not 1 <= quarter <= 4 or not 2000 <= year <= 2100 or amount < 0:
                raise ValueError
        except (InvalidOperation, ValueError, TypeError):
            errors.setdefault("budget", []).append(_l("Budget line %(n)d: choose a category and a quarter and enter an amount of 0 or more.", n=n + 1))
            continue
        lines.append((line["category"], year, quarter, amount))
    keys = [(c, y, q) for c, y, q, _a in lines]
    if len(keys) != len(set(keys)):
        errors.setdefault("budget", []).append(_l("Each category appears once per quarter; add the amounts together."))
    if errors:
        raise Invalid(_l("Some answers need correcting; nothing was saved."), errors)
    for key, value in cleaned.items():
        setattr(fa, key, value)
    # Keep the line of a category and quarter that stays (the unique key would refuse
    # inserting its replacement before the old row is deleted); drop the rest.
    existing = {(line.category, line.year, line.quarter): line for line in fa.budget_lines}
    kept = []
    for c, y, q, a in lines:
        line = existing.pop((c, y, q), None) or BudgetLine(category=c, year=y, quarter=q)
        line.amount = a
        kept.append(line)
    fa.budget_lines = kept
    db.session.flush()


def _vat_number(startup: Organisation, raw) -> str | None | dict:
    """The startup's VAT number in its canonical form (None when left empty), or the field's refusal:
    checked as its country checks it (core.orgnumbers), and built from the startup's own organisation
    number where the country builds it so (all but Iceland)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if len(raw) > limits.VAT_NUMBER_MAX:
        return {"vat_number": [_l("A VAT number has at most %(max)d characters.", max=limits.VAT_NUMBER_MAX)]}
    try:
        vat = orgnumbers.check_vat(startup.country, raw)
    except orgnumbers.InvalidOrgNumber as refusal:
        return {"vat_number": [refusal.message]}
    inside = orgnumbers.vat_org_number(startup.country, vat)
    if inside is not None and inside != startup.org_number:
        return {"vat_number": [_l("This VAT number belongs to organisation number %(inside)s; %(startup)s has %(own)s.",
                                  inside=inside, startup=startup.name, own=startup.org_number)]}
    return vat


@dataclass
class Submission:
    """What ``save_and_submit`` did. The draft is saved either way; when a scheme rule refuses
    the submission, ``change`` is None and ``field_errors`` names every rule broken (by field)."""

    change: StatusChange | None
    field_errors: dict

    @property
    def submitted(self) -> bool:
        return self.change is not None

    @property
    def message(self):
        """The first refusal, for a summary above the form."""
        return next(iter(self.field_errors.values()))[0] if self.field_errors else None


def _submit_action(fa: FundingApplication) -> str:
    return "resubmit" if fa.status == "changes_requested" else "submit"


@service
def save_and_submit(*, fa: FundingApplication, actor: User, values: dict, budget: list[dict],
                    now: datetime | None = None) -> Submission:
    """Save what the startup typed and submit it. When a scheme rule refuses the submission
    the draft is still saved (and committed), so the refusal never costs the startup its work;
    bad input saves nothing (``Invalid``)."""
    now = now or utcnow()
    _write_draft(fa, actor, values, budget)
    errors = rule_errors(fa, now)
    if errors:
        return Submission(None, errors)
    return Submission(workflow.perform(fa, _submit_action(fa), actor, now=now), {})


@service
def submit(*, fa: FundingApplication, actor: User, now: datetime | None = None) -> StatusChange:
    """Submit (or resubmit after a change request) when every scheme rule holds."""
    now = now or utcnow()
    workflow.require(fa, actor, workflow.APPLICANT)
    errors = rule_errors(fa, now)
    if errors:
        raise Invalid(next(iter(errors.values()))[0], errors)
    return workflow.perform(fa, _submit_action(fa), actor, now=now)


@service
def accept_offer(*, fa: FundingApplication, actor: User, now: datetime | None = None) -> StatusChange:
    now = now or utcnow()
    if fa.status == "granted" and fa.offer_expires_at and fa.offer_expires_at <= now:
        raise Conflict(_l("The grant offer expired; it can no longer be accepted."))
    return workflow.perform(fa, "accept_offer", actor, now=now)


@service
def decline_offer(*, fa: FundingApplication, actor: User, reason: str = "", now: datetime | None = None) -> StatusChange:
    """The startup says no to the grant offer before it lapses: the funder is told at once, with the
    startup's reason if it gives one, and no report falls due under a grant that never started."""
    now = now or utcnow()
    if fa.status == "granted" and fa.offer_expires_at and fa.offer_expires_at <= now:
        raise Conflict(_l("The grant offer expired; it can no longer be answered."))
    change = workflow.perform(fa, "decline_offer", actor, reason=reason, now=now)
    report_files.discard_files_of(select(FundingReport.id).where(FundingReport.funding_application_id == fa.id,
                                                                 FundingReport.status == "due"))
    db.session.execute(delete(FundingReport).where(FundingReport.funding_application_id == fa.id,
                                                   FundingReport.status == "due"),
                       execution_options={"synchronize_session": "fetch"})
    return change


# ------------------------------------------------------------------ the funder officer


@service
def start_assessment(*, fa: FundingApplication, actor: User) -> StatusChange:
    return workflow.perform(fa, "start_assessment", actor)


@service
def save_notes(*, fa: FundingApplication, actor: User, notes: str) -> None:
    """Assessment notes: staff only, never shown to the startup."""
    workflow.require(fa, actor, workflow.FUNDER)
    fa.assessment_notes = (notes or "").strip()
    db.session.flush()


@service
def request_changes(*, fa: FundingApplication, actor: User, message: str) -> StatusChange:
    return workflow.perform(fa, "request_changes", actor, reason=message)


@service
def reject(*, fa: FundingApplication, actor: User, reason: str) -> StatusChange:
    return workflow.perform(fa, "reject", actor, reason=reason)


@service
def grant(*, fa: FundingApplication, actor: User, amount, share_percent, conditions: str, offer_deadline: date,
          report_due: dict[str, date], now: datetime | None = None) -> StatusChange:
    """Grant an amount within the scheme's limits; the startup must accept by the end of
    ``offer_deadline`` (funder's zone); a report of each kind falls due on its date."""
    now = now or utcnow()
    workflow.require(fa, actor, workflow.FUNDER)
    scheme = fa.scheme
    errors: dict[str, list] = {}
    try:
        amount = money(amount)
    except limits.OutOfBounds as bound:
        errors["amount"] = [bound.message]
        amount = None
    except (InvalidOperation, ValueError):
        errors["amount"] = [_l("Enter an amount like 150000 or 150 000,50.")]
        amount = None
    try:
        share = money(share_percent)
    except (InvalidOperation, ValueError):
        errors["share_percent"] = [_l("Enter a percentage like 50.")]
        share = None
    if amount is not None:
        if amount <= 0:
            errors["amount"] = [_l("Grant an amount above zero.")]
        elif amount > scheme.max_amount:
            errors["amount"] = [_l("Rule “maximum amount”: at most %(max)s.", max=_money(scheme.max_amount, scheme))]
    if share is not None and not 0 < share <= scheme.max_share_percent:
        errors["share_percent"] = [_l("Rule “maximum share of costs”: at most %(max)s %%.", max=format_number(scheme.max_share_percent))]
    zone = funder_zone(scheme)
    deadline = None
    if offer_deadline is None:
        errors["offer_deadline"] = [_l("Enter the date by which the startup must accept.")]
    else:
        deadline = datetime.combine(offer_deadline, time(23, 59), ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
        if deadline <= now:
            errors["offer_deadline"] = [_l("The acceptance date must be in the future.")]
    for kind in scheme.report_kinds:
        if not report_due.get(kind):
            errors[f"report_{kind}"] = [_l("Enter the date the report is due.")]
    if errors:
        raise Invalid(_l("Please correct the decision; nothing was saved."), errors)
    fa.granted_amount, fa.granted_share_percent = amount, share
    fa.conditions, fa.offer_expires_at = (conditions or "").strip() or None, deadline
    change = workflow.perform(fa, "grant", actor, now=now)
    for kind in scheme.report_kinds:
        db.session.add(FundingReport(funding_application_id=fa.id, kind=kind, due_on=report_due[kind], created_at=now))
    db.session.flush()
    return change


# ------------------------------------------------------------------ instalments


@dataclass
class Instalment:
    index: int
    label: str
    percent: Decimal
    amount: Decimal
    after: str
    disbursement: Disbursement | None
    available: bool
    blocked_reason: object | None


def plan(fa: FundingApplication) -> list[Instalment]:
    """The scheme's instalments in money; the last takes the rounding so they add up to the grant exactly."""
    if fa.granted_amount is None:
        return []
    steps = fa.scheme.instalments or [{"label": "Payment", "percent": "100", "after": "acceptance"}]
    amounts, running = [], Decimal("0.00")
    for i, step in enumerate(steps):
        if i == len(steps) - 1:
            amounts.append(fa.granted_amount - running)
        else:
            part = (fa.granted_amount * Decimal(str(step["percent"])) / 100).quantize(CENT, ROUND_HALF_UP)
            amounts.append(part)
            running += part
    paid = {d.instalment: d for d in db.session.scalars(select(Disbursement).where(Disbursement.funding_application_id == fa.id))}
    approved = _approved_kinds(fa)
    result = []
    for i, (step, amount) in enumerate(zip(steps, amounts)):
        after = step.get("after", "acceptance")
        blocked = None
        if fa.status != "in_progress":
            blocked = _l("Instalments can be requested once the grant offer is accepted.")
        elif after == "progress_report" and "progress" not in approved:
            blocked = _l("This instalment follows the approval of the progress report.")
        elif after == "final_report" and "final" not in approved:
            blocked = _l("This instalment follows the approval of the final report.")
        elif i > 0 and (i - 1) not in paid:
            blocked = _l("Request the instalments in order.")
        result.append(Instalment(i, step.get("label", ""), Decimal(str(step["percent"])), amount, after, paid.get(i),
                                 blocked is None and i not in paid, blocked))
    return result


@service
def request_instalment(*, fa: FundingApplication, actor: User, index: int, now: datetime | None = None) -> Disbursement:
    now = now or utcnow()
    workflow.require(fa, actor, workflow.APPLICANT)
    _lock(fa)
    steps = plan(fa)
    if not 0 <= index < len(steps):
        raise NotFound(_l("Not found."))
    step = steps[index]
    if step.disbursement is not None:
        raise Conflict(_l("This instalment was already requested."))
    if step.blocked_reason is not None:
        raise Conflict(step.blocked_reason)
    disbursement = Disbursement(funding_application_id=fa.id, instalment=index, amount=step.amount, requested_at=now,
                                requested_by_id=actor.id)
    db.session.add(disbursement)
    db.session.flush()
    return disbursement


def funder_day(fa: FundingApplication, moment: datetime) -> date:
    """The day ``moment`` falls on in the funder's time zone (its books' calendar)."""
    return moment.astimezone(ZoneInfo(funder_zone(fa.scheme))).date()


def _payment_problems(fa: FundingApplication, disbursement: Disbursement, paid_on, amount, reference, now) -> dict:
    """What is wrong with a payment as typed: its day (not before the request, not after today in the
    funder's zone), its amount (the instalment's, to the øre: a check that the right one was paid)
    and its reference in the funder's books."""
    errors = {}
    today, requested_on = funder_day(fa, now), funder_day(fa, disbursement.requested_at)
    if paid_on is None:
        errors["paid_on"] = [_l("Enter the day the instalment was paid.")]
    elif paid_on > today:
        errors["paid_on"] = [_l("The payment day cannot be in the future.")]
    elif paid_on < requested_on:
        errors["paid_on"] = [_l("The payment day cannot be before the startup requested the instalment (%(day)s).",
                                day=format_day(requested_on))]
    try:
        typed = money(amount)
    except limits.OutOfBounds as bound:
        errors["amount"] = [bound.message]
    except (InvalidOperation, ValueError, TypeError):
        errors["amount"] = [_l("Enter an amount like 150000 or 150 000,50.")]
    else:
        if typed != disbursement.amount:
            errors["amount"] = [_l("The instalment is %(amount)s; record the payment of exactly that amount.",
                                   amount=format_money(disbursement.amount, fa.scheme.currency))]
    reference = (reference or "").strip()
    if not reference:
        errors["reference"] = [_l("Enter the payment's reference in your books.")]
    elif len(reference) > limits.PAYMENT_REFERENCE_MAX:
        errors["reference"] = [limits.length_message(limits.PAYMENT_REFERENCE_MAX, len(reference))]
    return errors


@service
def record_paid(*, fa: FundingApplication, actor: User, disbursement_id: int, paid_on: date | None, amount,
                reference: str, now: datetime | None = None) -> Disbursement:
    """The officer records an instalment paid: the day, the amount (the instalment's) and the
    payment's reference in the funder's books; the sum paid never exceeds the grant."""
    now = now or utcnow()
    workflow.require(fa, actor, workflow.FUNDER)
    _lock(fa)
    disbursement = db.session.get(Disbursement, disbursement_id)
    if disbursement is None or disbursement.funding_application_id != fa.id:
        raise NotFound(_l("Not found."))
    if disbursement.paid_at is not None:
        raise Conflict(_l("This instalment is already recorded as paid."))
    errors = _payment_problems(fa, disbursement, paid_on, amount, reference, now)
    if errors:
        raise Invalid(_l("Please correct the payment; nothing was recorded."), errors)
    paid = db.session.scalar(select(money_sum(Disbursement.amount)).where(
        Disbursement.funding_application_id == fa.id, Disbursement.paid_at.is_not(None)))
    if paid + disbursement.amount > fa.granted_amount:
        raise Conflict(_l("Paying this would exceed the grant of %(grant)s.", grant=_money(fa.granted_amount, fa.scheme)))
    step = plan(fa)[disbursement.instalment]
    approved = _approved_kinds(fa)
    if step.after == "final_report" and "final" not in approved:
        raise Conflict(_l("The final instalment is paid only after the final report is approved."))
    if step.after == "progress_report" and "progress" not in approved:
        raise Conflict(_l("This instalment is paid only after the progress report is approved."))
    disbursement.paid_at, disbursement.paid_by_id = now, actor.id
    disbursement.paid_on, disbursement.payment_reference = paid_on, reference.strip()
    context = workflow.get("funding").context(fa) | {"amount": str(disbursement.amount), "label": step.label}
    for user in members(fa.startup_id):
        enqueue(recipient=user, template="funding_instalment_paid", context=context,
                dedup_key=f"instalment-paid:{disbursement.id}:user-{user.id}")
    db.session.flush()
    return disbursement


def _approved_kinds(fa: FundingApplication) -> set[str]:
    return set(db.session.scalars(select(FundingReport.kind).where(
        FundingReport.funding_application_id == fa.id, FundingReport.status == "approved")))


def paid_total(fa: FundingApplication) -> Decimal:
    return db.session.scalar(select(money_sum(Disbursement.amount)).where(
        Disbursement.funding_application_id == fa.id, Disbursement.paid_at.is_not(None)))


def _lock(fa: FundingApplication) -> None:
    db.session.execute(for_update(select(FundingApplication.id).where(FundingApplication.id == fa.id)))


# ------------------------------------------------------------------ reports


def report_for(user: User, report_id: int) -> FundingReport:
    """A funding report ``user`` may see; 404 for any other."""
    return workflow.require(db.session.get(FundingReport, report_id), user)


@service
def submit_report(*, report: FundingReport, actor: User, text: str) -> StatusChange:
    workflow.require(report, actor, workflow.APPLICANT)
    if not (text or "").strip():
        raise Invalid(_l("Write the report before submitting it."), {"text": [_l("The report is empty.")]})
    report.text, report.submitted_by_id = text.strip(), actor.id
    return workflow.perform(report, "submit", actor)


@service
def approve_report(*, report: FundingReport, actor: User) -> StatusChange:
    return workflow.perform(report, "approve", actor)


@service
def return_report(*, report: FundingReport, actor: User, comments: str) -> StatusChange:
    return workflow.perform(report, "return", actor, reason=comments)


@service
def close(*, fa: FundingApplication, actor: User) -> StatusChange:
    """Close a grant when every instalment is paid and every report approved."""
    workflow.require(fa, actor, workflow.FUNDER)
    if paid_total(fa) != fa.granted_amount:
        raise Conflict(_l("Close the grant after every instalment is paid."))
    open_reports = db.session.scalar(select(func.count()).select_from(FundingReport).where(
        FundingReport.funding_application_id == fa.id, FundingReport.status != "approved"))
    if open_reports:
        raise Conflict(_l("Close the grant after every report is approved."))
    return workflow.perform(fa, "close", actor)


@service
def cancel(*, fa: FundingApplication, actor: User, reason: str, now: datetime | None = None) -> StatusChange:
    """Cancel a grant in progress (funder officers only; a reason is required and kept in the
    audit trail). What was paid stays recorded; no further instalment can be requested."""
    return workflow.perform(fa, "cancel", actor, reason=reason, now=now)


# ------------------------------------------------------------------ the scheduler's work


def lapse_expired_grant_offers(now: datetime | None = None) -> int:
    """Lapse every grant offer past its deadline, each in a unit of its own: an offer someone
    accepted a moment ago (a conflict) is left alone and the others still lapse."""
    now = now or utcnow()
    expired = list(db.session.scalars(select(FundingApplication).where(
        FundingApplication.status == "granted", FundingApplication.offer_expires_at <= now)
        .options(joinedload(FundingApplication.startup), joinedload(FundingApplication.scheme).joinedload(FundingScheme.funder))))
    each_in_own_unit(expired, lambda fa: workflow.perform(fa, "lapse", None, now=now))
    return len(expired)
