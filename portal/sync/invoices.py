"""Invoices: line items both ways, tax rates, Xero's rounding, and the guardrails of accounting.

Xero computes tax per line, rounds it to 2 dp, then sums (FACTS.md §4 Rounding): :func:`xero_totals` does
exactly that for Exclusive and Inclusive amounts, so the engine knows before writing what Xero will show and
reports any cent that differs from the CRM's Grand_Total instead of hiding it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from portal.sync.mapping import Rule, canonical, get_path, set_path, to_decimal
from portal.sync.messages import N_, Msg, msg
from portal.sync.settings import TaxTreatment

CENT = Decimal("0.01")
ZERO = Decimal(0)
# Xero: an invoice in these statuses can no longer be edited (FACTS.md §4 Invoices).
LOCKED_STATUSES = {"PAID", "VOIDED", "DELETED"}


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class UnresolvedReference(LookupError):
    def __init__(self, entity: str, source_id: str) -> None:
        super().__init__(f"{entity} {source_id} is not linked")
        self.entity = entity
        self.source_id = source_id


class RecordRefused(ValueError):
    """The record cannot be mapped as it is (e.g. no Xero tax rate for a Zoho tax): final, with a clear
    message."""

    def __init__(self, message: Msg) -> None:
        super().__init__(message.render())
        self.msg = message


# --- tax rates ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxRate:
    tax_type: str
    name: str
    rate: Decimal


class TaxTable:
    """The organisation's sales tax rates, looked up by percentage (Zoho lines name a tax and its
    percentage)."""

    def __init__(self, rates: Sequence[Mapping[str, Any]], default_tax_type: str = "") -> None:
        self.rates = [
            TaxRate(
                str(r["TaxType"]),
                str(r.get("Name", r["TaxType"])),
                to_decimal(r.get("EffectiveRate")) or ZERO,
            )
            for r in rates
            if r.get("Status", "ACTIVE") == "ACTIVE" and r.get("CanApplyToRevenue", True)
        ]
        self.by_type = {r.tax_type: r for r in self.rates}
        self.default = default_tax_type

    def for_percentage(self, percentage: Decimal, name: str = "") -> TaxRate:
        matches = [r for r in self.rates if r.rate == percentage]
        if not matches:
            raise RecordRefused(
                msg(
                    N_("Xero has no sales tax rate of %(rate)s%% (the Zoho tax %(name)s)."),
                    rate=str(percentage),
                    name=name or "-",
                )
            )
        for rate in matches:
            if rate.tax_type == self.default:
                return rate
        named = [r for r in matches if r.name.lower() == name.lower()]
        return (named or sorted(matches, key=lambda r: r.tax_type))[0]

    def rate_of(self, tax_type: str | None) -> Decimal:
        rate = self.by_type.get(tax_type or "")
        return rate.rate if rate else ZERO


# --- lines -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineContext:
    """What line translation needs from the engine: link lookups, tax rates and the tenant's defaults."""

    item_code_for: Callable[[str], str]  # Zoho product id -> Xero item Code (raises UnresolvedReference)
    product_id_for: Callable[[str], str]  # Xero item Code -> Zoho product id (raises UnresolvedReference)
    taxes: TaxTable
    treatment: TaxTreatment
    sales_account: str
    zoho_tax_for: Callable[[Decimal], str | None] = lambda rate: None  # percentage -> Zoho tax name


def _line_tax_percentage(line: Mapping[str, Any]) -> tuple[Decimal, str]:
    taxes = line.get("Line_Tax") or []
    total = ZERO
    names = []
    for tax in taxes:
        total += to_decimal(tax.get("percentage")) or ZERO
        names.append(str(tax.get("name", "")))
    return total, "+".join(n for n in names if n)


def _discount_fields(gross: Decimal, discount: Decimal) -> dict[str, Any]:
    """Xero takes a DiscountRate (percent) or a DiscountAmount; a rate only when it gives back the exact
    amount."""
    if discount == ZERO or gross == ZERO:
        return {}
    rate = (discount / gross * 100).quantize(CENT)
    if round2(gross * (100 - rate) / 100) == gross - discount:
        return {"DiscountRate": canonical(rate, "number")}
    return {"DiscountAmount": canonical(discount, "number")}


def _product(line: Mapping[str, Any]) -> tuple[str | None, str | None]:
    product = line.get("Product_Name")
    if isinstance(product, Mapping):
        return (str(product["id"]) if product.get("id") else None), product.get("name")
    return None, None


def zoho_lines_to_xero(
    lines: Sequence[Mapping[str, Any]], rules: Sequence[Rule], ctx: LineContext
) -> list[dict[str, Any]]:
    result = []
    for line in lines:
        xero_line: dict[str, Any] = {}
        for rule_ in rules:
            if not rule_.arrow.to_xero or not rule_.zoho:
                continue
            if rule_.kind == "ref":
                source_id = get_path(line, rule_.zoho[0])
                if source_id:
                    set_path(xero_line, rule_.xero, ctx.item_code_for(str(source_id)))
                continue
            value = rule_.forward(rule_.zoho_raw(line))
            if value is not None:
                set_path(xero_line, rule_.xero, value)
        _, product_name = _product(line)
        if not xero_line.get("Description") and product_name:
            xero_line["Description"] = product_name
        quantity = to_decimal(line.get("Quantity")) or Decimal(1)
        price = to_decimal(line.get("List_Price")) or ZERO
        xero_line.setdefault("Quantity", canonical(quantity, "number"))
        xero_line.update(_discount_fields(quantity * price, to_decimal(line.get("Discount")) or ZERO))
        xero_line["AccountCode"] = ctx.sales_account or None
        if ctx.treatment is TaxTreatment.NO_TAX:
            xero_line["TaxType"] = "NONE"
        elif line.get("Line_Tax") or not ctx.taxes.default:
            percentage, name = _line_tax_percentage(line)
            xero_line["TaxType"] = ctx.taxes.for_percentage(percentage, name).tax_type
        else:
            xero_line["TaxType"] = ctx.taxes.default
        result.append(canonical(xero_line))
    return result


def xero_lines_view(lines: Sequence[Mapping[str, Any]] | None, rules: Sequence[Rule]) -> list[Any]:
    """Xero lines reduced to what the engine writes (LineItemID, LineAmount, TaxAmount are Xero's own)."""
    keys = [r.xero for r in rules if r.xero] + ["TaxType", "AccountCode"]
    view = []
    for line in lines or []:
        entry: dict[str, Any] = {}
        for key in keys:
            value = get_path(line, key)
            if value is not None:
                set_path(entry, key, value)
        rate = to_decimal(line.get("DiscountRate"))
        if rate:
            entry["DiscountRate"] = rate
        elif to_decimal(line.get("DiscountAmount")):
            entry["DiscountAmount"] = line.get("DiscountAmount")
        for key in ("Quantity", "UnitAmount", "DiscountRate", "DiscountAmount"):
            if key in entry:
                entry[key] = canonical(entry[key], "number")
        view.append(canonical(entry))
    return view


def zoho_lines_view(lines: Sequence[Mapping[str, Any]] | None, rules: Sequence[Rule]) -> list[Any]:
    view = []
    for line in lines or []:
        entry: dict[str, Any] = {r.key: r.zoho_raw(line) for r in rules if r.zoho}
        entry["Discount"] = canonical(line.get("Discount"), "number")
        entry["Line_Tax"] = [
            canonical(t.get("percentage"), "number") for t in line.get("Line_Tax") or []
        ] or None
        view.append(canonical(entry))
    return view


def deal_as_zoho_lines(deal: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A won deal's related products as invoice lines, or one line with the deal's amount when it has none."""
    products = deal.get("Products") or []
    if products:
        return [
            {
                "Product_Name": {"id": p.get("id"), "name": p.get("Product_Name")},
                "Description": p.get("Description") or p.get("Product_Name"),
                "Quantity": p.get("Quantity") or 1,
                "List_Price": p.get("Unit_Price"),
            }
            for p in products
        ]
    return [{"Description": deal.get("Deal_Name"), "Quantity": 1, "List_Price": deal.get("Amount") or 0}]


def xero_lines_to_zoho(
    lines: Sequence[Mapping[str, Any]], rules: Sequence[Rule], ctx: LineContext
) -> list[dict[str, Any]]:
    result = []
    for line in lines:
        if not line.get("ItemCode"):
            raise RecordRefused(msg(N_("A line has no item, and Zoho CRM needs a product on every line.")))
        zoho_line: dict[str, Any] = {}
        for rule_ in rules:
            if not rule_.arrow.to_zoho or len(rule_.zoho) != 1:
                continue
            if rule_.kind == "ref":
                code = get_path(line, rule_.xero)
                if code:
                    set_path(zoho_line, rule_.zoho[0], ctx.product_id_for(str(code)))
                continue
            value = rule_.backward(rule_.xero_raw(line))
            if value is not None:
                set_path(zoho_line, rule_.zoho[0], value)
        quantity = to_decimal(line.get("Quantity")) or Decimal(1)
        price = to_decimal(line.get("UnitAmount")) or ZERO
        rate = to_decimal(line.get("DiscountRate"))
        discount = (
            round2(quantity * price * rate / 100)
            if rate
            else (to_decimal(line.get("DiscountAmount")) or ZERO)
        )
        zoho_line["Discount"] = canonical(discount, "number")
        tax = ctx.taxes.by_type.get(str(line.get("TaxType") or ""))
        if tax is not None and tax.rate:
            # A Zoho line may only name one of the org's own taxes: pick it by percentage.
            zoho_tax = ctx.zoho_tax_for(tax.rate)
            if zoho_tax is None:
                raise RecordRefused(msg(
                    N_("Zoho CRM has no tax of %(rate)s%% for the Xero tax %(name)s: add it in Zoho CRM's tax "
                       "settings."), rate=str(tax.rate), name=tax.name))
            zoho_line["Line_Tax"] = [{"name": zoho_tax, "percentage": canonical(tax.rate, "number")}]
        result.append(canonical(zoho_line))
    return result


# --- totals ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal


def line_amount(line: Mapping[str, Any]) -> Decimal:
    quantity = to_decimal(line.get("Quantity")) or Decimal(1)
    unit = to_decimal(line.get("UnitAmount")) or ZERO
    rate = to_decimal(line.get("DiscountRate"))
    if rate:
        return round2(quantity * unit * (100 - rate) / 100)
    return round2(quantity * unit - (to_decimal(line.get("DiscountAmount")) or ZERO))


def xero_totals(lines: Sequence[Mapping[str, Any]], treatment: TaxTreatment, taxes: TaxTable) -> Totals:
    """What Xero will compute: LineAmount per line, tax per line rounded to the cent, then summed."""
    amounts = [line_amount(line) for line in lines]
    if treatment is TaxTreatment.NO_TAX:
        total = sum(amounts, ZERO)
        return Totals(total, ZERO, total)
    taxes_per_line = []
    for line, amount in zip(lines, amounts, strict=True):
        rate = taxes.rate_of(line.get("TaxType")) / 100
        if treatment is TaxTreatment.EXCLUSIVE:
            taxes_per_line.append(round2(amount * rate))
        else:
            taxes_per_line.append(round2(amount - amount / (1 + rate)))
    total_tax = sum(taxes_per_line, ZERO)
    if treatment is TaxTreatment.EXCLUSIVE:
        sub_total = sum(amounts, ZERO)
        return Totals(sub_total, total_tax, sub_total + total_tax)
    total = sum(amounts, ZERO)
    return Totals(total - total_tax, total_tax, total)


def unreconciled_difference(zoho_invoice: Mapping[str, Any], expected: Totals) -> Decimal:
    """The CRM's Grand_Total minus what Xero will show (0 when they agree or the CRM gives no total); the
    expected lines include the Adjustment line, so Zoho's adjustment is accounted for."""
    grand_total = to_decimal(zoho_invoice.get("Grand_Total"))
    if grand_total is None:
        return ZERO
    return round2(grand_total) - expected.total


def adjustment_line(zoho_invoice: Mapping[str, Any], sales_account: str) -> dict[str, Any] | None:
    """Zoho's invoice-level Adjustment has no Xero field: it becomes a line without tax, so totals still
    agree."""
    adjustment = to_decimal(zoho_invoice.get("Adjustment"))
    if not adjustment:
        return None
    line: dict[str, Any] = canonical(
        {
            "Description": "Adjustment",
            "Quantity": "1",
            "UnitAmount": canonical(adjustment, "number"),
            "TaxType": "NONE",
            "AccountCode": sales_account or None,
        }
    )
    return line


# --- guardrails --------------------------------------------------------------------------------------------


def lock_date(organisation: Mapping[str, Any]) -> date | None:
    dates = []
    for key in ("PeriodLockDate", "EndOfYearLockDate"):
        value = organisation.get(key)
        if value:
            dates.append(date.fromisoformat(str(value)[:10]))
    return max(dates) if dates else None


def edit_refusal(
    xero_invoice: Mapping[str, Any] | None, new_date: Any, organisation: Mapping[str, Any]
) -> tuple[str, Msg] | None:
    """Why Xero would refuse this write, said before trying (FACTS.md §4 Invoices, Lock dates)."""
    from portal.sync.messages import skip

    if xero_invoice is not None:
        status = str(xero_invoice.get("Status") or "")
        if (
            status in LOCKED_STATUSES
            or (to_decimal(xero_invoice.get("AmountPaid")) or ZERO) > 0
            or (to_decimal(xero_invoice.get("AmountCredited")) or ZERO) > 0
        ):
            return "invoice_locked", skip(
                "invoice_locked", status=status if status in LOCKED_STATUSES else "PARTIALLY PAID"
            )
    locked_until = lock_date(organisation)
    dates = [d for d in (new_date, (xero_invoice or {}).get("Date")) if d]
    if locked_until is not None:
        for value in dates:
            day = date.fromisoformat(str(value)[:10])
            if day <= locked_until:
                return "lock_date", skip(
                    "lock_date", date=day.isoformat(), lock_date=locked_until.isoformat()
                )
    return None
