"""Walking the sandboxes' consent pages as a browser with JavaScript off would, between the portal's views."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests

from tests.conftest import post_form


def start_connect(client, side: str) -> str:
    """Press Connect on the Connections page: the portal answers with a redirect to the consent page."""
    response = post_form(client, f"/connections/{side}/connect", page="/connections/")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def consent_decision(consent_url: str, decision: str = "allow", **choices: str | list[str]) -> str:
    """GET the consent form, submit it with ``decision`` and ``choices``; return where it redirects to."""
    browser = requests.Session()
    page = browser.get(consent_url, allow_redirects=False, timeout=10)
    if page.status_code == 302:
        return page.headers["Location"]
    assert page.status_code == 200, page.text[:500]
    action = re.search(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page.text)
    form: dict[str, str | list[str]] = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                                       page.text))
    # What a browser submits without the user touching anything: the pre-checked radios and boxes.
    for kind, name, value in re.findall(r'<input type="(radio|checkbox)" name="([^"]+)" value="([^"]*)"[^>]*checked',
                                        page.text):
        if kind == "checkbox":
            existing = form.get(name)
            form[name] = [*existing, value] if isinstance(existing, list) else [value]
        else:
            form.setdefault(name, value)
    form.update(choices)
    base = f"{urlsplit(consent_url).scheme}://{urlsplit(consent_url).netloc}"
    target = base + action.group(1) if action and action.group(1) else consent_url
    # The submit buttons carry the decision: Zoho names them "decision", Xero "action".
    button = re.search(r'<button type="submit" name="([^"]+)" value="(?:allow|deny)"', page.text)
    answer = browser.post(target, data={**form, button.group(1) if button else "decision": decision},
                          allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text[:500]
    return answer.headers["Location"]


def callback_path(redirect_location: str) -> str:
    """The portal-relative part of the redirect back (the test client has no host)."""
    parts = urlsplit(redirect_location)
    return f"{parts.path}?{parts.query}"


def connect_zoho(client, dc: str = "") -> str:
    consent_url = start_connect(client, "zoho")
    redirect = consent_decision(consent_url, dc=dc)
    return client.get(callback_path(redirect), follow_redirects=True).get_data(as_text=True)


def connect_xero(client, organisations: list[str] | None = None) -> str:
    """Connect Xero choosing ``organisations`` (ids) on the consent page, or the one it pre-selects."""
    consent_url = start_connect(client, "xero")
    if not organisations:
        offered = re.findall(r'name="tenant" value="([^"]+)"', requests.get(consent_url, timeout=10).text)
        organisations = offered[:1]
    redirect = consent_decision(consent_url, tenant=organisations)
    return client.get(callback_path(redirect), follow_redirects=True).get_data(as_text=True)
