"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepts, and the mailer that talks to it."""
from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

from engine.mail.notifications import SmtpMailer, SmtpSettings


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


@contextmanager
def smtp_inbox(port: int) -> Iterator[Inbox]:
    """An SMTP server listening on 127.0.0.1:`port` while the block runs."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def loopback_mailer(port: int) -> SmtpMailer:
    """The office's mailer pointed at the loopback server: no TLS, short timeout, three attempts a minute apart."""
    return SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, security="none",
                                   sender="Gobernación <no-responder@gobernacion.test>",
                                   timeout_seconds=2, max_attempts=3, retry_base_seconds=60))
