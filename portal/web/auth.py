"""Signing in and out, forgotten passwords and accepting invitations."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.extensions import limiter
from portal.models import User
from portal.services import accounts
from portal.services.mail import locale_for_recipient, public_url_for, send_mail
from portal.web.helpers import local_url_or

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))]
    )


class AcceptInvitationForm(NewPasswordForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])


def _email_key(purpose: str) -> Callable[[], str]:
    def key() -> str:
        return f"{purpose}:" + accounts.normalize_email(request.form.get("email", ""))

    return key


def _failed_sign_in(response: object) -> bool:
    # Only failed attempts count towards the throttle; a successful sign-in redirects.
    return getattr(response, "status_code", 0) != 302


def _start_session(user: User, remember: bool = False) -> None:
    # A sign-in starts from an empty session: nothing of the previous visitor's (the tenant a support agent
    # was viewing, unread messages) carries over to the next person on this browser.
    session.clear()
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("5 per 15 minutes", key_func=_email_key("login-account"), methods=["POST"],
               deduct_when=_failed_sign_in)
@limiter.limit("30 per 15 minutes", methods=["POST"], deduct_when=_failed_sign_in)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            _start_session(user, remember=bool(form.remember.data))
            return redirect(local_url_or(request.args.get("next"), url_for("dashboard.home")))
        form.password.errors.append(_("The email or password is not correct."))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    session.clear()
    logout_user()  # after clear(): it leaves the note that tells Flask-Login to delete the remember-me cookie
    refresh()  # the sign-in page that shows this message speaks the browser's language, and so does the message
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@limiter.limit("3 per hour", key_func=_email_key("password-reset"), methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = accounts.find_user_by_email(form.email.data or "")
        if user is not None and user.is_active:
            token = accounts.make_password_reset_token(user)
            send_mail(
                user.email,
                _l("Reset your password"),
                "password_reset",
                locale=locale_for_recipient(user),
                user=user,
                link=public_url_for("auth.reset_password", token=token),
            )
        # The same answer whether or not the address has an account, so it cannot be probed.
        flash(_("If an account uses that address, we have sent it a link to choose a new password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form), 422 if request.method == "POST" else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    if accounts.user_for_password_reset_token(token) is None:
        return render_template("auth/link_expired.html"), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data or "")
        except accounts.AccountError as error:
            form.password.errors.append(str(error))
        else:
            flash(_("Your password has been changed. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), 422 if request.method == "POST" else 200


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> ResponseReturnValue:
    invitation = accounts.open_invitation_for_token(token)
    if invitation is None:
        return render_template("auth/link_expired.html"), 410
    if current_user.is_authenticated:
        logout_user()
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = accounts.accept_invitation(token, form.name.data or "", form.password.data or "")
        except accounts.AccountError as error:
            form.password.errors.append(str(error))
        else:
            _start_session(user)
            flash(_("Welcome to %(tenant)s.", tenant=invitation.tenant.name), "success")
            return redirect(url_for("dashboard.home"))
    return render_template(
        "auth/accept_invitation.html", form=form, invitation=invitation
    ), 422 if request.method == "POST" else 200
