"""The signed-in user's profile, language, password, and (for owners) the team and tenant defaults."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.config import SUPPORTED_LOCALES
from portal.i18n import LANGUAGE_NAMES
from portal.models import Role
from portal.services import accounts
from portal.services.access import current_tenant, get_invitation_for_user, get_user_for_user
from portal.services.mail import public_url_for, send_mail
from portal.services.support import support_accesses
from portal.web.helpers import local_url_or, owner_required

bp = Blueprint("account", __name__, url_prefix="/account")


LANGUAGE_CHOICES = [SelectChoice(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES]


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))]
    )


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    role = SelectField(_l("Role"), choices=[SelectChoice(Role.ADMIN.value, _l("Admin")),
                                            SelectChoice(Role.OWNER.value, _l("Owner"))])


class TenantLanguageForm(FlaskForm):
    default_locale = SelectField(_l("Default language"), choices=LANGUAGE_CHOICES)


@bp.post("/language")
@login_required
def update_language() -> ResponseReturnValue:
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    accounts.set_user_locale(current_user, form.locale.data or "en")
    refresh()  # this request may have picked its locale already: the confirmation speaks the new one
    flash(_("Language updated."), "success")
    return redirect(local_url_or(request.form.get("next") or request.referrer, url_for("dashboard.home")))


@bp.route("/", methods=["GET"])
@login_required
def profile() -> ResponseReturnValue:
    return render_template("account/profile.html", password_form=ChangePasswordForm())


@bp.post("/password")
@login_required
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data or "", form.password.data or "")
        except accounts.AccountError as error:
            form.current_password.errors.append(str(error))
        else:
            # The session id embeds the password timestamp: sign in again here, other devices are signed out.
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed. Other devices have been signed out."), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/profile.html", password_form=form), 422


@bp.get("/team")
@owner_required
def team() -> ResponseReturnValue:
    return _render_team(InviteForm())


def _render_team(invite_form: InviteForm, status: int = 200) -> ResponseReturnValue:
    tenant = current_tenant()
    return render_template(
        "account/team.html",
        users=accounts.tenant_users(tenant),
        invitations=accounts.open_invitations(tenant),
        invite_form=invite_form,
        tenant_language_form=TenantLanguageForm(default_locale=tenant.default_locale),
    ), status


@bp.post("/team/invitations")
@owner_required
def invite() -> ResponseReturnValue:
    tenant = current_tenant()
    form = InviteForm()
    if form.validate_on_submit():
        try:
            issued = accounts.invite_user(tenant, current_user, form.email.data or "", Role(form.role.data))
        except accounts.AccountError as error:
            form.email.errors.append(str(error))
        else:
            send_mail(
                issued.invitation.email,
                _l("You are invited to %(tenant)s", tenant=tenant.name),
                "invitation",
                # The invitee has no account yet, so no language of their own: the tenant's is the best guess.
                locale=tenant.default_locale,
                tenant=tenant,
                inviter=current_user,
                role=issued.invitation.role,
                link=public_url_for("auth.accept_invitation", token=issued.token),
            )
            flash(_("Invitation sent to %(email)s.", email=issued.invitation.email), "success")
            return redirect(url_for("account.team"))
    return _render_team(form, 422)


@bp.post("/team/invitations/<int:invitation_id>/revoke")
@owner_required
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    accounts.revoke_invitation(get_invitation_for_user(invitation_id))
    flash(_("Invitation revoked."), "info")
    return redirect(url_for("account.team"))


@bp.post("/team/users/<int:user_id>/remove")
@owner_required
def remove_user(user_id: int) -> ResponseReturnValue:
    user = get_user_for_user(user_id)
    try:
        accounts.remove_user(current_user, user)
    except accounts.AccountError as error:
        flash(str(error), "error")
    else:
        flash(_("%(email)s no longer has access.", email=user.email), "success")
    return redirect(url_for("account.team"))


@bp.get("/support-access")
@owner_required
def support_access() -> ResponseReturnValue:
    return render_template("account/support_access.html", accesses=support_accesses(current_tenant()))


@bp.post("/team/language")
@owner_required
def update_tenant_language() -> ResponseReturnValue:
    form = TenantLanguageForm()
    if not form.validate_on_submit():
        abort(400)
    accounts.set_tenant_locale(current_tenant(), form.default_locale.data or "en")
    flash(_("The account's default language is updated."), "success")
    return redirect(url_for("account.team"))
