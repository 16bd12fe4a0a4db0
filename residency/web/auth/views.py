"""Registration, login, logout, password reset and invitations."""
from __future__ import annotations


from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from residency.core.errors import Conflict, Invalid
from residency.web.access import DASHBOARDS, same_site_path
from residency.domain.accounts import services
from residency.domain.accounts.labels import DELIVERY_LABELS
from residency.web.formtools import apply_field_errors
from residency.web.auth.forms import (
    AcceptInvitationForm,
    ForgotForm,
    LoginForm,
    RegisterForm,
    ReminderPreferenceForm,
    ResetForm,
)
from residency.web.auth.blueprint import bp



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
                                     language=session.get("language"))
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            login_user(user)
            flash(_("Welcome, %(name)s. Now tell us about your startup.", name=user.name), "success")
            return redirect(url_for("applicant.start"))
    status = 422 if form.errors else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(landing_for(current_user))
    form = LoginForm()
    refusal = None
    if form.validate_on_submit():
        try:
            outcome = services.authenticate(email=form.email.data, password=form.password.data,
                                            remote_addr=request.remote_addr)
        except Conflict as error:
            refusal = str(error.message)
        else:
            refusal = str(outcome.refusal) if outcome.refusal else None
        if refusal is None:
            user = outcome.user
            login_user(user, remember=form.remember.data)
            if user.language:
                session["language"] = user.language
            return redirect(same_site_path(request.args.get("next")) or landing_for(user))
    status = 401 if refusal else (422 if form.errors else 200)
    return render_template("auth/login.html", form=form, refusal=refusal), status


@bp.post("/logout")
def logout():
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
    services.find_password_reset(token)
    form = ResetForm()
    if form.validate_on_submit():
        services.reset_password(token=token, password=form.password.data)
        flash(_("Your password is changed. Log in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 422 if form.errors else 200


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """Staff accept the administrator's invitation, creating their account if needed."""
    invitation = services.find_invitation(token)
    has_account = services.account_exists(invitation.email)
    if has_account and not (current_user.is_authenticated and current_user.email == invitation.email):
        # The link alone never logs anyone into an existing account.
        if current_user.is_authenticated:
            logout_user()
        flash(_("Log in as %(email)s to accept the invitation.", email=invitation.email), "info")
        return redirect(url_for("auth.login", next=url_for("auth.invitation", token=token)))
    form = AcceptInvitationForm()
    if has_account:
        del form.name, form.password, form.confirm
    if form.validate_on_submit():
        user = services.accept_invitation(token=token, name=None if has_account else form.name.data,
                                          password=None if has_account else form.password.data)
        if current_user.is_authenticated and current_user.id != user.id:
            logout_user()
        login_user(user)
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
    rows, page, pages, total = services.notifications(current_user, request.args.get("page", 1, type=int))
    # Times in the zone of the reader's own organisation (a startup without one reads UTC).
    zone = next((o.timezone for o in current_user.organisations() if o.timezone), "UTC")
    return render_template("auth/notifications.html", form=form, rows=rows, page=page, pages=pages, total=total,
                           delivery_labels=DELIVERY_LABELS, zone=zone), 422 if form.errors else 200
