"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepts, and the mailer that talks to it."""
from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

from engine.mail.notifications import SmtpMailer, SmtpSettings


class Inbox:
    """aiosmtpd handler keeping every message it accepts; it refuses the recipients in `refuse` for good (550)."""

    def __init__(self, refuse: frozenset[str] = frozenset()):
        self.messages = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


@contextmanager
def smtp_inbox(port: int, refuse: frozenset[str] = frozenset()) -> Iterator[Inbox]:
    """An SMTP server listening on 127.0.0.1:`port` while the block runs (refusing the addresses `refuse`)."""
    inbox = Inbox(refuse)
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
