"""What every resource of an organisation's books shares: the organisation, the write context (one database
transaction, the clock, the webhook events it raises), money arithmetic and the settings lookups.

Every change, from the API, the record editor or the seeder, goes through a :class:`WriteContext`, so that
``UpdatedDateUTC`` and the webhook events are the same whichever way a record was saved.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from portal.sandbox.xero import db
from portal.sandbox.xero.dates import day_ms
from portal.sandbox.xero.errors import Invalid

CENT = Decimal("0.01")
UNIT4 = Decimal("0.0001")
ZERO = Decimal("0")

# Xero's Windows-style zone names -> the IANA zones of the demo organisations
ORG_TIMEZONES = {"NEWZEALANDSTANDARDTIME": "Pacific/Auckland", "GMTSTANDARDTIME": "Europe/London",
                 "AUSEASTERNSTANDARDTIME": "Australia/Sydney"}

EventSink = Callable[[sqlite3.Connection, str, str, str, str], None]  # (conn, tenant, category, type, resource)


@dataclass
class Org:
    id: str
    name: str
    country: str
    daily_limit: int
    offline: bool
    period_lock_ms: int | None
    end_of_year_lock_ms: int | None
    data: dict[str, Any]

    @property
    def base_currency(self) -> str:
        return str(self.data["BaseCurrency"])

    def today_ms(self, now_ms: int) -> int:
        """Midnight (as Xero stores dates) of the organisation's own today: "a missing Date defaults to today in
        the organisation's timezone" (FACTS.md §3)."""
        zone: tzinfo = UTC
        with contextlib.suppress(ZoneInfoNotFoundError):  # no time zone database on this machine: UTC
            zone = ZoneInfo(ORG_TIMEZONES.get(str(self.data.get("Timezone")), "UTC"))
        return day_ms(datetime.fromtimestamp(now_ms / 1000, zone).date())

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Org:
        return cls(id=row["id"], name=row["name"], country=row["country"], daily_limit=row["daily_limit"],
                   offline=bool(row["offline"]), period_lock_ms=row["period_lock_ms"],
                   end_of_year_lock_ms=row["end_of_year_lock_ms"], data=db.loads(row["data"]))


@dataclass
class TaxRate:
    tax_type: str
    name: str
    rate: Decimal  # percent, e.g. 15
    status: str
    applies_to: str  # "sales", "purchases" or "both"


@dataclass
class Account:
    id: str
    code: str | None
    name: str
    type: str
    status: str
    tax_type: str | None
    system: str | None
    payments_enabled: bool
    data: dict[str, Any]


@dataclass
class WriteContext:
    """One write: a database transaction in one organisation at one sandbox instant."""

    conn: sqlite3.Connection
    org: Org
    now_ms: int
    client_id: str | None = None
    emit: EventSink | None = None
    unitdp: int = 2
    written: int = 0
    # ids come from here so that the demo data and seeded volumes are the same on every run
    ids: Callable[[], str] = field(default=lambda: str(uuid.uuid4()), repr=False)
    items_by_code: dict[str, dict[str, Any]] | None = field(default=None, repr=False)
    _tax_rates: dict[str, TaxRate] | None = field(default=None, repr=False)
    _accounts: dict[str, Account] | None = field(default=None, repr=False)

    def new_id(self) -> str:
        return self.ids()

    def event(self, category: str, event_type: str, resource_id: str) -> None:
        if self.emit is not None:
            self.emit(self.conn, self.org.id, category, event_type, resource_id)

    def tax_rates(self) -> dict[str, TaxRate]:
        if self._tax_rates is None:
            rows = self.conn.execute("SELECT data, applies_to FROM xero_taxrate WHERE org_id = ?",
                                     (self.org.id,)).fetchall()
            self._tax_rates = {}
            for row in rows:
                data = db.loads(row["data"])
                self._tax_rates[data["TaxType"].upper()] = tax_rate_of(data, row["applies_to"])
        return self._tax_rates

    def accounts(self) -> dict[str, Account]:
        """Accounts by upper-cased code and by id."""
        if self._accounts is None:
            rows = self.conn.execute("SELECT data FROM xero_account WHERE org_id = ?", (self.org.id,)).fetchall()
            self._accounts = {}
            for row in rows:
                account = account_of(db.loads(row["data"]))
                if account.code:
                    self._accounts[account.code.upper()] = account
                self._accounts[account.id] = account
        return self._accounts

    def forget_settings(self) -> None:
        self._tax_rates = None
        self._accounts = None


def tax_rate_of(data: dict[str, Any], applies_to: str) -> TaxRate:
    return TaxRate(tax_type=data["TaxType"], name=data["Name"], rate=Decimal(str(data["EffectiveRate"])),
                   status=data["Status"], applies_to=applies_to)


def account_of(data: dict[str, Any]) -> Account:
    return Account(id=data["AccountID"], code=data.get("Code"), name=data["Name"], type=data["Type"],
                   status=data["Status"], tax_type=data.get("TaxType"), system=data.get("SystemAccount") or None,
                   payments_enabled=bool(data.get("EnablePaymentsToAccount")), data=data)


def load_org(conn: sqlite3.Connection, org_id: str) -> Org | None:
    row = conn.execute("SELECT * FROM xero_org WHERE id = ?", (org_id,)).fetchone()
    return Org.from_row(row) if row else None


def all_orgs(conn: sqlite3.Connection) -> list[Org]:
    return [Org.from_row(row) for row in conn.execute("SELECT * FROM xero_org ORDER BY position")]


def is_guid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def decimal_of(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise Invalid(f"{name} must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Invalid(f"{name} must be a number") from None
    if not number.is_finite():
        raise Invalid(f"{name} must be a number")
    return number


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> float:
    return float(cents(value))


def text_of(element: dict[str, Any], name: str, max_length: int | None = None) -> str | None:
    value = element.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        else:
            raise Invalid(f"{name} must be text")
    if max_length is not None and len(value) > max_length:
        raise Invalid(f"{name} must not be more than {max_length} characters long")
    return value


def bool_of(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Invalid(f"{name} must be true or false")


def echo(element: object) -> dict[str, Any]:
    """The element as the client sent it, for ``Elements`` and ``summarizeErrors=false`` answers."""
    return dict(element) if isinstance(element, dict) else {}
