"""The one family of errors every connector raises, whatever the remote system (never bare ``requests`` errors).

Pure Python, so that the sync engine can catch them without importing HTTP machinery.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


class ConnectorError(Exception):
    """Base class. ``message`` is the remote system's own text where it gave one (shown in the audit log)."""

    retryable: bool = False

    def __init__(self, message: str = "", *, status: int | None = None, code: str | None = None,
                 details: Any = None) -> None:
        super().__init__(message or type(self).__name__)
        self.message = message or type(self).__name__
        self.status = status
        self.code = code
        self.details = details


class AuthExpired(ConnectorError):
    """The access token was refused; one refresh may cure it."""


class AuthRevoked(ConnectorError):
    """The grant is gone (refresh token revoked or expired, organisation disconnected): the user must reconnect."""


class RateLimited(ConnectorError):
    """The remote system (or our own budget) says wait. ``retry_after`` is in seconds, when known."""

    retryable = True

    def __init__(self, message: str = "", *, retry_after: float | None = None, problem: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.problem = problem


@dataclass
class RecordError:
    """Why one record of a batch was refused: the remote code and message, and the field when known."""

    message: str
    code: str | None = None
    field: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


class Invalid(ConnectorError):
    """The request was refused as invalid; ``errors`` holds the per-record (or per-field) reasons."""

    def __init__(self, message: str = "", *, errors: list[RecordError] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errors = errors or []


class NotFound(ConnectorError):
    pass


class Conflict(ConnectorError):
    """The remote record changed or is locked in a way that refuses this write (e.g. Zoho ALREADY_MODIFIED)."""


class Transient(ConnectorError):
    """A failure that may pass: 5xx, timeouts, dropped connections."""

    retryable = True
