"""The insight dashboard: funnel, decision times, occupancy, funding and impact, scoped to the viewer."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import get_locale
from markupsafe import Markup
from residency.core.i18n import gettext as _
from residency.core.i18n import ngettext
from flask_login import current_user, login_required

from residency.core.i18n import country_name, format_money, format_month, format_number
from residency.domain.insight import services, summaries
from residency.domain.programme.labels import route_label
from residency.web.insight.charts import bar_chart
from residency.web.insight.blueprint import bp



def _month(day) -> str:
    return format_month(day, "abbreviated")


def _charts(board: services.Dashboard) -> dict:
    charts = {}
    if board.funnel is not None:
        charts["funnel"] = bar_chart(
            "chart-funnel", _("Applications by stage reached"),
            _("Bar chart of how many applications reached each stage; the table that follows has the numbers."),
            [(services.STAGE_LABELS[s], board.funnel.totals[s], format_number(board.funnel.totals[s])) for s in services.STAGES])
    if board.decision_times:
        charts["decisions"] = bar_chart(
            "chart-decisions", _("Median days from submission to decision"),
            _("Bar chart of the median number of days to each decision; the table that follows has the numbers."),
            [(d.label, d.median_days or 0, format_number(d.median_days, "#,##0.0") if d.median_days is not None else _("none yet"))
             for d in board.decision_times])
    charts["occupancy"] = []
    for hub in board.occupancy:
        pair = []
        for kind, label in (("desks", _("Office desks")), ("benches", _("Lab benches"))):
            rows = [(_month(m.month), getattr(m, f"{kind}_used"),
                     _("%(used)s of %(capacity)s", used=format_number(getattr(m, f"{kind}_used")),
                       capacity=format_number(getattr(m, f"{kind}_capacity"))))
                    for m in hub.months]
            pair.append(bar_chart(
                f"chart-occupancy-{hub.hub_id}-{kind}", _("%(kind)s at %(hub)s by month", kind=label, hub=hub.name),
                _("Bars show the most held on any day of the month; ticks show the capacity that day. "
                  "The table that follows has the numbers."),
                rows, marks=[getattr(m, f"{kind}_capacity") for m in hub.months]))
        charts["occupancy"].append((hub, pair))
    charts["funding"] = [
        bar_chart(f"chart-funding-{t.currency}", _("Funding in %(currency)s", currency=t.currency),
                  _("Bar chart of amounts requested, granted and paid; the table that follows has the amounts."),
                  [(_("Requested"), t.requested, format_money(t.requested, t.currency)),
                   (_("Granted"), t.granted, format_money(t.granted, t.currency)),
                   (_("Paid"), t.paid, format_money(t.paid, t.currency))])
        for t in board.funding]
    charts["impact"] = bar_chart(
        "chart-impact", _("Employees reported by survey round"),
        _("Bar chart of the employees reported in submitted surveys 12, 24 and 36 months after the residency; "
          "the table that follows has every figure."),
        [(ngettext("%(num)s month", "%(num)s months", r.months_after), r.employees, format_number(r.employees)) for r in board.impact])
    return charts


@bp.get("/")
@login_required
def dashboard():
    """The insight dashboard for what the viewer may see; filters come as GET parameters."""
    board = services.dashboard(current_user, request.args)

    def draw() -> Markup:
        return Markup(render_template(
            "insight/_body.html", board=board, charts=_charts(board), stages=services.STAGES,
            stage_labels=services.STAGE_LABELS, tracks=services.TRACK_LABELS, country_name=country_name,
            route_label=route_label))

    # The figures are those of one summary generation: drawn once per scope, query and language, then kept
    # until the scheduler's next rebuild (the query string is part of the key: the filters echo it).
    query = request.query_string
    if board.generation is not None and len(query) <= QUERY_KEPT_MAX:
        body = services.kept(board.generation, ("page", board.scope, query, str(get_locale())), draw)
    else:
        body = draw()
    return render_template("insight/dashboard.html", board=board, body=body,
                           refresh_minutes=summaries.EVERY_SECONDS // 60)


# A longer query string is drawn for its request only, not kept.
QUERY_KEPT_MAX = 512
