"""Language: the menu saves a choice; the locale follows user choice, tenant default, browser, English;
dates, numbers and money are written the local way; error pages speak the user's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale

from portal import create_app
from portal.extensions import db
from portal.services.money import format_money
from tests.conftest import post_form, sign_in

NAVIGATION = {
    "en": ("Dashboard", "Connections", "Mapping", "Audit", "Sign out"),
    "fr": ("Tableau de bord", "Connexions", "Correspondances", "Journal", "Se déconnecter"),
    "de": ("Übersicht", "Verbindungen", "Zuordnung", "Protokoll", "Abmelden"),
}


def page_language(response):
    html = response.get_data(as_text=True)
    lang = re.search(r'<html lang="(\w+)"', html).group(1)
    for label in NAVIGATION[lang]:
        assert f">{label}<" in html, f"{label!r} missing from the {lang} page"
    return lang


def choose_language(client, locale, next_page="/mapping/"):
    return post_form(client, "/account/language", {"locale": locale, "next": next_page})


def test_update_language_saves_the_choice_to_the_profile(app, client, acme_admin):
    sign_in(client, acme_admin)
    assert page_language(client.get("/")) == "en"
    page = client.get("/").get_data(as_text=True)
    assert "Update language" in page and 'id="language-select"' in page

    response = choose_language(client, "de")
    assert response.status_code == 302 and response.headers["Location"] == "/mapping/"
    page = client.get("/mapping/")
    assert page_language(page) == "de"
    assert "Sprache aktualisiert." in page.get_data(as_text=True)
    db.session.refresh(acme_admin)
    assert acme_admin.locale == "de"

    # A profile setting, not a browser one: it follows the user to another device.
    other_device = app.test_client()
    sign_in(other_device, acme_admin)
    assert page_language(other_device.get("/", headers={"Accept-Language": "fr"})) == "de"


def test_the_language_menu_does_not_redirect_elsewhere(client, acme_admin):
    sign_in(client, acme_admin)
    response = choose_language(client, "fr", next_page="//evil.example/")
    assert response.headers["Location"] == "/"
    for elsewhere in ("https://evil.example/", "/\\evil.example/", "/\t/evil.example/", "javascript:alert(1)"):
        response = choose_language(client, "fr", next_page=elsewhere)
        assert response.headers["Location"] == "/", elsewhere
    assert choose_language(client, "de", next_page="/audit/?page=2").headers["Location"] == "/audit/?page=2"


def test_an_unsupported_language_is_refused(client, acme_admin):
    sign_in(client, acme_admin)
    assert choose_language(client, "xx").status_code == 400
    db.session.refresh(acme_admin)
    assert acme_admin.locale is None


def test_the_users_choice_comes_first(client, globex_owner):
    sign_in(client, globex_owner)  # Globex's default language is German
    choose_language(client, "fr")
    assert page_language(client.get("/", headers={"Accept-Language": "de"})) == "fr"


def test_then_the_tenants_default(client, globex_owner):
    sign_in(client, globex_owner)
    assert page_language(client.get("/", headers={"Accept-Language": "fr,en;q=0.5"})) == "de"


def test_owners_set_the_tenants_default(app, client, acme_owner, acme_admin):
    sign_in(client, acme_owner)
    response = post_form(client, "/account/team/language", {"default_locale": "fr"}, page="/account/team")
    assert response.status_code == 302
    adam = app.test_client()
    sign_in(adam, acme_admin)
    assert page_language(adam.get("/")) == "fr"


def test_then_the_browsers_language(client, support_agent, acme):
    # Visitors who are not signed in, and support staff (who belong to no tenant), follow their browser.
    assert '<html lang="de"' in client.get("/login", headers={"Accept-Language": "de-CH,de;q=0.9"}).get_data(
        as_text=True)
    assert "Anmelden" in client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    sign_in(client, support_agent)
    post_form(client, "/support/tenants/acme/view", page="/support/")
    assert page_language(client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.8"})) == "fr"


def test_then_english(client, support_agent, acme):
    assert '<html lang="en"' in client.get("/login", headers={"Accept-Language": "es,it;q=0.5"}).get_data(
        as_text=True)
    assert '<html lang="en"' in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(
    ("locale", "money", "number", "date"),
    [
        ("en", "€1,234.56", "1,234,567.5", "Mar 4, 2026"),
        ("fr", "1 234,56 €", "1 234 567,5", "4 mars 2026"),
        ("de", "1.234,56 €", "1.234.567,5", "04.03.2026"),
    ],
)
def test_numbers_money_and_dates_are_written_the_local_way(app, locale, money, number, date):
    template = app.jinja_env.from_string("{{ amount | money('EUR') }}|{{ n | number }}|{{ when | date }}")
    with app.test_request_context("/"), force_locale(locale):
        rendered = template.render(amount=Decimal("1234.56"), n=Decimal("1234567.5"),
                                   when=datetime(2026, 3, 4, 12, 0, tzinfo=UTC))
    # CLDR separates French thousands with a narrow no-break space, and the € with a no-break space.
    rendered = rendered.replace("\u202f", " ").replace("\xa0", " ")
    assert rendered == f"{money}|{number}|{date}"


def test_money_keeps_the_currency_of_its_books(app):
    with app.test_request_context("/"), force_locale("de"):
        assert format_money("99.5", "NZD").replace("\xa0", " ") == "99,50 NZ$"
        assert format_money(None) == ""


def test_dates_on_pages_follow_the_users_language(client, acme_owner):
    sign_in(client, acme_owner)
    post_form(client, "/account/team/invitations", {"email": "ines@acme.example", "role": "admin"},
              page="/account/team")
    choose_language(client, "de")
    team = client.get("/account/team").get_data(as_text=True)
    assert re.search(r"<td>\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}:\d{2}</td>", team), "no German date on the team page"


# --- error pages ---------------------------------------------------------------------------------------------


def test_forbidden_and_not_found_pages_are_localized(client, acme_admin):
    sign_in(client, acme_admin)
    choose_language(client, "de")
    forbidden = client.get("/account/team")
    assert forbidden.status_code == 403
    assert "Sie haben keinen Zugriff auf diese Seite" in forbidden.get_data(as_text=True)
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    html = missing.get_data(as_text=True)
    assert "Seite nicht gefunden" in html and ">Übersicht<" in html  # inside the usual layout


def test_error_pages_for_visitors_follow_the_browser(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


@pytest.fixture
def app_with_a_broken_page(settings, app):
    """A second app on the same database and Redis, with one page that fails; never part of production."""
    broken = create_app(settings, PROPAGATE_EXCEPTIONS=False, MAIL_BACKEND="locmem")

    @broken.get("/broken")
    def broken_page():
        raise RuntimeError("a bug")

    return broken


def test_a_server_error_is_explained_in_the_users_language(app_with_a_broken_page, acme_admin):
    client = app_with_a_broken_page.test_client()
    sign_in(client, acme_admin)
    choose_language(client, "de")
    response = client.get("/broken")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Bei uns ist etwas schiefgelaufen" in html
    assert "a bug" not in html and "Traceback" not in html


def test_form_errors_speak_the_visitors_language(client):
    from tests.conftest import csrf_token

    token = csrf_token(client)
    response = client.post("/forgot-password", data={"csrf_token": token, "email": "not an address"},
                           headers={"Accept-Language": "fr"})
    assert response.status_code == 422
    assert "Adresse électronique non valide." in response.get_data(as_text=True)
    response = client.post("/login", data={"csrf_token": token}, headers={"Accept-Language": "de"})
    assert "Dieses Feld wird benötigt." in response.get_data(as_text=True)
