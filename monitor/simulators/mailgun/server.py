"""Serving the simulator over loopback HTTP."""

from __future__ import annotations

import threading
from typing import Any

from monitor.simulators.base import SimulatorServer
from monitor.simulators.mailgun.app import MailgunApp, mailgun_app
from monitor.simulators.mailgun.scenario import MailgunScenario
from monitor.simulators.mailgun.wire import DEFAULT_API_KEY, DEFAULT_DOMAIN


class MailgunServer(SimulatorServer):
    """A SimulatorServer that keeps its app and scenario at hand, may be started before
    `with` (start is idempotent), and stops within ~50 ms so many short-lived servers
    keep test runs fast."""

    app: MailgunApp

    def __init__(self, app: MailgunApp) -> None:
        super().__init__(app)
        self.scenario = app.scenario

    def start(self) -> MailgunServer:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def __enter__(self) -> MailgunServer:
        return self.start()


def start_mailgun(scenario: MailgunScenario, **app_kwargs: Any) -> MailgunServer:
    """Serve `scenario` on loopback (started). `api_key` and `domain` default to
    DEFAULT_API_KEY / DEFAULT_DOMAIN; other keywords go to `mailgun_app`."""
    app_kwargs.setdefault("api_key", DEFAULT_API_KEY)
    app_kwargs.setdefault("domain", DEFAULT_DOMAIN)
    return MailgunServer(mailgun_app(scenario, **app_kwargs)).start()
