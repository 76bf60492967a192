"""How a gateway refused a message: worth trying again later, or never."""
from __future__ import annotations


class DeliveryError(Exception):
    """`reason` is what officers see as `last_error`: never the text, a code or a contact."""

    retry = True

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:300]


class DeferredError(DeliveryError):
    retry = True


class RefusedError(DeliveryError):
    """The gateway refused this message for good (a 4xx, a 5xx SMTP reply to a recipient)."""

    retry = False
