"""The side navigation, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

TENANT_NAVIGATION = (
    ("dashboard.home", _l("Dashboard")),
    ("connections.index", _l("Connections")),
    ("settings.zoho_to_xero", _l("Zoho → Xero")),
    ("settings.xero_to_zoho", _l("Xero → Zoho")),
    ("mapping.index", _l("Mapping")),
    ("sync.index", _l("Sync")),
    ("triggers.index", _l("Triggers")),
    ("audit.index", _l("Audit")),
)
SUPPORT_NAVIGATION = (("support.index", _l("Support")),)


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str
    active: bool


def _is_active(endpoint: str, siblings: set[str]) -> bool:
    current = request.endpoint or ""
    if current == endpoint:
        return True
    blueprint = endpoint.split(".", 1)[0]
    # A page deeper inside an area lights up the area's entry, unless the area has several entries.
    return current.startswith(blueprint + ".") and current not in siblings and \
        sum(1 for e in siblings if e.startswith(blueprint + ".")) == 1


def navigation(tenant_visible: bool) -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    entries: list[tuple[str, object]] = []
    if tenant_visible:
        entries.extend(TENANT_NAVIGATION)
    if current_user.is_support:
        entries.extend(SUPPORT_NAVIGATION)
    endpoints = {endpoint for endpoint, _ in entries}
    return [NavItem(url_for(endpoint), str(label), _is_active(endpoint, endpoints)) for endpoint, label in entries]
