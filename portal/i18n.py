"""Locale and timezone selection: the user's choice, then the tenant's default, then the browser, then English."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept

from portal.config import SUPPORTED_LOCALES

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch"}


def locale_for(user_locale: str | None, tenant_locale: str | None, accept_languages: LanguageAccept) -> str:
    for candidate in (user_locale, tenant_locale):
        if candidate in SUPPORTED_LOCALES:
            return candidate
    return accept_languages.best_match(SUPPORTED_LOCALES) or "en"


def select_locale() -> str:
    if not has_request_context():
        # Jobs and CLI commands: a message for a person is rendered under flask_babel.force_locale.
        return "en"
    user_locale = tenant_locale = None
    if current_user.is_authenticated:
        user_locale = current_user.locale
        tenant_locale = current_user.tenant.default_locale if current_user.tenant else None
    return locale_for(user_locale, tenant_locale, request.accept_languages)


def select_timezone() -> str:
    if has_request_context() and current_user.is_authenticated:
        if current_user.timezone:
            return str(current_user.timezone)
        if current_user.tenant:
            return str(current_user.tenant.timezone)
    return "UTC"
