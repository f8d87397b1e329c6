"""The field mapping editor: a draft per module pair, edited one step at a time, saved as a new version.

Every step (add, remove, move, reorder, direction, options, reset, restore) changes the tenant's
:class:`~portal.models.mapping_draft.MappingDraft` of the pair and is checked by the engine's own rules
(:func:`portal.sync.mapping.check_rule` / :func:`~portal.sync.mapping.check_mapping`): an incompatible pair is
refused with the engine's reason and the draft is left as it was. "Save" stores the draft as the pair's next
:class:`~portal.models.sync.MappingVersion` (:func:`portal.sync.mapping_store.save_mapping`); runs pin the versions
they started with, so saving never changes a run in progress.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from portal.extensions import db
from portal.models import MappingDraft, MappingVersion, Tenant, User
from portal.services import metadata
from portal.services import settings as settings_service
from portal.sync import mapping_defaults as defaults
from portal.sync.mapping import (
    TRANSFORMS,
    TYPE_NAMES,
    Arrow,
    FieldType,
    PairMapping,
    Rule,
    check_mapping,
    check_rule,
    family_of_zoho,
    top_key,
)
from portal.sync.mapping_store import default_for, save_mapping

HISTORY_LENGTH = 5


@dataclass(frozen=True)
class PairInfo:
    slug: str
    pair: str
    zoho_label: Any
    xero_label: Any
    xero_module: str  # the key of its fields in mapping_defaults.XERO_FIELDS
    zoho_module: str = ""  # "" for the customer module (Accounts or Contacts, as the tenant chose)
    description: Any = ""

    def zoho_module_for(self, customer_module: str) -> str:
        return self.zoho_module or customer_module

    def used_with(self, customer_module: str) -> bool:
        if self.pair == defaults.CUSTOMERS_FROM_ACCOUNTS or self.pair == defaults.CONTACT_PERSONS:
            return customer_module == "Accounts"
        if self.pair == defaults.CUSTOMERS_FROM_CONTACTS:
            return customer_module == "Contacts"
        return True


PAIRS: tuple[PairInfo, ...] = (
    PairInfo("accounts-contacts", defaults.CUSTOMERS_FROM_ACCOUNTS, _l("Accounts"), _l("Contacts"), "Contacts",
             "Accounts", _l("Zoho accounts as Xero customers.")),
    PairInfo("contacts-contacts", defaults.CUSTOMERS_FROM_CONTACTS, _l("Contacts"), _l("Contacts"), "Contacts",
             "Contacts", _l("Zoho contacts as Xero customers.")),
    PairInfo("contacts-contact-persons", defaults.CONTACT_PERSONS, _l("Contacts"), _l("Contact persons"),
             "ContactPersons", "Contacts", _l("Zoho contacts as contact persons of their account's Xero contact.")),
    PairInfo("products-items", defaults.PRODUCTS, _l("Products"), _l("Items"), "Items", "Products"),
    PairInfo("invoices-invoices", defaults.INVOICES, _l("Invoices"), _l("Invoices"), "Invoices", "Invoices"),
    PairInfo("deals-invoices", defaults.DEALS, _l("Deals"), _l("Invoices"), "Invoices", "Deals",
             _l("Won deals as Xero invoices.")),
    PairInfo("chart-of-accounts", defaults.CHART, _l("Xero accounts"), _l("Chart of accounts"), "Accounts",
             "Xero_Accounts"),
    PairInfo("payments", defaults.PAYMENTS, _l("Invoices"), _l("Payments"), "Payments", "Invoices",
             _l("Xero payments update the paid amounts and status of Zoho invoices.")),
    PairInfo("balances", defaults.BALANCES, _l("Customers"), _l("Customer balances"), "Balances", "",
             _l("What the customer owes in Xero, on the Zoho customer record.")),
)
PAIRS_BY_SLUG = {info.slug: info for info in PAIRS}

ARROW_LABELS = {
    Arrow.TO_XERO: _l("Zoho CRM to Xero"),
    Arrow.TO_ZOHO: _l("Xero to Zoho CRM"),
    Arrow.BOTH: _l("Both ways"),
}
ARROW_SYMBOLS = {Arrow.TO_XERO: "→", Arrow.TO_ZOHO: "←", Arrow.BOTH: "↔"}
LOCKED_KINDS = ("ref", "lines")

# The values Xero's own picklists take (FACTS.md §4, OAS enums), offered when mapping picklist values.
XERO_PICKLISTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Contacts", "ContactStatus"): ("ACTIVE", "ARCHIVED", "GDPRREQUEST"),
    ("Invoices", "Status"): ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"),
    ("Payments", "Status"): ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"),
    ("Payments", "$PaymentStatus"): ("Paid", "PartiallyPaid", "Overdue", "Unpaid"),
    ("Accounts", "Type"): tuple(dict.fromkeys(
        value for rule in defaults.DEFAULT_RULES[defaults.CHART] for value in (rule.values or {}).values())),
    ("Accounts", "Status"): ("ACTIVE", "ARCHIVED"),
}
XERO_CURRENCY_FIELDS = ("CurrencyCode", "DefaultCurrency")


class MappingRefused(Exception):
    """A step the engine refuses; ``message`` is translated, for the page to show in place."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class EditorOutOfDate(Exception):
    """The page acted on rules the draft no longer has (another window or admin changed it)."""


# --- reading ---------------------------------------------------------------------------------------------------


def pair_info(slug: str) -> PairInfo | None:
    return PAIRS_BY_SLUG.get(slug)


def customer_module(tenant: Tenant) -> str:
    return settings_service.current(tenant).settings.customer_module


def latest_version(tenant: Tenant, pair: str) -> MappingVersion | None:
    return db.session.scalar(
        select(MappingVersion).where(MappingVersion.tenant_id == tenant.id, MappingVersion.pair == pair)
        .order_by(MappingVersion.version.desc()).limit(1)
    )


def history(tenant: Tenant, pair: str, limit: int = HISTORY_LENGTH) -> list[MappingVersion]:
    return list(db.session.scalars(
        select(MappingVersion).where(MappingVersion.tenant_id == tenant.id, MappingVersion.pair == pair)
        .order_by(MappingVersion.version.desc()).limit(limit)
    ))


def saved_mapping(tenant: Tenant, info: PairInfo) -> PairMapping:
    row = latest_version(tenant, info.pair)
    if row is None:
        return default_for(info.pair, customer_module(tenant))
    return PairMapping.from_json(row.pair, row.version, row.rules)


def _draft(tenant: Tenant, pair: str) -> MappingDraft | None:
    return db.session.scalar(select(MappingDraft).where(MappingDraft.tenant_id == tenant.id,
                                                        MappingDraft.pair == pair))


def working_mapping(tenant: Tenant, info: PairInfo) -> tuple[PairMapping, MappingDraft | None]:
    """The rules the editor shows: the draft when there is one, else the saved (or default) mapping."""
    draft = _draft(tenant, info.pair)
    if draft is not None:
        return PairMapping.from_json(info.pair, draft.base_version, draft.rules), draft
    return saved_mapping(tenant, info), None


@dataclass(frozen=True)
class FieldTypes:
    zoho: dict[str, FieldType]
    xero: Mapping[str, FieldType]
    zoho_fields: metadata.FieldList

    def zoho_type(self, rule: Rule) -> FieldType | None:
        return self.zoho.get(top_key(rule.zoho[0])) if rule.zoho else None

    def xero_type(self, rule: Rule) -> FieldType | None:
        if not rule.xero:
            return None
        return self.xero.get(rule.xero) or self.xero.get(top_key(rule.xero))


def field_types(tenant: Tenant, info: PairInfo) -> FieldTypes:
    fields = metadata.zoho_fields(tenant, info.zoho_module_for(customer_module(tenant)))
    zoho = {f.api_name: FieldType(family_of_zoho(f.data_type), f.read_only, f.max_length, f.picklist_values)
            for f in fields.fields}
    return FieldTypes(zoho, defaults.XERO_FIELDS.get(info.xero_module, {}), fields)


def xero_values(tenant: Tenant, info: PairInfo, xero_field: str) -> tuple[str, ...]:
    """The values a Xero picklist field takes: its enumeration, or the organisation's currencies."""
    if xero_field in XERO_CURRENCY_FIELDS:
        return metadata.xero_currency_codes(tenant) or ()
    return XERO_PICKLISTS.get((info.xero_module, xero_field), ())


def rule_token(rule: Rule) -> str:
    """A short, stable id for a rule's HTML elements (rule keys hold characters ids cannot)."""
    return "r" + hashlib.sha1(rule.key.encode(), usedforsecurity=False).hexdigest()[:10]


def is_locked(rule: Rule) -> bool:
    """Rules the engine's own logic depends on: linked records, line items, the external key written on create."""
    return rule.kind in LOCKED_KINDS or rule.create_only


@dataclass(frozen=True)
class RuleView:
    rule: Rule
    token: str
    zoho_label: str
    xero_label: str
    zoho_type: str
    xero_type: str
    zoho_custom: bool
    locked: bool
    problem: str | None
    details: list[str]

    @property
    def key(self) -> str:
        return self.rule.key


def _type_name(field_type: FieldType | None) -> str:
    return _(TYPE_NAMES.get(field_type.family, field_type.family)) if field_type else ""


def rule_views(mapping: PairMapping, types: FieldTypes) -> list[RuleView]:
    problems = check_mapping(mapping, types.zoho, types.xero)
    by_name = types.zoho_fields.by_name()
    views = []
    for rule in mapping.rules:
        zoho_field = by_name.get(top_key(rule.zoho[0])) if rule.zoho else None
        views.append(RuleView(
            rule=rule, token=rule_token(rule),
            zoho_label=describe_zoho_side(rule),
            xero_label=rule.xero if rule.xero else _("fixed value %(value)s", value=_quoted(rule.fixed)),
            zoho_type=_type_name(types.zoho_type(rule)) if rule.zoho else "",
            xero_type=_type_name(types.xero_type(rule)),
            zoho_custom=bool(zoho_field and zoho_field.custom),
            locked=is_locked(rule),
            problem=problems[rule.key].render(_) if rule.key in problems else None,
            details=_details(rule),
        ))
    return views


def _quoted(value: Any) -> str:
    return f"“{value}”"


def describe_zoho_side(rule: Rule) -> str:
    if not rule.zoho:
        return str(_("fixed value %(value)s", value=_quoted(rule.fixed)))
    return " + ".join(rule.zoho)


def _details(rule: Rule) -> list[str]:
    details = []
    if rule.label:
        details.append(_(rule.label))
    if rule.kind == "ref":
        details.append(_("through the linked records"))
    if rule.kind == "lines":
        details.append(_("line items"))
    if rule.create_only:
        details.append(_("written when the record is created"))
    if rule.transform:
        transform = TRANSFORMS.get(rule.transform)
        label = _(transform.label) if transform else rule.transform
        details.append(", ".join([label, *rule.transform_args]))
    if rule.values:
        details.append(_("%(count)s picklist values mapped", count=len(rule.values)))
    if rule.is_fixed and rule.zoho and rule.xero:
        details.append(_("fixed value %(value)s", value=_quoted(rule.fixed)))
    return details


# --- the steps -------------------------------------------------------------------------------------------------


FIXED = "="  # the "a fixed value" choice of the add-pair selects


def _family(zoho_type: FieldType | None, xero_type: FieldType | None) -> str:
    family = (zoho_type or xero_type or FieldType("text")).family
    return family if family in ("number", "date", "email") else "text"


def _refuse_if_invalid(mapping: PairMapping, rule: Rule, types: FieldTypes, field: str | None = None) -> None:
    problem = check_rule(rule, types.zoho_type(rule), types.xero_type(rule))
    if problem is None:
        problem = check_mapping(mapping, types.zoho, types.xero).get(rule.key)
    if problem is not None:
        raise MappingRefused(problem.render(_), field)


def _store(tenant: Tenant, user: User, info: PairInfo, mapping: PairMapping, draft: MappingDraft | None,
           base_version: int | None = None) -> PairMapping:
    if draft is None:
        draft = MappingDraft(tenant_id=tenant.id, pair=info.pair,
                             base_version=mapping.version if base_version is None else base_version,
                             rules=mapping.to_json(), updated_by_id=user.id)
        db.session.add(draft)
    else:
        draft.rules = mapping.to_json()
        draft.updated_by_id = user.id
        if base_version is not None:
            draft.base_version = base_version
    db.session.commit()
    return mapping


def _index(mapping: PairMapping, key: str) -> int:
    for index, rule in enumerate(mapping.rules):
        if rule.key == key:
            return index
    raise EditorOutOfDate(key)


def _with_rules(mapping: PairMapping, rules: Sequence[Rule]) -> PairMapping:
    return replace(mapping, rules=tuple(rules))


def add_rule(tenant: Tenant, user: User, info: PairInfo, zoho: str, xero: str, arrow: str,
             fixed: str = "") -> PairMapping:
    """Pair a Zoho field with a Xero field (or either with a fixed value); refused with the engine's reason."""
    mapping, draft = working_mapping(tenant, info)
    types = field_types(tenant, info)
    if not zoho or not xero:
        raise MappingRefused(_("Choose a Zoho CRM field and a Xero field."))
    if FIXED in (zoho, xero):
        if zoho == xero:
            raise MappingRefused(_("A fixed value goes into a field: choose the field on the other side."))
        if not fixed.strip():
            raise MappingRefused(_("Type the fixed value."), "fixed")
    if zoho == FIXED:
        rule = Rule(zoho=(), xero=xero, arrow=Arrow.TO_XERO, fixed=fixed.strip(),
                    family=_family(None, types.xero.get(xero)))
    elif xero == FIXED:
        rule = Rule(zoho=(zoho,), xero="", arrow=Arrow.TO_ZOHO, fixed=fixed.strip(),
                    family=_family(types.zoho.get(zoho), None))
    else:
        try:
            direction = Arrow(arrow)
        except ValueError:
            raise MappingRefused(_("Choose a direction.")) from None
        rule = Rule(zoho=(zoho,), xero=xero, arrow=direction,
                    family=_family(types.zoho.get(zoho), types.xero.get(xero)))
    if any(existing.key == rule.key for existing in mapping.rules):
        raise MappingRefused(_("This pair is already in the mapping."))
    updated = _with_rules(mapping, [*mapping.rules, rule])
    _refuse_if_invalid(updated, rule, types)
    return _store(tenant, user, info, updated, draft)


def remove_rule(tenant: Tenant, user: User, info: PairInfo, key: str) -> PairMapping:
    mapping, draft = working_mapping(tenant, info)
    index = _index(mapping, key)
    if is_locked(mapping.rules[index]):
        raise MappingRefused(_("This pair is part of how records are linked and cannot be removed."))
    rules = list(mapping.rules)
    del rules[index]
    return _store(tenant, user, info, _with_rules(mapping, rules), draft)


def move_rule(tenant: Tenant, user: User, info: PairInfo, key: str, offset: int) -> PairMapping:
    mapping, draft = working_mapping(tenant, info)
    index = _index(mapping, key)
    target = max(0, min(len(mapping.rules) - 1, index + offset))
    rules = list(mapping.rules)
    rules.insert(target, rules.pop(index))
    return _store(tenant, user, info, _with_rules(mapping, rules), draft)


def reorder(tenant: Tenant, user: User, info: PairInfo, keys: Sequence[str]) -> PairMapping:
    """The rules in the order the page's drag and drop left them; the same rules, or the page is out of date."""
    mapping, draft = working_mapping(tenant, info)
    by_key = {rule.key: rule for rule in mapping.rules}
    if sorted(keys) != sorted(by_key):
        raise EditorOutOfDate("order")
    if list(keys) == list(by_key):
        return mapping  # a pair picked up and dropped where it was: no change, no draft
    return _store(tenant, user, info, _with_rules(mapping, [by_key[key] for key in keys]), draft)


def replace_rule(tenant: Tenant, user: User, info: PairInfo, key: str,
                 change: Callable[[Rule, FieldTypes], Rule]) -> PairMapping:
    """Apply ``change`` to one rule; the engine checks the result before the draft takes it."""
    mapping, draft = working_mapping(tenant, info)
    index = _index(mapping, key)
    types = field_types(tenant, info)
    current = mapping.rules[index]
    updated_rule = change(current, types)
    if updated_rule == current:
        return mapping
    if updated_rule.key != key and any(r.key == updated_rule.key for r in mapping.rules):
        raise MappingRefused(_("This pair is already in the mapping."))
    rules = list(mapping.rules)
    rules[index] = updated_rule
    updated = _with_rules(mapping, rules)
    if updated_rule.kind != "lines":
        _refuse_if_invalid(updated, updated_rule, types)
    return _store(tenant, user, info, updated, draft)


def set_arrow(tenant: Tenant, user: User, info: PairInfo, key: str, arrow: str) -> PairMapping:
    try:
        direction = Arrow(arrow)
    except ValueError:
        raise MappingRefused(_("Choose a direction.")) from None

    def change(rule: Rule, types: FieldTypes) -> Rule:
        if is_locked(rule) and rule.kind != "ref":
            raise MappingRefused(_("The direction of this pair follows the engine's rules and cannot change."))
        if rule.is_fixed and not (rule.zoho and rule.xero):
            raise MappingRefused(_("A fixed value goes one way only."))
        return replace(rule, arrow=direction)

    return replace_rule(tenant, user, info, key, change)


@dataclass(frozen=True)
class RuleOptions:
    arrow: str
    transform: str = ""
    transform_arg: str = ""
    extra_zoho: tuple[str, ...] = ()
    use_fixed: bool = False
    fixed: str = ""
    values: Mapping[str, str] | None = None


def update_options(tenant: Tenant, user: User, info: PairInfo, key: str, options: RuleOptions) -> PairMapping:
    """Direction, transform, fixed value and picklist map of one pair, as the rule form set them."""

    def change(rule: Rule, types: FieldTypes) -> Rule:
        if is_locked(rule):
            raise MappingRefused(_("This pair is part of how records are linked and cannot be changed."))
        try:
            arrow = Arrow(options.arrow)
        except ValueError:
            raise MappingRefused(_("Choose a direction."), "arrow") from None
        transform = options.transform or None
        if transform is not None and transform not in TRANSFORMS:
            raise MappingRefused(_("Choose a transform from the list."), "transform")
        args: tuple[str, ...] = ()
        if transform and TRANSFORMS[transform].arg_choices:
            args = (options.transform_arg or TRANSFORMS[transform].arg_choices[0],)
        zoho = rule.zoho[:1]
        if transform and TRANSFORMS[transform].multi_source:
            extra = tuple(f for f in options.extra_zoho if f and f not in zoho)
            if not extra:
                raise MappingRefused(_("Choose the Zoho CRM fields to join with %(field)s.",
                                       field=zoho[0] if zoho else ""), "extra_zoho")
            zoho = (*zoho, *extra)
        fixed: Any = None
        if options.use_fixed:
            if not options.fixed.strip():
                raise MappingRefused(_("Type the fixed value."), "fixed")
            if arrow is Arrow.BOTH:
                raise MappingRefused(_("A fixed value goes one way: choose Zoho to Xero or Xero to Zoho."), "arrow")
            fixed = options.fixed.strip()
        values = {k.strip(): v.strip() for k, v in (options.values or {}).items() if k.strip() and v.strip()}
        known = xero_values(tenant, info, rule.xero) if rule.xero else ()
        unknown = sorted({v for v in values.values() if known and v not in known})
        if unknown:
            raise MappingRefused(_("%(values)s is not a value Xero takes for %(field)s.", values=", ".join(unknown),
                                   field=rule.xero), "values")
        return replace(rule, arrow=arrow, transform=transform, transform_args=args, zoho=zoho, fixed=fixed,
                       values=values or None)

    return replace_rule(tenant, user, info, key, change)


def reset_to_default(tenant: Tenant, user: User, info: PairInfo) -> PairMapping:
    mapping, draft = working_mapping(tenant, info)
    default = default_for(info.pair, customer_module(tenant))
    latest = latest_version(tenant, info.pair)
    return _store(tenant, user, info, replace(default, version=mapping.version), draft,
                  base_version=latest.version if latest else 0)


def restore(tenant: Tenant, user: User, info: PairInfo, version: MappingVersion) -> PairMapping:
    """Put a saved version in the draft (saving it then makes it the newest version)."""
    _mapping, draft = working_mapping(tenant, info)
    restored = PairMapping.from_json(version.pair, version.version, version.rules)
    latest = latest_version(tenant, info.pair)
    return _store(tenant, user, info, restored, draft, base_version=latest.version if latest else 0)


def discard(tenant: Tenant, info: PairInfo) -> None:
    db.session.execute(delete(MappingDraft).where(MappingDraft.tenant_id == tenant.id,
                                                  MappingDraft.pair == info.pair))
    db.session.commit()


def problems_of(tenant: Tenant, info: PairInfo, mapping: PairMapping) -> dict[str, str]:
    types = field_types(tenant, info)
    return {key: problem.render(_) for key, problem in check_mapping(mapping, types.zoho, types.xero).items()}


def save(tenant: Tenant, user: User, info: PairInfo) -> PairMapping:
    """Store the draft as the pair's next version (refused while a pair has a problem) and drop the draft."""
    mapping, draft = working_mapping(tenant, info)
    if draft is None:
        raise MappingRefused(_("There are no changes to save."))
    problems = problems_of(tenant, info, mapping)
    if problems:
        raise MappingRefused(_("Fix or remove the pairs marked with a problem before saving."))
    saved = save_mapping(db.session(), tenant.id, mapping, user_id=user.id)
    db.session.delete(draft)
    db.session.commit()
    return saved


def draft_is_behind(tenant: Tenant, info: PairInfo, draft: MappingDraft | None) -> MappingVersion | None:
    """The version saved after the draft was started, if any (saving the draft replaces it)."""
    if draft is None:
        return None
    latest = latest_version(tenant, info.pair)
    return latest if latest is not None and latest.version > draft.base_version else None


def author(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return (user.name or user.email) if user else ""
