"""The sync configuration: the Zoho → Xero and Xero → Zoho tabs.

Each tab is one form; nothing changes until "Update configuration". With HTMX the form is replaced in place by
the answer (confirmation, or the engine's refusal with its one-click fix, status 422); without JavaScript the same
form posts normally and the page comes back.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, FormField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from portal.models import Tenant
from portal.services import metadata
from portal.services import settings as settings_service
from portal.services.access import current_tenant
from portal.sync.settings import (
    ConflictPolicy,
    Direction,
    InvoiceStatus,
    Problem,
    SyncSettings,
    TaxTreatment,
)
from portal.web.helpers import render_page_or_fragment, tenant_page

bp = Blueprint("settings", __name__, url_prefix="/settings")

CUSTOMER_CHOICES = [SelectChoice("Accounts", _l("Accounts")), SelectChoice("Contacts", _l("Contacts"))]


class ModuleSwitchesForm(Form):
    enabled = BooleanField(_l("Sync"))
    create = BooleanField(_l("Create"))
    update = BooleanField(_l("Update"))
    delete = BooleanField(_l("Delete"))


class TabForm(FlaskForm):
    # The configuration revision the page showed: a save over someone else's newer one is refused (409).
    revision = IntegerField(widget=HiddenInput(), validators=[Optional()])


def _choices(labels: dict[Any, Any]) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in labels.items()]


def _with_current(choices: list[SelectChoice], current: str) -> list[SelectChoice]:
    """Keep a stored value that the remote side no longer offers, so that opening the page loses nothing."""
    if current and current not in {choice.value for choice in choices}:
        choices = [*choices, SelectChoice(current, _("%(value)s (not found in the connected organisation)",
                                                     value=current))]
    return choices


def _form_class(tenant: Tenant, direction: Direction, stored: SyncSettings) -> tuple[type[TabForm], dict[str, Any]]:
    """The tab's form, with the choices the connected organisations offer (free entry when not connected)."""
    attrs: dict[str, Any] = {}
    offered: dict[str, Any] = {}
    for module in settings_service.ROWS[direction]:
        attrs[module] = FormField(ModuleSwitchesForm, label=settings_service.module_label(direction, module))
    if direction is Direction.ZOHO_TO_XERO:
        attrs["customer_module"] = SelectField(_l("Xero customers come from"), choices=CUSTOMER_CHOICES)
        attrs["on_save"] = BooleanField(_l("On-save sync"))
        attrs["new_invoice_status"] = SelectField(
            _l("Status of new invoices in Xero"), choices=_choices(settings_service.INVOICE_STATUS_LABELS))
        attrs["tax_treatment"] = SelectField(
            _l("Tax on invoice lines"), choices=_choices(settings_service.TAX_TREATMENT_LABELS))
        attrs["allow_voiding"] = BooleanField(_l("Void invoices that can no longer be deleted"))
        organisation = metadata.xero(tenant, "organisation")
        offered["organisation"] = organisation.value if organisation is not None else None
        accounts = metadata.sales_accounts(tenant)
        offered["accounts"] = accounts is not None
        if accounts is not None:
            choices = [SelectChoice("", _("Choose an account"))] + [
                SelectChoice(str(a["Code"]), f"{a['Code']} · {a.get('Name', '')}") for a in accounts]
            attrs["default_sales_account"] = SelectField(
                _l("Default sales account"), choices=_with_current(choices, stored.default_sales_account))
        else:
            attrs["default_sales_account"] = StringField(
                _l("Default sales account"), validators=[Length(max=10)], filters=[_strip])
        tax_rates = metadata.sales_tax_rates(tenant)
        offered["tax_rates"] = tax_rates is not None
        if tax_rates is not None:
            choices = [SelectChoice("", _("No default tax type"))] + [
                SelectChoice(str(t["TaxType"]), _tax_rate_label(t)) for t in tax_rates]
            attrs["default_tax_type"] = SelectField(
                _l("Default tax type"), choices=_with_current(choices, stored.default_tax_type))
        else:
            attrs["default_tax_type"] = StringField(
                _l("Default tax type"), validators=[Length(max=50)], filters=[_strip])
        stages = metadata.zoho_picklist(tenant, "Deals", "Stage")
        offered["stages"] = bool(stages)
        if stages:
            attrs["won_deal_stage"] = SelectField(
                _l("Deal stage that creates the invoice"),
                choices=_with_current([SelectChoice(s, s) for s in stages], stored.won_deal_stage))
        else:
            attrs["won_deal_stage"] = StringField(
                _l("Deal stage that creates the invoice"), validators=[Length(max=100)], filters=[_strip])
    else:
        attrs["allow_xero_to_zoho"] = BooleanField(_l("Allow sync"))
        attrs["conflict_policy"] = SelectField(
            _l("When both sides changed the same field"), choices=_choices(settings_service.CONFLICT_POLICY_LABELS),
            validators=[InputRequired()])
    return type(f"{direction.value}_form", (TabForm,), attrs), offered


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _tax_rate_label(rate: dict[str, Any]) -> str:
    shown = rate.get("DisplayTaxRate", rate.get("EffectiveRate"))
    return f"{rate.get('Name', rate['TaxType'])} ({shown} %)" if shown is not None else str(rate.get("Name"))


def _tab_values(direction: Direction, settings: SyncSettings) -> dict[str, Any]:
    values: dict[str, Any] = {
        module: {switch: getattr(settings.switches(direction, module), switch)
                 for switch in settings_service.SWITCHES}
        for module in settings_service.ROWS[direction]
    }
    if direction is Direction.ZOHO_TO_XERO:
        values.update(
            customer_module=settings.customer_module, on_save=settings.on_save,
            new_invoice_status=str(settings.new_invoice_status), tax_treatment=str(settings.tax_treatment),
            allow_voiding=settings.allow_voiding, default_sales_account=settings.default_sales_account,
            default_tax_type=settings.default_tax_type, won_deal_stage=settings.won_deal_stage,
        )
    else:
        values.update(allow_xero_to_zoho=settings.allow_xero_to_zoho, conflict_policy=str(settings.conflict_policy))
    return values


def _settings_from(form: TabForm, direction: Direction, stored: SyncSettings) -> SyncSettings:
    modules = {module: getattr(form, module).data for module in settings_service.ROWS[direction]}
    if direction is Direction.ZOHO_TO_XERO:
        return settings_service.with_tab(
            stored, direction, modules,
            customer_module=form.customer_module.data, on_save=form.on_save.data,
            new_invoice_status=InvoiceStatus(form.new_invoice_status.data),
            tax_treatment=TaxTreatment(form.tax_treatment.data), allow_voiding=form.allow_voiding.data,
            default_sales_account=form.default_sales_account.data or "",
            default_tax_type=form.default_tax_type.data or "", won_deal_stage=form.won_deal_stage.data or "",
        )
    return settings_service.with_tab(
        stored, direction, modules, allow_xero_to_zoho=form.allow_xero_to_zoho.data,
        conflict_policy=ConflictPolicy(form.conflict_policy.data),
    )


def _problem_view(problem: Problem) -> dict[str, str | None]:
    return {"message": problem.message.render(_), "key": settings_service.problem_key(problem),
            "fix": problem.fix.label.render(_) if problem.fix else None}


def _field_problems(problems: list[Problem], direction: Direction) -> dict[str, list[str]]:
    """The engine's problems by the form field they are about (``Invoices-enabled``, ``default_sales_account``)."""
    by_field: dict[str, list[str]] = {}
    prefix = direction.value + "."
    for problem in problems:
        for path in problem.fields:
            if "." in path and not path.startswith(prefix):
                continue  # about the other tab: shown in the summary only
            name = path.removeprefix(prefix).replace(".", "-")
            by_field.setdefault(name, []).append(problem.message.render(_))
    return by_field


def _tab(direction: Direction) -> ResponseReturnValue:
    tenant = current_tenant()
    state = settings_service.current(tenant)
    form_class, offered = _form_class(tenant, direction, state.settings)
    if request.method == "GET":
        form = form_class(formdata=None, data={**_tab_values(direction, state.settings), "revision": state.revision})
        return _render(direction, form, state, offered)
    form = form_class()
    if not form.validate():
        return _render(direction, form, state, offered, status=422, dirty=True)
    candidate = _settings_from(form, direction, state.settings)
    fix_key = request.form.get("apply_fix")
    if fix_key:
        candidate = settings_service.with_fix(candidate, fix_key)
    try:
        changes = settings_service.save(tenant, current_user, candidate, form.revision.data or 0)
    except settings_service.SettingsRefused as refused:
        form = form_class(formdata=None, data={**_tab_values(direction, candidate), "revision": state.revision})
        return _render(direction, form, state, offered, status=422, problems=refused.problems, dirty=True)
    except settings_service.SettingsChangedMeanwhile as meanwhile:
        # Keep what this user chose (nothing is lost) on top of the newer revision: the next save goes through.
        form = form_class(formdata=None, data={**_tab_values(direction, candidate),
                                               "revision": meanwhile.current.revision})
        return _render(direction, form, meanwhile.current, offered, status=409, conflict=True, dirty=True)
    if not request.headers.get("HX-Request"):
        flash(_summary(changes), "success")
        return redirect(url_for(request.endpoint or "settings.zoho_to_xero"), code=303)
    state = settings_service.current(tenant)
    form = form_class(formdata=None, data={**_tab_values(direction, state.settings), "revision": state.revision})
    return _render(direction, form, state, offered, changes=changes, saved=True)


def _summary(changes: list[str]) -> str:
    if not changes:
        return str(_("Nothing to update: the configuration was already like this."))
    return str(_("Configuration updated: %(changes)s.", changes="; ".join(changes)))


def _render(direction: Direction, form: TabForm, state: settings_service.SettingsState, offered: dict[str, Any],
            *, status: int = 200, problems: list[Problem] | None = None, changes: list[str] | None = None,
            saved: bool = False, dirty: bool = False, conflict: bool = False) -> ResponseReturnValue:
    problems = problems or []
    return render_page_or_fragment(
        "settings/page.html", "settings/_form.html", status=status,
        trigger="settingsSaved" if saved else None,
        form=form, direction=direction, Direction=Direction, state=state, offered=offered,
        rows=settings_service.ROWS[direction], problems=[_problem_view(p) for p in problems],
        direction_label=settings_service.DIRECTION_LABELS[direction],
        field_problems=_field_problems(problems, direction), changes=changes or [], saved=saved, dirty=dirty,
        conflict=conflict, read_only=not current_user.can_manage_tenant,
        module_label=settings_service.module_label,
        zoho_modules=metadata.zoho_module_names(current_tenant()) if direction is Direction.ZOHO_TO_XERO else None,
    )


@bp.route("/zoho-to-xero", methods=["GET", "POST"])
@tenant_page
def zoho_to_xero() -> ResponseReturnValue:
    return _tab(Direction.ZOHO_TO_XERO)


@bp.route("/xero-to-zoho", methods=["GET", "POST"])
@tenant_page
def xero_to_zoho() -> ResponseReturnValue:
    return _tab(Direction.XERO_TO_ZOHO)
