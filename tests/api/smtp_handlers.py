"""aiosmtpd handlers for the tests that try to break mail delivery (tests/api/smtp.rs
starts them with `python3 -m aiosmtpd -c smtp_handlers.<Class> <maildir> [args]`).

SlowMailbox takes `delay` seconds over each message before accepting it, as a slow or
overloaded relay does; the wait is asynchronous, so several connections are served at
once, like a real server. Addresses starting with "refused" are refused for good
(550), as a relay refuses an unknown mailbox.
"""

import asyncio

from aiosmtpd.handlers import Mailbox


class SlowMailbox(Mailbox):
    def __init__(self, mail_dir, delay=0.0):
        super().__init__(mail_dir)
        self.delay = float(delay)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)

    @classmethod
    def from_cli(cls, parser, *args):
        if not 1 <= len(args) <= 2:
            parser.error("usage: SlowMailbox <maildir> [delay seconds]")
        return cls(*args)
