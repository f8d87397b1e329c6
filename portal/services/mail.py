"""Outgoing mail: SMTP when configured, the console (the process log) otherwise."""

from __future__ import annotations

import logging

from flask import render_template
from flask_mailman import EmailMessage

log = logging.getLogger(__name__)


def send_mail(to: str | list[str], subject: str, template: str, **context: object) -> None:
    """Render ``templates/email/<template>.txt`` and send it; a mail failure never breaks the request."""
    recipients = [to] if isinstance(to, str) else list(to)
    body = render_template(f"email/{template}.txt", **context)
    message = EmailMessage(subject=subject, body=body, to=recipients)
    try:
        message.send()
    except OSError:
        log.exception("could not send %r to %d recipient(s)", subject, len(recipients))
