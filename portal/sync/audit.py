"""The audit log and its daily rollups, written through one function: :meth:`AuditLog.record`.

Rows are buffered and written in bulk by :meth:`AuditLog.flush` (the engine flushes with every committed
batch,
in the same transaction as the record links, so an audit row exists exactly when its effect was saved). Each
final outcome also bumps the tenant's counter for (day, direction, module, outcome): the dashboards read
:class:`portal.models.sync.SyncDailyCount`, never the audit log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from portal.models.sync import AuditEntry, SyncDailyCount
from portal.sync.messages import Msg

ACTIONS = ("created", "updated", "linked", "deleted", "archived", "voided", "skipped", "failed")


class AuditLog:
    def __init__(
        self,
        session: Session,
        tenant_id: int,
        *,
        clock: Callable[[], datetime],
        run_id: str | None = None,
        trigger: str = "",
        zoho_org_id: str | None = None,
        xero_tenant_id: str | None = None,
        enabled: bool = True,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.clock = clock
        self.run_id = run_id
        self.trigger = trigger
        self.zoho_org_id = zoho_org_id
        self.xero_tenant_id = xero_tenant_id
        self.enabled = enabled  # off for dry runs: nothing is written
        self._rows: list[dict[str, Any]] = []
        self._counts: Counter[tuple[date, str, str, str]] = Counter()
        self.totals: Counter[tuple[str, str]] = (
            Counter()
        )  # (module, action) of final outcomes, this log's life

    def record(
        self,
        *,
        direction: str,
        module: str,
        action: str,
        entity: str = "",
        record_name: str = "",
        zoho_id: str | None = None,
        xero_id: str | None = None,
        reason: str | None = None,
        message: Msg | None = None,
        error_text: str | None = None,
        attempt: int = 1,
        final: bool = True,
        changes: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        now = self.clock()
        if final:
            self.totals[(module, action)] += 1
        if not self.enabled:
            return
        self._rows.append(
            {
                "tenant_id": self.tenant_id,
                "at": now,
                "run_id": self.run_id,
                "trigger": self.trigger,
                "direction": direction,
                "module": module,
                "entity": entity,
                "record_name": (record_name or "")[:255],
                "zoho_id": zoho_id,
                "xero_id": xero_id,
                "action": action,
                "reason": reason,
                "message": message.to_json() if message else None,
                "error_text": error_text,
                "attempt": attempt,
                "final": final,
                "changes": list(changes) if changes else None,
                "zoho_org_id": self.zoho_org_id,
                "xero_tenant_id": self.xero_tenant_id,
            }
        )
        if final:
            self._counts[(now.date(), direction, module, action)] += 1

    @property
    def pending(self) -> int:
        return len(self._rows)

    def flush(self) -> None:
        """Write buffered rows and counters into the session (the caller commits)."""
        if self._rows:
            self.session.execute(insert(AuditEntry), self._rows)
            self._rows = []
        if self._counts:
            self._bump(self._counts)
            self._counts = Counter()

    def discard(self) -> None:
        self._rows = []
        self._counts = Counter()

    def _bump(self, counts: Counter[tuple[date, str, str, str]]) -> None:
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        for (day, direction, module, outcome), count in sorted(counts.items()):
            statement = upsert(SyncDailyCount).values(
                tenant_id=self.tenant_id,
                day=day,
                direction=direction,
                module=module,
                outcome=outcome,
                count=count,
            )
            statement = statement.on_conflict_do_update(
                index_elements=["tenant_id", "day", "direction", "module", "outcome"],
                set_={"count": SyncDailyCount.count + statement.excluded.count},
            )
            self.session.execute(statement)
