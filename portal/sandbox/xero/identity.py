"""Xero identity endpoints: the consent page, the token and revocation endpoints, and ``/connections``
(FACTS.md §1; ``xero-identity.yaml``).

The consent page is a plain HTML form (no JavaScript): the demo user is signed in, sees the app's scopes, picks one
or more demo organisations and clicks Allow or Deny. Allow redirects with ``code``, ``scope`` and ``state``; Deny
with ``error=access_denied`` and ``state``. A client or redirect URI that cannot be trusted gets an error page and
no redirect, as OAuth requires.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request, session
from werkzeug.wrappers import Response as BaseResponse

from portal.sandbox.core.server import api_endpoint
from portal.sandbox.xero.books import all_orgs
from portal.sandbox.xero.demo import DEMO_USER
from portal.sandbox.xero.errors import ApiError, json_response
from portal.sandbox.xero.scopes import KNOWN_SCOPES, has_accounting_scope, parse_scope
from portal.sandbox.xero.tokens import APP_NAME, CLIENT_ID, OAuthError, client_matches, unknown_scopes

if TYPE_CHECKING:
    from portal.sandbox.xero import XeroSandbox

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                    "code_challenge_method", "nonce")


def local_redirect_uri(uri: str) -> bool:
    """The sandbox accepts any http(s) redirect URI on this machine (Xero: https except localhost)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return parts.scheme in ("http", "https") and (host in LOCAL_HOSTS or host.endswith(".localhost")) \
        and not parts.fragment


def with_query(uri: str, params: dict[str, str]) -> str:
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(params)}"


def identity_blueprint(sandbox: XeroSandbox) -> Blueprint:
    bp = Blueprint("xero_identity", __name__, template_folder="templates")
    identity = sandbox.identity

    def page_error(message: str, status: int = 400) -> tuple[str, int]:
        return render_template("xero_sandbox/consent_error.html", message=message), status

    def redirect_error(params: dict[str, str], error: str, description: str | None = None) -> BaseResponse:
        query = {"error": error}
        if description:
            query["error_description"] = description
        if params.get("state"):
            query["state"] = params["state"]
        return redirect(with_query(params["redirect_uri"], query), code=302)

    @bp.route("/identity/connect/authorize", methods=["GET", "POST"])
    def authorize() -> BaseResponse | tuple[str, int] | str:
        source = request.form if request.method == "POST" else request.args
        params = {name: source.get(name, "") for name in AUTHORIZE_PARAMS}
        if params["client_id"] != CLIENT_ID:
            return page_error("unauthorized_client: this app is not known to the Xero sandbox "
                              f"(the sandbox client is '{CLIENT_ID}').")
        if not local_redirect_uri(params["redirect_uri"]):
            return page_error("invalid_request: the redirect_uri must be an http(s) address on this machine "
                              "(localhost or 127.0.0.1).")
        if params["response_type"] != "code":
            return redirect_error(params, "unsupported_response_type")
        scopes = parse_scope(params["scope"])
        if not scopes or unknown_scopes(scopes):
            return redirect_error(params, "invalid_scope")
        if params["code_challenge"] and params["code_challenge_method"] not in ("S256", "plain"):
            return redirect_error(params, "invalid_request", "code_challenge_method must be S256 or plain")
        orgs = all_orgs(sandbox.store.connection)
        needs_org = has_accounting_scope(scopes)

        def show(error: str | None = None, status: int = 200) -> tuple[str, int]:
            token = session.get("xero_consent_csrf") or secrets.token_urlsafe(24)
            session["xero_consent_csrf"] = token
            return render_template(
                "xero_sandbox/consent.html", app_name=APP_NAME, user=DEMO_USER, params=params,
                scopes=[(scope, KNOWN_SCOPES[scope]) for scope in scopes], orgs=orgs, needs_org=needs_org,
                csrf_token=token, error=error,
                selected=set(request.form.getlist("tenant")) if request.method == "POST" else set(),
            ), status

        if request.method == "GET":
            return show()
        expected = session.get("xero_consent_csrf")
        if not expected or not secrets.compare_digest(expected, request.form.get("csrf_token", "")):
            return page_error("Your consent session expired. Start the connection again from the app.")
        if request.form.get("action") == "deny":
            return redirect_error(params, "access_denied")
        if request.form.get("action") != "allow":
            return show("Choose Allow or Deny.", 422)
        known = {org.id for org in orgs}
        tenants = [tenant for tenant in request.form.getlist("tenant") if tenant in known]
        if needs_org and not tenants:
            return show("Select at least one organisation to connect.", 422)
        code = identity.consent(CLIENT_ID, params["redirect_uri"], scopes, tenants if needs_org else [],
                                params["code_challenge"] or None, params["code_challenge_method"] or None,
                                params["nonce"] or None)
        query = {"code": code, "scope": " ".join(scopes)}
        if params["state"]:
            query["state"] = params["state"]
        return redirect(with_query(params["redirect_uri"], query), code=302)

    def client_credentials() -> str:
        """Xero's docs use HTTP Basic; xero-python posts client_id/client_secret as form fields (FACTS.md §1)."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError("invalid_client") from None
        else:
            client_id = request.form.get("client_id", "")
            client_secret = request.form.get("client_secret", "")
        if not client_matches(client_id, client_secret):
            raise OAuthError("invalid_client")
        return client_id

    def oauth_error(error: OAuthError) -> Response:
        body = {"error": error.error}
        if error.description:
            body["error_description"] = error.description
        response = jsonify(body)
        response.status_code = 400
        return response

    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response

    @bp.post("/identity/connect/token")
    @api_endpoint
    def token() -> Response:
        try:
            client_id = client_credentials()
            grant_type = request.form.get("grant_type")
            if grant_type == "authorization_code":
                code = request.form.get("code")
                if not code:
                    raise OAuthError("invalid_request")
                result = identity.exchange_code(client_id, code, request.form.get("redirect_uri"),
                                                request.form.get("code_verifier"))
            elif grant_type == "refresh_token":
                refresh_token = request.form.get("refresh_token")
                if not refresh_token:
                    raise OAuthError("invalid_request")
                result = identity.refresh(client_id, refresh_token, request.form.get("scope"))
            elif grant_type == "client_credentials":
                raise OAuthError("unauthorized_client")
            else:
                raise OAuthError("unsupported_grant_type")
        except OAuthError as error:
            return no_store(oauth_error(error))
        return no_store(jsonify(result))

    @bp.post("/identity/connect/revocation")
    @api_endpoint
    def revocation() -> Response:
        try:
            client_id = client_credentials()
            token_value = request.form.get("token")
            if not token_value:
                raise OAuthError("invalid_request")
        except OAuthError as error:
            return oauth_error(error)
        identity.revoke(client_id, token_value)
        return Response(status=200)

    @bp.get("/connections")
    @api_endpoint
    def connections() -> Response:
        try:
            headers = sandbox.limiter.app_call()
            grant = identity.authenticate(request.headers.get("Authorization"))
        except ApiError as error:
            return error.response()
        response = json_response(identity.connections(grant, request.args.get("authEventId")))
        response.headers.update(headers)
        return response

    @bp.delete("/connections/<connection_id>")
    @api_endpoint
    def delete_connection(connection_id: str) -> Response:
        try:
            headers = sandbox.limiter.app_call()
            grant = identity.authenticate(request.headers.get("Authorization"))
        except ApiError as error:
            return error.response()
        if not identity.delete_connection(grant, connection_id):
            response = Response("The resource you're looking for cannot be found", status=404,
                                mimetype="text/plain")
        else:
            response = Response(status=204)
        response.headers.update(headers)
        return response

    return bp
