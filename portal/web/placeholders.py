"""Areas of the navigation whose pages are not built yet: each answers with an honest empty state.

Each blueprint here is replaced by its own module (portal/web/<area>.py) when the area is built.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from portal.web.helpers import tenant_page

AREAS = {
    "sync": ("/sync", {"index": ("/", _l("Historical sync"))}),
    "audit": ("/audit", {"index": ("/", _l("Audit log"))}),
}


def _make(name: str, prefix: str, pages: dict[str, tuple[str, object]]) -> Blueprint:
    blueprint = Blueprint(name, __name__, url_prefix=prefix)
    for endpoint, (rule, title) in pages.items():

        def page(title: object = title) -> ResponseReturnValue:
            return render_template("placeholder.html", title=title)

        blueprint.add_url_rule(rule, endpoint=endpoint, view_func=tenant_page(page))
    return blueprint


blueprints = [_make(name, prefix, pages) for name, (prefix, pages) in AREAS.items()]
