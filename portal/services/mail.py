"""Outgoing mail: SMTP when configured, the console (the process log) otherwise."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_mailman import EmailMessage

from portal.models import User

log = logging.getLogger(__name__)


def public_url_for(endpoint: str, **values: Any) -> str:
    """An absolute link for a message read outside the portal (mail), also from a job without a request.

    Always built on PUBLIC_URL, never on the Host header of the request that caused it: a forged Host would
    otherwise put someone else's server in a password reset link.
    """
    path = current_app.url_map.bind("unused").build(endpoint, values)
    return str(current_app.config["PUBLIC_URL"]).rstrip("/") + path


def locale_for_recipient(user: User) -> str:
    """A message is written in its reader's language: theirs if chosen, else their tenant's, else English."""
    if user.locale:
        return user.locale
    return user.tenant.default_locale if user.tenant is not None else "en"


def send_mail(to: str | list[str], subject: object, template: str, locale: str = "en", **context: Any) -> None:
    """Render ``templates/email/<template>.txt`` in ``locale`` and send it; a failure never breaks the request.

    ``subject`` is a lazy string (``_l``) so that it, too, is translated into the reader's language.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    with force_locale(locale):
        subject_text = str(subject)
        body = render_template(f"email/{template}.txt", **context)
    message = EmailMessage(subject=subject_text, body=body, to=recipients)
    try:
        message.send()
    except OSError:
        log.exception("could not send %r to %d recipient(s)", subject_text, len(recipients))
