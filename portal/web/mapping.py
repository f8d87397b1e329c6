"""The field mapping editor, one page per module pair.

Every step posts to its own URL and answers with the editor (an HTMX fragment, or the page after a redirect
without JavaScript); a step the engine refuses answers 422 with the reason in place. Drag and drop only fills in
and submits the same forms the keyboard uses (static/js/app.js).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from portal.services import connections, metadata
from portal.services import mapping as mapping_service
from portal.services.access import current_tenant, get_mapping_version_for_user
from portal.services.settings import module_label
from portal.sync.mapping import TRANSFORMS, TYPE_NAMES, Arrow, PairMapping, Rule, family_of_zoho
from portal.sync.settings import Direction
from portal.web.helpers import is_htmx, render_page_or_fragment, tenant_page

bp = Blueprint("mapping", __name__, url_prefix="/mapping")


def arrow_choices() -> list[SelectChoice]:
    """→ ← ↔ with their names in the reader's language (built per request: the labels are translated)."""
    return [SelectChoice(str(arrow), f"{mapping_service.ARROW_SYMBOLS[arrow]} {label}")
            for arrow, label in mapping_service.ARROW_LABELS.items()]


class AddPairForm(FlaskForm):
    # The engine decides what may be paired and says why not; the selects only offer the known fields.
    zoho = SelectField(_l("Zoho CRM field"), validate_choice=False)
    arrow = SelectField(_l("Direction"), default=str(Arrow.BOTH), validate_choice=False)
    xero = SelectField(_l("Xero field"), validate_choice=False)
    fixed = StringField(_l("Fixed value"), validators=[Length(max=255)])


class ValuePairForm(Form):
    zoho = StringField(_l("Zoho CRM value"), validators=[Length(max=255)])
    xero = StringField(_l("Xero value"), validators=[Length(max=255)])


class RuleOptionsForm(FlaskForm):
    arrow = RadioField(_l("Direction"), validate_choice=False)
    transform = SelectField(_l("Transform"), validate_choice=False)
    extra_zoho = SelectMultipleField(_l("Fields joined after it"), validate_choice=False)
    use_fixed = BooleanField(_l("Write a fixed value instead of the field's value"))
    fixed = StringField(_l("Fixed value"), validators=[Length(max=255)])
    values = FieldList(FormField(ValuePairForm), label=_l("Picklist values"))


for _name, _transform in TRANSFORMS.items():
    if _transform.arg_choices:
        setattr(RuleOptionsForm, f"arg_{_name}", SelectField(
            _l("Option"), choices=[SelectChoice(choice) for choice in _transform.arg_choices], validate_choice=False))


def _pair(pair: str) -> mapping_service.PairInfo:
    info = mapping_service.pair_info(pair)
    if info is None:
        abort(404)
    return info


def _field_choices(types: mapping_service.FieldTypes) -> tuple[list[SelectChoice], list[SelectChoice]]:
    zoho = [SelectChoice("", _("Choose a Zoho CRM field")), SelectChoice(mapping_service.FIXED, _("A fixed value…"))]
    standard, custom = _("Standard fields"), _("Custom fields")
    zoho += [SelectChoice(f.api_name, f"{f.api_name} · {f.label}" if f.label and f.label != f.api_name else f.api_name,
                          optgroup=custom if f.custom else standard) for f in types.zoho_fields.fields]
    xero = [SelectChoice("", _("Choose a Xero field")), SelectChoice(mapping_service.FIXED, _("A fixed value…"))]
    xero += [SelectChoice(name, optgroup=_("Xero fields")) for name in types.xero]
    return zoho, xero


def _editor_context(info: mapping_service.PairInfo, add_form: AddPairForm | None = None) -> dict[str, Any]:
    tenant = current_tenant()
    mapping, draft = mapping_service.working_mapping(tenant, info)
    types = mapping_service.field_types(tenant, info)
    if add_form is None:
        add_form = AddPairForm(formdata=None)
    add_form.zoho.choices, add_form.xero.choices = _field_choices(types)
    add_form.arrow.choices = arrow_choices()
    zoho_mapped = {name.split(".")[0] for rule in mapping.rules for name in rule.zoho}
    xero_mapped = {rule.xero for rule in mapping.rules if rule.xero}
    latest = mapping_service.latest_version(tenant, info.pair)
    customer_module = mapping_service.customer_module(tenant)
    return {
        "info": info,
        "pairs": [(pair, pair.used_with(customer_module)) for pair in mapping_service.PAIRS],
        "used": info.used_with(customer_module),
        "zoho_module": info.zoho_module_for(customer_module),
        "zoho_module_label": module_label(Direction.ZOHO_TO_XERO, info.zoho_module_for(customer_module)),
        "mapping": mapping,
        "draft": draft,
        "behind": mapping_service.draft_is_behind(tenant, info, draft),
        "rules": mapping_service.rule_views(mapping, types),
        "line_rules": mapping.line_rules,
        "zoho_fields": types.zoho_fields,
        "zoho_mapped": zoho_mapped,
        "xero_fields": types.xero,
        "xero_mapped": xero_mapped,
        "latest": latest,
        "latest_author": mapping_service.author(latest.created_by_id) if latest else "",
        "history": mapping_service.history(tenant, info.pair),
        "author": mapping_service.author,
        "add_form": add_form,
        "arrow_symbols": mapping_service.ARROW_SYMBOLS,
        "arrow_labels": mapping_service.ARROW_LABELS,
        "read_only": not current_user.can_manage_tenant,
        "metadata_refreshed": metadata.last_refreshed(tenant),
        "metadata_hours": max(1, round(connections.settings().metadata_cache_ttl_seconds / 3600)),
        "type_name": _type_name,
    }


def _type_name(data_type_or_family: str, zoho: bool = True) -> str:
    family = family_of_zoho(data_type_or_family) if zoho else data_type_or_family
    return str(_(TYPE_NAMES.get(family, family)))


def _answer(info: mapping_service.PairInfo, *, status: int = 200, error: str | None = None,
            error_field: str | None = None, error_place: str = "top", notice: str | None = None,
            notice_level: str = "success", trigger: str | None = None,
            add_form: AddPairForm | None = None) -> ResponseReturnValue:
    """The editor after a step: the fragment for HTMX; without JavaScript a redirect after success (with the
    notice flashed), or the page with the error in place."""
    if status == 200 and not is_htmx():
        if notice:
            flash(notice, notice_level)
        return redirect(url_for("mapping.editor", pair=info.slug), code=303)
    context = _editor_context(info, add_form)
    return render_page_or_fragment("mapping/page.html", "mapping/_editor.html", status=status, trigger=trigger,
                                   error=error, error_field=error_field, error_place=error_place, notice=notice,
                                   notice_level=notice_level, **context)


def _step(info: mapping_service.PairInfo, step: Callable[[], object], notice: str | None = None,
          add_form: AddPairForm | None = None) -> ResponseReturnValue:
    try:
        step()
    except mapping_service.MappingRefused as refused:
        return _answer(info, status=422, error=refused.message, error_field=refused.field,
                       error_place="add" if add_form is not None else "top", add_form=add_form)
    except mapping_service.EditorOutOfDate:
        return _answer(info, status=409, error=_("The mapping changed in another window or by another admin. "
                                                  "Here it is as it is now: try again."))
    return _answer(info, notice=notice)


# --- pages -----------------------------------------------------------------------------------------------------


@bp.get("/")
@tenant_page
def index() -> ResponseReturnValue:
    """The editor of the customer pair of the tenant's choice: where a new tenant starts."""
    customer_module = mapping_service.customer_module(current_tenant())
    first = next(info for info in mapping_service.PAIRS if info.used_with(customer_module))
    return editor(first.slug)


@bp.get("/<pair>")
@tenant_page
def editor(pair: str) -> ResponseReturnValue:
    info = _pair(pair)
    return render_page_or_fragment("mapping/page.html", "mapping/_editor.html", error=None, error_field=None,
                                   error_place="top", notice=None, notice_level="success", **_editor_context(info))


# --- steps -----------------------------------------------------------------------------------------------------


@bp.post("/<pair>/add")
@tenant_page
def add(pair: str) -> ResponseReturnValue:
    info = _pair(pair)
    form = AddPairForm()
    if not form.validate():
        return _answer(info, status=422, error=_("Some of the values were not valid."), error_place="add",
                       add_form=form)
    return _step(info, lambda: mapping_service.add_rule(
        current_tenant(), current_user, info, form.zoho.data or "", form.xero.data or "",
        form.arrow.data or str(Arrow.BOTH), form.fixed.data or ""), notice=_("Pair added."), add_form=form)


def _target() -> str:
    key = request.form.get("target", "")
    if not key:
        abort(400)
    return key


@bp.post("/<pair>/remove")
@tenant_page
def remove(pair: str) -> ResponseReturnValue:
    info = _pair(pair)
    key = _target()
    return _step(info, lambda: mapping_service.remove_rule(current_tenant(), current_user, info, key),
                 notice=_("Pair removed."))


@bp.post("/<pair>/move")
@tenant_page
def move(pair: str) -> ResponseReturnValue:
    info = _pair(pair)
    key = _target()
    offset = {"up": -1, "down": 1}.get(request.values.get("to", ""))
    if offset is None:
        abort(400)
    return _step(info, lambda: mapping_service.move_rule(current_tenant(), current_user, info, key, offset))


@bp.post("/<pair>/arrow")
@tenant_page
def arrow(pair: str) -> ResponseReturnValue:
    info = _pair(pair)
    key = _target()
    return _step(info, lambda: mapping_service.set_arrow(current_tenant(), current_user, info, key,
                                                         request.values.get("arrow", "")))


@bp.post("/<pair>/order")
@tenant_page
def order(pair: str) -> ResponseReturnValue:
    info = _pair(pair)
    keys = request.form.getlist("rule")
    return _step(info, lambda: mapping_service.reorder(current_tenant(), current_user, info, keys))


@bp.post("/<pair>/reset")
@tenant_page
def reset(pair: str) -> ResponseReturnValue:
    info = _pair(pair)
    return _step(info, lambda: mapping_service.reset_to_default(current_tenant(), current_user, info),
                 notice=_("The default mapping is back in the editor. Save it to use it."))


@bp.post("/<pair>/discard")
@tenant_page
def discard(pair: str) -> ResponseReturnValue:
    info = _pair(pair)
    return _step(info, lambda: mapping_service.discard(current_tenant(), info),
                 notice=_("Your changes were discarded."))


@bp.post("/<pair>/save")
@tenant_page
def save(pair: str) -> ResponseReturnValue:
    info = _pair(pair)
    tenant = current_tenant()
    try:
        saved = mapping_service.save(tenant, current_user, info)
    except mapping_service.MappingRefused as refused:
        return _answer(info, status=422, error=refused.message)
    return _answer(info, notice=_("Version %(version)s saved. Syncs that start from now on use it; a sync already "
                                  "running keeps the version it started with.", version=saved.version),
                   trigger="mappingSaved")


@bp.post("/refresh")
@tenant_page
def refresh() -> ResponseReturnValue:
    info = _pair(request.form.get("pair", ""))
    errors = metadata.refresh(current_tenant())
    if errors:
        return _answer(info, notice=_("Some of it could not be read again: %(errors)s", errors="; ".join(errors)),
                       notice_level="warning")
    return _answer(info, notice=_("Fields and settings were read again from Zoho CRM and Xero."))


# --- one pair's options ----------------------------------------------------------------------------------------


def _rule_form(rule: Rule, types: mapping_service.FieldTypes, formdata: Any = None) -> RuleOptionsForm:
    zoho_type = types.zoho_type(rule)
    picklist = list(zoho_type.picklist) if zoho_type else []
    mapped = dict(rule.values or {})
    entries = [{"zoho": value, "xero": mapped.get(value, "")} for value in picklist]
    entries += [{"zoho": key, "xero": value} for key, value in mapped.items() if key not in picklist]
    entries += [{"zoho": "", "xero": ""} for _ in range(2)]
    data: dict[str, Any] = {
        "arrow": str(rule.arrow), "transform": rule.transform or "", "extra_zoho": list(rule.zoho[1:]),
        "use_fixed": rule.is_fixed, "fixed": "" if rule.fixed is None else str(rule.fixed), "values": entries,
    }
    if rule.transform and rule.transform_args:
        data[f"arg_{rule.transform}"] = rule.transform_args[0]
    form = RuleOptionsForm(formdata=formdata, data=data)
    form.arrow.choices = arrow_choices()
    form.transform.choices = [SelectChoice("", _("None"))] + [SelectChoice(name, _(t.label))
                                                              for name, t in TRANSFORMS.items()]
    form.extra_zoho.choices = [SelectChoice(f.api_name) for f in types.zoho_fields.fields
                               if not (rule.zoho and f.api_name == rule.zoho[0])]
    return form


def _rule_or_404(mapping: PairMapping, key: str) -> Rule:
    rule = next((r for r in mapping.rules if r.key == key), None)
    if rule is None:
        abort(404)
    return rule


@bp.route("/<pair>/rule", methods=["GET", "POST"])
@tenant_page
def rule_options(pair: str) -> ResponseReturnValue:
    info = _pair(pair)
    tenant = current_tenant()
    key = request.values.get("rule", "")
    mapping, _draft = mapping_service.working_mapping(tenant, info)
    rule = _rule_or_404(mapping, key)
    types = mapping_service.field_types(tenant, info)
    if request.method == "GET":
        return _render_rule(info, rule, _rule_form(rule, types), types)
    form = _rule_form(rule, types, formdata=request.form)
    error, error_field = None, None
    if form.validate():
        options = mapping_service.RuleOptions(
            arrow=form.arrow.data or "", transform=form.transform.data or "",
            transform_arg=getattr(form, f"arg_{form.transform.data}").data
            if hasattr(form, f"arg_{form.transform.data}") else "",
            extra_zoho=tuple(form.extra_zoho.data or ()), use_fixed=bool(form.use_fixed.data),
            fixed=form.fixed.data or "",
            values={entry.zoho.data: entry.xero.data for entry in form.values if entry.zoho.data},
        )
        try:
            mapping_service.update_options(tenant, current_user, info, key, options)
        except mapping_service.MappingRefused as refused:
            error, error_field = refused.message, refused.field
        except mapping_service.EditorOutOfDate:
            abort(404)
        else:
            response = _answer(info, notice=_("Pair updated."))
            if is_htmx():
                response.headers["HX-Retarget"] = "#mapping-editor"  # type: ignore[union-attr]
                response.headers["HX-Reswap"] = "outerHTML"  # type: ignore[union-attr]
            return response
    else:
        error = _("Some of the values were not valid.")
    return _render_rule(info, rule, form, types, status=422, error=error, error_field=error_field)


def _render_rule(info: mapping_service.PairInfo, rule: Rule, form: RuleOptionsForm,
                 types: mapping_service.FieldTypes, status: int = 200, error: str | None = None,
                 error_field: str | None = None) -> ResponseReturnValue:
    xero_type = types.xero_type(rule)
    zoho_type = types.zoho_type(rule)
    picklist = bool((zoho_type and zoho_type.family == "picklist") or (xero_type and xero_type.family == "picklist")
                    or rule.values)
    return render_page_or_fragment(
        "mapping/rule.html", "mapping/_rule_form.html", status=status, info=info, rule=rule, form=form,
        token=mapping_service.rule_token(rule), locked=mapping_service.is_locked(rule), picklist=picklist,
        transforms=TRANSFORMS, error=error, error_field=error_field, read_only=not current_user.can_manage_tenant,
        arrow_symbols=mapping_service.ARROW_SYMBOLS,
        xero_values=mapping_service.xero_values(current_tenant(), info, rule.xero) if rule.xero else (),
    )


# --- versions --------------------------------------------------------------------------------------------------


@bp.get("/<pair>/versions/<int:version_id>")
@tenant_page
def version(pair: str, version_id: int) -> ResponseReturnValue:
    info = _pair(pair)
    row = get_mapping_version_for_user(version_id)
    if row.pair != info.pair:
        abort(404)
    tenant = current_tenant()
    mapping = PairMapping.from_json(row.pair, row.version, row.rules)
    types = mapping_service.field_types(tenant, info)
    return render_page_or_fragment(
        "mapping/version.html", "mapping/version.html", info=info, row=row, mapping=mapping,
        rules=mapping_service.rule_views(mapping, types), author=mapping_service.author(row.created_by_id),
        arrow_symbols=mapping_service.ARROW_SYMBOLS, arrow_labels=mapping_service.ARROW_LABELS,
        read_only=not current_user.can_manage_tenant,
    )


@bp.post("/<pair>/versions/<int:version_id>/restore")
@tenant_page
def restore(pair: str, version_id: int) -> ResponseReturnValue:
    info = _pair(pair)
    row = get_mapping_version_for_user(version_id)
    if row.pair != info.pair:
        abort(404)
    return _step(info, lambda: mapping_service.restore(current_tenant(), current_user, info, row),
                 notice=_("Version %(version)s is in the editor. Save it to use it again.", version=row.version))
