"""Money formatted for the reader's locale, with the currency of the books it comes from."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_currency


def format_money(amount: Decimal | float | int | str | None, currency: str = "USD") -> str:
    if amount is None or amount == "":
        return ""
    return str(format_currency(Decimal(str(amount)), currency))
