"""The one family of typed errors every connector raises, and the sync engine catches.

Pure Python (no ``requests``): a connector maps its HTTP answers onto these, the engine decides from the class
alone whether to retry (``Transient``, ``RateLimited``), stop the run (``AuthExpired``, ``AuthRevoked``) or give
up on one record at once (``Invalid``, ``NotFound``, ``Conflict``). ``str(error)`` is the remote system's own
message, which the audit log shows verbatim.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One validation problem the remote system reported for one record."""

    message: str
    field: str | None = None  # the remote API name when the remote says which field (Zoho details.api_name)
    code: str | None = None  # e.g. Zoho "MANDATORY_NOT_FOUND"; Xero has none (ValidationErrors[].Message only)


class ConnectorError(Exception):
    """Base class. ``retryable`` tells the engine whether a later attempt can succeed unchanged.

    ``status`` (HTTP), ``code`` (the remote's error code) and ``payload`` (the parsed error body) are kept for
    diagnosis; they are never needed to decide what to do.
    """

    retryable = False

    def __init__(self, message: str = "", *, status: int | None = None, code: str | None = None,
                 payload: Any = None) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__
        self.status = status
        self.code = code
        self.payload = payload

    def __str__(self) -> str:
        return self.message


class AuthError(ConnectorError):
    """The connection cannot make calls: stop the run; the connections layer refreshes or asks to reconnect."""


class AuthExpired(AuthError):
    """The access token was refused (Xero 401 TokenExpired, Zoho INVALID_TOKEN); one refresh may cure it."""


class AuthRevoked(AuthError):
    """The grant is gone (Xero invalid_grant / 403 tenant disconnected, Zoho invalid_code): needs reconnect."""


class RateLimited(ConnectorError):
    """429: wait ``retry_after`` (real) seconds. Xero sends Retry-After; Zoho does not, so ``retry_after_known``
    is False and the default is a cautious minute (FACTS.md §5). A faster sandbox clock already states its
    Retry-After in real seconds, so it is never rescaled here."""

    retryable = True

    def __init__(self, message: str = "", retry_after: float | None = None, *, problem: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message or "rate limited", **kwargs)
        self.retry_after_known = retry_after is not None
        self.retry_after = max(0.0, float(retry_after)) if retry_after is not None else 60.0
        self.problem = problem  # Xero's X-Rate-Limit-Problem: minute, day, concurrent, appminute


class Transient(ConnectorError):
    """Timeouts, connection resets, 5xx, Xero 503 maintenance: the same request may succeed later."""

    retryable = True


class Invalid(ConnectorError):
    """The remote refused the record's content (Xero ValidationException, Zoho INVALID_DATA and friends).

    Final at once: retrying the same payload gives the same answer.
    """

    def __init__(self, message: str = "", details: Sequence[FieldError] = (), **kwargs: Any) -> None:
        text = message or "; ".join(d.message for d in details) or "invalid"
        super().__init__(text, **kwargs)
        self.details: tuple[FieldError, ...] = tuple(details)


class NotFound(ConnectorError):
    """The record (or path) does not exist on the remote side any more."""


class Conflict(ConnectorError):
    """The remote refused because of a competing state: Xero "Idempotency Key ... is used with a different
    request", Zoho 412 ALREADY_MODIFIED, a duplicate unique value."""


@dataclass(frozen=True)
class ErrorSummary:
    """What the audit log keeps of an error: its kind and the remote text."""

    kind: str
    message: str
    details: tuple[FieldError, ...] = dataclasses.field(default_factory=tuple)

    @classmethod
    def of(cls, error: BaseException) -> ErrorSummary:
        details = error.details if isinstance(error, Invalid) else ()
        return cls(kind=type(error).__name__, message=str(error), details=details)
