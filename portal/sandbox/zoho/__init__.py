"""The Zoho CRM emulator (accounts server, CRM API v8, notifications)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from portal.sandbox.core.side import SandboxSide


class ZohoSandbox(SandboxSide):
    name = "zoho"

    def blueprints(self) -> list[Blueprint]:
        return []

    def reset(self) -> dict[str, Any]:
        return {"reset": True}

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("seeding is not available yet")

    def webhooks(self, params: dict[str, Any] | None) -> dict[str, Any]:
        return {}
