"""The pipeline's own log of failed runs: ``mart.pipeline_events``, and the alert webhook.

A run that fails (a source that cannot be downloaded, a blocking check, a bug) is recorded by the
run-failure sensor (``sensors/alerts.py``) as one row of ``mart.pipeline_events`` in a small
DuckDB file of its own (``BAROMETRE_EVENTS_DB``, default ``data/work/pipeline_events.duckdb``):
not the published file (dashboards only read it, it is replaced atomically) and not the working
database (the run that failed, or the next one, may be writing it: DuckDB allows one writer per
file). The sensor is this file's only writer, and holds it for the few milliseconds of an insert;
readers open it ``read_only``.

When ``BAROMETRE_ALERT_WEBHOOK`` is set, the failure is also POSTed as JSON to that URL (a
Slack/Mattermost-style incoming webhook reads its ``text``). The URL is treated as a secret: it is
never written to the table or the logs, only its scheme and host (:func:`redact_url`). The row is
inserted first (``webhook`` = ``pending``), then the alert is POSTed and its outcome written
(:func:`set_webhook`): the row is what makes a retried tick skip the run, so an alert is sent at
most once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from barometre import duckdb_config
from barometre.http import FetchError, HttpClient, HttpSettings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EVENTS_DB = PROJECT_ROOT / "data" / "work" / "pipeline_events.duckdb"
WEBHOOK_ENV = "BAROMETRE_ALERT_WEBHOOK"
RUN_FAILURE = "run_failure"
PENDING = "pending"  # the row is in, the alert not (yet) sent or its outcome not written
TITLE = "Baromètre de la cohésion des territoires"

_DDL = """
create schema if not exists mart;
create table if not exists mart.pipeline_events (
    event_type   varchar not null,      -- run_failure
    run_id       varchar not null,
    job_name     varchar not null,
    launched_by  varchar not null,      -- schedule:<name>, sensor:<name>, automation, backfill:<id> or manual
    failed_steps varchar[] not null,    -- step keys that failed, e.g. raw__insee_chomage_localise_departement
    error        varchar,               -- the first failed step's error (exception class: message), or the run's
    occurred_at  timestamptz not null,  -- when the run ended
    recorded_at  timestamptz not null,
    webhook      varchar not null,      -- not configured | pending | sent (HTTP 200) | failed: <reason>
    primary key (event_type, run_id)
)
"""


@dataclass(frozen=True)
class FailureEvent:
    run_id: str
    job_name: str
    launched_by: str
    failed_steps: tuple[str, ...]
    error: str | None
    occurred_at: datetime

    def summary(self) -> str:
        steps = f"step {', '.join(self.failed_steps)}" if self.failed_steps else "no step failed"
        return (f"{TITLE}: run {self.run_id[:8]} of job {self.job_name} ({self.launched_by}) failed "
                f"at {self.occurred_at:%Y-%m-%d %H:%M:%S %Z} — {steps}: {self.error or 'no error message'}")

    def payload(self) -> dict:
        body = asdict(self)
        body["failed_steps"] = list(self.failed_steps)
        body["occurred_at"] = self.occurred_at.isoformat()
        return {"text": self.summary(), "event": {"event_type": RUN_FAILURE, **body}}


def launched_by(tags: dict[str, str]) -> str:
    """Who started a run, from its Dagster tags."""
    if tags.get("dagster/auto_materialize") or tags.get("dagster/from_automation_condition"):
        return "automation"
    if tags.get("dagster/schedule_name"):
        return f"schedule:{tags['dagster/schedule_name']}"
    if tags.get("dagster/sensor_name"):
        return f"sensor:{tags['dagster/sensor_name']}"
    if tags.get("dagster/backfill"):
        return f"backfill:{tags['dagster/backfill']}"
    return "manual"


def redact_url(url: str | None) -> str:
    """``https://hooks.example.org/T000/B000/XXXX`` → ``https://hooks.example.org/…``."""
    if not url:
        return "(none)"
    if webhook_url_problem(url):
        return "(not an http(s)://host URL)"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…"


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be POSTed to (None for ``http(s)://host…``), without quoting any of it:
    a URL that lost its scheme would otherwise reach requests, whose error quotes it whole."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "the webhook URL cannot be parsed"
    if "://" not in url:
        return "the webhook URL has no scheme (expected http(s)://host/…)"
    if parts.scheme not in ("http", "https"):
        return "the webhook URL's scheme is not http or https"
    if not parts.hostname:
        return "the webhook URL names no host"
    return None


def _connect(path: str | os.PathLike, read_only: bool = False, attempts: int = 10) -> duckdb.DuckDBPyConnection:
    """Open the events file, waiting a little while another process holds it."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(attempts):
        try:
            return duckdb_config.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def is_recorded(path: str | os.PathLike, run_id: str, event_type: str = RUN_FAILURE) -> bool:
    if not Path(path).is_file():
        return False
    con = _connect(path)
    try:
        con.execute(_DDL)
        return bool(con.execute("select count(*) from mart.pipeline_events where event_type = ? and run_id = ?",
                                [event_type, run_id]).fetchall()[0][0])
    finally:
        con.close()


def record_failure(path: str | os.PathLike, event: FailureEvent, webhook: str) -> bool:
    """Insert ``event`` (once per run: False when the run was already recorded)."""
    con = _connect(path)
    try:
        con.execute(_DDL)
        before = con.execute("select count(*) from mart.pipeline_events").fetchall()[0][0]
        con.execute("insert into mart.pipeline_events values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
                    [RUN_FAILURE, event.run_id, event.job_name, event.launched_by, list(event.failed_steps),
                     event.error, event.occurred_at, datetime.now(timezone.utc), webhook])
        return con.execute("select count(*) from mart.pipeline_events").fetchall()[0][0] > before
    finally:
        con.close()


def set_webhook(path: str | os.PathLike, run_id: str, webhook: str, event_type: str = RUN_FAILURE) -> None:
    """Write what became of the alert of a recorded run (its row was inserted ``pending``)."""
    con = _connect(path)
    try:
        con.execute("update mart.pipeline_events set webhook = ? where event_type = ? and run_id = ?",
                    [webhook, event_type, run_id])
    finally:
        con.close()


def read_events(path: str | os.PathLike) -> list[dict]:
    """Every recorded event, oldest first (for tests and people; opens the file read-only)."""
    con = _connect(path, read_only=True)
    try:
        cursor = con.execute("select * from mart.pipeline_events order by occurred_at, run_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def post_alert(url: str, event: FailureEvent, client: HttpClient | None = None) -> str:
    """POST the event to the webhook; returns what happened, without the URL (a secret). A URL
    that is not ``http(s)://host…`` is refused before anything is sent."""
    problem = webhook_url_problem(url)
    if problem:
        return f"failed: {problem}, nothing sent"
    own = client is None
    client = client or HttpClient(HttpSettings(connect_timeout=5.0, read_timeout=10.0, retries=2, backoff_factor=0.5,
                                               rate_limits={}))
    try:
        response = client.post_json(url, event.payload())
        with response:
            if 200 <= response.status_code < 300:
                return f"sent (HTTP {response.status_code})"
            return f"failed: HTTP {response.status_code} {response.reason}"
    except FetchError as exc:
        return f"failed: {exc.reason}"
    finally:
        if own:
            client.close()


def error_of(messages: Sequence[str | None]) -> str | None:
    """The first non-empty message, on one line and at most 2 000 characters."""
    for message in messages:
        if message and message.strip():
            text = " ".join(message.split())
            return text if len(text) <= 2000 else text[:1997] + "…"
    return None
