"""Test helpers for the Xero sandbox: an API client that validates every Accounting response against the official
OpenAPI file, the consent flow driven as a browser without JavaScript would, and a webhook receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

SPECS = Path(__file__).resolve().parents[3] / "specs" / "xero"
NZ = "6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b01"
UK = "6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b02"
AU = "6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b03"
CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
REDIRECT_URI = "http://localhost:8765/callback"
FULL_SCOPE = ("openid profile email offline_access accounting.contacts accounting.settings accounting.transactions "
              "accounting.reports.read")
API_HOST = "https://api.xero.com"


class Specs:
    """The OpenAPI documents, loaded once per test session (FACTS.md, last section)."""

    def __init__(self) -> None:
        config = Config(spec_validator_cls=None)
        self.accounting = OpenAPI.from_dict(_load("xero_accounting.yaml"), config=config)
        identity = _load("xero-identity.yaml")
        for name in ("createdDateUtc", "updatedDateUtc"):
            # The identity OAS says format date-time (RFC 3339, with an offset), yet its own example and Xero's
            # answers have no offset and 7 fractional digits (FACTS.md §1): check that form instead.
            date_schema = identity["components"]["schemas"]["Connection"]["properties"][name]
            date_schema.pop("format")
            date_schema["pattern"] = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}$"
        self.identity = OpenAPI.from_dict(identity, config=config)
        self._declared = _declared_statuses(_load("xero_accounting.yaml"))

    def declares(self, method: str, path: str, status: int) -> bool:
        """Whether the OAS declares this status for the operation (it declares 200/400/204; 401, 403, 404, 429 and
        5xx are checked for their shape by the tests themselves)."""
        for template, statuses in self._declared.get(method.lower(), {}).items():
            if re.fullmatch(template, path):
                return status in statuses
        return False

    def validate(self, response: requests.Response) -> None:
        self.validate_parts(response.request.method or "GET", response.url, response.status_code, response.content,
                            response.headers.get("Content-Type", "application/json"),
                            response.request.headers.get("xero-tenant-id", ""))

    def validate_parts(self, method: str, url: str, status: int, body: bytes, content_type: str,
                       tenant: str) -> None:
        parts = urlsplit(url)
        path = parts.path.split("/xero", 1)[1]
        args = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if path.startswith("/api.xro/2.0"):
            if not self.declares(method, path, status):
                return
            openapi = self.accounting
        elif path.lower().startswith("/connections") and method.upper() == "GET" and status == 200:
            openapi, path = self.identity, "/Connections"
        else:
            return
        request = MockRequest(API_HOST, method.lower(), path, args=args, headers={"xero-tenant-id": tenant})
        mock = MockResponse(body, status_code=status, content_type=content_type.split(";")[0])
        try:
            openapi.validate_response(request, mock)
        except Exception as error:  # openapi-core raises a family of errors; the cause says what is wrong
            cause = error.__cause__ or error
            details = getattr(cause, "schema_errors", None) or [cause]
            raise AssertionError(f"{method} {path} answered outside the OAS: {error}: "
                                 f"{'; '.join(str(d)[:400] for d in details)}") from error


def _load(name: str) -> dict[str, Any]:
    with open(SPECS / name) as handle:
        return yaml.load(handle, Loader=yaml.CSafeLoader)


def _declared_statuses(spec: dict[str, Any]) -> dict[str, dict[str, set[int]]]:
    declared: dict[str, dict[str, set[int]]] = {}
    for path, operations in spec["paths"].items():
        template = "/api.xro/2.0" + re.sub(r"\{[^}]+\}", "[^/]+", path)
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                declared.setdefault(method, {})[template] = {int(code) for code in operation["responses"]
                                                             if code.isdigit()}
    return declared


class XeroApi:
    """A plain HTTP client of the sandbox's Accounting API; every answer is checked against the OAS."""

    def __init__(self, base_url: str, specs: Specs, token: str | None, tenant: str | None = NZ) -> None:
        self.base_url = base_url
        self.specs = specs
        self.token = token
        self.tenant = tenant
        self.session = requests.Session()

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.tenant:
            headers["xero-tenant-id"] = self.tenant
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None, timeout: float = 10,
                **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base_url}/xero/api.xro/2.0{path}"
        response = self.session.request(method, url, headers=self.headers(headers), timeout=timeout, **kwargs)
        self.specs.validate(response)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def connections(self, **params: str) -> requests.Response:
        response = self.session.get(f"{self.base_url}/xero/connections", params=params,
                                    headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        self.specs.validate(response)
        return response

    def ok(self, response: requests.Response, status: int = 200) -> Any:
        assert response.status_code == status, f"{response.status_code}: {response.text[:2000]}"
        return response.json() if response.content else None


def validation_messages(body: dict[str, Any]) -> list[str]:
    return [error["Message"] for element in body.get("Elements", []) for error in element.get("ValidationErrors", [])]


# --- the consent page, as a browser with JavaScript off -----------------------------------------------------------

class ConsentForm:
    """Parses the plain HTML consent form: hidden fields, the organisations offered, the two buttons."""

    FIELD = re.compile(r'<input type="(hidden|checkbox)" name="([^"]+)" value="([^"]*)"')

    def __init__(self, html: str) -> None:
        self.html = html
        self.hidden = {name: value for kind, name, value in self.FIELD.findall(html) if kind == "hidden"}
        self.tenants = [value for kind, name, value in self.FIELD.findall(html) if kind == "checkbox"
                        and name == "tenant"]


def authorize_url(base_url: str, scope: str = FULL_SCOPE, state: str = "st4te", redirect_uri: str = REDIRECT_URI,
                  **extra: str) -> str:
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect_uri, "scope": scope,
              "state": state, **extra}
    return requests.Request("GET", f"{base_url}/xero/identity/connect/authorize", params=params).prepare().url or ""


def consent(base_url: str, tenants: list[str] | None = None, action: str = "allow", scope: str = FULL_SCOPE,
            url: str | None = None) -> dict[str, list[str]]:
    """Open the consent page, tick organisations, press a button; answers the redirect's query parameters."""
    browser = requests.Session()
    page = browser.get(url or authorize_url(base_url, scope), timeout=10)
    assert page.status_code == 200, page.text
    form = ConsentForm(page.text)
    data: list[tuple[str, str]] = [*form.hidden.items(), ("action", action)]
    data += [("tenant", tenant) for tenant in (tenants if tenants is not None else [NZ])]
    answer = browser.post(page.url, data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return parse_qs(location.query)


def token_request(base_url: str, data: dict[str, str], basic: bool = True) -> requests.Response:
    auth = (CLIENT_ID, CLIENT_SECRET) if basic else None
    if not basic:
        data = {**data, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    return requests.post(f"{base_url}/xero/identity/connect/token", data=data, auth=auth, timeout=10)


def exchange(base_url: str, code: str, redirect_uri: str = REDIRECT_URI, basic: bool = True) -> requests.Response:
    return token_request(base_url, {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
                         basic=basic)


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# --- a webhook receiver -----------------------------------------------------------------------------------------

@dataclass
class Received:
    body: bytes
    signature: str | None
    answered: int


@dataclass
class WebhookReceiver:
    """Answers like a correct Xero webhook receiver (200 when the signature matches, 401 otherwise, no body),
    unless told to answer something else."""

    key: str = "test-signing-key"
    always: int | None = None   # answer this status whatever the signature
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/hooks/xero"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                signature = self.headers.get("x-xero-signature")
                expected = base64.b64encode(hmac.new(receiver.key.encode(), body, hashlib.sha256).digest()).decode()
                status = receiver.always or (200 if signature and hmac.compare_digest(signature, expected) else 401)
                receiver.received.append(Received(body, signature, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def events(self) -> list[dict[str, Any]]:
        """The events of every correctly signed, non-empty delivery, in order."""
        events = []
        for delivery in self.received:
            if delivery.answered == 200:
                events.extend(json.loads(delivery.body)["events"])
        return events

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
