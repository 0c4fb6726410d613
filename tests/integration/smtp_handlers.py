"""aiosmtpd handlers for the e-mail tests, run as `python -m aiosmtpd -c <this module>.Class`."""

from __future__ import annotations

from aiosmtpd.handlers import Mailbox


class RefusingMailbox(Mailbox):
    """Answers the first N messages with an SMTP error reply, then delivers like Mailbox.

    Arguments: MAILDIR N REPLY, e.g. `maildir 1 "451 4.3.0 try again later"`; N = -1 refuses all.
    """

    def __init__(self, mail_dir, refusals: int, reply: str):
        super().__init__(mail_dir)
        self.refusals = refusals
        self.reply = reply

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refusals != 0:
            self.refusals -= 1
            return self.reply
        return await super().handle_DATA(server, session, envelope)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 3:
            parser.error("RefusingMailbox needs MAILDIR N REPLY")
        return cls(args[0], int(args[1]), args[2])
