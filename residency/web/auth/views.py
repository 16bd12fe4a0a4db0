"""Registration, login, logout, password reset and change, signed-in devices and invitations."""
from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, session, url_for
from residency.core.i18n import gettext as _
from residency.core.i18n import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from residency.core import pagination
from residency.core.db import utcnow
from residency.core.errors import Invalid
from residency.web.access import DASHBOARDS, same_site_path
from residency.domain.accounts import services, sessions
from residency.domain.accounts.sessions import Device
from residency.domain.accounts.labels import DELIVERY_LABELS
from residency.web.formtools import apply_field_errors
from residency.web.notification_links import record_link
from residency.web.auth.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotForm,
    LoginForm,
    RegisterForm,
    ReminderPreferenceForm,
    ResetForm,
    SignOutOthersForm,
)
from residency.web.auth.blueprint import bp


def _device() -> Device:
    return Device(remote_addr=request.remote_addr, user_agent=request.headers.get("User-Agent"))


def _current_key() -> str | None:
    """The key of this device's sign-in, if someone is signed in here."""
    if current_user.is_authenticated and current_user.sign_in is not None:
        return current_user.sign_in.key
    return None


def _keep_signed_in(user) -> None:
    """Hand the sign-in a service opened for ``user`` to Flask-Login: its key goes into the
    session, and a remembered one into a new remember cookie lasting as long as the sign-in."""
    sign_in = user.sign_in
    login_user(user, remember=sign_in.remembered,
               duration=max(sign_in.expires_at - utcnow(), timedelta(0)) if sign_in.remembered else None)
    if not sign_in.remembered:
        # A remember cookie of an earlier sign-in is of no use any more (its sign-in has ended).
        session["_remember"] = "clear"



def landing_for(user) -> str:
    held = user.roles()
    for role, endpoint, _label in DASHBOARDS:
        if role in held:
            return url_for(endpoint)
    return url_for("applicant.start")


@bp.route("/register", methods=["GET", "POST"])
def register():
    """A founder creates an account, then a startup (or asks to join one)."""
    if current_user.is_authenticated:
        return redirect(landing_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register(name=form.name.data, email=form.email.data, password=form.password.data,
                                     language=session.get("language"), device=_device())
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            _keep_signed_in(user)
            flash(_("Welcome, %(name)s. Now tell us about your startup.", name=user.name), "success")
            return redirect(url_for("applicant.start"))
    status = 422 if form.errors else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(landing_for(current_user))
    form = LoginForm()
    refusal, locked = None, False
    if form.validate_on_submit():
        outcome = services.authenticate(email=form.email.data, password=form.password.data,
                                        remote_addr=request.remote_addr, user_agent=request.headers.get("User-Agent"),
                                        remember=bool(form.remember.data))
        refusal, locked = (str(outcome.refusal) if outcome.refusal else None), outcome.locked
        if outcome.user is not None:
            user = outcome.user
            _keep_signed_in(user)
            if user.language:
                session["language"] = user.language
            return redirect(same_site_path(request.args.get("next")) or landing_for(user))
    status = 429 if locked else (401 if refusal else (422 if form.errors else 200))
    return render_template("auth/login.html", form=form, refusal=refusal, locked=locked), status


@bp.post("/logout")
def logout():
    """This sign-in ends on the server, so no copy of its cookies works afterwards."""
    sessions.end(_current_key())
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        services.request_password_reset(email=form.email.data)
        flash(_("If an account exists for %(email)s, a link to reset the password is on its way. It works once, for one hour.",
                email=form.email.data), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    owner = services.find_password_reset(token).user
    form = ResetForm(owner=owner)
    if form.validate_on_submit():
        try:
            user = services.reset_password(token=token, password=form.password.data, session_key=_current_key(),
                                           device=_device())
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            if user.sign_in is not None:
                # This device was signed in to the account: it stays so, under a new key.
                _keep_signed_in(user)
                flash(_("Your password is changed. Every other device is signed out."), "success")
                return redirect(landing_for(user))
            flash(_("Your password is changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 422 if form.errors else 200


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change the password; this device stays signed in and every other one is signed out."""
    user = current_user._get_current_object()
    form = ChangePasswordForm(owner=user)
    if form.validate_on_submit():
        try:
            services.change_password(user=user, current_password=form.current_password.data,
                                     new_password=form.password.data, device=_device())
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            _keep_signed_in(user)
            flash(_("Your password is changed. You stay signed in here; every other device is signed out."), "success")
            return redirect(url_for("auth.devices"))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


@bp.route("/devices", methods=["GET", "POST"])
@login_required
def devices():
    """Where this account is signed in, and a way to sign out everywhere else."""
    form = SignOutOthersForm()
    if form.validate_on_submit():
        ended = sessions.end_others(current_user._get_current_object(), _current_key())
        flash(ngettext("%(num)d other device is signed out.", "%(num)d other devices are signed out.", ended), "success")
        return redirect(url_for("auth.devices"))
    rows = sessions.signed_in_devices(current_user, _current_key())
    zone = next((o.timezone for o in current_user.organisations() if o.timezone), "UTC")
    return render_template("auth/devices.html", form=form, rows=rows, zone=zone)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """Staff accept the administrator's invitation, creating their account if needed."""
    invitation = services.find_invitation(token)
    has_account = services.account_exists(invitation.email)
    if has_account and not (current_user.is_authenticated and current_user.email == invitation.email):
        # The link alone never logs anyone into an existing account.
        if current_user.is_authenticated:
            sessions.end(_current_key())
            logout_user()
        flash(_("Log in as %(email)s to accept the invitation.", email=invitation.email), "info")
        return redirect(url_for("auth.login", next=url_for("auth.invitation", token=token)))
    form = AcceptInvitationForm(email=invitation.email)
    if has_account:
        del form.name, form.password, form.confirm
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token=token, name=None if has_account else form.name.data,
                                              password=None if has_account else form.password.data,
                                              device=_device(), replacing_key=_current_key())
        except Invalid as error:
            apply_field_errors(form, error)
            return render_template("auth/invitation.html", form=form, invitation=invitation, has_account=has_account), 422
        if user.sign_in is not None and not (current_user.is_authenticated and current_user.id == user.id):
            # A new account, signed in here in place of whoever was.
            logout_user()
            _keep_signed_in(user)
        flash(_("You are now a member of %(organisation)s.", organisation=invitation.organisation.name), "success")
        return redirect(landing_for(user))
    return render_template("auth/invitation.html", form=form, invitation=invitation, has_account=has_account), 422 if form.errors else 200


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    """The user's e-mails and reminders, and how optional reminders reach them."""
    form = ReminderPreferenceForm(data={"reminder_delivery": current_user.reminder_delivery})
    if request.method == "POST":
        form = ReminderPreferenceForm()
        if form.validate_on_submit():
            services.set_reminder_delivery(current_user._get_current_object(), form.reminder_delivery.data)
            flash(_("Your reminder choice is saved."), "success")
            return redirect(url_for("auth.notifications"))
    page = services.notifications(current_user, pagination.page_number(request.args))
    return render_template("auth/notifications.html", form=form, page=page, delivery_labels=DELIVERY_LABELS,
                           zone=current_user.zone, record_link=record_link), 422 if form.errors else 200
