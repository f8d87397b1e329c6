"""Xero's error shapes (FACTS.md §3 table), raised anywhere in the emulator and turned into responses in one place.

- 400 ``{"ErrorNumber": 10, "Type": "ValidationException", "Message": ..., "Elements": [...]}`` (OAS ``Error``), and
  the same envelope for ``QueryParseException`` (16) and ``PostDataInvalidException`` (14).
- 401/403/429/500 are ASP.NET problem details: ``{"Type": null, "Title": ..., "Status": ..., "Detail": ...,
  "Instance": <uuid>, "Extensions": {}}``.
- 404 is plain text: "The resource you're looking for cannot be found".
- 503 is plain text (maintenance, organisation offline).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Response

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"
SERVER_ERROR_DETAIL = (
    "An error occurred in Xero. Check the API Status page http://status.developer.xero.com for current service status."
)
MAINTENANCE_TEXT = "The Xero API is currently offline for maintenance"
ORGANISATION_OFFLINE_TEXT = "The Organisation is offline"


class Invalid(Exception):
    """One element failed validation; ``messages`` become its ``ValidationErrors``."""

    def __init__(self, *messages: str) -> None:
        unique = list(dict.fromkeys(messages))
        super().__init__("; ".join(unique))
        self.messages = unique


class ApiError(Exception):
    """An error answered as a response (not tied to one element of a batch)."""

    def response(self) -> Response:
        raise NotImplementedError


class ApiException(ApiError):
    """Xero's ``ApiException`` envelope (ValidationException, QueryParseException, PostDataInvalidException)."""

    def __init__(self, message: str, error_type: str = "ValidationException", number: int = 10,
                 elements: list[dict[str, Any]] | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.number = number
        self.elements = elements
        self.status = status

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ErrorNumber": self.number, "Type": self.error_type, "Message": self.message}
        if self.elements is not None:
            body["Elements"] = self.elements
        return body

    def response(self) -> Response:
        return json_response(self.body(), self.status)


def validation_exception(elements: list[dict[str, Any]]) -> ApiException:
    return ApiException("A validation exception occurred", elements=elements)


def single_validation_error(message: str, element: dict[str, Any] | None = None) -> ApiException:
    echoed = dict(element or {})
    echoed["ValidationErrors"] = [{"Message": message}]
    return validation_exception([echoed])


def query_parse_error(message: str) -> ApiException:
    return ApiException(message, "QueryParseException", 16)


def post_data_invalid(message: str) -> ApiException:
    return ApiException(message, "PostDataInvalidException", 14)


class Problem(ApiError):
    """An ASP.NET problem-details answer (401, 403, 429, 500)."""

    TITLES = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests", 500: "An error occurred",
              501: "Not Implemented"}

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None,
                 title: str | None = None, type_null: bool = True) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.title = title or self.TITLES.get(status, "Error")
        self.type_null = type_null

    def response(self) -> Response:
        body: dict[str, Any] = {}
        if self.type_null:
            body["Type"] = None
        body.update({"Title": self.title, "Status": self.status, "Detail": self.detail,
                     "Instance": str(uuid.uuid4())})
        if self.type_null:
            body["Extensions"] = {}
        response = json_response(body, self.status)
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def unauthorized(detail: str = "AuthenticationUnsuccessful", www_authenticate: str | None = None) -> Problem:
    headers = {"WWW-Authenticate": www_authenticate} if www_authenticate else {}
    return Problem(401, detail, headers)


def forbidden() -> Problem:
    return Problem(403, "AuthenticationUnsuccessful")


def server_error() -> Problem:
    # Observed body: {"Title":"An error occurred","Detail":"An error occurred in Xero...","Status":500,"Instance":...}
    return Problem(500, SERVER_ERROR_DETAIL, type_null=False)


class NotFound(ApiError):
    def response(self) -> Response:
        return Response(NOT_FOUND_TEXT, status=404, mimetype="text/plain")


class Unavailable(ApiError):
    def __init__(self, text: str = MAINTENANCE_TEXT) -> None:
        super().__init__(text)
        self.text = text

    def response(self) -> Response:
        return Response(self.text, status=503, mimetype="text/plain")


class RateLimited(ApiError):
    def __init__(self, problem: str, retry_after: int | None, headers: dict[str, str]) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after
        self.headers = headers

    def response(self) -> Response:
        headers = dict(self.headers)
        headers["X-Rate-Limit-Problem"] = self.problem
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return Problem(429, f"You've exceeded the per {self.problem} rate limit", headers,
                       type_null=False).response()


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json")
