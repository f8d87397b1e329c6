"""The Xero emulator (identity, connections, Accounting API, webhooks)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from portal.sandbox.core.side import SandboxSide


class XeroSandbox(SandboxSide):
    name = "xero"

    def blueprints(self) -> list[Blueprint]:
        return []

    def reset(self) -> dict[str, Any]:
        return {"reset": True}

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("seeding is not available yet")

    def webhooks(self, params: dict[str, Any] | None) -> dict[str, Any]:
        return {}
