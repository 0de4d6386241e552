"""mart.pipeline_events (barometre/pipeline_events.py): one row per failed run, in its own DuckDB
file; the alert POSTed to a local webhook receiver; the webhook URL never written out."""

import subprocess
import sys
from datetime import datetime, timezone

import pytest

from barometre.pipeline_events import (
    FailureEvent,
    is_recorded,
    launched_by,
    post_alert,
    read_events,
    record_failure,
    redact_url,
    set_webhook,
)
from tests.support.http_server import free_port
from tests.support.webhook import WebhookReceiver

EVENT = FailureEvent(
    run_id="5d1c0e7a-4a8e-4d0b-9d52-2d0f0c3c1b7e", job_name="refresh_insee_chomage_localise",
    launched_by="sensor:release_insee_chomage_localise", failed_steps=("raw__insee_chomage_localise_departement",),
    error="FetchError: https://bdm.insee.fr/series/sdmx/data/TAUX-CHOMAGE: HTTP 404 Not Found",
    occurred_at=datetime(2026, 11, 22, 5, 30, 12, tzinfo=timezone.utc))


def test_a_failure_is_recorded_once(tmp_path):
    path = tmp_path / "events" / "pipeline_events.duckdb"
    assert not is_recorded(path, EVENT.run_id)
    assert record_failure(path, EVENT, "not configured") is True
    assert record_failure(path, EVENT, "not configured") is False   # the same run again: nothing added
    assert is_recorded(path, EVENT.run_id)
    (row,) = read_events(path)
    assert {k: row[k] for k in ("event_type", "run_id", "job_name", "launched_by", "failed_steps", "error",
                                "webhook")} == {
        "event_type": "run_failure", "run_id": EVENT.run_id, "job_name": "refresh_insee_chomage_localise",
        "launched_by": "sensor:release_insee_chomage_localise", "failed_steps": ["raw__insee_chomage_localise_departement"],
        "error": "FetchError: https://bdm.insee.fr/series/sdmx/data/TAUX-CHOMAGE: HTTP 404 Not Found",
        "webhook": "not configured"}
    assert row["occurred_at"] == EVENT.occurred_at


def test_the_alert_outcome_replaces_pending(tmp_path):
    path = tmp_path / "pipeline_events.duckdb"
    assert record_failure(path, EVENT, "pending") is True
    assert [row["webhook"] for row in read_events(path)] == ["pending"]
    set_webhook(path, EVENT.run_id, "sent (HTTP 200)")
    assert [row["webhook"] for row in read_events(path)] == ["sent (HTTP 200)"]


def test_the_file_is_not_held_between_writes(tmp_path):
    """The sensor closes the file after each insert: another process can open it read-write
    right after (DuckDB refuses a second process while one holds it)."""
    path = tmp_path / "pipeline_events.duckdb"
    record_failure(path, EVENT, "not configured")
    out = subprocess.run([sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
                          "print(con.execute('select job_name from mart.pipeline_events').fetchall())", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[('refresh_insee_chomage_localise',)]", out.stderr


def test_alert_is_posted_as_json(tmp_path):
    with WebhookReceiver() as hook:
        status = post_alert(hook.url, EVENT)
    assert status == "sent (HTTP 200)"
    (post,) = hook.posts
    assert post["path"] == "/hooks/T0001/B0002/s3cr3t"
    assert post["headers"]["Content-Type"] == "application/json"
    assert post["json"]["text"] == (
        "Baromètre de la cohésion des territoires: run 5d1c0e7a of job refresh_insee_chomage_localise "
        "(sensor:release_insee_chomage_localise) failed at 2026-11-22 05:30:12 UTC — step raw__insee_chomage_localise_departement: "
        "FetchError: https://bdm.insee.fr/series/sdmx/data/TAUX-CHOMAGE: HTTP 404 Not Found")
    assert post["json"]["event"]["failed_steps"] == ["raw__insee_chomage_localise_departement"]
    assert post["json"]["event"]["occurred_at"] == "2026-11-22T05:30:12+00:00"


def test_alert_failures_are_reported_without_the_url():
    with WebhookReceiver(status=500) as hook:
        assert post_alert(hook.url, EVENT) == "failed: HTTP 500 Internal Server Error"
    port = free_port()
    status = post_alert(f"http://127.0.0.1:{port}/hooks/T0001/B0002/s3cr3t", EVENT)
    assert status == "failed: cannot connect (connection refused) after 3 attempts"
    assert "s3cr3t" not in status


@pytest.mark.parametrize("url,status", [
    ("hooks.example.org/services/T0/B0/SECRETTOKEN",
     "failed: the webhook URL has no scheme (expected http(s)://host/…), nothing sent"),
    ("hooks.example.org:8443/services/T0/B0/SECRETTOKEN",  # urlsplit reads 'hooks.example.org' as the scheme
     "failed: the webhook URL has no scheme (expected http(s)://host/…), nothing sent"),
    ("ftp://hooks.example.org/services/T0/B0/SECRETTOKEN", "failed: the webhook URL's scheme is not http or https, nothing sent"),
    ("https:///services/T0/B0/SECRETTOKEN", "failed: the webhook URL names no host, nothing sent"),
    ("https://[hooks.example.org/services/T0/B0/SECRETTOKEN", "failed: the webhook URL cannot be parsed, nothing sent"),
])
def test_a_malformed_webhook_url_is_refused_without_quoting_it(url, status):
    """requests' error for such a URL quotes it whole ('Invalid URL … Perhaps you meant
    https://…SECRETTOKEN?'): it would reach the sensor's log and mart.pipeline_events.webhook."""
    assert post_alert(url, EVENT) == status
    assert "SECRETTOKEN" not in status and "SECRETTOKEN" not in redact_url(url)


def test_redact_url_keeps_scheme_and_host_only():
    assert redact_url("https://hooks.slack.com/services/T0001/B0002/s3cr3t") == "https://hooks.slack.com/…"
    assert redact_url("hooks.slack.com/services/T0001/B0002/s3cr3t") == "(not an http(s)://host URL)"
    assert redact_url(None) == "(none)"


def test_launched_by_from_run_tags():
    assert launched_by({"dagster/schedule_name": "monthly_refresh"}) == "schedule:monthly_refresh"
    assert launched_by({"dagster/sensor_name": "release_insee_chomage_localise"}) == \
        "sensor:release_insee_chomage_localise"
    assert launched_by({"dagster/auto_materialize": "true", "dagster/sensor_name": "barometre_automation"}) == \
        "automation"
    assert launched_by({}) == "manual"
