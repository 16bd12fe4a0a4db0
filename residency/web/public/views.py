"""Pages for everyone: the programme, its calls, language choice."""
from __future__ import annotations


from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from residency.core.i18n import gettext as _
from flask_login import current_user, login_required
from residency.web.formtools import BoundedForm

from residency.domain.reminders import calendar
from residency.domain.accounts.services import set_language as remember_language
from residency.core.db import utcnow
from residency.core.pagination import page_number
from residency.domain.programme import queries as services
from residency.web.access import same_site_path
from residency.web.public.blueprint import bp



@bp.get("/")
def index():
    calls = services.public_calls(utcnow())
    now = utcnow()
    open_calls = [c for c in calls if c.is_open(now)]
    return render_template("public/index.html", open_calls=open_calls, now=now)


@bp.get("/calls")
def calls():
    """Open and upcoming calls with their deadlines in the call's own zone; closed ones a page at a time."""
    now = utcnow()
    current = services.public_calls(now)
    return render_template(
        "public/calls.html",
        open_calls=[c for c in current if c.is_open(now)],
        upcoming=[c for c in current if c.opens_at > now],
        closed=services.closed_calls(page_number(request.args), now),
        now=now,
    )


@bp.get("/calls/<int:call_id>")
def call(call_id: int):
    call = services.public_call(call_id)
    if call is None:
        abort(404)
    return render_template("public/call.html", call=call, now=utcnow())


@bp.post("/language")
def set_language():
    language = request.form.get("language")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
        remember_language(current_user if current_user.is_authenticated else None, language)
    return redirect(same_site_path(request.form.get("next")) or url_for("public.index"))


# ------------------------------------------------------------------ calendar feed


class CalendarForm(BoundedForm):
    """The buttons of the calendar page (CSRF only)."""


@bp.route("/calendar", methods=["GET", "POST"])
@login_required
def calendar_page():
    """The user's private calendar address: shown, made (or made anew, revoking the old one)."""
    form = CalendarForm()
    if form.validate_on_submit():
        renewing = current_user.calendar_token is not None
        calendar.new_token(actor=current_user)
        flash(_("Your calendar has a new address; the old one no longer works.") if renewing
              else _("Your calendar address is ready. Subscribe to it in your calendar program."), "success")
        return redirect(url_for("public.calendar_page"))
    token = current_user.calendar_token
    url = url_for("public.calendar_feed", token=token, _external=True) if token else None
    return render_template("public/calendar.html", form=form, feed_url=url)


@bp.post("/calendar/stop")
@login_required
def calendar_stop():
    """Revoke the address without making a new one."""
    CalendarForm().validate_on_submit() or abort(400)
    calendar.stop_feed(actor=current_user)
    flash(_("Your calendar address no longer works."), "info")
    return redirect(url_for("public.calendar_page"))


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    """The private feed: no login, the address is the secret; 404 for an unknown address."""
    user = calendar.user_for_token(token)
    if user is None:
        abort(404)
    body = calendar.feed(user, base_url=request.url_root)
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="residency.ics"',
        "Cache-Control": "private, no-cache",
        "X-Robots-Tag": "noindex, nofollow",
    })
