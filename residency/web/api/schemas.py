"""What the JSON API answers with: marshmallow schemas, documented in the OpenAPI file.

Computed fields (the status as the caller may know it, its label, the actions
the caller may take) are filled by the views, which know the caller; the
schemas only declare and serialise.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from residency.core import limits


def money(**kw) -> fields.Decimal:
    """An amount as a decimal string ("99999.99"): exact, never a float, and documented as such."""
    return fields.Decimal(as_string=True, metadata={"type": "string", "format": "decimal",
                                                    "pattern": r"^-?\d+(\.\d+)?$"}, **kw)


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class RouteSchema(Schema):
    home_country = fields.String(required=True)
    host_hub_id = fields.Integer(required=True)
    cluster_id = fields.Integer(required=True)


class CallSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.String(required=True)
    timezone = fields.String(required=True)
    opens_at = fields.AwareDateTime(required=True)
    closes_at = fields.AwareDateTime(required=True)
    nomination_deadline = fields.AwareDateTime(required=True)
    decision_deadline = fields.AwareDateTime(required=True)
    seats = fields.Integer(required=True)
    residency_starts_on = fields.Date(required=True)
    residency_ends_on = fields.Date(required=True)
    route = fields.Nested(RouteSchema, required=True)


class _Record(Schema):
    """A record with a workflow status: the views fill ``status`` (as the caller may know it),
    ``status_label`` and ``actions`` (what the caller may do through the API now)."""

    id = fields.Integer(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    actions = fields.List(fields.String(), required=True)


class ApplicationSchema(_Record):
    call_id = fields.Integer(required=True)
    startup_id = fields.Integer(required=True)
    startup_name = fields.String(required=True)
    track = fields.String(allow_none=True, required=True)
    trl = fields.Integer(allow_none=True, required=True)
    desired_start = fields.Date(allow_none=True, required=True)
    months = fields.Integer(allow_none=True, required=True)
    desks = fields.Integer(allow_none=True, required=True)
    benches = fields.Integer(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class ApplicationDetailSchema(ApplicationSchema):
    answers = fields.Dict(
        keys=fields.String(), values=fields.Raw(allow_none=True), required=True,
        metadata={"description": "The answers to the call's own questions, keyed by each question's stable key (the typed "
                                 "answers are the fields above): text; a whole number; an amount as a decimal string; an ISO "
                                 "date; a choice's value, a list of them for several choices; 'yes' or 'no'; a country's ISO "
                                 "code. null for a question not answered."})


class PlacementSchema(_Record):
    application_id = fields.Integer(required=True)
    hub_id = fields.Integer(required=True)
    hub_name = fields.String(required=True)
    starts_on = fields.Date(allow_none=True, required=True)
    ends_on = fields.Date(allow_none=True, required=True)
    desks = fields.Integer(allow_none=True, required=True)
    benches = fields.Integer(allow_none=True, required=True)
    offer_expires_at = fields.AwareDateTime(allow_none=True, required=True)
    checked_in_on = fields.Date(allow_none=True, required=True)
    checked_out_on = fields.Date(allow_none=True, required=True)


class FundingApplicationSchema(_Record):
    scheme_id = fields.Integer(required=True)
    scheme_name = fields.String(required=True)
    currency = fields.String(required=True)
    startup_id = fields.Integer(required=True)
    placement_id = fields.Integer(required=True)
    title = fields.String(required=True)
    period_start = fields.Date(allow_none=True, required=True)
    period_end = fields.Date(allow_none=True, required=True)
    # Money as decimal strings, never floats.
    amount_requested = money(required=True)
    granted_amount = money(allow_none=True, required=True)
    offer_expires_at = fields.AwareDateTime(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)


class ReportSchema(_Record):
    funding_application_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    due_on = fields.Date(required=True)
    text = fields.String(required=True)


def _text(maximum: int, multiline: bool = True, **kw) -> fields.String:
    """A text within ``maximum`` characters and without control characters: the web form's limits."""
    return fields.String(load_default=None, allow_none=True,
                         validate=[validate.Length(max=maximum), _plain_text(multiline)], **kw)


def _plain_text(multiline: bool):
    def check(value):
        if limits.has_control_characters(value, multiline):
            raise ValidationError(str(limits.control_message(multiline)))
    return check


def _within_bounds(day):
    if not limits.date_within(day):
        raise ValidationError(str(limits.date_message()))


def _day(**kw) -> fields.Date:
    """A date from 1900-01-01 to 2200-12-31, like every date field of the web forms."""
    return fields.Date(load_default=None, allow_none=True, validate=_within_bounds, **kw)


class TransitionSchema(Schema):
    """An action and the details it needs (the same the web form asks for); unused details are ignored."""

    action = fields.String(required=True, validate=[validate.Length(min=1, max=32), _plain_text(False)])
    reason = _text(limits.REASON_MAX)
    message = _text(limits.REASON_MAX,
                    metadata={"description": "decline: the message for the startup; request_changes: the request"})
    rationale = _text(limits.REASON_MAX, metadata={"description": "nominate"})
    rank = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=limits.RANK_MAX),
                          metadata={"description": "nominate"})
    respond_by = _day(metadata={"description": "application request_changes"})
    starts_on = _day(metadata={"description": "placement offer"})
    ends_on = _day(metadata={"description": "placement offer, extend"})
    desks = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=limits.PLACEMENT_SPACE_MAX))
    benches = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=limits.PLACEMENT_SPACE_MAX))
    offer_expires_on = _day(metadata={"description": "placement offer"})
    conditions = _text(limits.REASON_MAX)
    amount = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=20), _plain_text(False)],
                           metadata={"description": "grant: exact decimal amount, e.g. 150000.00"})
    share_percent = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=10), _plain_text(False)],
                                  metadata={"description": "grant: share of eligible costs in %"})
    offer_deadline = _day(metadata={"description": "grant"})
    progress_report_due = _day(metadata={"description": "grant"})
    final_report_due = _day(metadata={"description": "grant"})
    text = _text(limits.LONG_TEXT_MAX, metadata={"description": "report submit"})


class TransitionResultSchema(Schema):
    id = fields.Integer(required=True)
    action = fields.String(required=True)
    from_status = fields.String(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    change_id = fields.Integer(required=True)
