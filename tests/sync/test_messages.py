"""Every sentence the engine can show a user is translated into French and German."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal.sync.messages import Msg, skip

ROOT = Path(__file__).resolve().parents[2]


def _engine_messages() -> set[str]:
    found = extract_from_dir(str(ROOT / "portal" / "sync"), method_map=[("**.py", "python")])
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


@pytest.mark.parametrize("locale", ["fr", "de"])
def test_every_engine_message_is_translated(locale: str) -> None:
    messages = _engine_messages()
    assert len(messages) > 60
    with open(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    missing = sorted(m for m in messages if not (catalog.get(m) and catalog[m].string and not catalog[m].fuzzy))
    assert missing == []


def test_a_message_and_its_labels_render_in_the_readers_language() -> None:
    with open(ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)

    def gettext(msgid: str, **params: object) -> str:
        entry = catalog.get(msgid)
        text = entry.string if entry is not None and entry.string else msgid
        return text % params if params else text

    message = skip("action_off", action="Create", module="Invoices")
    assert message.render() == "Create is switched off for Invoices in this direction."
    assert message.render(gettext) == "Créer est désactivé pour Factures dans ce sens."
    assert Msg.from_json(message.to_json()) == message
