"""Message catalogs: extract strings, update the French and German catalogs, compile them."""

from __future__ import annotations

import click
from babel.messages.frontend import CommandLineInterface
from flask.cli import with_appcontext

from portal.config import PROJECT_ROOT, SUPPORTED_LOCALES

POT_FILE = PROJECT_ROOT / "translations" / "messages.pot"
TRANSLATIONS = PROJECT_ROOT / "translations"


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


@click.group()
def i18n() -> None:
    """Translation catalogs (babel.cfg, translations/)."""


@i18n.command()
def extract() -> None:
    """Extract every translatable string into translations/messages.pot."""
    _pybabel("extract", "-F", str(PROJECT_ROOT / "babel.cfg"), "-k", "_l", "--no-location", "--sort-output",
             "-o", str(POT_FILE), str(PROJECT_ROOT))


@i18n.command()
@with_appcontext
def update() -> None:
    """Extract, then merge new strings into every catalog (French and German must then be translated)."""
    extract.callback()  # type: ignore[misc]
    for locale in SUPPORTED_LOCALES:
        if locale == "en":
            continue
        po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            _pybabel("update", "-i", str(POT_FILE), "-d", str(TRANSLATIONS), "-l", locale, "--no-fuzzy-matching")
        else:
            _pybabel("init", "-i", str(POT_FILE), "-d", str(TRANSLATIONS), "-l", locale)


@i18n.command()
def compile() -> None:
    """Compile the catalogs to .mo files (the start and test commands do this)."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
