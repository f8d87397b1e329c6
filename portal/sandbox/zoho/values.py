"""Field values in and out: how the API's JSON becomes the stored form (with Zoho's per-field errors) and back.

Stored forms: text-like and picklists as strings, multi-selects as lists, numbers as numbers, dates as
``yyyy-MM-dd``, datetimes as epoch seconds (so SQL can compare them), lookups and owners as the target's id.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from portal.sandbox.zoho import catalog
from portal.sandbox.zoho.catalog import FieldDef

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")
ID = re.compile(r"^\d{1,19}$")


class FieldError(Exception):
    """One field's value is rejected; becomes a per-record error of the write."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def invalid(field_def: FieldDef, **details: Any) -> FieldError:
    return FieldError("INVALID_DATA", "invalid data", expected_data_type=field_def.data_type, **details)


def parse_datetime(value: str) -> float:
    """Zoho datetimes are ISO-8601 with an offset (FACTS.md §2, §4); anything else is rejected."""
    if not DATETIME.match(value):
        raise ValueError(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def parse_id(value: Any) -> str | None:
    """Ids come as 19-digit strings, or as JSON numbers from the official SDK (FACTS.md, SDK section)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and ID.match(value):
        return value
    return None


def to_stored(field_def: FieldDef, value: Any) -> Any:
    """Convert one API value to its stored form; lookups come back as ids for the caller to check."""
    data_type = field_def.data_type
    if value is None:
        return None
    if data_type in ("text", "textarea", "phone", "website", "email"):
        if not isinstance(value, str):
            raise invalid(field_def)
        if len(value) > field_def.length:
            raise FieldError("INVALID_DATA", "invalid data", maximum_length=str(field_def.length))
        if data_type == "email" and value and not EMAIL.match(value):
            raise invalid(field_def)
        return value if value != "" else None
    if data_type == "picklist":
        if not isinstance(value, str):
            raise invalid(field_def)
        if value in ("", "-None-"):
            return None
        if field_def.picklist and value not in field_def.picklist:
            raise FieldError("INVALID_DATA", "invalid data", expected_data_type="picklist")
        return value
    if data_type == "multiselectpicklist":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid(field_def)
        unknown = [item for item in value if field_def.picklist and item not in field_def.picklist]
        if unknown:
            raise FieldError("INVALID_DATA", "invalid data", expected_data_type="multiselectpicklist")
        return list(dict.fromkeys(value)) or None
    if data_type in ("integer", "bigint"):
        if isinstance(value, str) and data_type == "bigint" and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(field_def)
        if len(str(abs(value))) > max(field_def.length, 1):
            raise FieldError("INVALID_DATA", "invalid data", maximum_length=str(field_def.length))
        return value
    if data_type in ("double", "currency", "percent"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(field_def)
        places = field_def.decimal_place if field_def.decimal_place is not None else 2
        rounded = round(float(value), places)
        if abs(rounded) >= 10 ** field_def.length:
            raise FieldError("INVALID_DATA", "invalid data", maximum_length=str(field_def.length))
        return rounded
    if data_type == "boolean":
        if not isinstance(value, bool):
            raise invalid(field_def)
        return value
    if data_type == "date":
        if not isinstance(value, str) or not DATE.match(value):
            raise invalid(field_def)
        try:
            date.fromisoformat(value)
        except ValueError:
            raise invalid(field_def) from None
        return value
    if data_type == "datetime":
        if not isinstance(value, str):
            raise invalid(field_def)
        try:
            return parse_datetime(value)
        except ValueError:
            raise invalid(field_def) from None
    if data_type in catalog.LOOKUP_TYPES:
        raw = value.get("id") if isinstance(value, dict) else value
        parsed = parse_id(raw)
        if parsed is None:
            raise FieldError("INVALID_DATA", "invalid data", expected_data_type="jsonobject")
        return parsed
    raise invalid(field_def)


def discount_amount(value: Any, total: float) -> float:
    """A line's discount: an amount, or a percentage string like ``"10%"`` (the SDK sends it as a string)."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            return total * float(text[:-1]) / 100
        return float(text)
    raise ValueError(value)


def text_of(value: Any) -> str:
    """A stored value as plain text (editor inputs, CSV cells, merge fields)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)
