"""The shared sandbox server: serving contract, control API, deterministic faults, the clock."""

from __future__ import annotations

import requests

from portal.sandbox.core.faults import FaultInjector
from portal.sandbox.core.store import Store


def test_both_sandboxes_are_served_from_one_process(sandbox, sandbox_server):
    index = requests.get(sandbox_server.url + "/", timeout=5)
    assert index.status_code == 200
    assert 'href="/xero/_sandbox/"' in index.text and 'href="/zoho/_sandbox/"' in index.text


def test_fault_plans_are_validated(sandbox):
    response = requests.post(sandbox.xero.control_url + "/faults", json={"rate": 2, "kinds": ["500"]}, timeout=5)
    assert response.status_code == 400 and "rate" in response.json()["error"]
    response = requests.post(sandbox.zoho.control_url + "/faults", json={"rate": 0.5, "kinds": ["boom"]}, timeout=5)
    assert response.status_code == 400 and "boom" in response.json()["error"]


def test_fault_decisions_repeat_for_a_seed(tmp_path):
    def sequence() -> list[str | None]:
        injector = FaultInjector(Store(tmp_path / f"{len(list(tmp_path.iterdir()))}.db"), "xero")
        injector.configure({"rate": 0.5, "kinds": ["500", "429", "lost-response"], "seed": 11})
        return [injector.decide("POST", "/api.xro/2.0/Contacts") for _ in range(40)]

    first, second = sequence(), sequence()
    assert first == second
    assert 5 < sum(kind is not None for kind in first) < 35


def test_fault_limit_and_endpoint_patterns(tmp_path):
    injector = FaultInjector(Store(tmp_path / "f.db"), "zoho")
    injector.configure({"rate": 1.0, "kinds": ["lost-response"], "endpoints": ["POST /crm/v8/*"], "limit": 2})
    assert injector.decide("GET", "/crm/v8/Accounts") is None
    assert injector.decide("POST", "/crm/v8/Accounts") == "lost-response"
    assert injector.decide("PUT", "/crm/v8/Accounts") is None  # the pattern names POST only
    assert injector.decide("POST", "/crm/v8/Deals") == "lost-response"
    assert injector.decide("POST", "/crm/v8/Deals") is None  # the limit of two is spent


def test_the_clock_can_run_faster_and_jump(sandbox):
    before = sandbox.xero.clock()["epoch"]
    after = sandbox.xero.clock(advance_seconds=3600)["epoch"]
    assert 3600 <= after - before < 3660
    assert sandbox.zoho.clock(scale=10)["scale"] == 10.0
    # One clock for the whole server: both sides see it.
    assert sandbox.xero.clock()["scale"] == 10.0


def test_outbox_retries_until_the_receiver_answers(tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from portal.sandbox.core.clock import SandboxClock
    from portal.sandbox.core.delivery import Outbox, RetryPolicy

    answers = [500, 200]
    received: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(answers.pop(0))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    store = Store(tmp_path / "outbox.db")
    clock = SandboxClock(store)
    outbox = Outbox(store, clock)
    outbox.set_policy("xero", RetryPolicy(delays=(60,)))
    outbox.enqueue("xero", "webhook", f"http://127.0.0.1:{server.server_port}/hook", b'{"events":[]}',
                   {"Content-Type": "application/json"})
    assert outbox.deliver_due() == 1
    assert outbox.recent("xero")[0].status == "pending"
    assert outbox.deliver_due() == 0  # not due until a sandbox minute has passed
    clock.advance(61)
    assert outbox.deliver_due() == 1
    delivery = outbox.recent("xero")[0]
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 2, 200)
    assert received == [b'{"events":[]}', b'{"events":[]}']
    server.shutdown()
