"""Xero's Microsoft JSON dates (``/Date(1539993600000+0000)/``) and the ISO forms it also uses (FACTS.md §3)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_xero_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    match = _MS_DATE.match(value)
    if match:
        instant = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
        offset = match.group(2)
        if offset:
            sign = 1 if offset[0] == "+" else -1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
            return instant.astimezone(timezone(delta))
        return instant
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_xero_date(value: str | None) -> date | None:
    """Date-only fields are midnight UTC (FACTS.md §3)."""
    parsed = parse_xero_datetime(value)
    return parsed.astimezone(UTC).date() if parsed else None


def format_xero_date(value: date) -> str:
    """Dates in requests: Xero's docs use YYYY-MM-DD."""
    return value.isoformat()


def if_modified_since_header(value: datetime) -> str:
    """``If-Modified-Since`` as Xero's docs show it: a UTC timestamp without offset."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
