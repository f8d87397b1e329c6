"""The sandbox server: one WSGI app that serves every emulator under its prefix (``/xero``, ``/zoho``), with the
shared control API (``/<side>/_sandbox/...``), call statistics and fault injection around API endpoints.

The sandboxes import nothing from the rest of the portal: they are a stand-in for the outside world.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, g, jsonify, render_template_string, request

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.delivery import Outbox
from portal.sandbox.core.faults import FaultPlanError
from portal.sandbox.core.side import SandboxContext, SandboxSide
from portal.sandbox.core.store import Store

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

API_MARK = "_sandbox_api_endpoint"


def api_endpoint(view: F) -> F:
    """Mark a view as part of an emulated API: it is counted in stats and subject to injected faults."""
    setattr(view, API_MARK, True)
    return view


class ConnectionDropped(Exception):
    """Raised to abandon a request whose connection the fault injector closed."""


def drop_connection() -> None:
    """Close the client's socket without an answer, as a network failure or a crashed server would."""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def default_sides(context: SandboxContext) -> list[SandboxSide]:
    from portal.sandbox.xero import XeroSandbox
    from portal.sandbox.zoho import ZohoSandbox

    return [XeroSandbox(context), ZohoSandbox(context)]


def create_sandbox_app(
    db_path: str | Path,
    sides: Callable[[SandboxContext], Sequence[SandboxSide]] = default_sides,
    start_background: bool = True,
) -> Flask:
    """The sandbox WSGI app. ``start_background=False`` (in-process tests) sends no deliveries by itself:
    call ``app.extensions["sandbox"]["outbox"].deliver_due()`` to send what is due."""
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.secret_key = "sandbox-only-secret"  # noqa: S105 - signs the sandbox's own consent-page sessions
    # Cookies ignore the port: on 127.0.0.1 the portal's "session" cookie would be overwritten by the sandbox's.
    app.config["SESSION_COOKIE_NAME"] = "sandbox_session"
    store = Store(db_path)
    clock = SandboxClock(store)
    outbox = Outbox(store, clock)
    registered = {side.name: side for side in sides(SandboxContext(store, clock, outbox))}
    app.extensions["sandbox"] = {"store": store, "clock": clock, "outbox": outbox, "sides": registered}
    if start_background:
        outbox.start()

    for side in registered.values():
        for blueprint in side.blueprints():
            app.register_blueprint(blueprint, url_prefix=f"/{side.name}")
        app.register_blueprint(_control_blueprint(side, clock), url_prefix=f"/{side.name}/_sandbox")
        if start_background:
            side.start_background()

    @app.before_request
    def inject_faults() -> Response | None:
        side = _side_of_request(registered)
        if side is None or not _is_api_request(app):
            return None
        g.sandbox_started = time.monotonic()
        path = request.path[len(side.name) + 1:]
        kind = side.faults.decide(request.method, path)
        if kind is None:
            return None
        g.sandbox_fault = kind
        if kind in ("500", "503", "429"):
            return side.fault_response(kind)
        if kind == "timeout":
            time.sleep(side.faults.plan.hang_seconds)
            return side.fault_response("503")
        if kind == "reset":
            drop_connection()
            return Response(status=502)
        return None  # lost-response: let the write commit, drop the answer in after_request

    @app.after_request
    def count_and_drop(response: Response) -> Response:
        side = _side_of_request(registered)
        if side is not None and _is_api_request(app):
            endpoint = f"{request.method} {request.url_rule.rule[len(side.name) + 1:]}" if request.url_rule \
                else f"{request.method} ?"
            side.stats.record(endpoint, side.org_of_request(), response.status_code,
                              side.records_written_by_request())
            if g.get("sandbox_fault") == "lost-response":
                drop_connection()
        return response

    @app.get("/")
    def index() -> str:
        return render_template_string(INDEX_PAGE, sides=list(registered))

    @app.errorhandler(ConnectionDropped)
    def dropped(_: ConnectionDropped) -> Response:
        return Response(status=502)

    return app


def _side_of_request(sides: dict[str, SandboxSide]) -> SandboxSide | None:
    first = request.path.split("/", 2)[1] if request.path.count("/") >= 1 else ""
    return sides.get(first)


def _is_api_request(app: Flask) -> bool:
    view = app.view_functions.get(request.endpoint or "")
    return bool(view is not None and getattr(view, API_MARK, False))


def _control_blueprint(side: SandboxSide, clock: SandboxClock) -> Blueprint:
    """The JSON control API of one side, for tests, benchmarks and the demo (documented in the README)."""
    bp = Blueprint(f"{side.name}_control", __name__)

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    def bad_request(message: str) -> tuple[Response, int]:
        return jsonify({"error": message}), 400

    @bp.post("/reset")
    def reset() -> Response:
        side.faults.clear()
        side.stats.reset()
        return jsonify(side.reset())

    @bp.post("/seed")
    def seed() -> Response | tuple[Response, int]:
        try:
            return jsonify(side.seed(body()))
        except (ValueError, TypeError) as error:
            return bad_request(str(error))

    @bp.get("/stats")
    def stats() -> Response:
        return jsonify(side.stats.describe())

    @bp.delete("/stats")
    def reset_stats() -> Response:
        side.stats.reset()
        return jsonify(side.stats.describe())

    @bp.get("/faults")
    def get_faults() -> Response:
        return jsonify(side.faults.describe())

    @bp.post("/faults")
    def set_faults() -> Response | tuple[Response, int]:
        try:
            side.faults.configure(body())
        except (FaultPlanError, ValueError, TypeError) as error:
            return bad_request(str(error))
        return jsonify(side.faults.describe())

    @bp.delete("/faults")
    def clear_faults() -> Response:
        side.faults.clear()
        return jsonify(side.faults.describe())

    @bp.get("/clock")
    def get_clock() -> Response:
        return jsonify(clock.describe())

    @bp.post("/clock")
    def set_clock() -> Response | tuple[Response, int]:
        data = body()
        try:
            if data.get("reset"):
                clock.reset()
            if "scale" in data:
                clock.set_scale(float(data["scale"]))
            if "advance_seconds" in data:
                clock.advance(float(data["advance_seconds"]))
        except (ValueError, TypeError) as error:
            return bad_request(str(error))
        return jsonify(clock.describe())

    @bp.get("/webhooks")
    def get_webhooks() -> Response:
        return jsonify(side.webhooks(None))

    @bp.post("/webhooks")
    def set_webhooks() -> Response | tuple[Response, int]:
        try:
            return jsonify(side.webhooks(body()))
        except (ValueError, TypeError) as error:
            return bad_request(str(error))

    return bp


INDEX_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandboxes</title></head>
<body>
<h1>Sandboxes</h1>
<p>Local emulators of the services the portal syncs. Open a record editor:</p>
<ul>{% for name in sides %}<li><a href="/{{ name }}/_sandbox/">{{ name|capitalize }}</a></li>{% endfor %}</ul>
</body></html>
"""
