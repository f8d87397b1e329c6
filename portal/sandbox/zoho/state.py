"""The Zoho sandbox's tables, its orgs (with users, edition, customisations) and the per-org metadata
(modules and fields with their ids) that the API, the editor and validation share."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from portal.sandbox.core.store import Store
from portal.sandbox.zoho import catalog
from portal.sandbox.zoho.catalog import FieldDef, ModuleDef

SCHEMA = """
CREATE TABLE IF NOT EXISTS zoho_org (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    data TEXT NOT NULL,
    next_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS zoho_record (
    id INTEGER PRIMARY KEY,
    org_id TEXT NOT NULL,
    module TEXT NOT NULL,
    display TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL,
    created_at REAL NOT NULL,
    modified_at REAL NOT NULL,
    created_by TEXT NOT NULL,
    modified_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_zoho_record_module ON zoho_record (org_id, module, id);
CREATE INDEX IF NOT EXISTS ix_zoho_record_modified ON zoho_record (org_id, module, modified_at, id);
CREATE INDEX IF NOT EXISTS ix_zoho_record_created ON zoho_record (org_id, module, created_at, id);
CREATE TABLE IF NOT EXISTS zoho_unique (
    org_id TEXT NOT NULL,
    module TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    PRIMARY KEY (org_id, module, field, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_zoho_unique_record ON zoho_unique (record_id);
CREATE TABLE IF NOT EXISTS zoho_relation (
    org_id TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    related_module TEXT NOT NULL,
    related_id INTEGER NOT NULL,
    linked_at REAL NOT NULL,
    PRIMARY KEY (record_id, related_module, related_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_zoho_relation_related ON zoho_relation (related_id);
CREATE TABLE IF NOT EXISTS zoho_deleted (
    id INTEGER PRIMARY KEY,
    org_id TEXT NOT NULL,
    module TEXT NOT NULL,
    display TEXT NOT NULL,
    type TEXT NOT NULL,
    deleted_at REAL NOT NULL,
    deleted_by TEXT NOT NULL,
    created_by TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_zoho_deleted_module ON zoho_deleted (org_id, module, deleted_at);
CREATE TABLE IF NOT EXISTS zoho_grant (
    code TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    dc TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    access_type TEXT NOT NULL,
    created_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS zoho_token (
    token TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                -- refresh or access
    parent TEXT,                       -- the refresh token an access token was minted from
    client_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    dc TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_zoho_token_parent ON zoho_token (parent, created_at);
CREATE INDEX IF NOT EXISTS ix_zoho_token_user ON zoho_token (user_id, client_id, kind, created_at);
CREATE TABLE IF NOT EXISTS zoho_page_token (
    token TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    bound TEXT NOT NULL,
    next_offset INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS zoho_channel (
    org_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    data TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (org_id, channel_id)
);
CREATE TABLE IF NOT EXISTS zoho_bulk_job (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    data TEXT NOT NULL,
    result BLOB,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS zoho_credit (
    org_id TEXT NOT NULL,
    minute INTEGER NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (org_id, minute)
) WITHOUT ROWID;
"""

TABLES = ("zoho_org", "zoho_record", "zoho_unique", "zoho_relation", "zoho_deleted", "zoho_grant", "zoho_token",
          "zoho_page_token", "zoho_channel", "zoho_bulk_job", "zoho_credit")

SETTINGS_KEY = "zoho:settings"
DEFAULT_SETTINGS: dict[str, float] = {
    # Zoho: newly written records may not be searchable yet (FACTS.md §3, search); 0 switches the lag off.
    "search_index_lag_seconds": 2.0,
    # Zoho: a grant code lives about 2 minutes; at most 10 codes per client per 10 minutes (FACTS.md §1).
    "grant_code_seconds": 120.0,
    "codes_per_10_minutes": 10,
    # Zoho: token limits (FACTS.md §1); other pages give other numbers, so they are settings.
    "access_token_seconds": 3600.0,
    "access_tokens_per_refresh_per_10_minutes": 10,
    "active_access_tokens_per_refresh": 15,
    "refresh_tokens_per_user": 20,
    # How long a Bulk Read job takes before it is COMPLETED (sandbox seconds), and downloads per minute (§7).
    "bulk_read_seconds": 5.0,
    "bulk_downloads_per_minute": 10,
}

SEQ_BASE = 10**12


def zid(prefix: int, number: int) -> str:
    """A 19-digit Zoho id: the org's prefix followed by a 12-digit sequence (e.g. 4150868000000225013)."""
    return str(prefix * SEQ_BASE + number)


@dataclass
class Org:
    id: str
    prefix: int
    dc: str
    company_name: str
    time_zone: str
    currency: str
    country_code: str
    edition: str
    users: list[dict[str, Any]]
    user_licences: int = 10
    credits_per_day: int | None = None
    latency_ms: float = 0.0
    send_to_xero_url: str = ""
    custom_fields: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    custom_modules: list[str] = field(default_factory=list)
    workflow_webhooks: list[dict[str, Any]] = field(default_factory=list)
    meta_version: int = 1
    meta_seq: int = 900_000
    meta_modified_at: float = 0.0

    @property
    def zgid(self) -> str:
        return str(self.prefix)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.time_zone)

    @property
    def current_user(self) -> dict[str, Any]:
        return self.users[0]

    def user(self, user_id: str) -> dict[str, Any] | None:
        return next((user for user in self.users if user["id"] == user_id), None)

    def edition_limits(self) -> catalog.Edition:
        return catalog.EDITIONS[self.edition]

    def daily_credits(self) -> int | None:
        """The day's credit cap: the edition's allowance, bounded by its maximum (FACTS.md §5)."""
        if self.credits_per_day is not None:
            return self.credits_per_day
        edition = self.edition_limits()
        allowance = edition.credits_base + edition.credits_per_user * self.user_licences
        return allowance if edition.credits_max is None else min(allowance, edition.credits_max)

    def format_time(self, epoch: float) -> str:
        """Zoho: datetimes are ISO-8601 with the offset of the CRM user's time zone (FACTS.md §4)."""
        return datetime.fromtimestamp(int(epoch), self.zone).isoformat()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_zones: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    zone = _zones.get(name)
    if zone is None:
        zone = _zones[name] = ZoneInfo(name)
    return zone


class Metadata:
    """The modules and fields of one org, with their ids: the standard catalogue plus the org's customisations."""

    def __init__(self, org: Org) -> None:
        modules: list[ModuleDef] = list(catalog.STANDARD_MODULES)
        if "Xero_Accounts" in org.custom_modules:
            modules.append(catalog.XERO_ACCOUNTS)
        self.modules: dict[str, ModuleDef] = {}
        for position, module in enumerate(modules):
            base = 2_000 + position * 1_000 if module.generated_type != "custom" else 3_000_000 + position * 1_000
            fields = [replace_id(f, zid(org.prefix, base + 100 + index)) for index, f in enumerate(module.fields)]
            for custom in org.custom_fields.get(module.api_name, []):
                fields.append(field_from_json(custom))
            self.modules[module.api_name] = module.with_fields(
                tuple(fields), id=zid(org.prefix, base), sequence=position + 1)
        self._by_lower = {name.lower(): name for name in self.modules}

    def module(self, name: str, include_subforms: bool = False) -> ModuleDef | None:
        api_name = self._by_lower.get(name.lower())
        if api_name is None:
            return None
        module = self.modules[api_name]
        if module.is_subform and not include_subforms:
            return None
        return module

    def api_modules(self) -> list[ModuleDef]:
        return [module for module in self.modules.values() if not module.is_subform]


def replace_id(field_def: FieldDef, new_id: str) -> FieldDef:
    from dataclasses import replace

    return replace(field_def, id=new_id)


def field_from_json(data: dict[str, Any]) -> FieldDef:
    values = dict(data)
    values["picklist"] = tuple(values.get("picklist", ()))
    return FieldDef(**values)


def field_to_json(field_def: FieldDef) -> dict[str, Any]:
    data = asdict(field_def)
    data["picklist"] = list(field_def.picklist)
    return data


class Orgs:
    """Orgs live in their table as JSON; their metadata is cached per org and version (every call reads it)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._metadata: dict[tuple[str, int], Metadata] = {}

    def all(self) -> list[Org]:
        rows = self.store.query("SELECT data FROM zoho_org ORDER BY position")
        return [Org(**json.loads(row["data"])) for row in rows]

    def get(self, org_id: str) -> Org | None:
        """A fresh copy on every call: callers change orgs and save them, or drop the change on an error."""
        row = self.store.query_one("SELECT data FROM zoho_org WHERE id = ?", (org_id,))
        return Org(**json.loads(row["data"])) if row is not None else None

    def add(self, org: Org, position: int) -> None:
        with self.store.transaction() as connection:
            connection.execute("INSERT INTO zoho_org (id, position, data, next_seq) VALUES (?, ?, ?, ?)",
                               (org.id, position, json.dumps(org.to_json()), 1_000_000))

    def save(self, org: Org, metadata_changed: bool = False) -> None:
        if metadata_changed:
            org.meta_version += 1
        with self.store.transaction() as connection:
            connection.execute("UPDATE zoho_org SET data = ? WHERE id = ?", (json.dumps(org.to_json()), org.id))

    def metadata(self, org: Org) -> Metadata:
        key = (org.id, org.meta_version)
        metadata = self._metadata.get(key)
        if metadata is None:
            metadata = Metadata(org)
            with self._lock:
                self._metadata[key] = metadata
        return metadata

    def allocate_ids(self, connection: Any, org: Org, count: int) -> list[int]:
        """Reserve ``count`` record ids inside the caller's write transaction."""
        row = connection.execute(
            "UPDATE zoho_org SET next_seq = next_seq + ? WHERE id = ? RETURNING next_seq", (count, org.id)
        ).fetchone()
        end = int(row[0])
        base = org.prefix * SEQ_BASE
        return [base + number for number in range(end - count, end)]

    def new_ids(self, org: Org, count: int) -> list[int]:
        with self.store.transaction() as connection:
            return self.allocate_ids(connection, org, count)

    def forget(self) -> None:
        with self._lock:
            self._metadata.clear()


def load_settings(store: Store) -> dict[str, float]:
    saved = store.get_json(SETTINGS_KEY) or {}
    return {**DEFAULT_SETTINGS, **saved}
