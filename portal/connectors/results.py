"""What a batched write returns: one result per record, in the order the records were sent."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from portal.connectors.errors import FieldError


@dataclass
class RecordResult:
    ok: bool
    remote_id: str | None = None
    record: dict[str, Any] | None = None  # the saved record as the remote system echoed it, when it does
    errors: list[FieldError] = dataclasses.field(default_factory=list)
    action: str | None = None  # "insert"/"update" where the system says (Zoho upsert)

    @property
    def message(self) -> str:
        return "; ".join(error.message for error in self.errors)
