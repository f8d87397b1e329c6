"""Which Zoho module pairs with which Xero module, how records are named and matched, and what depends on
what.

An *entity* is the kind of record link: ``customer`` (Zoho Accounts or Contacts, as the tenant chose, with
Xero
Contacts), ``person`` (Zoho Contacts as contact persons of the customer when Accounts are the customers),
``item``,
``account`` (the chart of accounts), ``invoice``, and ``deal`` (a won deal and the Xero invoice made from it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from portal.sync import mapping_defaults as defaults
from portal.sync.mapping import get_path
from portal.sync.settings import Direction, SyncSettings


@dataclass(frozen=True)
class EntitySpec:
    name: str
    zoho_module: str
    xero_module: str
    pair: str
    zoho_name: tuple[str, ...]  # Zoho fields joined for the record's display name
    xero_name: str
    xero_code: str | None = None  # Xero's human key, kept on the link (item Code, invoice number)
    xero_match: tuple[
        str, ...
    ] = ()  # Xero fields that find a counterpart of a Zoho record (from the mapped payload)
    zoho_match: tuple[str, ...] = ()  # Zoho fields that find a counterpart of a Xero record
    x2z_module: str | None = None  # the row of the Xero -> Zoho tab that governs this entity
    depends: tuple[str, ...] = ()

    def zoho_display(self, record: Mapping[str, Any]) -> str:
        return " ".join(str(get_path(record, f)) for f in self.zoho_name if get_path(record, f)) or str(
            record.get("id", "")
        )

    def xero_display(self, record: Mapping[str, Any]) -> str:
        return str(get_path(record, self.xero_name) or "")


def entity_specs(settings: SyncSettings) -> dict[str, EntitySpec]:
    customer_zoho = settings.customer_module
    if customer_zoho == "Accounts":
        customer = EntitySpec(
            "customer",
            "Accounts",
            "Contacts",
            defaults.CUSTOMERS_FROM_ACCOUNTS,
            ("Account_Name",),
            "Name",
            xero_match=("ContactNumber", "AccountNumber", "Name"),
            zoho_match=("Account_Name", "Account_Number"),
            x2z_module="Contacts",
        )
    else:
        customer = EntitySpec(
            "customer",
            "Contacts",
            "Contacts",
            defaults.CUSTOMERS_FROM_CONTACTS,
            ("First_Name", "Last_Name"),
            "Name",
            xero_match=("ContactNumber", "EmailAddress", "Name"),
            zoho_match=("Email",),
            x2z_module="Contacts",
        )
    specs = [
        customer,
        EntitySpec(
            "person",
            "Contacts",
            "ContactPersons",
            defaults.CONTACT_PERSONS,
            ("First_Name", "Last_Name"),
            "EmailAddress",
            depends=("customer",),
        ),
        EntitySpec(
            "item",
            "Products",
            "Items",
            defaults.PRODUCTS,
            ("Product_Name",),
            "Name",
            xero_code="Code",
            xero_match=("Code",),
            zoho_match=("Product_Code",),
            x2z_module="Items",
        ),
        EntitySpec(
            "account",
            "Xero_Accounts",
            "Accounts",
            defaults.CHART,
            ("Name",),
            "Name",
            xero_code="Code",
            xero_match=("Code", "Name"),
            zoho_match=("Account_Code", "Name"),
            x2z_module="Accounts",
        ),
        EntitySpec(
            "invoice",
            "Invoices",
            "Invoices",
            defaults.INVOICES,
            ("Subject",),
            "InvoiceNumber",
            xero_code="InvoiceNumber",
            xero_match=("InvoiceNumber",),
            zoho_match=("Invoice_Number",),
            x2z_module="Invoices",
            depends=("customer", "item"),
        ),
        EntitySpec(
            "deal",
            "Deals",
            "Invoices",
            defaults.DEALS,
            ("Deal_Name",),
            "InvoiceNumber",
            xero_code="InvoiceNumber",
            depends=("customer", "item"),
        ),
    ]
    return {spec.name: spec for spec in specs}


def entity_for(settings: SyncSettings, direction: Direction, module: str) -> str | None:
    """The entity a module's records sync as in a direction; None when this module is not synced that way."""
    if direction is Direction.ZOHO_TO_XERO:
        if module == "Accounts":
            return "customer" if settings.customer_module == "Accounts" else None
        if module == "Contacts":
            return "customer" if settings.customer_module == "Contacts" else "person"
        return {"Products": "item", "Xero_Accounts": "account", "Invoices": "invoice", "Deals": "deal"}.get(
            module
        )
    return {
        "Contacts": "customer",
        "Items": "item",
        "Accounts": "account",
        "Invoices": "invoice",
        "Payments": "payments",
    }.get(module)


def module_for(settings: SyncSettings, direction: Direction, entity: str) -> str:
    spec = entity_specs(settings)[entity]
    if direction is Direction.ZOHO_TO_XERO:
        return spec.zoho_module
    return spec.x2z_module or spec.xero_module


def with_dependencies(settings: SyncSettings, direction: Direction, modules: Iterable[str]) -> list[str]:
    """The modules a run must cover, dependencies first: choosing Invoices brings the customer module and
    Products (Items) along, Payments come after Invoices."""
    chosen = list(dict.fromkeys(modules))
    specs = entity_specs(settings)
    wanted: list[str] = []
    for module in chosen:
        entity = entity_for(settings, direction, module)
        if entity in specs:
            for dependency in specs[entity].depends:
                wanted.append(module_for(settings, direction, dependency))
        wanted.append(module)
    order = (
        ["Accounts", "Contacts", "Products", "Xero_Accounts", "Invoices", "Deals"]
        if direction is Direction.ZOHO_TO_XERO
        else ["Accounts", "Contacts", "Items", "Invoices", "Payments"]
    )
    if direction is Direction.ZOHO_TO_XERO and settings.customer_module == "Contacts":
        order = ["Contacts", "Accounts", *order[2:]]
    unique = list(dict.fromkeys(wanted))
    return sorted(unique, key=lambda m: order.index(m) if m in order else len(order))
