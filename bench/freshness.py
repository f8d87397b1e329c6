"""Freshness of the sync triggers: how long a change takes to reach the other side.

    python bench/freshness.py                      # 50 Zoho saves, 30 Xero changes
    python bench/freshness.py --saves 20 --xero-changes 10 --interval 4

Everything runs as in production, on this machine: redis-server, the sandboxes (``flask sandbox serve``), the
portal under gunicorn (2 workers x 4 threads), two RQ workers, SQLite. A tenant is connected through the
consent pages, everything is switched on, the Zoho notification channels are subscribed and the Xero sandbox's
webhook points at the portal (``triggers.configure_sandboxes``).

- **Zoho save → Xero**: an account is renamed through the Zoho API; the clock stops when the portal's audit log
  has the update of its Xero contact (the row is written in the commit that follows Xero's answer). Path: Zoho's
  notification → ``/hooks/zoho/<token>`` stores the event → worker → Xero. Target: p95 < 5 s.
- **Xero change → Zoho**: a linked contact is renamed through the Xero API; the clock stops when the audit log
  has the update of its Zoho account. Path: Xero's webhook (batched over 1 s, as the sandbox does) →
  ``/hooks/xero`` → worker → Zoho. Target: p95 < 10 s.

Changes are spaced by ``--interval`` seconds: each one costs the Xero organisation 2 to 4 API calls (the
write, the portal's read, the echo's read), and Xero allows 60 a minute per organisation (FACTS.md §2); a
faster pace would measure the rate limit, not the triggers.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZOHO_TARGET_P95_S = 5.0
XERO_TARGET_P95_S = 10.0
XERO_UK = "6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b02"
PASSWORD = "bench password 1234"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


class Stack:
    """The processes of one run, stopped together."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []
        self.web_port, self.sandbox_port, self.redis_port = free_port(), free_port(), free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("ZOHO_", "XERO_", "DATABASE_", "REDIS_"))},
            "PYTHONPATH": str(ROOT), "INSTANCE_PATH": str(workdir / "instance"),
            "DATABASE_URL": f"sqlite:///{workdir / 'portal.db'}", "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "SECRET_KEY": uuid.uuid4().hex, "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "SANDBOX_URL": f"http://127.0.0.1:{self.sandbox_port}", "PUBLIC_URL": f"http://127.0.0.1:{self.web_port}",
            "XERO_WEBHOOK_KEY": uuid.uuid4().hex, "LOG_LEVEL": "WARNING", "ASSETS_OFFLINE": "1",
        }

    def start(self, name: str, *args: str) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed when the process ends
        self.processes.append(subprocess.Popen(list(args), cwd=ROOT, env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT))

    def up(self, workers: int) -> None:
        redis = shutil.which("redis-server")
        if redis is None:
            raise SystemExit("redis-server is needed (bin/test installs it)")
        self.start("redis", redis, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.workdir))
        subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "db", "upgrade"], cwd=ROOT, env=self.env,
                       check=True, capture_output=True)
        self.start("sandbox", sys.executable, "-m", "flask", "--app", "portal", "sandbox", "serve", "--host",
                   "127.0.0.1", "--port", str(self.sandbox_port), "--db", str(self.workdir / "sandbox.db"))
        self.start("web", sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--bind",
                   f"127.0.0.1:{self.web_port}", "portal:create_app()")
        for number in range(workers):
            self.start(f"worker{number}", sys.executable, "worker.py")
        wait_until(lambda: answers(f"{self.env['SANDBOX_URL']}/zoho/_sandbox/orgs"), 60, "the sandboxes")
        wait_until(lambda: answers(f"{self.env['PUBLIC_URL']}/login"), 60, "the portal")

    def down(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


# --- signing in and connecting, as a browser would ---------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf(browser: requests.Session, url: str) -> str:
    match = CSRF.search(browser.get(url, timeout=10).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def consent(browser: requests.Session, portal: str, side: str, **choices: str) -> None:
    start = browser.post(f"{portal}/connections/{side}/connect", allow_redirects=False, timeout=10,
                         data={"csrf_token": csrf(browser, f"{portal}/connections/")})
    consent_url = start.headers["Location"]
    outside = requests.Session()
    page = outside.get(consent_url, timeout=10).text
    form: dict[str, object] = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    for _kind, name, value in re.findall(r'<input type="(radio|checkbox)" name="([^"]+)" value="([^"]*)"[^>]*checked',
                                        page):
        form.setdefault(name, value)
    form.update(choices)
    action = re.search(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page)
    parts = urlsplit(consent_url)
    target = f"{parts.scheme}://{parts.netloc}{action.group(1)}" if action and action.group(1) else consent_url
    button = re.search(r'<button type="submit" name="([^"]+)" value="(?:allow|deny)"', page)
    answer = outside.post(target, data={**form, button.group(1) if button else "decision": "allow"},
                          allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    done = browser.get(f"{portal}{back.path}?{back.query}", timeout=30)
    assert "Connected to" in done.text, done.text[:500]


# --- the measurement --------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def report(label: str, values: list[float], target: float) -> None:
    p50, p95 = statistics.median(values), percentile(values, 0.95)
    print(f"{label}: p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(values):.2f} s over {len(values)} changes "
          f"(target p95 < {target:.0f} s, ratio {p95 / target:.2f})")


def run(args: argparse.Namespace, stack: Stack) -> None:
    from sqlalchemy import func, select

    from portal import create_app
    from portal.config import Settings
    from portal.extensions import db
    from portal.models import AuditEntry, Role
    from portal.models.sync import SyncConfig
    from portal.sandbox.client import SandboxControl
    from portal.services import accounts, connections, triggers, zoho_channels
    from portal.services.sync_runner import live_connections
    from portal.sync.settings import SyncSettings

    SandboxControl(stack.env["SANDBOX_URL"]).reset()
    sandbox = SandboxControl(stack.env["SANDBOX_URL"])
    sandbox.zoho.call("POST", "settings", {"search_index_lag_seconds": 0})
    app = create_app(Settings.from_env(stack.env))
    portal = stack.env["PUBLIC_URL"]
    with app.app_context():
        tenant = accounts.create_tenant("bench", "Bench Ltd")
        accounts.create_user("owner@bench.example", PASSWORD, Role.OWNER, tenant)
        db.session.commit()
        browser = requests.Session()
        browser.post(f"{portal}/login", timeout=10, data={
            "email": "owner@bench.example", "password": PASSWORD, "csrf_token": csrf(browser, f"{portal}/login")})
        consent(browser, portal, "zoho")
        consent(browser, portal, "xero", tenant=XERO_UK)
        db.session.add(SyncConfig(tenant_id=tenant.id,
                                  settings=SyncSettings.everything_on(default_tax_type="OUTPUT2").to_json()))
        db.session.commit()
        report_ = zoho_channels.reconcile(tenant)
        hooked = triggers.configure_sandboxes(tenant)
        assert hooked["xero"]["status"] == "OK", hooked["xero"]
        print(f"channels subscribed: {', '.join(report_.subscribed)}; Xero webhook: {hooked['xero']['status']}")
        linked = live_connections(tenant)
        zoho, xero = connections.zoho_client(linked.zoho), connections.xero_client(linked.xero)

        def last_audit_id() -> int:
            db.session.rollback()
            return int(db.session.scalar(select(func.max(AuditEntry.id))) or 0)

        def audited(trigger: str, after: int, **ids: str) -> bool:
            db.session.rollback()
            statement = select(AuditEntry.id).where(AuditEntry.id > after, AuditEntry.trigger == trigger,
                                                    AuditEntry.final.is_(True),
                                                    AuditEntry.action.in_(("created", "updated")))
            for name, value in ids.items():
                statement = statement.where(getattr(AuditEntry, name) == value)
            return db.session.scalar(statement.limit(1)) is not None

        # Ten accounts, linked to Xero contacts first (a Send to Xero each; not measured).
        created = zoho.create("Accounts", [{"Account_Name": f"Fresh Account {n}"} for n in range(10)])
        ids = [str(result.remote_id) for result in created]
        for record_id in ids:
            triggers.request_send(tenant, "Accounts", record_id, kind="send_portal")
        wait_until(lambda: all(audited("send_to_xero", 0, zoho_id=i) or audited("on_save", 0, zoho_id=i)
                               for i in ids), 120, "the accounts to reach Xero")
        time.sleep(args.interval)
        db.session.rollback()
        xero_ids = {row.zoho_id: row.xero_id for row in db.session.scalars(
            select(AuditEntry).where(AuditEntry.zoho_id.in_(ids), AuditEntry.xero_id.is_not(None)))}

        zoho_latencies: list[float] = []
        for n in range(args.saves):
            record_id = ids[n % len(ids)]
            after = last_audit_id()
            started = time.monotonic()
            zoho.update("Accounts", [{"id": record_id, "Account_Name": f"Fresh Account {n % 10} v{n}"}])
            wait_until(lambda record_id=record_id, after=after: audited("on_save", after, zoho_id=record_id), 60,
                       "the save to reach Xero")
            zoho_latencies.append(time.monotonic() - started)
            time.sleep(max(0.0, args.interval - zoho_latencies[-1]))
        report("Zoho save -> Xero (notification channel)", zoho_latencies, ZOHO_TARGET_P95_S)
        final_name = xero.get("Contacts", xero_ids[ids[(args.saves - 1) % len(ids)]])["Name"]
        assert final_name == f"Fresh Account {(args.saves - 1) % 10} v{args.saves - 1}", final_name

        xero_latencies: list[float] = []
        for n in range(args.xero_changes):
            record_id = ids[n % len(ids)]
            after = last_audit_id()
            started = time.monotonic()
            xero.save("Contacts", [{"ContactID": xero_ids[record_id], "Name": f"Changed In Xero {n % 10} v{n}"}])
            wait_until(lambda record_id=record_id, after=after: audited("xero_webhook", after, zoho_id=record_id),
                       60, "the change to reach Zoho")
            xero_latencies.append(time.monotonic() - started)
            time.sleep(max(0.0, args.interval - xero_latencies[-1]))
        report("Xero change -> Zoho (webhook)", xero_latencies, XERO_TARGET_P95_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=50)
    parser.add_argument("--xero-changes", type=int, default=30)
    parser.add_argument("--interval", type=float, default=4.0, help="seconds between two changes")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp))
        try:
            stack.up(args.workers)
            run(args, stack)
        except BaseException:
            for log in sorted(Path(tmp).glob("*.log")):
                tail = log.read_text(errors="replace")[-3000:]
                if "Traceback" in tail or "ERROR" in tail:
                    print(f"--- {log.name}\n{tail}", file=sys.stderr)
            raise
        finally:
            stack.down()


if __name__ == "__main__":
    main()
