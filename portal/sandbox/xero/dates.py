"""Xero's date formats: Microsoft JSON dates in the Accounting API, ISO strings elsewhere.

- Responses: ``/Date(1539993600000+0000)/`` (ms since the epoch); date-only fields are midnight UTC; the envelope's
  ``DateTimeUTC`` has no offset (FACTS.md §3).
- Requests: ``YYYY-MM-DD`` (the docs), ``/Date(ms)/`` and ``/Date(ms+0000)/`` (what xero-python sends), and
  ISO date-times with or without an offset.
- ``If-Modified-Since``: full ISO-8601 (the SDK sends ``isoformat()``, maybe with microseconds and an offset), or an
  RFC 1123 HTTP date.
- Connections: ``2019-12-07T18:46:19.5165400`` (UTC, no offset, 7 fractional digits).
- Webhook events: ``2024-06-21T01:15:39.902`` (UTC, no offset, milliseconds).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
DAY_MS = 86_400_000


class DateFormatError(ValueError):
    pass


def ms_date(ms: int, offset: bool = True) -> str:
    return f"/Date({ms}+0000)/" if offset else f"/Date({ms})/"


def ms_of(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def day_ms(value: date) -> int:
    return ms_of(datetime(value.year, value.month, value.day, tzinfo=UTC))


def date_of_ms(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).date()


def floor_day_ms(ms: int) -> int:
    return ms - ms % DAY_MS


def parse_request_date(value: object) -> int:
    """A date or date-time from a request body, as ms since the epoch (UTC)."""
    if not isinstance(value, str) or not value.strip():
        raise DateFormatError(f"'{value}' is not a valid date")
    text = value.strip()
    match = MS_DATE.match(text)
    if match:
        # Xero: the offset is informative; the ms value is already UTC.
        return int(match.group(1))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DateFormatError(f"'{value}' is not a valid date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return ms_of(parsed)


def parse_request_day(value: object) -> int:
    """A date-only field (Date, DueDate, lock dates): midnight UTC of the given day."""
    return floor_day_ms(parse_request_date(value))


def parse_if_modified_since(value: str) -> int:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise DateFormatError(f"'{value}' is not a valid If-Modified-Since date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return ms_of(parsed)


def connection_date(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0"


def webhook_date(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def iso_utc(ms: int) -> str:
    """``UpdatedDateUTCString``: ``2019-11-14T18:10:38Z``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_string(ms: int) -> str:
    """``DateString``/``DueDateString`` on documents: ``2019-03-11T00:00:00``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def lock_date_text(ms: int) -> str:
    """How lock dates appear in Xero's messages: ``30-Nov-2018``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%d-%b-%Y")


def add_days(ms: int, days: int) -> int:
    return ms + days * DAY_MS


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))
