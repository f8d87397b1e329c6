"""Fixtures for the Xero sandbox tests: one sandbox server per session (tests/sandbox_fixtures.py), reset before
each test; the OpenAPI documents loaded once; an API client holding a token for the demo organisations."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from portal.sandbox.client import SandboxControl
from tests.sandbox.xero.helpers import NZ, Specs, WebhookReceiver, XeroApi


@pytest.fixture(scope="session")
def xero_specs() -> Specs:
    return Specs()


@pytest.fixture
def xero_control(sandbox: SandboxControl) -> SandboxControl:
    return sandbox


@pytest.fixture
def mint(sandbox: SandboxControl, sandbox_server, xero_specs: Specs) -> Callable[..., XeroApi]:
    """A client with a freshly minted token (as if the demo user had consented) for the given scope and tenants."""
    def make(scope: str | None = None, tenants: list[str] | str = "all", tenant: str | None = NZ) -> XeroApi:
        body: dict[str, object] = {"tenants": tenants}
        if scope:
            body["scope"] = scope
        token = sandbox.xero.call("POST", "tokens", body)
        api = XeroApi(sandbox_server.url, xero_specs, token["access_token"], tenant)
        api.refresh_token = token.get("refresh_token")  # type: ignore[attr-defined]
        return api
    return make


@pytest.fixture
def xero(mint: Callable[..., XeroApi]) -> XeroApi:
    return mint()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver().start()
    yield started
    started.stop()


def wait_for(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError("condition not met in time")
