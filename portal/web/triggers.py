"""The Triggers page: how records start moving (on-save, Send to Xero, the scheduled pull, Xero webhooks), the
URLs and secrets to give Zoho CRM and Xero, and the Send to Xero form with its live outcome."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Regexp

from portal.extensions import limiter
from portal.services import hook_keys, inbound, triggers
from portal.services.access import current_tenant, get_inbound_event_for_user
from portal.sync.settings import MODULE_LABELS, ZOHO_TO_XERO_MODULES
from portal.web.helpers import owner_required, render_page_or_fragment, tenant_member_required, tenant_page

bp = Blueprint("triggers", __name__, url_prefix="/triggers")


class SendRecordForm(FlaskForm):
    module = SelectField(_l("Zoho CRM module"), validators=[DataRequired()])
    record_id = StringField(_l("Zoho record id"), validators=[
        DataRequired(),
        Regexp(r"^\s*\d{1,19}\s*$", message=_l("A Zoho CRM record id is a number of up to 19 digits.")),
    ])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.module.choices = [SelectChoice(m, _(MODULE_LABELS.get(m, m))) for m in ZOHO_TO_XERO_MODULES]


@bp.get("/")
@tenant_page
def index() -> ResponseReturnValue:
    return _page(SendRecordForm())


def _page(form: SendRecordForm, status: int = 200) -> ResponseReturnValue:
    return render_template("triggers/index.html", overview=triggers.overview(current_tenant()), form=form,
                           module_labels=MODULE_LABELS, trigger_labels=triggers.TRIGGER_LABELS,
                           trigger_of=inbound.TRIGGERS, button_url=hook_keys.send_button_url,
                           hook_url=hook_keys.zoho_hook_url, xero_hook_url=hook_keys.xero_hook_url()), status


@bp.post("/send")
@tenant_member_required
@limiter.limit("60 per minute")
def send() -> ResponseReturnValue:
    tenant = current_tenant()
    form = SendRecordForm()
    if form.validate_on_submit():
        try:
            event = triggers.request_send(tenant, form.module.data or "", form.record_id.data or "",
                                          kind="send_portal", user_id=current_user.id)
        except triggers.TriggerError as error:
            form.record_id.errors = [*form.record_id.errors, str(error)]
        else:
            return redirect(url_for("triggers.send_status", event_id=event.id))
    return _page(form, 422)


@bp.get("/send/<int:event_id>")
@tenant_page
def send_status(event_id: int) -> ResponseReturnValue:
    event = get_inbound_event_for_user(event_id)
    if event.kind not in ("send_portal", "send_button"):
        abort(404)
    view = triggers.outcome_view(event)
    return render_page_or_fragment("triggers/send.html", "triggers/_outcome.html", event=event, outcome=view,
                                   trigger="sendFinished" if view.done else None)


@bp.post("/rotate")
@owner_required
def rotate() -> ResponseReturnValue:
    tenant = current_tenant()
    hook_keys.rotate(tenant)
    triggers.on_save_changed(tenant)
    flash(_("New hook URLs and secrets were made. Update the Send to Xero buttons and workflow webhooks in Zoho "
            "CRM with the ones below; the notification channels are updated automatically."), "info")
    return redirect(url_for("triggers.index"))
