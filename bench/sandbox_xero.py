"""Xero sandbox speed: seeding 100,000 records and serving pages of 1,000 contacts at that volume.

    python bench/sandbox_xero.py                    # starts its own sandbox server (the documented command)
    python bench/sandbox_xero.py --url http://127.0.0.1:5050 --requests 200

Measured over HTTP against ``flask --app portal sandbox serve``, as tests and the portal use it:
1. seeding a mixed 100,000 records in one organisation (contacts, items, invoices with 1-4 lines, payments);
2. seeding 100,000 contacts in another organisation;
3. ``GET /Contacts?page=N&pageSize=1000`` in that organisation, N drawn across all full pages, measured by the
   client from request to last byte (rate limits raised through the ``limits`` control, so only the serving is
   timed); then the same right after a write, when the listing's order must be walked again.
   Targets: seeding under 60 s, a page under 50 ms at p50 and p95.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.sandbox.client import SandboxControl

SEED_TARGET_S = 60.0
PAGE_TARGET_MS = 50.0
UK = "6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b02"


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(workdir / "sandbox.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "portal", "sandbox", "serve", "--host", "127.0.0.1", "--port",
         str(port), "--db", str(workdir / "sandbox.db")],
        cwd=Path(__file__).resolve().parent.parent, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/", timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the sandbox did not start; see {workdir / 'sandbox.log'}")


def line(name: str, figure: float, unit: str, target: float) -> None:
    print(f"{name:<44} {figure:>9.2f} {unit:<3} target < {target:g} {unit:<3} ratio {figure / target:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running sandbox server (default: start one)")
    parser.add_argument("--requests", type=int, default=200, help="page requests to time")
    args = parser.parse_args()

    process = None
    workdir = Path(tempfile.mkdtemp(prefix="sandbox-xero-bench-"))
    url = args.url
    if url is None:
        process, url = start_server(workdir)
    try:
        control = SandboxControl(url)
        control.reset()
        started = time.monotonic()
        mixed = control.xero.seed(org="nz", seed=1, contacts=50_000, items=1_000, invoices=35_000, payments=14_000)
        mixed_seconds = time.monotonic() - started
        started = time.monotonic()
        contacts = control.xero.seed(org="uk", seed=2, contacts=100_000)
        contacts_seconds = time.monotonic() - started

        control.xero.call("POST", "limits", {"per_minute": 1_000_000, "app_per_minute": 1_000_000})
        control.xero.call("POST", "orgs/uk", {"daily_limit": 10_000_000})
        token = control.xero.call("POST", "tokens", {"tenants": ["uk"]})["access_token"]
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {token}", "xero-tenant-id": UK,
                                "Accept": "application/json"})
        api = f"{url}/xero/api.xro/2.0/Contacts"
        first = session.get(api, params={"page": 1, "pageSize": 1000}, timeout=30).json()
        pages = first["pagination"]["pageCount"]
        full_pages = first["pagination"]["itemCount"] // 1000  # every page timed holds 1,000 contacts
        draw = random.Random(7)  # which pages to ask for: the same on every run
        timings = []
        for _ in range(args.requests):
            page = draw.randint(1, full_pages)
            begun = time.perf_counter()
            response = session.get(api, params={"page": page, "pageSize": 1000}, timeout=30)
            body = response.content
            timings.append((time.perf_counter() - begun) * 1000)
            assert response.status_code == 200 and body.count(b'"ContactID"') == 1000, response.text[:300]
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[int(len(timings) * 0.95) - 1]

        # A sync interleaves writes with reads: the first page after a write walks the listing again.
        contact_id = first["Contacts"][0]["ContactID"]
        after_write = []
        for index in range(max(10, args.requests // 10)):
            update = session.post(f"{api}/{contact_id}", json={"Contacts": [{"AccountNumber": f"B{index}"}]},
                                  timeout=30)
            assert update.status_code == 200, update.text[:300]
            begun = time.perf_counter()
            response = session.get(api, params={"page": draw.randint(1, full_pages), "pageSize": 1000}, timeout=30)
            body = response.content
            after_write.append((time.perf_counter() - begun) * 1000)
            assert response.status_code == 200 and body.count(b'"ContactID"') == 1000
        after_write.sort()

        records = sum(mixed[kind] for kind in ("contacts", "items", "invoices", "payments"))
        print(f"Xero sandbox at {url}: {records:,} mixed records in Demo Company (NZ), "
              f"{contacts['contacts']:,} contacts in Demo Company (UK) ({first['pagination']['itemCount']:,} "
              f"active, {pages} pages of 1,000); {len(timings)} page requests")
        line(f"seed {records:,} mixed records (server {mixed['seconds']:.1f} s)", mixed_seconds, "s", SEED_TARGET_S)
        line(f"seed {contacts['contacts']:,} contacts (server {contacts['seconds']:.1f} s)", contacts_seconds, "s",
             SEED_TARGET_S)
        line("page of 1,000 contacts at 100,000, p50", p50, "ms", PAGE_TARGET_MS)
        line("page of 1,000 contacts at 100,000, p95", p95, "ms", PAGE_TARGET_MS)
        line("first page after a write, p50", statistics.median(after_write), "ms", PAGE_TARGET_MS)
        line("first page after a write, p95", after_write[int(len(after_write) * 0.95) - 1], "ms",
             PAGE_TARGET_MS)
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
