"""The configured Sentry project as the numeric ID that `project=` requires.

Sentry's organization endpoints take only numeric project IDs; a slug gets
`400 Invalid project parameter. Values must be numbers.` A slug is resolved once with
`GET /api/0/projects/{org}/{project}/` and the answer kept in the database (`sentry_projects`),
under the server, organization and slug it answers for."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlite_utils import Database

from monitor.config.settings import SentrySettings
from monitor.core.timeutil import to_db
from monitor.sources.http import HttpClient
from monitor.sources.sentry_parse import project_id_of, project_request
from monitor.store import write_tx

log = logging.getLogger(__name__)


def project_id(db: Database, client: HttpClient, sentry: SentrySettings, now: datetime) -> str:
    """The numeric ID: the configured value when it is one, else the remembered or asked one."""
    if sentry.project.isdigit():
        return sentry.project
    ref = f"{sentry.base_url}/{sentry.organization}/{sentry.project}"
    known = db.execute("SELECT project_id FROM sentry_projects WHERE ref = ?", [ref]).fetchone()
    if known:
        return str(known[0])
    found = ask_project_id(client, sentry)
    with write_tx(db) as conn:
        conn.execute(
            "INSERT OR REPLACE INTO sentry_projects (ref, project_id, resolved_at) VALUES (?, ?, ?)",
            (ref, found, to_db(now)),
        )
    log.info("Sentry: project '%s' of '%s' is ID %s", sentry.project, sentry.organization, found)
    return found


def ask_project_id(client: HttpClient, sentry: SentrySettings) -> str:
    return project_id_of(client.get_json(*project_request(sentry)).data)
