"""A local SMTP server (aiosmtpd) that keeps what it receives: the demo's mail catcher."""

from __future__ import annotations

import socket
import threading
from typing import Any

from aiosmtpd.controller import Controller


def free_port(host: str = "127.0.0.1") -> int:
    # aiosmtpd's Controller cannot bind port 0 (it self-connects to check readiness), so pick one.
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class _Keeper:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()

    # aiosmtpd calls the hook by this name.
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                (list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content))
            )
        return "250 Message accepted for delivery"


class SmtpSink:
    """Start with `with SmtpSink() as sink:`; `sink.port`, `sink.messages` (raw bytes)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self._keeper = _Keeper()
        self._controller = Controller(self._keeper, hostname=host, port=self.port)

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    @property
    def raw_messages(self) -> list[tuple[list[str], bytes]]:
        with self._keeper.lock:
            return list(self._keeper.messages)
