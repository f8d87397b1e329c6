"""A small client of the sandbox control API, for tests, benchmarks and the demo set-up."""

from __future__ import annotations

from typing import Any

import requests


class SandboxSideControl:
    def __init__(self, session: requests.Session, base_url: str, side: str) -> None:
        self._session = session
        self.side = side
        self.url = f"{base_url}/{side}"
        self.control_url = f"{self.url}/_sandbox"

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = self._session.request(method, f"{self.control_url}/{path}", json=payload, timeout=600)
        if response.status_code >= 400:
            raise RuntimeError(f"sandbox {self.side} {method} {path}: {response.status_code} {response.text}")
        return response.json()

    def reset(self) -> Any:
        return self._call("POST", "reset")

    def seed(self, **params: Any) -> Any:
        return self._call("POST", "seed", params)

    def stats(self) -> Any:
        return self._call("GET", "stats")

    def reset_stats(self) -> Any:
        return self._call("DELETE", "stats")

    def faults(self, **plan: Any) -> Any:
        return self._call("POST", "faults", plan)

    def clear_faults(self) -> Any:
        return self._call("DELETE", "faults")

    def clock(self, **settings: Any) -> Any:
        return self._call("POST", "clock", settings) if settings else self._call("GET", "clock")

    def webhooks(self, **settings: Any) -> Any:
        return self._call("POST", "webhooks", settings) if settings else self._call("GET", "webhooks")

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        """Any other control endpoint of this side (e.g. ``tokens/revoke``)."""
        return self._call(method, path, payload)


class SandboxControl:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = requests.Session()
        self.xero = SandboxSideControl(self._session, self.base_url, "xero")
        self.zoho = SandboxSideControl(self._session, self.base_url, "zoho")

    def reset(self) -> None:
        # The clock first: each side dates its restored demo records by the sandbox clock.
        self.xero.clock(reset=True)
        self.xero.reset()
        self.zoho.reset()
