"""The Accounting API under ``/xero/api.xro/2.0/`` (FACTS.md §3, §4; paths, fields and enums from the OAS).

Every call goes through :meth:`AccountingApi.call`, in Xero's order of refusals: JSON only (Xero answers XML to
anything else), a valid access token (401), a ``xero-tenant-id`` the token's user has connected (403), the scope
for the resource (401 ``AuthorizationUnsuccessful``), the organisation online (503), the rate limits (429). Writes
then run in one database transaction, each element of a batch in its own savepoint, behind the
``Idempotency-Key`` check, so that a replay returns the stored answer and creates nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, g, request

from portal.sandbox.core.server import api_endpoint
from portal.sandbox.xero import contacts, db, documents, items, payments, reports, scopes, settings
from portal.sandbox.xero.books import Org, WriteContext, is_guid, load_org
from portal.sandbox.xero.dates import DateFormatError, ms_date, parse_if_modified_since
from portal.sandbox.xero.documents import CREDIT_NOTE, INVOICE
from portal.sandbox.xero.errors import (
    ORGANISATION_OFFLINE_TEXT,
    ApiError,
    ApiException,
    Invalid,
    NotFound,
    Problem,
    Unavailable,
    forbidden,
    json_response,
    post_data_invalid,
    server_error,
    unauthorized,
    validation_exception,
)
from portal.sandbox.xero.query import Queryable, compile_order, compile_where
from portal.sandbox.xero.tokens import APP_NAME, AccessGrant

if TYPE_CHECKING:
    from portal.sandbox.xero import XeroSandbox

log = logging.getLogger(__name__)

PREFIX = "/api.xro/2.0"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
MAX_BODY_BYTES = 3_500_000  # Xero: at most 3.5 MB per POST (FACTS.md §2)
IDEMPOTENCY_WINDOW_SECONDS = 6 * 60
COUNT_CACHE_SIZE = 64  # Xero keeps a key for about 6 minutes (FACTS.md §3)
INVOICE_STATUSES = ("DRAFT", "SUBMITTED", "DELETED", "AUTHORISED", "PAID", "VOIDED")
RESOURCES = ("Organisation", "Contacts", "Items", "Invoices", "Payments", "CreditNotes", "Accounts", "TaxRates",
             "Currencies", "Reports")
CANONICAL_SEGMENTS = {name.lower(): name for name in (
    *RESOURCES, "Allocations", *reports.REPORTS)}


def canonical_path(path: str) -> str:
    """Xero routes paths case-insensitively (the SDK asks for ``/Connections``, the docs say ``/connections``)."""
    lower = path.lower()
    if lower.startswith("/xero/connections"):
        return "/xero/connections" + path[len("/xero/connections"):]
    api_prefix = "/xero" + PREFIX.lower()
    if not lower.startswith(api_prefix + "/"):
        return path
    segments = path[len(api_prefix) + 1:].split("/")
    for index in (0, 1, 2):
        if index < len(segments) and (index != 1 or segments[0].lower() == "reports"):
            segments[index] = CANONICAL_SEGMENTS.get(segments[index].lower(), segments[index])
    return "/xero" + PREFIX + "/" + "/".join(segments)


@dataclass
class Call:
    grant: AccessGrant
    org: Org
    now_ms: int
    unitdp: int


def envelope_json(items_key: str | None, records_json: Iterable[str], now_ms: int,
                  pagination: dict[str, int] | None = None, extra: dict[str, Any] | None = None) -> str:
    head: dict[str, Any] = {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": APP_NAME,
                            "DateTimeUTC": ms_date(now_ms, offset=False)}
    if pagination is not None:
        head["pagination"] = pagination
    if extra:
        head.update(extra)
    text = json.dumps(head, separators=(",", ":"))
    if items_key is None:
        return text
    return f'{text[:-1]},"{items_key}":[{",".join(records_json)}]}}'


def parse_bool(name: str, default: bool) -> bool:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    # xero-python sends booleans as True/False (FACTS.md §6)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiException(f"The value '{value}' is not valid for {name}; use true or false")


def parse_int(name: str) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiException(f"The value '{value}' is not valid for {name}") from None


def guid_list(name: str) -> list[str]:
    values = [part.strip() for part in request.args.get(name, "").split(",") if part.strip()]
    bad = [value for value in values if not is_guid(value)]
    if bad:
        raise ApiException(f"'{bad[0]}' is not a valid Guid in {name}")
    return [value.lower() for value in values]


class AccountingApi:
    def __init__(self, sandbox: XeroSandbox) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store
        self._counts_lock = threading.Lock()
        self._counts: OrderedDict[tuple[Any, ...], tuple[int, int]] = OrderedDict()

    # --- the pipeline --------------------------------------------------------------------------------------------

    def call(self, resource: str, write: bool, handler: Callable[[Call], Response]) -> Response:
        rate_headers: dict[str, str] = {}
        try:
            response = self._call(resource, write, handler, rate_headers)
        except ApiError as error:
            response = error.response()
        except Exception:
            log.exception("xero sandbox: unhandled error in %s %s", request.method, request.path)
            response = server_error().response()
        for name, value in rate_headers.items():
            response.headers.setdefault(name, value)
        return response

    def _call(self, resource: str, write: bool, handler: Callable[[Call], Response],
              rate_headers: dict[str, str]) -> Response:
        accept = request.headers.get("Accept", "")
        if "application/json" not in accept.lower():
            return Response("The Xero sandbox answers JSON only: send 'Accept: application/json' (Xero answers XML "
                            "otherwise).", status=406, mimetype="text/plain")
        grant = self.sandbox.identity.authenticate(request.headers.get("Authorization"))
        tenant_id = (request.headers.get("xero-tenant-id") or "").strip().lower()
        if not is_guid(tenant_id) or not self.sandbox.identity.connected(grant, tenant_id):
            raise forbidden()
        org = load_org(self.store.connection, tenant_id)
        if org is None:
            raise forbidden()
        if not scopes.allows(set(grant.scopes), resource, write):
            raise unauthorized("AuthorizationUnsuccessful",
                               'Bearer error="insufficient_scope", error_description="The scope of the token does '
                               'not allow this request"')
        if org.offline:
            raise Unavailable(ORGANISATION_OFFLINE_TEXT)
        limiter = self.sandbox.limiter
        rate_headers.update(limiter.acquire(org.id, org.daily_limit))  # raises RateLimited with its own headers
        try:
            if limiter.settings.latency_seconds:
                time.sleep(limiter.settings.latency_seconds)
            unitdp = 4 if parse_int("unitdp") == 4 else 2
            return handler(Call(grant, org, int(self.sandbox.clock.now() * 1000), unitdp))
        finally:
            limiter.release(org.id)

    def write(self, call: Call, do: Callable[[WriteContext], tuple[int, str]]) -> Response:
        """Run a write in one transaction, behind the Idempotency-Key check; the answer (errors included) is
        stored with the key in the same transaction, so a retry after a lost response replays it."""
        raw = request.get_data(cache=True)
        if len(raw) > MAX_BODY_BYTES:
            return Response("Request Entity Too Large", status=413, mimetype="text/plain")
        key = request.headers.get("Idempotency-Key")
        if key is not None and (not key.strip() or len(key) > 128):
            raise ApiException("Idempotency-Key must be between 1 and 128 characters")
        request_hash = hashlib.sha256(b"\n".join([
            request.method.encode(), request.path.lower().encode(),
            "&".join(sorted(f"{k.lower()}={v}" for k, v in request.args.items(multi=True))).encode(), raw,
        ])).hexdigest()
        now = self.sandbox.clock.now()
        with self.store.transaction() as conn:
            if key is not None:
                stored = conn.execute("SELECT * FROM xero_idempotency WHERE org_id = ? AND client_id = ? AND key = ?",
                                      (call.org.id, call.grant.client_id, key)).fetchone()
                if stored is not None and stored["created_at"] + IDEMPOTENCY_WINDOW_SECONDS > now:
                    if stored["request_hash"] != request_hash:
                        raise ApiException(f"Idempotency Key: {key} is used with a different request.")
                    return Response(bytes(stored["body"]), status=stored["status"],
                                    mimetype="text/plain" if stored["status"] == 404 else "application/json")
                if stored is not None:
                    conn.execute("DELETE FROM xero_idempotency WHERE org_id = ? AND client_id = ? AND key = ?",
                                 (call.org.id, call.grant.client_id, key))
            ctx = WriteContext(conn=conn, org=call.org, now_ms=call.now_ms, client_id=call.grant.client_id,
                               emit=self.sandbox.webhook_service.record, unitdp=call.unitdp)
            conn.execute("SAVEPOINT xero_request")
            try:
                status, body = do(ctx)
                conn.execute("RELEASE xero_request")
            except (ApiException, NotFound) as error:
                conn.execute("ROLLBACK TO xero_request")
                conn.execute("RELEASE xero_request")
                if isinstance(error, NotFound):
                    if key is None:
                        raise
                    response = error.response()
                    status, body = response.status_code, response.get_data(as_text=True)
                else:
                    status, body = error.status, json.dumps(error.body(), separators=(",", ":"))
            if key is not None:
                conn.execute("INSERT INTO xero_idempotency (org_id, client_id, key, request_hash, status, body, "
                             "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (call.org.id, call.grant.client_id, key, request_hash, status, body.encode(), now))
            g.xero_records_written = ctx.written
        if status == 404:
            return Response(body, status=404, mimetype="text/plain")
        return Response(body, status=status, mimetype="application/json")

    # --- request bodies and batches ------------------------------------------------------------------------------

    @staticmethod
    def elements(plural: str, single_ok: bool = True) -> list[Any]:
        if not (request.mimetype or "").endswith("json"):
            raise post_data_invalid("The request body must be JSON (Content-Type: application/json)")
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except ValueError as error:
            raise post_data_invalid(f"JSON for post data was invalid, {error}") from None
        if isinstance(body, dict):
            wrapped = next((value for name, value in body.items() if name.lower() == plural.lower()), None)
            if wrapped is not None:
                if not isinstance(wrapped, list):
                    raise post_data_invalid(f"{plural} must be a list")
                elements = wrapped
            elif single_ok and body:
                elements = [body]
            else:
                elements = []
        elif isinstance(body, list):
            elements = body
        else:
            elements = []
        if not elements:
            raise post_data_invalid(f"No {plural} were found in the request body")
        return elements

    def batch(self, call: Call, plural: str, save: Callable[[WriteContext, Any], dict[str, Any]],
              present: Callable[[WriteContext, list[dict[str, Any]]], list[dict[str, Any]]],
              echo_errors: Callable[[Any, list[str]], dict[str, Any]], summarize_param: bool = True,
              single: bool = False) -> Response:
        elements = self.elements(plural)
        if single and len(elements) != 1:
            raise post_data_invalid(f"Send exactly one element in {plural} to this endpoint")
        summarize = parse_bool("summarizeErrors", True) if summarize_param else True

        def do(ctx: WriteContext) -> tuple[int, str]:
            outcomes: list[tuple[bool, dict[str, Any]]] = []
            for element in elements:
                ctx.conn.execute("SAVEPOINT xero_element")
                try:
                    outcomes.append((True, save(ctx, element)))
                    ctx.conn.execute("RELEASE xero_element")
                except Invalid as invalid:
                    ctx.conn.execute("ROLLBACK TO xero_element")
                    ctx.conn.execute("RELEASE xero_element")
                    outcomes.append((False, echo_errors(element, invalid.messages)))
            failures = [record for ok, record in outcomes if not ok]
            if summarize and failures:
                # Xero: with summarizeErrors (the default) one invalid element makes the call a 400 that lists
                # the failed elements; the valid ones are saved (FACTS.md §3, reported behaviour).
                return 400, json.dumps(validation_exception(failures).body(), separators=(",", ":"))
            saved = present(ctx, [record for ok, record in outcomes if ok])
            answered: list[dict[str, Any]] = []
            saved_iter = iter(saved)
            for ok, record in outcomes:
                result = next(saved_iter) if ok else record
                if not summarize:
                    result = {**result, "StatusAttributeString": "OK" if ok else "ERROR"}
                answered.append(result)
            return 200, envelope_json(plural, (db.dumps(record) for record in answered), ctx.now_ms)

        return self.write(call, do)

    # --- reads ---------------------------------------------------------------------------------------------------

    def list_rows(self, call: Call, table: str, queryable: Queryable, *, conditions: list[str] | None = None,
                  params: list[Any] | None = None, if_modified_since: bool = True, paged: bool = False,
                  ids_param: str | None = None, tiebreak: str = "id") -> tuple[list[str], dict[str, int] | None]:
        where = ["org_id = ?", *(conditions or [])]
        values: list[Any] = [call.org.id, *(params or [])]
        if if_modified_since and request.headers.get("If-Modified-Since"):
            try:
                since = parse_if_modified_since(request.headers["If-Modified-Since"])
            except DateFormatError as error:
                raise ApiException(str(error)) from None
            where.append("updated_ms > ?")
            values.append(since)
        if ids_param:
            ids = guid_list(ids_param)
            if ids:
                where.append(f"id IN ({','.join('?' for _ in ids)})")
                values.extend(ids)
        text = request.args.get("where")
        if text is not None and text.strip():
            compiled = compile_where(queryable, text)
            where.append(f"({compiled.text})")
            values.extend(compiled.params)
        # A unique last key keeps pages stable.
        order = compile_order(queryable, request.args.get("order")) + f", {tiebreak} ASC"
        sql_where = " AND ".join(where)
        page = parse_int("page") if paged else None
        if page is None:
            rows = self.store.query(f"SELECT data FROM {table} WHERE {sql_where} ORDER BY {order}",  # noqa: S608
                                    values)
            return [row["data"] for row in rows], None
        size = parse_int("pageSize")
        size = DEFAULT_PAGE_SIZE if size is None else size
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ApiException(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
        page = max(page, 1)
        count = self.count(table, sql_where, values)
        pagination = {"page": page, "pageSize": size, "pageCount": (count + size - 1) // size, "itemCount": count}
        rows = self.store.query(f"SELECT data FROM {table} WHERE {sql_where} ORDER BY {order} "  # noqa: S608
                                f"LIMIT {size} OFFSET {(page - 1) * size}", values)
        return [row["data"] for row in rows], pagination

    def count(self, table: str, sql_where: str, values: list[Any]) -> int:
        """``itemCount`` of a paged listing. A sync pages through one listing call after call, so the count is kept
        until the next write anywhere in the sandbox (``Store.generation``)."""
        key = (table, sql_where, tuple(values))
        generation = self.store.generation
        with self._counts_lock:
            cached = self._counts.get(key)
            if cached is not None and cached[0] == generation:
                return cached[1]
        row = self.store.query_one(f"SELECT COUNT(*) AS n FROM {table} WHERE {sql_where}", values)  # noqa: S608
        count = int(row["n"]) if row else 0
        with self._counts_lock:
            self._counts[key] = (generation, count)
            self._counts.move_to_end(key)
            while len(self._counts) > COUNT_CACHE_SIZE:
                self._counts.popitem(last=False)
        return count

    def reader(self, call: Call) -> WriteContext:
        """A context for read-side lookups (no writes happen through it)."""
        return WriteContext(conn=self.store.connection, org=call.org, now_ms=call.now_ms, unitdp=call.unitdp)

    def one(self, call: Call, plural: str, record: dict[str, Any] | None) -> Response:
        if record is None:
            raise NotFound
        return Response(envelope_json(plural, [db.dumps(record)], call.now_ms), mimetype="application/json")


def contact_balances(conn: Any, contact_id: str, now_ms: int) -> dict[str, Any]:
    rows = conn.execute("SELECT type, SUM(amount_due) AS due, SUM(CASE WHEN due_ms < ? THEN amount_due ELSE 0 END) "
                        "AS overdue FROM xero_invoice WHERE contact_id = ? AND status = 'AUTHORISED' GROUP BY type",
                        (now_ms, contact_id)).fetchall()
    totals = {row["type"]: (round(row["due"] or 0, 2), round(row["overdue"] or 0, 2)) for row in rows}
    receivable = totals.get("ACCREC", (0.0, 0.0))
    payable = totals.get("ACCPAY", (0.0, 0.0))
    return {"AccountsReceivable": {"Outstanding": receivable[0], "Overdue": receivable[1]},
            "AccountsPayable": {"Outstanding": payable[0], "Overdue": payable[1]}}


def accounting_blueprint(sandbox: XeroSandbox) -> Blueprint:
    bp = Blueprint("xero_accounting", __name__)
    api = AccountingApi(sandbox)

    def route(rule: str, methods: list[str]) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        def register(view: Callable[..., Response]) -> Callable[..., Response]:
            bp.add_url_rule(PREFIX + rule, view_func=api_endpoint(view), methods=methods)
            return view
        return register

    # --- Organisation, Currencies, TaxRates, Accounts --------------------------------------------------------------

    @route("/Organisation", ["GET", "PUT", "POST"])
    def organisation() -> Response:
        if request.method != "GET":
            # Xero: POST Organisation answers 501 (FACTS.md §3).
            return api.call("Organisation", True, lambda call: Problem(501, "The method is not implemented",
                                                                       type_null=False).response())

        def handler(call: Call) -> Response:
            return Response(envelope_json("Organisations", [db.dumps(settings.present_organisation(call.org))],
                                          call.now_ms), mimetype="application/json")
        return api.call("Organisation", False, handler)

    @route("/Currencies", ["GET", "PUT"])
    def currencies() -> Response:
        if request.method == "PUT":
            return api.call("Currencies", True, lambda call: api.batch(
                call, "Currencies", settings.save_currency, lambda ctx, records: records,
                lambda element, messages: _echo(element, messages), summarize_param=False))

        def handler(call: Call) -> Response:
            rows, _ = api.list_rows(call, "xero_currency", settings.CURRENCY_QUERY, if_modified_since=False,
                                    tiebreak="rowid")
            return Response(envelope_json("Currencies", rows, call.now_ms), mimetype="application/json")
        return api.call("Currencies", False, handler)

    @route("/TaxRates", ["GET", "PUT", "POST"])
    def tax_rates() -> Response:
        if request.method != "GET":
            update = request.method == "POST"
            return api.call("TaxRates", True, lambda call: api.batch(
                call, "TaxRates", lambda ctx, element: settings.save_tax_rate(ctx, element, update),
                lambda ctx, records: records, _echo, summarize_param=False))

        def handler(call: Call) -> Response:
            rows, _ = api.list_rows(call, "xero_taxrate", settings.TAX_RATE_QUERY, if_modified_since=False,
                                    tiebreak="rowid")
            return Response(envelope_json("TaxRates", rows, call.now_ms), mimetype="application/json")
        return api.call("TaxRates", False, handler)

    @route("/TaxRates/<tax_type>", ["GET"])
    def tax_rate(tax_type: str) -> Response:
        def handler(call: Call) -> Response:
            row = sandbox.store.query_one("SELECT data FROM xero_taxrate WHERE org_id = ? AND tax_type = ?",
                                          (call.org.id, tax_type))
            return api.one(call, "TaxRates", db.record(row))
        return api.call("TaxRates", False, handler)

    @route("/Accounts", ["GET", "PUT"])
    def accounts() -> Response:
        if request.method == "PUT":
            # OAS: PUT /Accounts takes one bare Account object.
            return api.call("Accounts", True, lambda call: api.batch(
                call, "Accounts", lambda ctx, element: settings.save_account(ctx, element, None),
                lambda ctx, records: records, _echo, summarize_param=False, single=True))

        def handler(call: Call) -> Response:
            rows, _ = api.list_rows(call, "xero_account", settings.ACCOUNT_QUERY)
            return Response(envelope_json("Accounts", rows, call.now_ms), mimetype="application/json")
        return api.call("Accounts", False, handler)

    @route("/Accounts/<account_id>", ["GET", "POST", "DELETE"])
    def account(account_id: str) -> Response:
        if request.method == "GET":
            return api.call("Accounts", False, lambda call: api.one(
                call, "Accounts", settings.find_account(api.reader(call), account_id)))

        def handler(call: Call) -> Response:
            existing = settings.find_account(api.reader(call), account_id)
            if existing is None:
                raise NotFound
            if request.method == "DELETE":
                def delete(ctx: WriteContext) -> tuple[int, str]:
                    try:
                        deleted = settings.delete_account(ctx, existing)
                    except Invalid as invalid:
                        raise validation_exception([_echo(existing, invalid.messages)]) from None
                    return 200, envelope_json("Accounts", [db.dumps(deleted)], ctx.now_ms)
                return api.write(call, delete)
            return api.batch(call, "Accounts", lambda ctx, element: settings.save_account(ctx, element, existing),
                             lambda ctx, records: records, _echo, summarize_param=False, single=True)
        return api.call("Accounts", True, handler)

    # --- Contacts ------------------------------------------------------------------------------------------------

    @route("/Contacts", ["GET", "PUT", "POST"])
    def contacts_collection() -> Response:
        if request.method != "GET":
            mode = "create" if request.method == "PUT" else "upsert"
            return api.call("Contacts", True, lambda call: api.batch(
                call, "Contacts", lambda ctx, element: contacts.save(ctx, element, mode),
                lambda ctx, records: records, contacts.echo_with_errors))

        def handler(call: Call) -> Response:
            conditions: list[str] = []
            params: list[Any] = []
            if not parse_bool("includeArchived", False):
                conditions.append("status = 'ACTIVE'")
            term = request.args.get("searchTerm")
            if term:
                like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                conditions.append("(" + " OR ".join(f"{name} LIKE ? ESCAPE '\\'" for name in (
                    "name", "first_name", "last_name", "contact_number", "email")) + ")")
                params.extend([like] * 5)
            summary_only = parse_bool("summaryOnly", False)
            rows, pagination = api.list_rows(call, "xero_contact", contacts.QUERY, conditions=conditions,
                                             params=params, paged=True, ids_param="IDs")
            if summary_only:
                rows = [db.dumps(contacts.present(db.loads(row), True)) for row in rows]
            return Response(envelope_json("Contacts", rows, call.now_ms, pagination), mimetype="application/json")
        return api.call("Contacts", False, handler)

    @route("/Contacts/<ref>", ["GET", "POST"])
    def contact(ref: str) -> Response:
        def find(call: Call) -> dict[str, Any] | None:
            reader = api.reader(call)
            return contacts.find(reader, ref) if is_guid(ref) else contacts.find_by_number(reader, ref)

        if request.method == "GET":
            def show(call: Call) -> Response:
                record = find(call)
                if record is not None:
                    record = {**record, "Balances": contact_balances(sandbox.store.connection,
                                                                     record["ContactID"], call.now_ms)}
                return api.one(call, "Contacts", record)
            return api.call("Contacts", False, show)

        def update(call: Call) -> Response:
            existing = find(call)
            if existing is None:
                raise NotFound
            return api.batch(call, "Contacts",
                             lambda ctx, element: contacts.save(ctx, element, "update", existing["ContactID"]),
                             lambda ctx, records: records, contacts.echo_with_errors, single=True)
        return api.call("Contacts", True, update)

    # --- Items ---------------------------------------------------------------------------------------------------

    @route("/Items", ["GET", "PUT", "POST"])
    def items_collection() -> Response:
        if request.method != "GET":
            mode = "create" if request.method == "PUT" else "upsert"
            return api.call("Items", True, lambda call: api.batch(
                call, "Items", lambda ctx, element: items.save(ctx, element, mode),
                lambda ctx, records: [items.present(record, ctx.unitdp) for record in records], _echo))

        def handler(call: Call) -> Response:
            rows, _ = api.list_rows(call, "xero_item", items.QUERY)
            if call.unitdp != 4:
                rows = [db.dumps(items.present(db.loads(row), 2)) for row in rows]
            return Response(envelope_json("Items", rows, call.now_ms), mimetype="application/json")
        return api.call("Items", False, handler)

    @route("/Items/<ref>", ["GET", "POST", "DELETE"])
    def item(ref: str) -> Response:
        if request.method == "GET":
            def show(call: Call) -> Response:
                record = items.find(api.reader(call), ref)
                return api.one(call, "Items", items.present(record, call.unitdp) if record else None)
            return api.call("Items", False, show)

        def change(call: Call) -> Response:
            existing = items.find(api.reader(call), ref)
            if existing is None:
                raise NotFound
            if request.method == "DELETE":
                def delete(ctx: WriteContext) -> tuple[int, str]:
                    try:
                        items.delete(ctx, existing)
                    except Invalid as invalid:
                        raise validation_exception([_echo(existing, invalid.messages)]) from None
                    ctx.written += 1
                    return 204, ""
                response = api.write(call, delete)
                if response.status_code == 204:
                    # Xero: DELETE /Items/{id} answers 204 with no body (FACTS.md §4).
                    return Response(status=204)
                return response
            return api.batch(call, "Items", lambda ctx, element: items.save(ctx, element, "update",
                                                                            existing["ItemID"]),
                             lambda ctx, records: [items.present(record, ctx.unitdp) for record in records], _echo,
                             summarize_param=False, single=True)
        return api.call("Items", True, change)

    # --- Invoices and CreditNotes ---------------------------------------------------------------------------------

    def present_documents(ctx: WriteContext, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return documents.present(ctx.conn, records, ctx.unitdp, with_lines=True)

    @route("/Invoices", ["GET", "PUT", "POST"])
    def invoices_collection() -> Response:
        if request.method != "GET":
            mode = "create" if request.method == "PUT" else "upsert"
            return api.call("Invoices", True, lambda call: api.batch(
                call, "Invoices", lambda ctx, element: documents.save(ctx, INVOICE, element, mode),
                present_documents, lambda element, messages: documents.echo_with_errors(INVOICE, element,
                                                                                        messages)))

        def handler(call: Call) -> Response:
            conditions: list[str] = []
            params: list[Any] = []
            numbers = [part.strip() for part in request.args.get("InvoiceNumbers", "").split(",") if part.strip()]
            if numbers:
                conditions.append(f"number IN ({','.join('?' for _ in numbers)})")
                params.extend(numbers)
            contact_ids = guid_list("ContactIDs")
            if contact_ids:
                conditions.append(f"contact_id IN ({','.join('?' for _ in contact_ids)})")
                params.extend(contact_ids)
            statuses = [part.strip().upper() for part in request.args.get("Statuses", "").split(",")
                        if part.strip()]
            unknown = [status for status in statuses if status not in INVOICE_STATUSES]
            if unknown:
                raise ApiException(f"'{unknown[0]}' is not a valid invoice status")
            if statuses:
                conditions.append(f"status IN ({','.join('?' for _ in statuses)})")
                params.extend(statuses)
            if parse_bool("createdByMyApp", False):
                conditions.append("created_by = ?")
                params.append(call.grant.client_id)
            parse_bool("includeArchived", False)
            term = request.args.get("searchTerm")
            if term:
                like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                conditions.append("(number LIKE ? ESCAPE '\\' OR reference LIKE ? ESCAPE '\\')")
                params.extend([like, like])
            summary_only = parse_bool("summaryOnly", False)
            rows, pagination = api.list_rows(call, "xero_invoice", documents.INVOICE_QUERY, conditions=conditions,
                                             params=params, paged=True, ids_param="IDs")
            # Xero: invoice lists carry LineItems only when a page is asked for (FACTS.md §3).
            presented = documents.present(sandbox.store.connection, [db.loads(row) for row in rows], call.unitdp,
                                          with_lines=pagination is not None, summary_only=summary_only)
            return Response(envelope_json("Invoices", (db.dumps(record) for record in presented), call.now_ms,
                                          pagination), mimetype="application/json")
        return api.call("Invoices", False, handler)

    def document_item(kind: documents.Kind, ref: str) -> Response:
        if request.method == "GET":
            def show(call: Call) -> Response:
                record = documents.find(api.reader(call), kind, ref)
                if record is None:
                    raise NotFound
                return api.one(call, kind.plural, documents.present(sandbox.store.connection, [record], call.unitdp,
                                                                    with_lines=True)[0])
            return api.call(kind.plural, False, show)

        def update(call: Call) -> Response:
            existing = documents.find(api.reader(call), kind, ref)
            if existing is None:
                raise NotFound
            return api.batch(call, kind.plural,
                             lambda ctx, element: documents.save(ctx, kind, element, "update", existing[kind.id_key]),
                             present_documents,
                             lambda element, messages: documents.echo_with_errors(kind, element, messages),
                             summarize_param=False, single=True)
        return api.call(kind.plural, True, update)

    @route("/Invoices/<ref>", ["GET", "POST"])
    def invoice(ref: str) -> Response:
        return document_item(INVOICE, ref)

    @route("/CreditNotes", ["GET", "PUT", "POST"])
    def credit_notes_collection() -> Response:
        if request.method != "GET":
            mode = "create" if request.method == "PUT" else "upsert"
            return api.call("CreditNotes", True, lambda call: api.batch(
                call, "CreditNotes", lambda ctx, element: documents.save(ctx, CREDIT_NOTE, element, mode),
                present_documents, lambda element, messages: documents.echo_with_errors(CREDIT_NOTE, element,
                                                                                        messages)))

        def handler(call: Call) -> Response:
            rows, pagination = api.list_rows(call, "xero_creditnote", documents.CREDIT_NOTE_QUERY, paged=True)
            presented = documents.present(sandbox.store.connection, [db.loads(row) for row in rows], call.unitdp,
                                          with_lines=True)
            return Response(envelope_json("CreditNotes", (db.dumps(record) for record in presented), call.now_ms,
                                          pagination), mimetype="application/json")
        return api.call("CreditNotes", False, handler)

    @route("/CreditNotes/<ref>", ["GET", "POST"])
    def credit_note(ref: str) -> Response:
        return document_item(CREDIT_NOTE, ref)

    @route("/CreditNotes/<ref>/Allocations", ["PUT"])
    def credit_note_allocations(ref: str) -> Response:
        def handler(call: Call) -> Response:
            existing = documents.find(api.reader(call), CREDIT_NOTE, ref)
            if existing is None:
                raise NotFound

            def allocate(ctx: WriteContext, element: Any) -> dict[str, Any]:
                current = documents.find(ctx, CREDIT_NOTE, existing["CreditNoteID"])
                assert current is not None
                return payments.allocate(ctx, current, element)
            return api.batch(call, "Allocations", allocate, lambda ctx, records: records, _echo)
        return api.call("CreditNotes", True, handler)

    # --- Payments ------------------------------------------------------------------------------------------------

    @route("/Payments", ["GET", "PUT", "POST"])
    def payments_collection() -> Response:
        if request.method == "PUT":
            return api.call("Payments", True, lambda call: api.batch(
                call, "Payments", payments.create, lambda ctx, records: records, _echo_payment))
        if request.method == "POST":
            # OAS: POST /Payments takes one bare Payment object (wrapped is accepted too).
            return api.call("Payments", True, lambda call: api.batch(
                call, "Payments", payments.create, lambda ctx, records: records, _echo_payment,
                summarize_param=False, single=True))

        def handler(call: Call) -> Response:
            rows, pagination = api.list_rows(call, "xero_payment", payments.QUERY, paged=True)
            return Response(envelope_json("Payments", rows, call.now_ms, pagination), mimetype="application/json")
        return api.call("Payments", False, handler)

    @route("/Payments/<payment_id>", ["GET", "POST"])
    def payment(payment_id: str) -> Response:
        if request.method == "GET":
            return api.call("Payments", False, lambda call: api.one(
                call, "Payments", payments.find(api.reader(call), payment_id)))

        def delete(call: Call) -> Response:
            existing = payments.find(api.reader(call), payment_id)
            if existing is None:
                raise NotFound

            def do_delete(ctx: WriteContext, element: Any) -> dict[str, Any]:
                current = payments.find(ctx, payment_id)
                assert current is not None
                return payments.delete(ctx, current, element)
            return api.batch(call, "Payments", do_delete, lambda ctx, records: records, _echo_payment,
                             summarize_param=False, single=True)
        return api.call("Payments", True, delete)

    # --- Reports -------------------------------------------------------------------------------------------------

    @route("/Reports/<name>", ["GET"])
    def report(name: str) -> Response:
        if name not in reports.REPORTS:
            return api.call(f"Reports/{name}", False, lambda call: NotFound().response())

        def handler(call: Call) -> Response:
            try:
                built = reports.REPORTS[name](sandbox.store.connection, call.org, call.now_ms, request.args)
            except reports.ReportParameterError as error:
                raise ApiException(str(error)) from None
            return Response(envelope_json(None, [], call.now_ms, extra={"Reports": [built]}),
                            mimetype="application/json")
        return api.call(f"Reports/{name}", False, handler)

    # --- anything else under the API -------------------------------------------------------------------------------

    @route("/<path:rest>", ["GET", "PUT", "POST", "DELETE", "PATCH"])
    def unknown(rest: str) -> Response:
        if rest.split("/")[0] in RESOURCES:
            return json_response({"Message": f"The requested resource does not support http method "
                                             f"'{request.method}'."}, 405)
        return NotFound().response()

    @bp.record_once
    def install_case_insensitive_paths(state: Any) -> None:
        app = state.app
        inner = app.wsgi_app

        def middleware(environ: dict[str, Any], start_response: Any) -> Any:
            environ["PATH_INFO"] = canonical_path(environ.get("PATH_INFO", ""))
            return inner(environ, start_response)
        app.wsgi_app = middleware

    return bp


def _echo(element: Any, messages: list[str]) -> dict[str, Any]:
    echoed = dict(element) if isinstance(element, dict) else {}
    echoed["ValidationErrors"] = [{"Message": message} for message in messages]
    return echoed


def _echo_payment(element: Any, messages: list[str]) -> dict[str, Any]:
    echoed = _echo(element, messages)
    echoed["HasValidationErrors"] = True
    return echoed
