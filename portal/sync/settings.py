"""A tenant's sync configuration as the engine sees it, and the rules that refuse nonsensical combinations.

:class:`SyncSettings` is a frozen value: the model :class:`portal.models.sync.SyncConfig` stores it as JSON
and a
run takes one snapshot, so saving the settings page while a run is going never changes that run half-way.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from portal.sync.messages import N_, Msg, msg


class Direction(enum.StrEnum):
    ZOHO_TO_XERO = "zoho_to_xero"
    XERO_TO_ZOHO = "xero_to_zoho"


class ConflictPolicy(enum.StrEnum):
    ZOHO_WINS = "zoho_wins"
    XERO_WINS = "xero_wins"
    NEWEST_WINS = "newest_wins"
    ASK = "ask"


class TaxTreatment(enum.StrEnum):
    # Xero: LineAmountTypes is exactly Exclusive, Inclusive or NoTax (FACTS.md §4 Invoices).
    EXCLUSIVE = "Exclusive"
    INCLUSIVE = "Inclusive"
    NO_TAX = "NoTax"


class InvoiceStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"  # "Awaiting approval"
    AUTHORISED = "AUTHORISED"  # "Awaiting payment"


# The rows of the two settings tabs (issue 7), in the order the page shows them and dependencies need them.
ZOHO_TO_XERO_MODULES = ("Accounts", "Contacts", "Products", "Xero_Accounts", "Invoices", "Deals")
XERO_TO_ZOHO_MODULES = ("Contacts", "Items", "Accounts", "Invoices", "Payments")
CUSTOMER_MODULES = ("Accounts", "Contacts")

MODULE_LABELS = {
    "Accounts": N_("Accounts"),
    "Contacts": N_("Contacts"),
    "Products": N_("Products"),
    "Invoices": N_("Invoices"),
    "Deals": N_("Deals"),
    "Xero_Accounts": N_("Xero accounts"),
    "Items": N_("Items"),
    "Payments": N_("Payments"),
    "Accounts@xero": N_("Chart of accounts"),
}


@dataclass(frozen=True)
class ModuleSwitches:
    enabled: bool = False
    create: bool = True
    update: bool = True
    delete: bool = False

    def allows(self, action: str) -> bool:
        return self.enabled and bool(getattr(self, action))


@dataclass(frozen=True)
class SyncSettings:
    zoho_to_xero: Mapping[str, ModuleSwitches] = field(default_factory=dict)
    xero_to_zoho: Mapping[str, ModuleSwitches] = field(default_factory=dict)
    customer_module: str = "Accounts"
    on_save: bool = False
    allow_xero_to_zoho: bool = False  # the "Allow sync" master switch of the Xero -> Zoho tab
    new_invoice_status: InvoiceStatus = InvoiceStatus.DRAFT
    default_sales_account: str = ""
    default_tax_type: str = ""
    tax_treatment: TaxTreatment = TaxTreatment.EXCLUSIVE
    conflict_policy: ConflictPolicy = ConflictPolicy.ASK
    allow_voiding: bool = False
    won_deal_stage: str = "Closed Won"

    def __post_init__(self) -> None:
        # Accept plain strings (forms, JSON, tests) and keep typed enums inside.
        object.__setattr__(self, "new_invoice_status", InvoiceStatus(self.new_invoice_status))
        object.__setattr__(self, "tax_treatment", TaxTreatment(self.tax_treatment))
        object.__setattr__(self, "conflict_policy", ConflictPolicy(self.conflict_policy))

    def switches(self, direction: Direction, module: str) -> ModuleSwitches:
        table = self.zoho_to_xero if direction is Direction.ZOHO_TO_XERO else self.xero_to_zoho
        return table.get(module, ModuleSwitches())

    def allows(self, direction: Direction, module: str, action: str) -> bool:
        if direction is Direction.XERO_TO_ZOHO and not self.allow_xero_to_zoho:
            return False
        return self.switches(direction, module).allows(action)

    @property
    def person_module(self) -> str | None:
        """The Zoho module that becomes Xero contact persons: Contacts when Accounts are the customers."""
        return "Contacts" if self.customer_module == "Accounts" else None

    # --- persistence ---------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("new_invoice_status", "tax_treatment", "conflict_policy"):
            data[key] = str(data[key])
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SyncSettings:
        if not data:
            return cls()
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("zoho_to_xero", "xero_to_zoho"):
            values[key] = {m: ModuleSwitches(**s) for m, s in (values.get(key) or {}).items()}
        if "new_invoice_status" in values:
            values["new_invoice_status"] = InvoiceStatus(values["new_invoice_status"])
        if "tax_treatment" in values:
            values["tax_treatment"] = TaxTreatment(values["tax_treatment"])
        if "conflict_policy" in values:
            values["conflict_policy"] = ConflictPolicy(values["conflict_policy"])
        return cls(**values)

    @classmethod
    def everything_on(cls, **overrides: Any) -> SyncSettings:
        """Every module and action on in both directions, Allow sync on (the demo tenant, tests)."""
        on = ModuleSwitches(enabled=True, create=True, update=True, delete=True)
        base = cls(
            zoho_to_xero={m: on for m in ZOHO_TO_XERO_MODULES},
            xero_to_zoho={m: on for m in XERO_TO_ZOHO_MODULES},
            allow_xero_to_zoho=True,
            on_save=True,
            default_sales_account="200",
            default_tax_type="OUTPUT",
        )
        return replace(base, **overrides)

    def with_module(self, direction: Direction, module: str, **switches: bool) -> SyncSettings:
        table = dict(self.zoho_to_xero if direction is Direction.ZOHO_TO_XERO else self.xero_to_zoho)
        table[module] = replace(table.get(module, ModuleSwitches()), **switches)
        if direction is Direction.ZOHO_TO_XERO:
            return replace(self, zoho_to_xero=table)
        return replace(self, xero_to_zoho=table)


# --- validation --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fix:
    """A change that makes the settings valid, which the page can offer as a one-click button."""

    label: Msg
    changes: Mapping[str, Any]  # e.g. {"zoho_to_xero.Accounts.enabled": True}


@dataclass(frozen=True)
class Problem:
    code: str
    message: Msg
    fields: tuple[str, ...]
    fix: Fix | None = None


def _module_label(module: str) -> str:
    return MODULE_LABELS.get(module, module)


def validate_settings(settings: SyncSettings) -> list[Problem]:
    """Every reason to refuse these settings (empty when they make sense), each with a suggested fix."""
    problems: list[Problem] = []
    z2x = settings.zoho_to_xero
    x2z = settings.xero_to_zoho

    def on(table: Mapping[str, ModuleSwitches], module: str) -> bool:
        return table.get(module, ModuleSwitches()).enabled

    def turn_on(direction: str, module: str) -> Fix:
        return Fix(
            msg(N_("Turn on %(module)s"), module=_module_label(module)),
            {f"{direction}.{module}.enabled": True},
        )

    if settings.customer_module not in CUSTOMER_MODULES:
        problems.append(
            Problem(
                "customer_module",
                msg(N_("Choose Accounts or Contacts as the customer module.")),
                ("customer_module",),
            )
        )
        return problems
    customer = settings.customer_module

    for module in ("Invoices", "Deals"):
        if on(z2x, module) and not on(z2x, customer):
            problems.append(
                Problem(
                    f"{module.lower()}_need_customers",
                    msg(
                        N_(
                            "%(module)s need their customers in Xero, but %(customer)s (the "
                            "customer module) is off."
                        ),
                        module=_module_label(module),
                        customer=_module_label(customer),
                    ),
                    (f"zoho_to_xero.{module}.enabled", f"zoho_to_xero.{customer}.enabled"),
                    turn_on("zoho_to_xero", customer),
                )
            )
    if on(z2x, "Invoices") and not on(z2x, "Products"):
        problems.append(
            Problem(
                "invoices_need_products",
                msg(N_("Invoices need their products as Xero items, but Products is off.")),
                ("zoho_to_xero.Invoices.enabled", "zoho_to_xero.Products.enabled"),
                turn_on("zoho_to_xero", "Products"),
            )
        )
    if customer == "Contacts" and on(z2x, "Accounts"):
        problems.append(
            Problem(
                "accounts_not_synced",
                msg(
                    N_(
                        "With Contacts as the customer module, Zoho accounts are not synced to Xero: "
                        "turn Accounts off "
                        "or make Accounts the customer module."
                    )
                ),
                ("zoho_to_xero.Accounts.enabled", "customer_module"),
                Fix(msg(N_("Make Accounts the customer module")), {"customer_module": "Accounts"}),
            )
        )
    if (on(z2x, "Invoices") or on(z2x, "Deals")) and not settings.default_sales_account.strip():
        problems.append(
            Problem(
                "sales_account_missing",
                msg(
                    N_(
                        "Choose the default sales account that invoice lines without an item account "
                        "are posted to."
                    )
                ),
                ("default_sales_account",),
            )
        )
    if on(z2x, "Deals") and not settings.won_deal_stage.strip():
        problems.append(
            Problem(
                "won_stage_missing",
                msg(N_("Choose the deal stage that creates the Xero invoice (for example Closed Won).")),
                ("won_deal_stage",),
                Fix(msg(N_("Use Closed Won")), {"won_deal_stage": "Closed Won"}),
            )
        )
    if on(x2z, "Payments") and not (on(x2z, "Invoices") or on(z2x, "Invoices")):
        problems.append(
            Problem(
                "payments_need_invoices",
                msg(N_("Payments update Zoho invoices, but Invoices are synced in neither direction.")),
                ("xero_to_zoho.Payments.enabled", "xero_to_zoho.Invoices.enabled"),
                turn_on("xero_to_zoho", "Invoices"),
            )
        )
    if on(x2z, "Invoices") and not (on(x2z, "Contacts") or on(z2x, customer)):
        problems.append(
            Problem(
                "xero_invoices_need_contacts",
                msg(
                    N_(
                        "Xero invoices need their contacts in Zoho, but Contacts are synced in "
                        "neither direction."
                    )
                ),
                ("xero_to_zoho.Invoices.enabled", "xero_to_zoho.Contacts.enabled"),
                turn_on("xero_to_zoho", "Contacts"),
            )
        )
    for direction, table in (("zoho_to_xero", z2x), ("xero_to_zoho", x2z)):
        for module, switches in table.items():
            if switches.enabled and not (switches.create or switches.update or switches.delete):
                problems.append(
                    Problem(
                        "module_does_nothing",
                        msg(
                            N_(
                                "%(module)s is on but Create, Update and Delete are all off, "
                                "so nothing would move."
                            ),
                            module=_module_label(module),
                        ),
                        (f"{direction}.{module}.enabled",),
                        Fix(
                            msg(N_("Turn on Create and Update")),
                            {f"{direction}.{module}.create": True, f"{direction}.{module}.update": True},
                        ),
                    )
                )
    return problems


def apply_fix(settings: SyncSettings, fix: Fix) -> SyncSettings:
    """The settings with a suggested fix applied (the page's "Turn it on" button)."""
    result = settings
    for path, value in fix.changes.items():
        parts = path.split(".")
        if len(parts) == 3:
            direction = Direction(parts[0])
            result = result.with_module(direction, parts[1], **{parts[2]: bool(value)})
        else:
            result = replace(result, **{path: value})
    return result
