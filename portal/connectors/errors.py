"""The one family of typed errors every connector raises, and the sync engine catches.

Pure Python (no ``requests``): a connector maps its HTTP answers onto these, the engine decides from the class
alone whether to retry (``Transient``, ``RateLimited``), stop the run (``AuthExpired``, ``AuthRevoked``) or
give
up on one record at once (``Invalid``, ``NotFound``, ``Conflict``). ``str(error)`` is the remote system's own
message, which the audit log shows verbatim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One validation problem the remote system reported for one record."""

    message: str
    field: str | None = None  # the remote API name when the remote says which field (Zoho details.api_name)
    code: str | None = (
        None  # e.g. Zoho "MANDATORY_NOT_FOUND", Xero has none (ValidationErrors[].Message only)
    )


class ConnectorError(Exception):
    """Base class. ``retryable`` tells the engine whether a later attempt can succeed unchanged."""

    retryable = False

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__

    def __str__(self) -> str:
        return self.message


class AuthError(ConnectorError):
    """The connection cannot make calls: stop the run; the connections layer refreshes or asks to
    reconnect."""


class AuthExpired(AuthError):
    """The access token expired and refreshing did not help within the call (Xero 401 TokenExpired)."""


class AuthRevoked(AuthError):
    """The grant is gone (Xero invalid_grant / 403 tenant disconnected, Zoho invalid_code): needs
    reconnect."""


class RateLimited(ConnectorError):
    """429: wait ``retry_after`` seconds (Xero sends Retry-After; Zoho does not, so the connector
    estimates)."""

    retryable = True

    def __init__(self, message: str = "", retry_after: float = 60.0) -> None:
        super().__init__(message or "rate limited")
        self.retry_after = max(0.0, float(retry_after))


class Transient(ConnectorError):
    """Timeouts, connection resets, 5xx, Xero 503 maintenance: the same request may succeed later."""

    retryable = True


class Invalid(ConnectorError):
    """The remote refused the record's content (Xero ValidationException, Zoho INVALID_DATA and friends).

    Final at once: retrying the same payload gives the same answer.
    """

    def __init__(self, message: str = "", details: Sequence[FieldError] = ()) -> None:
        text = message or "; ".join(d.message for d in details) or "invalid"
        super().__init__(text)
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
    details: tuple[FieldError, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, error: BaseException) -> ErrorSummary:
        details = error.details if isinstance(error, Invalid) else ()
        return cls(kind=type(error).__name__, message=str(error), details=details)
