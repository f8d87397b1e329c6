"""The record browser and editor at ``/xero/_sandbox/``: plain server-rendered pages and forms (no JavaScript),
so a demo user can do in "Xero" what a Xero user does: create, edit, archive contacts; items; invoices (approve,
void, delete, pay); payments. Every change goes through the same code as the API, so it bumps
``UpdatedDateUTC`` and raises the same webhook events. Also: the webhook settings and each organisation's
daily limit, lock dates and offline switch.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from portal.sandbox.xero import contacts, db, documents, items, payments
from portal.sandbox.xero.books import Org, WriteContext, all_orgs
from portal.sandbox.xero.control import describe_org
from portal.sandbox.xero.dates import date_of_ms
from portal.sandbox.xero.documents import INVOICE
from portal.sandbox.xero.errors import Invalid

if TYPE_CHECKING:
    from portal.sandbox.xero import XeroSandbox

PAGE_SIZE = 50
LINE_ROWS = 4


def _clean(form: dict[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: form[name].strip() for name in names if name in form}


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def editor_blueprint(sandbox: XeroSandbox) -> Blueprint:
    bp = Blueprint("xero_editor", __name__, template_folder="templates")
    store = sandbox.store

    @bp.before_request
    def check_csrf() -> None:
        if request.method == "POST" and (request.blueprint == "xero_editor"):
            expected = session.get("xero_editor_csrf")
            if not expected or not secrets.compare_digest(expected, request.form.get("csrf_token", "")):
                abort(400, "The form expired; reload the page and try again.")

    @bp.app_context_processor
    def csrf_token() -> dict[str, Any]:
        def token() -> str:
            value = session.get("xero_editor_csrf")
            if not value:
                value = secrets.token_urlsafe(24)
                session["xero_editor_csrf"] = value
            return str(value)
        return {"xero_editor_csrf": token}

    @bp.app_template_filter("xero_date")
    def xero_date(value: str) -> str:
        """``/Date(ms+0000)/`` as Xero's screens show it: 5 Mar 2026."""
        ms = documents.date_ms_of({"Date": value})
        return "" if ms is None else date_of_ms(ms).strftime("%-d %b %Y")

    @bp.app_template_filter("xero_day")
    def xero_day(ms: int) -> str:
        return date_of_ms(int(ms)).strftime("%-d %b %Y")

    @bp.app_template_filter("xero_iso")
    def xero_iso(value: str) -> str:
        ms = documents.date_ms_of({"Date": value})
        return "" if ms is None else date_of_ms(ms).isoformat()

    def org_or_404(org_id: str) -> Org:
        org = sandbox.find_org(org_id)
        if org is None:
            abort(404)
        return org

    def write(org: Org, action: Callable[[WriteContext], Any]) -> tuple[Any, list[str]]:
        """Run one editor change in a transaction; validation errors come back instead of being raised."""
        try:
            with store.transaction() as conn:
                return action(sandbox.write_context(conn, org)), []
        except Invalid as invalid:
            return None, invalid.messages

    def page_number() -> int:
        try:
            return max(1, int(request.args.get("page", "1")))
        except ValueError:
            return 1

    # --- overview, webhooks, organisation settings ----------------------------------------------------------------

    @bp.get("/_sandbox/")
    def index() -> str:
        orgs = all_orgs(store.connection)
        counts = {org.id: {table: store.query_one(f"SELECT COUNT(*) AS n FROM xero_{table} WHERE org_id = ?",  # noqa: S608
                                                  (org.id,))["n"]  # type: ignore[index]
                           for table in ("contact", "item", "invoice", "payment")} for org in orgs}
        return render_template("xero_sandbox/index.html", orgs=orgs, counts=counts,
                               webhook=sandbox.webhook_service.describe(), limits=sandbox.limiter.describe(),
                               connections=sandbox.identity.describe())

    @bp.post("/_sandbox/webhook-settings")
    def webhook_settings() -> BaseResponse:
        form = request.form
        settings: dict[str, Any] = {
            "url": form.get("url", "").strip() or None,
            "enabled": form.get("enabled") == "on",
            "categories": form.getlist("categories") or ["CONTACT", "INVOICE"],
        }
        if form.get("key", "").strip():
            settings["key"] = form["key"].strip()
        if form.get("verify"):
            settings["verify"] = True
        try:
            result = sandbox.webhooks(settings)
            flash(f"Webhook saved: {result['status']}.")
        except ValueError as error:
            flash(f"Webhook not saved: {error}", "error")
        return redirect(url_for("xero_editor.index"))

    @bp.get("/_sandbox/books/<org_id>")
    def org_page(org_id: str) -> str:
        org = org_or_404(org_id)
        return render_template("xero_sandbox/org.html", org=org, settings=describe_org(org))

    @bp.post("/_sandbox/books/<org_id>/settings")
    def org_settings(org_id: str) -> BaseResponse:
        org = org_or_404(org_id)
        form = request.form
        try:
            sandbox.change_org(org, {
                "daily_limit": int(form.get("daily_limit") or org.daily_limit),
                "period_lock_date": form.get("period_lock_date") or None,
                "end_of_year_lock_date": form.get("end_of_year_lock_date") or None,
                "offline": form.get("offline") == "on",
            })
            flash("Organisation settings saved.")
        except (ValueError, TypeError) as error:
            flash(f"Not saved: {error}", "error")
        return redirect(url_for("xero_editor.org_page", org_id=org.id))

    # --- contacts ---------------------------------------------------------------------------------------------

    @bp.get("/_sandbox/books/<org_id>/contacts")
    def contact_list(org_id: str) -> str:
        org = org_or_404(org_id)
        term = request.args.get("q", "").strip()
        archived = request.args.get("archived") == "1"
        where = ["org_id = ?"]
        params: list[Any] = [org.id]
        if not archived:
            where.append("status = 'ACTIVE'")
        if term:
            where.append("(name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\' OR contact_number LIKE ? ESCAPE '\\')")
            params.extend([_like(term)] * 3)
        page = page_number()
        rows = store.query(f"SELECT data FROM xero_contact WHERE {' AND '.join(where)} "  # noqa: S608
                           f"ORDER BY name, id LIMIT {PAGE_SIZE + 1} OFFSET {(page - 1) * PAGE_SIZE}", params)
        records = [db.loads(row["data"]) for row in rows]
        return render_template("xero_sandbox/contacts.html", org=org, contacts=records[:PAGE_SIZE], page=page,
                               more=len(records) > PAGE_SIZE, q=term, archived=archived)

    def contact_element(form: Any) -> dict[str, Any]:
        element = _clean(form, ("Name", "FirstName", "LastName", "EmailAddress", "ContactNumber", "AccountNumber"))
        element["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": form.get("PhoneNumber", "").strip()}]
        element["Addresses"] = [{"AddressType": "STREET", **_clean(form, ("AddressLine1", "City", "PostalCode",
                                                                           "Country"))}]
        persons = []
        for index in range(2):
            person = {key: form.get(f"person{index}_{key}", "").strip()
                      for key in ("FirstName", "LastName", "EmailAddress")}
            if any(person.values()):
                persons.append({**person, "IncludeInEmails": form.get(f"person{index}_IncludeInEmails") == "on"})
        element["ContactPersons"] = persons
        return element

    @bp.route("/_sandbox/books/<org_id>/contacts/new", methods=["GET", "POST"])
    def contact_new(org_id: str) -> str | BaseResponse:
        org = org_or_404(org_id)
        errors: list[str] = []
        if request.method == "POST":
            saved, errors = write(org, lambda ctx: contacts.save(ctx, contact_element(request.form), "create"))
            if saved:
                flash(f"Contact {saved['Name']} created.")
                return redirect(url_for("xero_editor.contact_page", org_id=org.id, contact_id=saved["ContactID"]))
        return render_template("xero_sandbox/contact.html", org=org, contact=None, form=request.form, errors=errors)

    @bp.route("/_sandbox/books/<org_id>/contacts/<contact_id>", methods=["GET", "POST"])
    def contact_page(org_id: str, contact_id: str) -> str | BaseResponse:
        org = org_or_404(org_id)
        record = db.record(store.query_one("SELECT data FROM xero_contact WHERE id = ? AND org_id = ?",
                                           (contact_id, org.id)))
        if record is None:
            abort(404)
        errors: list[str] = []
        if request.method == "POST":
            saved, errors = write(org, lambda ctx: contacts.save(ctx, contact_element(request.form), "update",
                                                                 contact_id))
            if saved:
                flash("Contact saved.")
                return redirect(url_for("xero_editor.contact_page", org_id=org.id, contact_id=contact_id))
        invoices = [db.loads(row["data"]) for row in store.query(
            "SELECT data FROM xero_invoice WHERE contact_id = ? ORDER BY date_ms DESC LIMIT 20", (contact_id,))]
        return render_template("xero_sandbox/contact.html", org=org, contact=record, form=request.form,
                               errors=errors, invoices=invoices)

    @bp.post("/_sandbox/books/<org_id>/contacts/<contact_id>/status")
    def contact_status(org_id: str, contact_id: str) -> BaseResponse:
        org = org_or_404(org_id)
        status = "ARCHIVED" if request.form.get("status") == "ARCHIVED" else "ACTIVE"
        _, errors = write(org, lambda ctx: contacts.save(ctx, {"ContactStatus": status}, "update", contact_id))
        flash("; ".join(errors) if errors else f"Contact {status.lower()}.", "error" if errors else "message")
        return redirect(url_for("xero_editor.contact_page", org_id=org.id, contact_id=contact_id))

    # --- items ------------------------------------------------------------------------------------------------

    @bp.get("/_sandbox/books/<org_id>/items")
    def item_list(org_id: str) -> str:
        org = org_or_404(org_id)
        page = page_number()
        rows = store.query(f"SELECT data FROM xero_item WHERE org_id = ? ORDER BY code LIMIT {PAGE_SIZE + 1} "  # noqa: S608
                           f"OFFSET {(page - 1) * PAGE_SIZE}", (org.id,))
        records = [db.loads(row["data"]) for row in rows]
        return render_template("xero_sandbox/items.html", org=org, items=records[:PAGE_SIZE], page=page,
                               more=len(records) > PAGE_SIZE)

    def item_element(form: Any) -> dict[str, Any]:
        element = _clean(form, ("Code", "Name", "Description"))
        sales: dict[str, Any] = {}
        if form.get("SalesUnitPrice", "").strip():
            sales["UnitPrice"] = form["SalesUnitPrice"].strip()
        sales["AccountCode"] = form.get("SalesAccountCode", "").strip() or None
        sales["TaxType"] = form.get("SalesTaxType", "").strip() or None
        element["SalesDetails"] = sales
        element["IsSold"] = True
        return element

    @bp.route("/_sandbox/books/<org_id>/items/new", methods=["GET", "POST"])
    def item_new(org_id: str) -> str | BaseResponse:
        org = org_or_404(org_id)
        errors: list[str] = []
        if request.method == "POST":
            saved, errors = write(org, lambda ctx: items.save(ctx, item_element(request.form), "create"))
            if saved:
                flash(f"Item {saved['Code']} created.")
                return redirect(url_for("xero_editor.item_list", org_id=org.id))
        return render_template("xero_sandbox/item.html", org=org, item=None, form=request.form, errors=errors)

    @bp.route("/_sandbox/books/<org_id>/items/<item_id>", methods=["GET", "POST"])
    def item_page(org_id: str, item_id: str) -> str | BaseResponse:
        org = org_or_404(org_id)
        record = db.record(store.query_one("SELECT data FROM xero_item WHERE id = ? AND org_id = ?",
                                           (item_id, org.id)))
        if record is None:
            abort(404)
        errors: list[str] = []
        if request.method == "POST":
            saved, errors = write(org, lambda ctx: items.save(ctx, item_element(request.form), "update", item_id))
            if saved:
                flash("Item saved.")
                return redirect(url_for("xero_editor.item_page", org_id=org.id, item_id=item_id))
        return render_template("xero_sandbox/item.html", org=org, item=record, form=request.form, errors=errors)

    @bp.post("/_sandbox/books/<org_id>/items/<item_id>/delete")
    def item_delete(org_id: str, item_id: str) -> BaseResponse:
        org = org_or_404(org_id)
        record = db.record(store.query_one("SELECT data FROM xero_item WHERE id = ? AND org_id = ?",
                                           (item_id, org.id)))
        if record is None:
            abort(404)
        _, errors = write(org, lambda ctx: items.delete(ctx, record))
        flash("; ".join(errors) if errors else f"Item {record['Code']} deleted.", "error" if errors else "message")
        return redirect(url_for("xero_editor.item_list", org_id=org.id))

    # --- invoices ---------------------------------------------------------------------------------------------

    @bp.get("/_sandbox/books/<org_id>/invoices")
    def invoice_list(org_id: str) -> str:
        org = org_or_404(org_id)
        where = ["i.org_id = ?"]
        params: list[Any] = [org.id]
        status = request.args.get("status", "")
        if status:
            where.append("i.status = ?")
            params.append(status)
        invoice_type = request.args.get("type", "")
        if invoice_type:
            where.append("i.type = ?")
            params.append(invoice_type)
        page = page_number()
        rows = store.query(
            "SELECT i.id, i.type, i.status, i.number, i.date_ms, i.due_ms, i.total, i.amount_due, c.name "  # noqa: S608
            f"FROM xero_invoice i JOIN xero_contact c ON c.id = i.contact_id WHERE {' AND '.join(where)} "
            f"ORDER BY i.date_ms DESC, i.id LIMIT {PAGE_SIZE + 1} OFFSET {(page - 1) * PAGE_SIZE}", params)
        return render_template("xero_sandbox/invoices.html", org=org, invoices=rows[:PAGE_SIZE], page=page,
                               more=len(rows) > PAGE_SIZE, status=status, type=invoice_type,
                               statuses=(*documents.CREATABLE, "PAID", "VOIDED", "DELETED"))

    def invoice_element(form: Any) -> dict[str, Any]:
        element: dict[str, Any] = _clean(form, ("Type", "Reference", "InvoiceNumber", "LineAmountTypes", "Status"))
        if form.get("ContactName", "").strip():
            element["Contact"] = {"Name": form["ContactName"].strip()}
        for name in ("Date", "DueDate"):
            if form.get(name):
                element[name] = form[name]
        lines = []
        for index in range(LINE_ROWS):
            line = {key: form.get(f"line{index}_{key}", "").strip()
                    for key in ("Description", "ItemCode", "Quantity", "UnitAmount", "AccountCode", "TaxType")}
            if not any(line.values()):
                continue
            lines.append({key: value for key, value in line.items() if value})
        element["LineItems"] = lines
        return {key: value for key, value in element.items() if value not in ("", None)}

    @bp.route("/_sandbox/books/<org_id>/invoices/new", methods=["GET", "POST"])
    def invoice_new(org_id: str) -> str | BaseResponse:
        org = org_or_404(org_id)
        errors: list[str] = []
        if request.method == "POST":
            saved, errors = write(org, lambda ctx: documents.save(ctx, INVOICE, invoice_element(request.form),
                                                                  "create"))
            if saved:
                flash(f"Invoice {saved.get('InvoiceNumber') or ''} created.")
                return redirect(url_for("xero_editor.invoice_page", org_id=org.id, invoice_id=saved["InvoiceID"]))
        return render_template("xero_sandbox/invoice_form.html", org=org, invoice=None, form=request.form,
                               errors=errors, line_rows=range(LINE_ROWS))

    def load_invoice(org: Org, invoice_id: str) -> dict[str, Any]:
        record = db.record(store.query_one("SELECT data FROM xero_invoice WHERE id = ? AND org_id = ?",
                                           (invoice_id, org.id)))
        if record is None:
            abort(404)
        return documents.present(store.connection, [record], 2, with_lines=True)[0]

    @bp.get("/_sandbox/books/<org_id>/invoices/<invoice_id>")
    def invoice_page(org_id: str, invoice_id: str) -> str:
        org = org_or_404(org_id)
        record = load_invoice(org, invoice_id)
        banks = [db.loads(row["data"]) for row in store.query(
            "SELECT data FROM xero_account WHERE org_id = ? AND type = 'BANK' AND status = 'ACTIVE'", (org.id,))]
        today = date_of_ms(int(sandbox.clock.now() * 1000)).isoformat()
        return render_template("xero_sandbox/invoice.html", org=org, invoice=record, banks=banks, today=today)

    @bp.route("/_sandbox/books/<org_id>/invoices/<invoice_id>/edit", methods=["GET", "POST"])
    def invoice_edit(org_id: str, invoice_id: str) -> str | BaseResponse:
        org = org_or_404(org_id)
        record = load_invoice(org, invoice_id)
        errors: list[str] = []
        if request.method == "POST":
            element = invoice_element(request.form)
            element.pop("Type", None)
            saved, errors = write(org, lambda ctx: documents.save(ctx, INVOICE, element, "update", invoice_id))
            if saved:
                flash("Invoice saved.")
                return redirect(url_for("xero_editor.invoice_page", org_id=org.id, invoice_id=invoice_id))
        return render_template("xero_sandbox/invoice_form.html", org=org, invoice=record, form=request.form,
                               errors=errors, line_rows=range(max(LINE_ROWS, len(record.get("LineItems", [])))))

    @bp.post("/_sandbox/books/<org_id>/invoices/<invoice_id>/status")
    def invoice_status(org_id: str, invoice_id: str) -> BaseResponse:
        org = org_or_404(org_id)
        status = request.form.get("status", "")
        _, errors = write(org, lambda ctx: documents.save(ctx, INVOICE, {"Status": status}, "update", invoice_id))
        flash("; ".join(errors) if errors else f"Invoice is now {status}.", "error" if errors else "message")
        return redirect(url_for("xero_editor.invoice_page", org_id=org.id, invoice_id=invoice_id))

    @bp.post("/_sandbox/books/<org_id>/invoices/<invoice_id>/payments")
    def invoice_pay(org_id: str, invoice_id: str) -> BaseResponse:
        org = org_or_404(org_id)
        element = {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": request.form.get("AccountCode", "")},
                   "Date": request.form.get("Date", ""), "Amount": request.form.get("Amount", ""),
                   "Reference": request.form.get("Reference", "").strip() or None}
        _, errors = write(org, lambda ctx: payments.create(ctx, element))
        flash("; ".join(errors) if errors else "Payment recorded.", "error" if errors else "message")
        return redirect(url_for("xero_editor.invoice_page", org_id=org.id, invoice_id=invoice_id))

    # --- payments ---------------------------------------------------------------------------------------------

    @bp.get("/_sandbox/books/<org_id>/payments")
    def payment_list(org_id: str) -> str:
        org = org_or_404(org_id)
        page = page_number()
        rows = store.query(f"SELECT data FROM xero_payment WHERE org_id = ? ORDER BY date_ms DESC, id "  # noqa: S608
                           f"LIMIT {PAGE_SIZE + 1} OFFSET {(page - 1) * PAGE_SIZE}", (org.id,))
        records = [db.loads(row["data"]) for row in rows]
        return render_template("xero_sandbox/payments.html", org=org, payments=records[:PAGE_SIZE], page=page,
                               more=len(records) > PAGE_SIZE)

    @bp.post("/_sandbox/books/<org_id>/payments/<payment_id>/delete")
    def payment_delete(org_id: str, payment_id: str) -> BaseResponse:
        org = org_or_404(org_id)

        def delete(ctx: WriteContext) -> dict[str, Any]:
            current = payments.find(ctx, payment_id)
            if current is None:
                raise Invalid("No such payment")
            return payments.delete(ctx, current, {"Status": "DELETED"})
        _, errors = write(org, delete)
        flash("; ".join(errors) if errors else "Payment deleted.", "error" if errors else "message")
        back = request.form.get("next", "")
        return redirect(back if back.startswith("/xero/_sandbox/") else url_for("xero_editor.payment_list",
                                                                                  org_id=org.id))

    return bp
