"""The French and German catalogs are complete, real translations of the strings the code uses today."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from portal.cli.i18n import POT_FILE, TRANSLATED_LOCALES, catalog_path, extract_to

# Words that are the same in the language, checked one by one; anything else equal to English is a copy.
SAME_AS_ENGLISH = {
    "fr": {"Zoho → Xero", "Xero → Zoho", "Support", "Actions", "Contacts", "date", "contacts", "Compatible", "Option",
           "Options", "Types", "Version %(version)s", "Module", "URL"},
    # "Deals" is Zoho CRM's module name, kept as the engine's translators chose.
    "de": {"Zoho → Xero", "Xero → Zoho", "Support", "Name", "Team", "Deals", "Details", "Option",
           "Version %(version)s", "URL"},
}


def msgids(catalog):
    return {message.id if isinstance(message.id, str) else message.id[0] for message in catalog if message.id}


def load(path):
    with open(path, "rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    extract_to(pot)
    return msgids(load(pot))


def test_the_template_is_up_to_date_with_the_code(extracted):
    committed = msgids(load(POT_FILE))
    assert extracted - committed == set(), "new strings: run `flask --app portal i18n update` and translate them"
    assert committed - extracted == set(), "strings no longer used: run `flask --app portal i18n update`"


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_every_string_in_the_code_is_in_the_catalog(locale, extracted):
    in_catalog = msgids(load(catalog_path(locale)))
    assert extracted - in_catalog == set(), f"run `flask --app portal i18n update` and translate the {locale} ones"
    assert in_catalog - extracted == set(), "obsolete entries: run `flask --app portal i18n update`"


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_every_entry_is_translated_and_none_is_fuzzy(locale):
    catalog = load(catalog_path(locale))
    untranslated, fuzzy, copies = [], [], []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        if not all(strings):
            untranslated.append(english[0])
        if message.fuzzy:
            fuzzy.append(english[0])
        if any(s == e for s, e in zip(strings, english, strict=False)) and english[0] not in SAME_AS_ENGLISH[locale]:
            copies.append(english[0])
    assert untranslated == [], f"untranslated in {locale}"
    assert fuzzy == [], f"fuzzy in {locale}: check the translation and remove the fuzzy flag"
    assert copies == [], f"copied from English in {locale} (if the word really is the same, list it above)"


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_translations_keep_every_placeholder(locale):
    catalog = load(catalog_path(locale))
    problems = [(message.id, [str(error) for error in errors]) for message, errors in catalog.check() if errors]
    assert problems == []
