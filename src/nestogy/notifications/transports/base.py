"""The transport interface and its two errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class DeliveryError(Exception):
    pass


class TransientError(DeliveryError):
    """The message may go through later: retry with backoff."""


class PermanentError(DeliveryError):
    """The message can never go through as it is: stop retrying."""


def http_error(status: int, detail: str = "") -> DeliveryError:
    """Classify an HTTP status: 408, 429 and 5xx are transient, other 4xx/3xx permanent."""
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    if status in (408, 425, 429) or status >= 500:
        return TransientError(message)
    return PermanentError(message)


class Transport(ABC):
    """One channel's sender. Subclasses implement :meth:`send`."""

    needs_rendering = True

    def __init__(self, channel: str):
        self.channel = channel

    def open(self) -> None:  # noqa: B027  (optional hook: most transports need no setup)
        """Prepare for a batch (e.g. open one SMTP connection)."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Finish a batch; raising here fails every delivery of the batch (transiently)."""

    @abstractmethod
    def send(self, delivery: Any, rendered: Any) -> None:
        """Send one delivery; raise TransientError or PermanentError when it fails."""
