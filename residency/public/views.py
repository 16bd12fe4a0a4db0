"""Pages for everyone: the programme, its calls, language choice."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..auth.services import set_language as remember_language
from ..models import utcnow
from . import services

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    calls = services.public_calls()
    now = utcnow()
    open_calls = [c for c in calls if c.is_open(now)]
    return render_template("public/index.html", open_calls=open_calls, now=now)


@bp.get("/calls")
def calls():
    """Every published call with its deadlines in the call's own zone; closed ones stay visible."""
    now = utcnow()
    all_calls = services.public_calls()
    return render_template(
        "public/calls.html",
        open_calls=[c for c in all_calls if c.is_open(now)],
        upcoming=[c for c in all_calls if c.status == "published" and c.opens_at > now],
        closed=[c for c in all_calls if c.status == "closed" or (c.status == "published" and c.closes_at <= now)],
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
    target = request.form.get("next") or "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = url_for("public.index")
    return redirect(target)
