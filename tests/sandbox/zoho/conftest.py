"""Fixtures for the Zoho CRM sandbox: a reset server, OAuth through the real consent form, an API client, and a
local receiver for notifications and webhooks."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from portal.sandbox.client import SandboxControl

REDIRECT_URI = "http://localhost:8765/oauth/zoho/callback"
ALL_SCOPES = ("ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ,"
              "ZohoCRM.notifications.ALL,ZohoCRM.coql.READ,ZohoCRM.bulk.READ")


@dataclass
class Tokens:
    access_token: str
    refresh_token: str | None
    api_domain: str
    body: dict[str, Any]


class Api:
    """A bare HTTP client of the CRM API, as a connector would use it."""

    def __init__(self, api_domain: str, access_token: str) -> None:
        self.api_domain = api_domain
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Zoho-oauthtoken {access_token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, f"{self.api_domain}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, payload: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, data=json.dumps(payload) if payload is not None else None, **kwargs)

    def put(self, path: str, payload: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, data=json.dumps(payload) if payload is not None else None, **kwargs)

    def patch(self, path: str, payload: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, data=json.dumps(payload) if payload is not None else None, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


class ZohoSandbox:
    def __init__(self, control: SandboxControl) -> None:
        self.control = control
        self.base = control.base_url
        self.accounts = f"{self.base}/zoho/accounts"

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        return self.control.zoho.call(method, path, payload)

    def orgs(self) -> list[dict[str, Any]]:
        orgs: list[dict[str, Any]] = self.call("GET", "orgs")["orgs"]
        return orgs

    def org(self, dc: str = "us") -> dict[str, Any]:
        return next(org for org in self.orgs() if org["dc"] == dc)

    def consent_code(self, org_id: str, scope: str = ALL_SCOPES, access_type: str = "offline",
                     prompt: str = "consent", state: str = "st4te", dc: str = "") -> dict[str, str]:
        """Walk the consent page as a browser with JavaScript off would: GET the form, POST Accept."""
        params = {"client_id": "sandbox-client", "response_type": "code", "redirect_uri": REDIRECT_URI,
                  "scope": scope, "access_type": access_type, "prompt": prompt, "state": state}
        browser = requests.Session()
        page = browser.get(f"{self.accounts}/oauth/v2/auth", params=params, allow_redirects=False, timeout=10)
        if page.status_code == 302:
            return _redirect_params(page)
        assert page.status_code == 200, page.text
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        answer = browser.post(f"{self.accounts}/oauth/v2/auth", allow_redirects=False, timeout=10,
                              data={**form, "org_id": org_id, "dc": dc, "decision": "allow"})
        assert answer.status_code == 302, answer.text
        return _redirect_params(answer)

    def token(self, **form: str) -> requests.Response:
        base = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
        return requests.post(f"{self.accounts}/oauth/v2/token", data={**base, **form}, timeout=10)

    def connect(self, dc: str = "us", scope: str = ALL_SCOPES, access_type: str = "offline") -> Tokens:
        redirect = self.consent_code(self.org(dc)["id"], scope=scope, access_type=access_type)
        answer = self.token(grant_type="authorization_code", code=redirect["code"], redirect_uri=REDIRECT_URI)
        body = answer.json()
        assert "access_token" in body, body
        return Tokens(body["access_token"], body.get("refresh_token"), body["api_domain"], body)

    def api(self, dc: str = "us", scope: str = ALL_SCOPES) -> Api:
        tokens = self.connect(dc, scope)
        return Api(tokens.api_domain, tokens.access_token)

    def settings(self, **values: float) -> Any:
        return self.call("POST", "settings", values)

    def advance(self, seconds: float) -> Any:
        return self.control.zoho.clock(advance_seconds=seconds)


def _redirect_params(response: requests.Response) -> dict[str, str]:
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


@pytest.fixture
def zoho(sandbox: SandboxControl) -> ZohoSandbox:
    helper = ZohoSandbox(sandbox)
    # Search lag is on by default (as on the real service); tests that are not about it switch it off.
    helper.settings(search_index_lag_seconds=0)
    return helper


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}


class Receiver:
    """A local HTTP endpoint that records what the sandbox delivers to it."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                outer.received.append(Received(self.path, dict(self.headers), self.rfile.read(length)))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate: Callable[[Received], bool] = lambda _: True, count: int = 1,
                 timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matching = [item for item in self.received if predicate(item)]
            if len(matching) >= count:
                return matching
            time.sleep(0.05)
        raise AssertionError(f"expected {count} deliveries, got {[r.path for r in self.received]}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
