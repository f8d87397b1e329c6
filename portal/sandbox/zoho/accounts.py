"""``BASE/zoho/accounts``: the consent page, the token endpoint and revocation, as Zoho Accounts serves them.

Zoho (FACTS.md §1): the redirect back carries ``code``, ``location`` and ``accounts-server`` (plus ``state``);
Deny sends ``error=access_denied``. The consent page is a plain form (works with JavaScript off) with the
sandbox's demo user already signed in.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, redirect, render_template_string, request
from werkzeug.wrappers import Response as BaseResponse

from portal.sandbox.core.server import api_endpoint
from portal.sandbox.zoho import catalog
from portal.sandbox.zoho.errors import json_response
from portal.sandbox.zoho.oauth import CLIENT_ID, AccountsError, consent_redirect, is_local_redirect, parse_scopes
from portal.sandbox.zoho.seed import DEMO_USER
from portal.sandbox.zoho.services import Zoho, base_url
from portal.sandbox.zoho.templates import CONSENT_PAGE, ERROR_PAGE

SCOPE = re.compile(r"^[A-Za-z]+\.[A-Za-z_]+(\.[A-Za-z_]+)*$")


def build_blueprint(zoho: Zoho) -> Blueprint:
    bp = Blueprint("zoho_accounts", __name__)

    def accounts_server() -> str:
        return f"{base_url()}/accounts"

    def error_page(title: str, message: str) -> tuple[str, int]:
        return render_template_string(ERROR_PAGE, title=title, message=message), 400

    def authorize_params(source: Any) -> tuple[dict[str, str], tuple[str, int] | None]:
        params = {key: source.get(key, "") for key in
                  ("client_id", "response_type", "redirect_uri", "scope", "access_type", "prompt", "state")}
        params["access_type"] = params["access_type"] or "online"
        if params["client_id"] != CLIENT_ID:
            return params, error_page("Invalid Client", "The client_id is not registered with Zoho Accounts.")
        if not is_local_redirect(params["redirect_uri"]):
            return params, error_page("Invalid Redirect Uri",
                                      "The redirect_uri must be the one registered for the client "
                                      "(the sandbox client accepts any http(s) URI on localhost).")
        if params["response_type"] != "code":
            return params, error_page("Invalid Response Type", "response_type must be code.")
        scopes = parse_scopes(params["scope"])
        if not scopes or not all(SCOPE.match(scope) for scope in scopes):
            return params, error_page("Invalid OAuth Scope", "The scope is missing or malformed.")
        if params["access_type"] not in ("online", "offline"):
            return params, error_page("Invalid Access Type", "access_type must be online or offline.")
        return params, None

    @bp.get("/accounts/oauth/v2/auth")
    def consent() -> BaseResponse | tuple[str, int] | str:
        params, problem = authorize_params(request.args)
        if problem:
            return problem
        # Zoho skips the consent screen for a user who already granted the client, unless prompt=consent;
        # such a code yields no refresh token (FACTS.md §1, §8.2).
        if params["prompt"] != "consent":
            previous = zoho.tokens.previous_consent(DEMO_USER["email"])
            if previous is not None:
                return _approve(params, previous.id, previous.dc, consent_shown=False)
        orgs = zoho.orgs.all()
        return render_template_string(CONSENT_PAGE, params=params, scopes=parse_scopes(params["scope"]), orgs=orgs,
                                      user=DEMO_USER, data_centres=catalog.DATA_CENTRES)

    @bp.post("/accounts/oauth/v2/auth")
    def decide() -> BaseResponse | tuple[str, int]:
        params, problem = authorize_params(request.form)
        if problem:
            return problem
        if request.form.get("decision") != "allow":
            denied = {"error": "access_denied"}
            if params["state"]:
                denied["state"] = params["state"]
            return redirect(consent_redirect(params["redirect_uri"], denied), 302)
        org_id = request.form.get("org_id", "")
        dc = request.form.get("dc", "") or None
        if zoho.orgs.get(org_id) is None:
            return error_page("Choose an organisation", "Pick one of the organisations to grant access to.")
        if dc is not None and dc not in catalog.DATA_CENTRES:
            return error_page("Unknown data centre", "Pick one of the listed data centres.")
        return _approve(params, org_id, dc, consent_shown=True)

    def _approve(params: dict[str, str], org_id: str, dc: str | None, consent_shown: bool) -> BaseResponse:
        org = zoho.orgs.get(org_id)
        assert org is not None
        if dc is not None and dc != org.dc:
            # The demo may re-home an org in another data centre; tokens of the old DC stop working.
            org.dc = dc
            zoho.orgs.save(org)
        user = next(u for u in org.users if u["email"] == DEMO_USER["email"])
        try:
            code = zoho.tokens.issue_code(org, user["id"], params["redirect_uri"], params["scope"],
                                          params["access_type"], consent_shown=consent_shown)
        except AccountsError as error:
            answer = {"error": error.body["error"]}
            if params["state"]:
                answer["state"] = params["state"]
            return redirect(consent_redirect(params["redirect_uri"], answer), 302)
        answer = {"code": code, "location": org.dc, "accounts-server": accounts_server()}
        if params["state"]:
            answer["state"] = params["state"]
        return redirect(consent_redirect(params["redirect_uri"], answer), 302)

    @bp.post("/accounts/oauth/v2/token")
    def token() -> BaseResponse:
        # Zoho accepts the token request's parameters in the form body or the query string.
        form = {**request.args.to_dict(), **request.form.to_dict()}
        try:
            return json_response(zoho.tokens.token_endpoint(form))
        except AccountsError as error:
            return json_response(error.body, error.status)

    @bp.post("/accounts/oauth/v2/token/revoke")
    def revoke() -> BaseResponse:
        token = request.args.get("token") or request.form.get("token") or ""
        if token and zoho.tokens.revoke(token):
            return json_response({"status": "success"})
        return json_response({"error": "invalid_token", "status": "failure"}, 400)

    @bp.get("/accounts/oauth/serverinfo")
    def serverinfo() -> BaseResponse:
        # Every sandbox data centre is served from the same accounts server (the serving contract fixes it).
        return json_response({"result": "success", "locations": {dc: accounts_server() for dc in catalog.DATA_CENTRES}})

    api_endpoint(token)
    api_endpoint(revoke)
    return bp
