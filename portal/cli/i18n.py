"""Message catalogs: extract strings, update the French and German catalogs, compile them."""

from __future__ import annotations

from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface

from portal.config import PROJECT_ROOT, SUPPORTED_LOCALES

TRANSLATIONS = PROJECT_ROOT / "translations"
POT_FILE = TRANSLATIONS / "messages.pot"
TRANSLATED_LOCALES = tuple(locale for locale in SUPPORTED_LOCALES if locale != "en")


def catalog_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])  # type: ignore[no-untyped-call]


def extract_to(pot_file: Path) -> None:
    """Every translatable string of the portal (babel.cfg says where to look) into ``pot_file``."""
    _pybabel("extract", "-F", str(PROJECT_ROOT / "babel.cfg"), "-k", "_l", "--no-location", "--sort-output",
             "--project", "Zoxero", "-o", str(pot_file), str(PROJECT_ROOT))


@click.group()
def i18n() -> None:
    """Translation catalogs (babel.cfg, translations/)."""


@i18n.command()
def extract() -> None:
    """Extract every translatable string into translations/messages.pot."""
    extract_to(POT_FILE)


@i18n.command()
def update() -> None:
    """Extract, then merge new strings into every catalog (French and German must then be translated)."""
    extract_to(POT_FILE)
    for locale in TRANSLATED_LOCALES:
        if catalog_path(locale).exists():
            _pybabel("update", "-i", str(POT_FILE), "-d", str(TRANSLATIONS), "-l", locale,
                     "--no-fuzzy-matching", "--ignore-obsolete")
        else:
            _pybabel("init", "-i", str(POT_FILE), "-d", str(TRANSLATIONS), "-l", locale)


@i18n.command()
def compile() -> None:
    """Compile the catalogs to .mo files (the start and test commands do this)."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
