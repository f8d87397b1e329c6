"""Zoho CRM sandbox: seeding 100,000 records, and serving a page of 200 records with 50 fields at that volume.

    python bench/sandbox_zoho.py                  # 100,000 records, 30 timed pages
    python bench/sandbox_zoho.py --records 20000 --pages 10

The sandbox runs as the tests and the demo run it (``flask --app portal sandbox serve``, its own database file),
and is measured over HTTP from this process: the seed through the control API, pages through the CRM API with a
token from the sandbox's own OAuth server. Accounts get custom fields until a page selects 50 fields.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SEED_TARGET_S = 60.0
PAGE_TARGET_MS = 50.0
FIELDS = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "portal", "sandbox", "serve", "--host", "127.0.0.1", "--port",
         str(port), "--db", str(workdir / "sandbox.db")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/zoho/_sandbox/orgs", timeout=2).status_code == 200:
                return process, base
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the sandbox server did not start")


def report(label: str, figure: float, target: float, unit: str) -> None:
    print(f"{label}: {figure:.1f} {unit} (target < {target:.0f} {unit}, ratio {figure / target:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, base = start_server(Path(tmp))
        try:
            run(base, args.records, args.pages)
        finally:
            process.terminate()
            process.wait(10)


def run(base: str, records: int, pages: int) -> None:
    control = f"{base}/zoho/_sandbox"
    requests.post(f"{control}/reset", timeout=60).raise_for_status()
    org_id = requests.get(f"{control}/orgs", timeout=10).json()["orgs"][0]["id"]

    started = time.perf_counter()
    seeded = requests.post(f"{control}/seed", json={"org_id": org_id, "records": records, "seed": 7}, timeout=600)
    seeded.raise_for_status()
    seconds = time.perf_counter() - started
    print(f"seeded {seeded.json()['created']}")
    report(f"seed {records:,} Zoho records", seconds, SEED_TARGET_S, "s")

    code = requests.post(f"{control}/grant", json={"org_id": org_id}, timeout=10).json()["code"]
    token = requests.post(f"{base}/zoho/accounts/oauth/v2/token", timeout=10, data={
        "grant_type": "authorization_code", "client_id": "sandbox-client", "client_secret": "sandbox-secret",
        "redirect_uri": "http://localhost/callback", "code": code}).json()
    session = requests.Session()
    session.headers["Authorization"] = f"Zoho-oauthtoken {token['access_token']}"
    api = token["api_domain"]

    def field_names() -> list[str]:
        fields = session.get(f"{api}/crm/v8/settings/fields", params={"module": "Accounts"}, timeout=10).json()
        return [f["api_name"] for f in fields["fields"] if f["data_type"] != "subform"]

    extra = 0
    while len(field_names()) < FIELDS:
        extra += 1
        requests.post(f"{control}/orgs/{org_id}/fields", timeout=10,
                      json={"module": "Accounts", "label": f"Bench Field {extra}", "data_type": "text"})
    params = {"fields": ",".join(field_names()[:FIELDS]), "per_page": 200, "page": 5}

    for _ in range(3):  # warm caches, as a running sandbox would be
        session.get(f"{api}/crm/v8/Accounts", params=params, timeout=30).raise_for_status()
    timings = []
    for _ in range(pages):
        started = time.perf_counter()
        answer = session.get(f"{api}/crm/v8/Accounts", params=params, timeout=30)
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200 and len(answer.json()["data"]) == 200
    median = statistics.median(timings)
    p95 = sorted(timings)[max(0, int(len(timings) * 0.95) - 1)]
    report(f"page of 200 Accounts x {FIELDS} fields at {records:,} records (median of {pages})", median,
           PAGE_TARGET_MS, "ms")
    print(f"  p95 {p95:.1f} ms, max {max(timings):.1f} ms")

    # The sync's historical read path: page_token paging through the first 10,000 records.
    token_params = {key: value for key, value in params.items() if key != "page"}
    next_token = None
    walk = []
    for _ in range(50):
        query = {**token_params, **({"page_token": next_token} if next_token else {})}
        started = time.perf_counter()
        answer = session.get(f"{api}/crm/v8/Accounts", params=query, timeout=30).json()
        walk.append((time.perf_counter() - started) * 1000)
        next_token = answer["info"].get("next_page_token")
        if not next_token:
            break
    print(f"  {len(walk)} pages by page_token: median {statistics.median(walk):.1f} ms, max {max(walk):.1f} ms")

if __name__ == "__main__":
    main()
