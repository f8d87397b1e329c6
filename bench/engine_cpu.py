"""Sync engine cost: worker CPU per record synced (fake remote time excluded) and peak memory over 100,000
records.

    python bench/engine_cpu.py                 # both measurements, default sizes
    python bench/engine_cpu.py --cpu-records 2000 --memory-records 100000

CPU: a historical Zoho -> Xero run of customers, products and invoices (3 lines each) against the in-memory
fakes, on a file-backed SQLite database (links and audit rows really written). The time spent inside the
fakes is measured and subtracted, so the figure is the engine's own work: mapping, hashing, matching, merging,
links, audit. Three passes: first sync (creates), an update of every record, and a repeat (zero writes).

Memory: 100,000 customers streamed page by page from a generating Zoho port into a Xero port that keeps
nothing, so the process's resident memory is the engine's. Target: flat (no growth with the record count) and
under 300 MB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from portal.models import AuditEntry, Base, RecordLink, Tenant
from portal.sync.engine import Cursor, SyncEngine
from portal.sync.ports import Page, Record, RemoveRequest, WriteRequest, WriteResult
from portal.sync.settings import Direction, SyncSettings
from portal.sync.testing import FakeClock, FakeXero, FakeZoho

CPU_TARGET_MS = 2.0
MEMORY_TARGET_MB = 300.0


def _session(path: Path) -> tuple[Session, int]:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    session = Session(engine, expire_on_commit=False)
    tenant = Tenant(slug="bench", name="Bench")
    session.add(tenant)
    session.commit()
    return session, tenant.id


class Timed:
    """Wraps a port; the CPU time spent inside it is remote work, not the engine's."""

    def __init__(self, inner: Any, meter: list[float]) -> None:
        self._inner = inner
        self._meter = meter

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value):
            return value

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return value(*args, **kwargs)
            finally:
                self._meter[0] += time.process_time() - started

        return timed


def _run(engine: SyncEngine, modules: list[str]) -> None:
    cursor: Cursor | None = engine.start(Direction.ZOHO_TO_XERO, modules)
    while cursor is not None:
        cursor = engine.run_chunk(cursor).cursor


def measure_cpu(records: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        session, tenant_id = _session(Path(folder) / "bench.db")
        clock = FakeClock()
        zoho, xero = FakeZoho(clock), FakeXero(clock)
        zoho.page_size = xero.page_size = 200
        accounts = [
            zoho.add(
                "Accounts",
                {
                    "Account_Name": f"Customer {i}",
                    "Phone": f"+44 {i:08d}",
                    "Billing_Street": f"{i} High St",
                    "Billing_City": "Leeds",
                    "Website": f"https://c{i}.test",
                },
            )
            for i in range(records)
        ]
        products = [
            zoho.add(
                "Products",
                {"Product_Name": f"Product {i}", "Product_Code": f"P-{i}", "Unit_Price": 1 + i % 50},
            )
            for i in range(max(10, records // 10))
        ]
        for i in range(records):
            zoho.add(
                "Invoices",
                {
                    "Subject": f"Invoice {i}",
                    "Account_Name": {"id": accounts[i]["id"]},
                    "Invoice_Date": "2026-03-01",
                    "Invoiced_Items": [
                        {
                            "Product_Name": {"id": products[(i + k) % len(products)]["id"]},
                            "Quantity": 1 + k,
                            "List_Price": 1 + (i + k) % 50,
                            "Line_Tax": [{"name": "VAT", "percentage": 20}],
                        }
                        for k in range(3)
                    ],
                },
            )
        synced = records * 2 + len(products)
        settings = SyncSettings.everything_on()
        results = {}

        def one_pass(label: str) -> None:
            meter = [0.0]
            engine = SyncEngine(
                session,
                Timed(zoho, meter),
                Timed(xero, meter),
                tenant_id=tenant_id,
                settings=settings,
                clock=clock,
                sleep=lambda s: None,
            )
            started = time.process_time()
            _run(engine, ["Invoices"])
            total = time.process_time() - started
            results[label] = (total - meter[0]) * 1000 / synced
            results[f"{label} (remote fakes)"] = meter[0] * 1000 / synced

        one_pass("first sync")
        for module in ("Accounts", "Products", "Invoices"):
            for record in zoho.all(module):
                field = {"Accounts": "Phone", "Products": "Description", "Invoices": "Subject"}[module]
                zoho.edit(module, record["id"], **{field: f"{record.get(field)} (edited)"})
        one_pass("update of every record")
        writes = xero.write_calls
        one_pass("repeat (zero writes)")
        assert xero.write_calls == writes, "a repeat sync must not write"
        assert session.scalar(select(func.count()).select_from(RecordLink)) == synced
        session.close()
        return results


class StreamingZoho:
    """A Zoho org of ``total`` accounts, generated page by page: the bench's own data costs no memory."""

    max_write_batch = 100
    max_read_ids = 100
    org_id = "zoho-bench"

    def __init__(self, total: int, page_size: int = 1000) -> None:
        self.total = total
        self.page_size = page_size
        self.stamp = datetime(2026, 1, 1, tzinfo=UTC).isoformat()

    def _record(self, index: int) -> Record:
        return {
            "id": str(4150868000000000000 + index),
            "Account_Name": f"Customer {index}",
            "Phone": f"+44 {index:08d}",
            "Billing_City": "Leeds",
            "Modified_Time": self.stamp,
        }

    def list_changed(self, module: str, since: datetime | None, cursor: str | None) -> Page:
        start = int(cursor or 0)
        end = min(self.total, start + self.page_size)
        return Page([self._record(i) for i in range(start, end)], str(end) if end < self.total else None)

    def count(self, module: str, since: datetime | None) -> int:
        return self.total

    def get_by_ids(self, module: str, ids: Sequence[str]) -> list[Record]:
        return [self._record(int(i) - 4150868000000000000) for i in ids]

    def search(self, module: str, field: str, values: Sequence[str]) -> list[Record]:
        return []

    def list_deleted(self, module: str, since: datetime | None) -> list[str]:
        return []

    def create(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        raise NotImplementedError

    update = create

    def remove(self, module: str, requests: Sequence[RemoveRequest]) -> list[WriteResult]:
        raise NotImplementedError

    def fields(self, module: str) -> list[Any]:
        return []


class ForgetfulXero:
    """Accepts every write, answers like Xero, keeps nothing."""

    max_write_batch = 50
    max_read_ids = 100
    tenant_id = "xero-bench"

    def __init__(self) -> None:
        self.created = 0

    def find(self, module: str, field: str, values: Sequence[str]) -> list[Record]:
        return []

    def create(self, module: str, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        results = []
        for request in requests:
            self.created += 1
            contact_id = f"00000000-0000-0000-0000-{self.created:012d}"
            results.append(
                WriteResult(
                    id=contact_id,
                    record={
                        **request.record,
                        "ContactID": contact_id,
                        "UpdatedDateUTC": "2026-01-01T00:00:00+00:00",
                    },
                )
            )
        return results

    def __getattr__(self, name: str) -> Callable[..., Any]:
        raise AttributeError(name)


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 1024 / 1024


def measure_memory(records: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        session, tenant_id = _session(Path(folder) / "memory.db")
        zoho, xero = StreamingZoho(records), ForgetfulXero()
        engine = SyncEngine(
            session,
            zoho,
            xero,
            tenant_id=tenant_id,  # type: ignore[arg-type]
            settings=SyncSettings.everything_on(),
            sleep=lambda s: None,
        )
        cursor: Cursor | None = engine.start(Direction.ZOHO_TO_XERO, ["Accounts"])
        samples: list[tuple[int, float]] = []
        done = 0
        started = time.perf_counter()
        while cursor is not None:
            result = engine.run_chunk(cursor)
            cursor = result.cursor
            done += result.records
            samples.append((done, _rss_mb()))
        elapsed = time.perf_counter() - started
        assert xero.created == records
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == records
        session.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fifth = next(rss for n, rss in samples if n >= records // 5)
    return {
        "peak": peak,
        "growth": samples[-1][1] - fifth,
        "at 20%": fifth,
        "at 100%": samples[-1][1],
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cpu-records", type=int, default=2000, help="customers and invoices per CPU pass")
    parser.add_argument("--memory-records", type=int, default=100_000)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()

    cpu = measure_cpu(args.cpu_records)
    print(
        f"Engine CPU per record synced ({args.cpu_records} customers + {args.cpu_records} invoices "
        f"with 3 lines + {max(10, args.cpu_records // 10)} products; remote fakes excluded)"
    )
    for label, value in cpu.items():
        if "remote" in label:
            continue
        print(
            f"  {label:<26} {value:6.3f} ms/record   target <= {CPU_TARGET_MS} ms   ratio "
            f"{value / CPU_TARGET_MS:.2f}   (fakes: {cpu[label + ' (remote fakes)']:.3f} ms/record)"
        )
    if args.skip_memory:
        return
    memory = measure_memory(args.memory_records)
    print(
        f"Memory syncing {args.memory_records:,} customers page by page "
        f"({memory['seconds']:.0f} s, {args.memory_records / memory['seconds']:.0f} records/s)"
    )
    print(
        f"  peak RSS                   {memory['peak']:6.1f} MB          "
        f"target <  {MEMORY_TARGET_MB:.0f} MB   ratio {memory['peak'] / MEMORY_TARGET_MB:.2f}"
    )
    print(
        f"  RSS at 20% -> 100%         {memory['at 20%']:6.1f} -> {memory['at 100%']:.1f} MB "
        f"(growth {memory['growth']:+.1f} MB; target: flat)"
    )


if __name__ == "__main__":
    main()
