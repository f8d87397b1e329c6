"""A tenant's sync configuration (the Zoho → Xero and Xero → Zoho tabs): read it, save it, say what changed.

The configuration is the engine's :class:`~portal.sync.settings.SyncSettings`, stored as JSON on the tenant's
:class:`~portal.models.sync.SyncConfig` row. Saving refuses settings the engine calls nonsense
(:func:`~portal.sync.settings.validate_settings`) and settings saved by someone else since the page was opened
(the row's ``revision``), so two admins never silently overwrite each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import SyncConfig, Tenant, User, utcnow
from portal.sync.settings import (
    MODULE_LABELS,
    ConflictPolicy,
    Direction,
    Fix,
    InvoiceStatus,
    ModuleSwitches,
    Problem,
    SyncSettings,
    TaxTreatment,
    apply_fix,
    validate_settings,
)

# The rows of each tab, in the order the product's users know them (issue 7).
ZOHO_TO_XERO_ROWS = ("Accounts", "Contacts", "Products", "Invoices", "Deals", "Xero_Accounts")
XERO_TO_ZOHO_ROWS = ("Contacts", "Items", "Invoices", "Payments", "Accounts")
ROWS = {Direction.ZOHO_TO_XERO: ZOHO_TO_XERO_ROWS, Direction.XERO_TO_ZOHO: XERO_TO_ZOHO_ROWS}
SWITCHES = ("enabled", "create", "update", "delete")

DIRECTION_LABELS = {Direction.ZOHO_TO_XERO: _l("Zoho → Xero"), Direction.XERO_TO_ZOHO: _l("Xero → Zoho")}
ACTION_LABELS = {"enabled": _l("Sync"), "create": _l("Create"), "update": _l("Update"), "delete": _l("Delete")}
INVOICE_STATUS_LABELS = {
    InvoiceStatus.DRAFT: _l("Draft"),
    InvoiceStatus.SUBMITTED: _l("Awaiting approval"),
    InvoiceStatus.AUTHORISED: _l("Awaiting payment (approved)"),
}
TAX_TREATMENT_LABELS = {
    TaxTreatment.EXCLUSIVE: _l("Prices exclude tax"),
    TaxTreatment.INCLUSIVE: _l("Prices include tax"),
    TaxTreatment.NO_TAX: _l("No tax"),
}
CONFLICT_POLICY_LABELS = {
    ConflictPolicy.ASK: _l("Ask me: the record waits in the review queue"),
    ConflictPolicy.ZOHO_WINS: _l("Zoho CRM wins"),
    ConflictPolicy.XERO_WINS: _l("Xero wins"),
    ConflictPolicy.NEWEST_WINS: _l("The most recent change wins"),
}
CUSTOMER_MODULE_LABELS = {"Accounts": _l("Accounts"), "Contacts": _l("Contacts")}


def module_label(direction: Direction, module: str) -> str:
    """How a row is named: the Xero → Zoho ``Accounts`` row is the chart of accounts."""
    key = f"{module}@xero" if direction is Direction.XERO_TO_ZOHO and f"{module}@xero" in MODULE_LABELS else module
    return str(_(MODULE_LABELS.get(key, module)))


@dataclass(frozen=True)
class SettingsState:
    settings: SyncSettings
    revision: int  # 0 until the first save
    updated_at: datetime | None = None
    updated_by: str | None = None


class SettingsRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("settings refused")
        self.problems = problems


class SettingsChangedMeanwhile(Exception):
    """Someone saved the configuration after the page was opened."""

    def __init__(self, current: SettingsState) -> None:
        super().__init__("settings changed meanwhile")
        self.current = current


def _config(tenant: Tenant) -> SyncConfig | None:
    return db.session.scalar(select(SyncConfig).where(SyncConfig.tenant_id == tenant.id))


def current(tenant: Tenant) -> SettingsState:
    config = _config(tenant)
    if config is None:
        return SettingsState(SyncSettings(), 0)
    updated_by = db.session.get(User, config.updated_by_id) if config.updated_by_id else None
    return SettingsState(SyncSettings.from_json(config.settings), config.revision, config.updated_at,
                         (updated_by.name or updated_by.email) if updated_by else None)


def save(tenant: Tenant, user: User, settings: SyncSettings, base_revision: int) -> list[str]:
    """Store ``settings`` as the tenant's configuration; the changes, described for the confirmation.

    Raises :class:`SettingsRefused` when the engine refuses the combination and :class:`SettingsChangedMeanwhile`
    when the stored revision is no longer ``base_revision``."""
    problems = validate_settings(settings)
    if problems:
        raise SettingsRefused(problems)
    config = db.session.scalar(
        select(SyncConfig).where(SyncConfig.tenant_id == tenant.id).with_for_update()
    )
    stored_revision = config.revision if config is not None else 0
    if stored_revision != base_revision:
        db.session.rollback()
        raise SettingsChangedMeanwhile(current(tenant))
    before = SyncSettings.from_json(config.settings) if config is not None else SyncSettings()
    changes = describe_changes(before, settings)
    if not changes:
        db.session.rollback()
        return []
    if config is None:
        config = SyncConfig(tenant_id=tenant.id, settings=settings.to_json(), revision=1, updated_by_id=user.id)
        db.session.add(config)
    else:
        config.settings = settings.to_json()
        config.revision += 1
        config.updated_by_id = user.id
        config.updated_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:
        # Two first saves at once: there is no row to lock yet, so the unique tenant_id decides who was first.
        db.session.rollback()
        raise SettingsChangedMeanwhile(current(tenant)) from None
    if _watched_modules(before) != _watched_modules(settings):
        # On-save or a Zoho -> Xero module changed: the Zoho notification channels follow (portal.services.triggers).
        from portal.services import triggers

        triggers.on_save_changed(tenant)
    return changes


def _watched_modules(settings: SyncSettings) -> tuple[str, ...]:
    if not settings.on_save:
        return ()
    return tuple(m for m in ZOHO_TO_XERO_ROWS if settings.switches(Direction.ZOHO_TO_XERO, m).enabled)


# --- what changed ----------------------------------------------------------------------------------------------


def _choice(labels: dict[Any, Any], value: Any) -> str:
    return str(labels.get(value, value)) if value not in ("", None) else str(_("(none)"))


def describe_changes(before: SyncSettings, after: SyncSettings) -> list[str]:
    """Each difference as a sentence, in the order of the page."""
    changes: list[str] = []
    for direction in (Direction.ZOHO_TO_XERO, Direction.XERO_TO_ZOHO):
        if direction is Direction.XERO_TO_ZOHO and before.allow_xero_to_zoho != after.allow_xero_to_zoho:
            changes.append(_("Sync from Xero to Zoho CRM is now allowed") if after.allow_xero_to_zoho
                           else _("Sync from Xero to Zoho CRM is no longer allowed"))
        modules = list(dict.fromkeys([*ROWS[direction], *_modules_in(before, after, direction)]))
        for module in modules:
            old, new = before.switches(direction, module), after.switches(direction, module)
            for switch in SWITCHES:
                if getattr(old, switch) != getattr(new, switch):
                    names = {"direction": DIRECTION_LABELS[direction], "module": module_label(direction, module),
                             "switch": ACTION_LABELS[switch]}
                    changes.append(_("%(direction)s, %(module)s: %(switch)s is now on", **names)
                                   if getattr(new, switch) else
                                   _("%(direction)s, %(module)s: %(switch)s is now off", **names))
        if direction is Direction.ZOHO_TO_XERO:
            if before.customer_module != after.customer_module:
                changes.append(_("Xero customers come from Zoho %(module)s (before: %(old)s)",
                                 module=_choice(CUSTOMER_MODULE_LABELS, after.customer_module),
                                 old=_choice(CUSTOMER_MODULE_LABELS, before.customer_module)))
            if before.on_save != after.on_save:
                changes.append(_("On-save sync is now on") if after.on_save else _("On-save sync is now off"))
    described: list[tuple[str, Any, dict[Any, Any] | None]] = [
        ("new_invoice_status", _l("Status of new invoices"), INVOICE_STATUS_LABELS),
        ("default_sales_account", _l("Default sales account"), {}),
        ("default_tax_type", _l("Default tax type"), {}),
        ("tax_treatment", _l("Tax on invoice lines"), TAX_TREATMENT_LABELS),
        ("allow_voiding", _l("Void invoices that can no longer be deleted"), None),
        ("won_deal_stage", _l("Deal stage that creates the invoice"), {}),
        ("conflict_policy", _l("When both sides changed the same field"), CONFLICT_POLICY_LABELS),
    ]
    for name, label, labels in described:
        old_value, new_value = getattr(before, name), getattr(after, name)
        if old_value == new_value:
            continue
        if labels is None:
            changes.append(_("%(setting)s is now on", setting=label) if new_value
                           else _("%(setting)s is now off", setting=label))
        else:
            changes.append(_("%(setting)s: %(value)s (before: %(old)s)", setting=label,
                             value=_choice(labels, new_value), old=_choice(labels, old_value)))
    return changes


def _modules_in(before: SyncSettings, after: SyncSettings, direction: Direction) -> Iterable[str]:
    table_name = "zoho_to_xero" if direction is Direction.ZOHO_TO_XERO else "xero_to_zoho"
    return [*getattr(before, table_name), *getattr(after, table_name)]


# --- the one-click fixes ---------------------------------------------------------------------------------------


def problem_key(problem: Problem) -> str:
    """Names one problem among those of one settings value (codes repeat, e.g. one per module doing nothing)."""
    return f"{problem.code}:{problem.fields[0] if problem.fields else ''}"


def fix_by_key(settings: SyncSettings, key: str) -> Fix | None:
    for problem in validate_settings(settings):
        if problem_key(problem) == key:
            return problem.fix
    return None


def with_fix(settings: SyncSettings, key: str) -> SyncSettings:
    fix = fix_by_key(settings, key)
    return apply_fix(settings, fix) if fix is not None else settings


# --- building settings from a tab ------------------------------------------------------------------------------


def with_tab(stored: SyncSettings, direction: Direction, modules: dict[str, dict[str, bool]],
             **values: Any) -> SyncSettings:
    """The stored settings with one tab's rows and values replaced (the other tab keeps what is stored)."""
    table_name = "zoho_to_xero" if direction is Direction.ZOHO_TO_XERO else "xero_to_zoho"
    table = dict(getattr(stored, table_name))
    for module, switches in modules.items():
        table[module] = ModuleSwitches(**{k: bool(v) for k, v in switches.items() if k in SWITCHES})
    known = {f.name for f in fields(SyncSettings)}
    changes: dict[str, Any] = {k: v for k, v in values.items() if k in known}
    changes[table_name] = table
    return replace(stored, **changes)
