"""User-visible texts of the engine, translatable without Flask.

The engine never translates: it returns :class:`Msg` values, a gettext message id (the English text with
``%(name)s`` placeholders) plus its parameters, and stores both in audit rows and review items. The web layer
renders them in the reader's locale with ``flask_babel.gettext(msg.msgid, **msg.params)`` (see
:meth:`Msg.render`), so an audit row written in English by a worker reads in French for a French admin.

``N_`` marks a message id for extraction: it is one of Babel's default keywords, so
``flask --app portal i18n update`` collects every ``N_("...")`` in this package into the catalogs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(msgid: str) -> str:
    return msgid


@dataclass(frozen=True)
class Msg:
    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, gettext: Callable[..., str] | None = None) -> str:
        """English when no ``gettext`` is given; with Flask-Babel: ``msg.render(flask_babel.gettext)``.

        String parameters go through ``gettext`` too: labels such as module names are message ids themselves,
        and any other value (a record name, a date) is not in the catalog and comes back unchanged."""
        if gettext is not None:
            params = {k: gettext(v) if isinstance(v, str) else v for k, v in self.params.items()}
            return gettext(self.msgid, **params)
        return self.msgid % dict(self.params) if self.params else self.msgid

    def to_json(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Msg | None:
        if not data:
            return None
        return cls(str(data["msgid"]), dict(data.get("params") or {}))

    def __str__(self) -> str:
        return self.render()


def msg(msgid: str, **params: Any) -> Msg:
    return Msg(msgid, params)


# Skip reasons: short codes for filters and dashboards, each with its sentence.
SKIP_REASONS: dict[str, str] = {
    "unchanged": N_("No change since the last sync."),
    "module_off": N_("The %(module)s module is switched off for this direction."),
    "action_off": N_("%(action)s is switched off for %(module)s in this direction."),
    "allow_sync_off": N_("Xero to Zoho sync is not allowed (the Allow sync switch is off)."),
    "ambiguous_match": N_("Several records could be its counterpart: it waits in the review queue."),
    "awaiting_review": N_("Both sides changed the same fields: it waits in the review queue."),
    "invoice_locked": N_("Xero no longer lets this invoice be edited (status %(status)s)."),
    "lock_date": N_("The invoice is dated %(date)s, on or before the Xero lock date %(lock_date)s."),
    "deal_not_won": N_("The deal is not at the stage %(stage)s."),
    "deal_invoiced": N_("An invoice was already created for this deal."),
    "dependency_missing": N_("It needs its %(what)s, which could not be synced: %(detail)s"),
    "not_sales_invoice": N_("Bills (ACCPAY) are not synced."),
    "no_counterpart": N_("There is no linked record to %(action)s."),
    "cannot_delete_invoice": N_(
        "The invoice is %(status)s: Xero only deletes draft or submitted "
        "invoices, and voiding is not allowed."
    ),
    "no_customer": N_("It has no customer (%(field)s is empty)."),
    "person_without_customer": N_(
        "The contact has no account, so it cannot become a contact person in Xero."
    ),
    "not_synced_module": N_("%(module)s records are not synced with these settings."),
    "line_without_item": N_("A line has no item, and Zoho CRM needs a product on every line."),
    "source_removed": N_(
        "It is archived, deleted or voided in %(system)s, so it is not created on the other side."
    ),
    "counterpart_removed": N_("Its counterpart was removed by an earlier sync; it is not recreated."),
    "too_many_persons": N_("Xero keeps at most 5 contact persons per contact."),
}


# Labels passed as parameters of the sentences above (translated by Msg.render like the sentence itself).
LABELS = {
    "create": N_("Create"),
    "update": N_("Update"),
    "delete": N_("Delete"),
    "customer": N_("customer"),
    "item": N_("items"),
    "person": N_("contact person"),
    "account": N_("account"),
    "invoice": N_("invoice"),
}


def label(key: str) -> str:
    return LABELS.get(key, key)


def skip(reason: str, **params: Any) -> Msg:
    return Msg(SKIP_REASONS[reason], params)
