"""Change notifications: watch channels (``/crm/v8/actions/watch``) and workflow-rule webhooks, delivered
through the core Outbox for every create, edit and delete made through the API or the record editor.

Zoho (FACTS.md §6): a channel expires at most a week ahead (1 hour when the expiry is missing or too far);
the callback is ``{"server_time", "query_params", "module", "resource_uri", "ids", "affected_fields",
"operation", "channel_id", "token"}`` and carries ids only.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.delivery import Outbox
from portal.sandbox.core.store import Store
from portal.sandbox.zoho.errors import ZohoError
from portal.sandbox.zoho.records import Change
from portal.sandbox.zoho.state import Metadata, Org
from portal.sandbox.zoho.values import text_of

WEEK = 7 * 24 * 3600
DEFAULT_EXPIRY = 3600
OPERATIONS = {"insert": "create", "update": "edit", "delete": "delete"}
EVENT = re.compile(r"^([A-Za-z0-9_]+)\.(create|edit|delete|all)$")
WORKFLOW_EVENTS = ("create", "edit", "create_or_edit", "delete")
MERGE_FIELD = re.compile(r"\$\{([^}]+)\}")


def _watch_error(code: str, message: str, status: int = 400, **details: Any) -> ZohoError:
    return ZohoError(status, code, message, details, wrapper="watch")


class Notifier:
    def __init__(self, store: Store, clock: SandboxClock, outbox: Outbox) -> None:
        self.store = store
        self.clock = clock
        self.outbox = outbox

    # --- channels --------------------------------------------------------------------------------------------

    def channels(self, org: Org, include_expired: bool = False) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT data FROM zoho_channel WHERE org_id = ? AND (? OR expires_at > ?) ORDER BY channel_id",
            (org.id, include_expired, self.clock.now()))
        return [json.loads(row["data"]) for row in rows]

    def _load(self, org: Org, channel_id: str) -> dict[str, Any] | None:
        row = self.store.query_one("SELECT data FROM zoho_channel WHERE org_id = ? AND channel_id = ?",
                                   (org.id, channel_id))
        return json.loads(row["data"]) if row else None

    def _save(self, org: Org, channel: dict[str, Any]) -> None:
        with self.store.transaction() as connection:
            connection.execute(
                "INSERT INTO zoho_channel (org_id, channel_id, data, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(org_id, channel_id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
                (org.id, str(channel["channel_id"]), json.dumps(channel), channel["expires_at"]))

    def watch(self, org: Org, metadata: Metadata, body: Any, mode: str, base_url: str) -> list[dict[str, Any]]:
        """Enable (POST), replace (PUT) or amend/remove events (PATCH) of channels; one result per item."""
        items = body.get("watch") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise _watch_error("MANDATORY_NOT_FOUND", "required field not found", api_name="watch")
        results = []
        for index, item in enumerate(items):
            path = f"$.watch[{index}]"
            if not isinstance(item, dict):
                raise _watch_error("INVALID_DATA", "invalid data", json_path=path)
            channel_id = self._channel_id(item, path)
            existing = self._load(org, channel_id)
            if mode == "patch" and existing is None:
                raise _watch_error("NOT_SUBSCRIBED", "channel is not subscribed", channel_id=channel_id)
            events = self._events(item, metadata, path, required=mode != "patch" or "events" in item)
            if mode == "patch" and item.get("_delete_events"):
                channel = dict(existing or {})
                channel["events"] = [event for event in channel.get("events", []) if event not in events]
                message = "Successfully removed the subscribe details"
            else:
                channel = self._channel(item, existing if mode == "patch" else None, channel_id, path)
                if mode == "post" and existing is not None:
                    events = list(dict.fromkeys([*existing.get("events", []), *events]))
                elif mode == "patch":
                    events = list(dict.fromkeys([*channel.get("events", []), *events]))
                channel["events"] = events
                message = ("Successfully subscribed for actions-watch of the given module" if mode == "post"
                           else "Successfully updated the subscribe details")
            self._save(org, channel)
            results.append({"code": "SUCCESS", "details": {"events": self._event_details(
                org, metadata, channel, base_url)}, "message": message, "status": "success"})
        return results

    def _channel_id(self, item: dict[str, Any], path: str) -> str:
        value = item.get("channel_id")
        if value is None:
            raise _watch_error("MANDATORY_NOT_FOUND", "required field not found", api_name="channel_id",
                               json_path=f"{path}.channel_id")
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            raise _watch_error("INVALID_DATA", "invalid data", api_name="channel_id", json_path=f"{path}.channel_id",
                               expected_data_type="long")
        return str(int(value))

    def _events(self, item: dict[str, Any], metadata: Metadata, path: str, required: bool) -> list[str]:
        events = item.get("events")
        if events is None and not required:
            return []
        if not isinstance(events, list) or not events:
            raise _watch_error("MANDATORY_NOT_FOUND", "required field not found", api_name="events",
                               json_path=f"{path}.events")
        normalised = []
        for position, event in enumerate(events):
            match = EVENT.match(event) if isinstance(event, str) else None
            module = metadata.module(match.group(1)) if match else None
            if match is None or module is None:
                raise _watch_error("INVALID_DATA", "invalid data", api_name="events",
                                   json_path=f"{path}.events[{position}]")
            normalised.append(f"{module.api_name}.{match.group(2)}")
        return normalised

    def _channel(self, item: dict[str, Any], existing: dict[str, Any] | None, channel_id: str,
                 path: str) -> dict[str, Any]:
        channel = dict(existing or {})
        channel["channel_id"] = int(channel_id)
        if "notify_url" in item or existing is None:
            url = item.get("notify_url")
            if url is None:
                raise _watch_error("MANDATORY_NOT_FOUND", "required field not found", api_name="notify_url",
                                   json_path=f"{path}.notify_url")
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
                raise _watch_error("INVALID_DATA", "invalid data", api_name="notify_url",
                                   json_path=f"{path}.notify_url")
            channel["notify_url"] = url
        if "token" in item or existing is None:
            token = item.get("token")
            # Zoho: the channel token is at most 50 characters (FACTS.md §6).
            if token is not None and (not isinstance(token, str) or len(token) > 50):
                raise _watch_error("INVALID_DATA", "invalid data", api_name="token", json_path=f"{path}.token",
                                   maximum_length="50")
            channel["token"] = token
        now = self.clock.now()
        if "channel_expiry" in item or existing is None:
            raw = item.get("channel_expiry")
            expires_at = now + DEFAULT_EXPIRY
            if raw is not None:
                try:
                    requested = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
                    if requested.tzinfo is None:
                        raise ValueError(raw)
                except ValueError:
                    raise _watch_error("INVALID_DATA", "invalid data", api_name="channel_expiry",
                                       json_path=f"{path}.channel_expiry", expected_data_type="datetime") from None
                if requested.timestamp() <= now:
                    raise _watch_error("INVALID_DATA", "invalid data", api_name="channel_expiry",
                                       json_path=f"{path}.channel_expiry")
                # Zoho: beyond a week ahead, the channel expires in an hour (FACTS.md §6).
                if requested.timestamp() <= now + WEEK:
                    expires_at = requested.timestamp()
            channel["expires_at"] = expires_at
        for flag in ("return_affected_field_values", "notify_on_related_action"):
            if flag in item or existing is None:
                channel[flag] = bool(item.get(flag, False))
        if "notification_condition" in item or existing is None:
            channel["notification_condition"] = item.get("notification_condition") or []
        return channel

    def _event_details(self, org: Org, metadata: Metadata, channel: dict[str, Any],
                       base_url: str) -> list[dict[str, Any]]:
        details = []
        for module_name in dict.fromkeys(event.split(".")[0] for event in channel.get("events", [])):
            module = metadata.modules[module_name]
            details.append({
                "channel_expiry": org.format_time(channel["expires_at"]),
                "resource_uri": f"{base_url}/crm/v8/{module_name}",
                "resource_id": module.id,
                "resource_name": module_name,
                "channel_id": str(channel["channel_id"]),
                "notification_condition": channel.get("notification_condition") or [],
            })
        return details

    def describe(self, org: Org, metadata: Metadata, channel: dict[str, Any], base_url: str) -> list[dict[str, Any]]:
        """GET /actions/watch: one entry per channel and module."""
        entries = []
        for module_name in dict.fromkeys(event.split(".")[0] for event in channel.get("events", [])):
            module = metadata.modules[module_name]
            entries.append({
                "channel_id": channel["channel_id"],
                "events": [event for event in channel["events"] if event.startswith(f"{module_name}.")],
                "notify_url": channel["notify_url"],
                "token": channel.get("token"),
                "fields": None,
                "notify_on_related_action": channel.get("notify_on_related_action", False),
                "return_affected_field_values": channel.get("return_affected_field_values", False),
                "resource_name": module_name,
                "channel_expiry": org.format_time(channel["expires_at"]),
                "resource_id": module.id,
                "resource_uri": f"{base_url}/crm/v8/{module_name}",
                "notification_condition": channel.get("notification_condition") or [],
            })
        return entries

    def unsubscribe(self, org: Org, metadata: Metadata, channel_ids: list[str], base_url: str) -> list[dict[str, Any]]:
        results = []
        for channel_id in channel_ids:
            channel = self._load(org, channel_id)
            if channel is None:
                raise _watch_error("NOT_SUBSCRIBED", "channel is not subscribed", channel_id=channel_id)
            with self.store.transaction() as connection:
                connection.execute("DELETE FROM zoho_channel WHERE org_id = ? AND channel_id = ?", (org.id, channel_id))
            results.append({"code": "SUCCESS", "details": {"events": self._event_details(
                org, metadata, channel, base_url)}, "message": "Successfully un-subscribed from actions-watch",
                "status": "success"})
        return results

    # --- delivery --------------------------------------------------------------------------------------------

    def dispatch(self, org: Org, metadata: Metadata, changes: list[Change], base_url: str,
                 run_workflows: bool = True) -> int:
        """Tell every live channel and workflow webhook about one call's changes; returns deliveries queued."""
        if not changes:
            return 0
        queued = 0
        grouped: dict[tuple[str, str], list[Change]] = defaultdict(list)
        for change in changes:
            grouped[(change.module, change.operation)].append(change)
        channels = self.channels(org)
        for (module, operation), batch in grouped.items():
            event = f"{module}.{OPERATIONS[operation]}"
            for channel in channels:
                events = channel.get("events", [])
                if event not in events and f"{module}.all" not in events:
                    continue
                self.outbox.enqueue("zoho", "notification", channel["notify_url"],
                                    json.dumps(self._payload(channel, module, operation, batch, base_url)).encode(),
                                    {"Content-Type": "application/json"})
                queued += 1
        if run_workflows:
            queued += self._workflows(org, metadata, changes)
        return queued

    def _payload(self, channel: dict[str, Any], module: str, operation: str, batch: list[Change],
                 base_url: str) -> dict[str, Any]:
        url = channel["notify_url"]
        payload: dict[str, Any] = {
            "server_time": int(self.clock.now() * 1000),
            "query_params": dict(parse_qsl(urlsplit(url).query)),
            "module": module,
            "resource_uri": f"{base_url}/crm/v8/{module}",
            "ids": [change.record_id for change in batch],
            "affected_fields": [{change.record_id: change.affected_fields} for change in batch]
            if operation == "update" else [],
            "operation": operation,
            "channel_id": str(channel["channel_id"]),
            "token": channel.get("token"),
        }
        if channel.get("return_affected_field_values") and operation == "update":
            payload["affected_values"] = [
                {"id": change.record_id, **{name: change.values.get(name) for name in change.affected_fields}}
                for change in batch]
        return payload

    def _workflows(self, org: Org, metadata: Metadata, changes: list[Change]) -> int:
        queued = 0
        for change in changes:
            for hook in org.workflow_webhooks:
                if hook["module"] != change.module or not _event_matches(hook["event"], change.operation):
                    continue
                module = metadata.modules[change.module]
                values = {key: merge(value, module.api_name, module.singular, change, metadata)
                          for key, value in hook.get("params", {}).items()}
                if hook.get("body") == "json":
                    body, content_type = json.dumps(values).encode(), "application/json"
                else:
                    body, content_type = urlencode(values).encode(), "application/x-www-form-urlencoded"
                self.outbox.enqueue("zoho", "workflow", hook["url"], body, {"Content-Type": content_type})
                queued += 1
        return queued


def _event_matches(event: str, operation: str) -> bool:
    if event == "create_or_edit":
        return operation in ("insert", "update")
    return OPERATIONS[operation] == event


def merge(template: str, module_api_name: str, singular: str, change: Change, metadata: Metadata,
          encode: bool = False) -> str:
    """Zoho merge fields, ``${Invoices.Invoice Id}`` or ``${Invoices.Subject}``: a field of the record by
    label or API name; ``<Singular> Id`` / ``Id`` / ``id`` is the record id, ``${module}`` the module's API
    name. ``encode`` URL-encodes the values (for a button's URL)."""
    module = metadata.modules[module_api_name]
    id_names = {"id", "record id", f"{singular.lower()} id"}

    def value(match: re.Match[str]) -> str:
        reference = match.group(1)
        prefix, _, name = reference.partition(".")
        if not name:
            if prefix == "module":
                return module_api_name
            name, prefix = prefix, module_api_name
        if prefix.lower() not in (module_api_name.lower(), singular.lower(), module.plural.lower()):
            return match.group(0)
        if name.lower() in id_names:
            return change.record_id
        for f in module.fields:
            if name in (f.api_name, f.label):
                return text_of(change.values.get(f.api_name))
        return ""

    def replace(match: re.Match[str]) -> str:
        text = value(match)
        return quote(text, safe="") if encode and text != match.group(0) else text

    return MERGE_FIELD.sub(replace, str(template))


def validate_workflow(hook: dict[str, Any], metadata: Metadata) -> dict[str, Any]:
    """A workflow-rule webhook as the control API and editor accept it."""
    module = metadata.module(str(hook.get("module", "")))
    if module is None:
        raise ValueError("module: not a module of this org")
    event = hook.get("event", "create_or_edit")
    if event not in WORKFLOW_EVENTS:
        raise ValueError(f"event: one of {', '.join(WORKFLOW_EVENTS)}")
    url = hook.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("url: an http(s) URL")
    params = hook.get("params", {})
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise ValueError("params: an object of strings (merge fields like ${Invoices.Invoice Id} allowed)")
    body = hook.get("body", "form")
    if body not in ("form", "json"):
        raise ValueError("body: form or json")
    return {"name": str(hook.get("name") or f"{module.api_name} {event}"), "module": module.api_name,
            "event": event, "url": url, "params": params, "body": body}
