"""The Xero emulator's tables in the sandbox database.

Each record is kept as the JSON Xero answers with (``data``, dates already in ``/Date()/`` form) next to the
columns that ``where``, ``order``, paging, uniqueness and reports need. Text columns compare case-insensitively, as
Xero's (SQL Server) filters do.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS xero_org (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    daily_limit INTEGER NOT NULL,
    offline INTEGER NOT NULL DEFAULT 0,
    period_lock_ms INTEGER,
    end_of_year_lock_ms INTEGER,
    counters TEXT NOT NULL DEFAULT '{}',      -- next generated document numbers (not part of the API answer)
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS xero_account (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    code TEXT COLLATE NOCASE,
    name TEXT NOT NULL COLLATE NOCASE,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_xero_account_org ON xero_account (org_id, code);
CREATE TABLE IF NOT EXISTS xero_taxrate (
    org_id TEXT NOT NULL,
    tax_type TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL COLLATE NOCASE,
    status TEXT NOT NULL,
    rate REAL NOT NULL,
    applies_to TEXT NOT NULL,                 -- sales, purchases or both: which documents may use it
    position INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (org_id, tax_type)
);
CREATE TABLE IF NOT EXISTS xero_currency (
    org_id TEXT NOT NULL,
    code TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (org_id, code)
);
CREATE TABLE IF NOT EXISTS xero_contact (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    first_name TEXT COLLATE NOCASE,
    last_name TEXT COLLATE NOCASE,
    email TEXT COLLATE NOCASE,
    contact_number TEXT COLLATE NOCASE,
    account_number TEXT COLLATE NOCASE,
    status TEXT NOT NULL,
    is_customer INTEGER NOT NULL DEFAULT 0,
    is_supplier INTEGER NOT NULL DEFAULT 0,
    updated_ms INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_xero_contact_name ON xero_contact (org_id, name, id);
CREATE INDEX IF NOT EXISTS ix_xero_contact_updated ON xero_contact (org_id, updated_ms);
CREATE INDEX IF NOT EXISTS ix_xero_contact_number ON xero_contact (org_id, contact_number);
CREATE INDEX IF NOT EXISTS ix_xero_contact_email ON xero_contact (org_id, email);
-- Xero: the contact name must be unique across all active contacts (FACTS.md §4). Being narrow and unique, this
-- index also serves the default listing (active contacts by name): its pages and its count.
CREATE UNIQUE INDEX IF NOT EXISTS ux_xero_contact_active_name ON xero_contact (org_id, name)
    WHERE status = 'ACTIVE';
CREATE TABLE IF NOT EXISTS xero_item (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    code TEXT NOT NULL COLLATE NOCASE,
    name TEXT COLLATE NOCASE,
    updated_ms INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_xero_item_code ON xero_item (org_id, code);
CREATE INDEX IF NOT EXISTS ix_xero_item_updated ON xero_item (org_id, updated_ms);
CREATE TABLE IF NOT EXISTS xero_invoice (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    number TEXT COLLATE NOCASE,
    reference TEXT COLLATE NOCASE,
    contact_id TEXT NOT NULL,
    date_ms INTEGER NOT NULL,
    due_ms INTEGER,
    updated_ms INTEGER NOT NULL,
    total REAL NOT NULL,
    amount_due REAL NOT NULL,
    amount_paid REAL NOT NULL,
    currency TEXT NOT NULL,
    created_by TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_xero_invoice_date ON xero_invoice (org_id, date_ms);
CREATE INDEX IF NOT EXISTS ix_xero_invoice_updated ON xero_invoice (org_id, updated_ms);
CREATE INDEX IF NOT EXISTS ix_xero_invoice_contact ON xero_invoice (org_id, contact_id);
CREATE INDEX IF NOT EXISTS ix_xero_invoice_number ON xero_invoice (org_id, number);
CREATE TABLE IF NOT EXISTS xero_payment (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    invoice_id TEXT,
    credit_note_id TEXT,
    account_id TEXT NOT NULL,
    status TEXT NOT NULL,
    payment_type TEXT NOT NULL,
    date_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    amount REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_xero_payment_date ON xero_payment (org_id, date_ms);
CREATE INDEX IF NOT EXISTS ix_xero_payment_updated ON xero_payment (org_id, updated_ms);
CREATE INDEX IF NOT EXISTS ix_xero_payment_invoice ON xero_payment (invoice_id);
CREATE TABLE IF NOT EXISTS xero_creditnote (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    number TEXT COLLATE NOCASE,
    reference TEXT COLLATE NOCASE,
    contact_id TEXT NOT NULL,
    date_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    total REAL NOT NULL,
    remaining REAL NOT NULL,
    currency TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_xero_creditnote_date ON xero_creditnote (org_id, date_ms);
CREATE INDEX IF NOT EXISTS ix_xero_creditnote_updated ON xero_creditnote (org_id, updated_ms);

-- identity: authorisation codes, tokens and connections (the OAuth state survives restarts)
CREATE TABLE IF NOT EXISTS xero_auth_code (
    code TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    auth_event_id TEXT NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    nonce TEXT,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS xero_grant (
    auth_event_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS xero_refresh_token (
    token TEXT PRIMARY KEY,
    auth_event_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    issued_at REAL NOT NULL,
    used_at REAL,
    expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_xero_refresh_grant ON xero_refresh_token (auth_event_id);
CREATE TABLE IF NOT EXISTS xero_access_token (
    jti TEXT PRIMARY KEY,
    auth_event_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_xero_access_grant ON xero_access_token (auth_event_id);
CREATE TABLE IF NOT EXISTS xero_connection (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    auth_event_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    UNIQUE (client_id, user_id, tenant_id)
);

-- Idempotency-Key: the first response to a key, replayed for the same request (FACTS.md §3)
CREATE TABLE IF NOT EXISTS xero_idempotency (
    org_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (org_id, client_id, key)
);

-- webhook events waiting to be batched into a delivery
CREATE TABLE IF NOT EXISTS xero_event (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    category TEXT NOT NULL,
    event_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource_url TEXT NOT NULL,
    event_ms INTEGER NOT NULL,
    batched INTEGER NOT NULL DEFAULT 0
);
"""

RESOURCE_TABLES = ("xero_account", "xero_taxrate", "xero_currency", "xero_contact", "xero_item", "xero_invoice",
                   "xero_payment", "xero_creditnote")
ALL_TABLES = ("xero_org", *RESOURCE_TABLES, "xero_auth_code", "xero_grant", "xero_refresh_token",
              "xero_access_token", "xero_connection", "xero_idempotency", "xero_event")


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    return json.loads(text)


def record(row: sqlite3.Row | None) -> dict[str, Any] | None:
    return loads(row["data"]) if row is not None else None


def upsert(connection: sqlite3.Connection, table: str, columns: dict[str, Any], key: tuple[str, ...] = ("id",)) -> None:
    """Insert or update by primary key. Not ``INSERT OR REPLACE``: that would silently delete a row that collides on
    another unique index (an active contact's name), where an error is what must happen."""
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in key)
    connection.execute(
        f"INSERT INTO {table} ({names}) VALUES ({marks}) "  # noqa: S608 - table and column names are fixed
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
        tuple(columns.values()),
    )
