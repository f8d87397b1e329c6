"""Zoho CRM's error shapes and the bodiless answers (204, 304) the official SDK is picky about."""

from __future__ import annotations

import json
from typing import Any

from flask import Response


class ZohoError(Exception):
    """A request-level error: ``{"code", "details", "message", "status": "error"}`` (OAS common.json API_Exception)."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
                 wrapper: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        # Some APIs wrap a request-level error in a list under their resource key (``{"watch": [...]}``).
        self.wrapper = wrapper

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "message": self.message, "status": "error"}

    def response(self) -> Response:
        body: Any = self.body()
        if self.wrapper:
            body = {self.wrapper: [body]}
        return json_response(body, self.status)


def record_error(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    """One failed element of a write's ``data`` list."""
    return {"code": code, "details": details, "message": message, "status": "error"}


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status, content_type="application/json")


def bodiless(status: int) -> Response:
    """Zoho: 204 and 304 carry no body and no Content-Type; with one, the SDK treats the answer as a file
    download and crashes (FACTS.md, "What the official Python SDK expects")."""
    response = Response(status=status)
    response.headers.pop("Content-Type", None)
    return response


def invalid_token() -> ZohoError:
    return ZohoError(401, "INVALID_TOKEN", "invalid oauth token")


def authentication_failure() -> ZohoError:
    return ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed")


def scope_mismatch(scope: str) -> ZohoError:
    return ZohoError(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL",
                     {"required_scope": scope})


def invalid_module(name: str) -> ZohoError:
    return ZohoError(400, "INVALID_MODULE", "the module name given seems to be invalid",
                     {"resource_path_index": 0, "module": name})


def required_param(param: str) -> ZohoError:
    return ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param": param})


def invalid_param(param: str, message: str = "invalid data", **details: Any) -> ZohoError:
    return ZohoError(400, "INVALID_DATA", message, {"param": param, **details})
