"""The configured Sentry project as the numeric ID that `project=` requires.

Sentry's organization endpoints take only numeric project IDs; a slug gets
`400 Invalid project parameter. Values must be numbers.` A slug is resolved once with
`GET /api/0/projects/{org}/{project}/` and the answer kept in the database (`sentry_projects`),
under the server, organization and slug it answers for."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from monitor.config.settings import SentrySettings
from monitor.core.timeutil import to_db
from monitor.sources.http import HttpClient
from monitor.sources.sentry_parse import project_id_of, project_request
from monitor.store import write_tx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoundProject:
    """The project's numeric ID, and (when the server was asked just now) what it said."""

    id: str
    name: str = ""
    asked: bool = False

    def sentence(self, sentry: SentrySettings) -> str:
        named = f" ({self.name})" if self.name and self.name != sentry.project else ""
        return f"organization '{sentry.organization}', project '{sentry.project}' found: ID {self.id}{named}"


def project_id(db: Database, client: HttpClient, sentry: SentrySettings, now: datetime) -> FoundProject:
    """The numeric ID: the configured value when it is one, else the remembered or asked one."""
    if sentry.project.isdigit():
        return FoundProject(sentry.project)
    ref = f"{sentry.base_url}/{sentry.organization}/{sentry.project}"
    known = db.execute("SELECT project_id FROM sentry_projects WHERE ref = ?", [ref]).fetchone()
    if known:
        return FoundProject(str(known[0]))
    found = ask_project(client, sentry)
    with write_tx(db) as conn:
        conn.execute(
            "INSERT OR REPLACE INTO sentry_projects (ref, project_id, resolved_at) VALUES (?, ?, ?)",
            (ref, found.id, to_db(now)),
        )
    log.info("Sentry: %s", found.sentence(sentry))
    return found


def ask_project(client: HttpClient, sentry: SentrySettings) -> FoundProject:
    """One `GET /api/0/projects/{org}/{project}/`: the project's ID and name."""
    data = client.get_json(*project_request(sentry)).data
    name = data.get("name") if isinstance(data, dict) else None
    return FoundProject(project_id_of(data), name if isinstance(name, str) else "", asked=True)
