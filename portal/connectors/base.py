"""The plumbing every connector shares: one HTTP session, pacing, retries, token refresh on 401, typed errors and
call counting. A connector subclasses :class:`ApiClient` and only says how its system shapes URLs and errors.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from portal.connectors.errors import (
    AuthExpired,
    AuthRevoked,
    ConnectorError,
    NotFound,
    RateLimited,
    Transient,
)
from portal.connectors.pacing import BudgetExhausted, Pacer

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5.0, 60.0)  # connect, read


@dataclass(frozen=True)
class TokenGrant:
    """What a token endpoint granted."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None  # Xero rotates it; Zoho sends none on refresh (the old one stays valid)
    scope: str | None = None


class TokenSource(Protocol):
    """Where a connector gets its access token; implemented by the connection service (one refresh at a time)."""

    def access_token(self) -> str: ...

    def refresh_after_rejection(self, rejected_token: str) -> str:
        """The token was refused (401): return a fresh one, refreshing only if nobody did already."""
        ...


class CallCounter(Protocol):
    def record(self, side: str, endpoint: str, outcome: str, records: int = 0) -> None: ...


class NullCounter:
    def record(self, side: str, endpoint: str, outcome: str, records: int = 0) -> None:
        return None


@dataclass
class Request:
    method: str
    path: str  # relative to the client's base URL, or absolute (e.g. Zoho's Bulk API lives elsewhere)
    endpoint: str  # a stable label for counters, e.g. "GET Contacts"
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # Whether sending it twice is harmless (reads, writes with an idempotency key): only those are retried
    # after a failure that may have reached the server.
    idempotent: bool = True
    records: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_rate_limit_wait: float = 90.0  # real seconds a worker may sleep on a 429 before handing it back


class ApiClient:
    side = ""

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        *,
        session: requests.Session | None = None,
        pacer: Pacer | None = None,
        counter: CallCounter | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.session = session or requests.Session()
        self.pacer = pacer
        self.counter = counter or NullCounter()
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        self._last_token = ""

    # --- what a connector says about its system --------------------------------------------------------------

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def default_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    def error_for(self, response: requests.Response) -> ConnectorError | None:
        """The typed error for a failed response (``None`` when it succeeded). Override for the system's shapes."""
        status = response.status_code
        if status < 400:
            return None
        text = response.text[:500]
        if status == 401:
            return AuthExpired(text, status=status)
        if status == 403:
            return AuthRevoked(text, status=status)
        if status == 404:
            return NotFound(text, status=status)
        if status == 429:
            return RateLimited(text, _retry_after(response), status=status)
        if status >= 500:
            return Transient(text, status=status)
        return ConnectorError(text, status=status)

    # --- the call --------------------------------------------------------------------------------------------

    def send(self, request: Request) -> requests.Response:
        """Send with pacing, refresh-on-401 (once), and retries of transient failures and rate limits."""
        refreshed = False
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            retry=retry_if_exception(lambda error: self._should_retry(error, request)),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                try:
                    return self._send_once(request)
                except AuthExpired:
                    if refreshed:
                        raise
                    refreshed = True
                    self.tokens.refresh_after_rejection(self._last_token)
                    return self._send_once(request)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity either returns or raises

    def _should_retry(self, error: BaseException, request: Request) -> bool:
        if isinstance(error, RateLimited):
            # A 429 means the server did nothing, so sending again is safe; but a long wait (the daily limit)
            # is the caller's to schedule, not a worker's to sleep through.
            return error.retry_after <= self.retry.max_rate_limit_wait
        return isinstance(error, Transient) and request.idempotent

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimited) and error.retry_after_known:
            return error.retry_after + random.uniform(0, 0.25)
        delay = min(self.retry.max_delay, self.retry.base_delay * 2 ** (state.attempt_number - 1))
        return random.uniform(delay / 2, delay)

    def _slot(self) -> AbstractContextManager[None]:
        return self.pacer.slot() if self.pacer else nullcontext()

    def _send_once(self, request: Request) -> requests.Response:
        token = self.tokens.access_token()
        self._last_token = token
        headers = {**self.default_headers(), **self.auth_headers(token), **request.headers}
        url = request.path if request.path.startswith(("http://", "https://")) else \
            f"{self.base_url}/{request.path.lstrip('/')}"
        try:
            with self._slot():
                response = self.session.request(request.method, url, params=request.params, json=request.json,
                                                headers=headers, timeout=self.timeout)
        except BudgetExhausted as exhausted:
            self.counter.record(self.side, request.endpoint, "budget")
            raise RateLimited(str(exhausted), exhausted.denied.wait_seconds,
                              problem=exhausted.denied.limit) from exhausted
        except requests.Timeout as error:
            self.counter.record(self.side, request.endpoint, "timeout")
            raise Transient(f"timed out: {error}") from error
        except requests.ConnectionError as error:
            self.counter.record(self.side, request.endpoint, "connection")
            raise Transient(f"connection failed: {error}") from error
        failure = self.error_for(response)
        self.counter.record(self.side, request.endpoint, "ok" if failure is None else str(response.status_code),
                            request.records if failure is None else 0)
        if failure is None:
            return response
        if isinstance(failure, RateLimited) and self.pacer is not None and failure.retry_after_known:
            self.pacer.hold_off(failure.retry_after)
        raise failure


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Batches of at most ``size`` (the API's page or batch limit)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None
