"""An e-mail backend for the tests that fails the way mail servers do, then delivers to locmem."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FlakyBackend(LocmemBackend):
    """Raises the queued errors one per send, then behaves like Django's locmem backend."""

    errors: ClassVar[list[BaseException]] = []
    always: ClassVar[BaseException | None] = None

    def send_messages(self, messages: Any) -> int:
        if self.always is not None:
            raise self.always
        if self.errors:
            raise self.errors.pop(0)
        return super().send_messages(messages)
