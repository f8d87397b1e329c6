"""The Connections page: connect, disconnect and reset Zoho CRM and Xero."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from portal.models import ConnectionStatus, Side
from portal.services import connections
from portal.services.access import current_tenant
from portal.web.helpers import owner_required, tenant_member_required, tenant_page

bp = Blueprint("connections", __name__, url_prefix="/connections")


class ChooseOrganisationForm(FlaskForm):
    organisation = RadioField(_l("Xero organisation"), validators=[DataRequired()])


class DailyLimitForm(FlaskForm):
    daily_call_limit = SelectField(
        _l("Xero plan"),
        choices=[SelectChoice("5000", _l("Core and above: 5,000 calls a day")),
                 SelectChoice("1000", _l("Starter: 1,000 calls a day"))],
    )


def _side(name: str) -> Side:
    try:
        return Side(name)
    except ValueError:
        abort(404)


@bp.get("/")
@tenant_page
def index() -> ResponseReturnValue:
    tenant = current_tenant()
    zoho = connections.connection_for(tenant, Side.ZOHO)
    xero = connections.connection_for(tenant, Side.XERO)
    if xero.status == ConnectionStatus.CHOOSING.value and current_user.can_manage_tenant:
        return redirect(url_for("connections.choose_organisation"))
    return render_template(
        "connections/index.html", zoho=zoho, xero=xero, providers=connections.providers(),
        limit_form=DailyLimitForm(daily_call_limit=str(xero.daily_call_limit)),
    )


@bp.post("/<side>/connect")
@tenant_member_required
def connect(side: str) -> ResponseReturnValue:
    url = connections.begin_connect(current_tenant(), current_user, _side(side))
    return redirect(url)


@bp.get("/<side>/callback")
@tenant_member_required
def callback(side: str) -> ResponseReturnValue:
    chosen = _side(side)
    args = request.args.to_dict()
    try:
        if chosen is Side.ZOHO:
            connection = connections.complete_zoho(current_tenant(), current_user, args)
        else:
            connection = connections.complete_xero(current_tenant(), current_user, args)
    except connections.ConnectError as error:
        flash(str(error), "error")
        return redirect(url_for("connections.index"))
    if connection.status == ConnectionStatus.CHOOSING.value:
        return redirect(url_for("connections.choose_organisation"))
    flash(_("Connected to %(org)s.", org=connection.remote_org_name), "success")
    return redirect(url_for("connections.index"))


@bp.route("/xero/choose", methods=["GET", "POST"])
@tenant_member_required
def choose_organisation() -> ResponseReturnValue:
    tenant = current_tenant()
    connection = connections.connection_for(tenant, Side.XERO)
    if connection.status != ConnectionStatus.CHOOSING.value:
        return redirect(url_for("connections.index"))
    form = ChooseOrganisationForm()
    form.organisation.choices = [
        SelectChoice(o["tenantId"], o["tenantName"]) for o in connection.pending_organisations or []
    ]
    if form.validate_on_submit():
        try:
            connection = connections.choose_xero_organisation(tenant, current_user, form.organisation.data or "")
        except connections.ConnectError as error:
            flash(str(error), "error")
            return redirect(url_for("connections.index"))
        flash(_("Connected to %(org)s.", org=connection.remote_org_name), "success")
        return redirect(url_for("connections.index"))
    return render_template("connections/choose.html", form=form), 422 if request.method == "POST" else 200


@bp.post("/<side>/disconnect")
@tenant_member_required
def disconnect(side: str) -> ResponseReturnValue:
    chosen = _side(side)
    connections.disconnect(current_tenant(), chosen)
    flash(_("%(side)s is disconnected. Nothing syncs with it until you connect again.",
            side="Zoho CRM" if chosen is Side.ZOHO else "Xero"), "info")
    return redirect(url_for("connections.index"))


@bp.route("/xero/reset", methods=["GET", "POST"])
@owner_required
def reset_xero() -> ResponseReturnValue:
    tenant = current_tenant()
    connection = connections.connection_for(tenant, Side.XERO)
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        connections.reset_xero(tenant)
        flash(_("The Xero connection was reset. Connect the organisation you want to sync with now."), "info")
        return redirect(url_for("connections.index"))
    return render_template("connections/reset.html", connection=connection, form=FlaskForm())


@bp.post("/xero/limit")
@tenant_member_required
def set_daily_limit() -> ResponseReturnValue:
    form = DailyLimitForm()
    if not form.validate_on_submit():
        abort(400)
    connection = connections.set_daily_call_limit(current_tenant(), int(form.daily_call_limit.data or 5000))
    flash(_("The daily call budget for Xero is now %(limit)s calls.",
            limit=format_decimal(connection.daily_call_limit)), "success")
    return redirect(url_for("connections.index"))
