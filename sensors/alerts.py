"""Alerts: every failed run is recorded in ``mart.pipeline_events`` and, optionally, POSTed to a webhook.

The run-failure sensor ``record_run_failures`` (running by default: it only writes a local file)
sees each run of this code location that fails — scheduled, started by a sensor or by the
automation, or from the UI — and records its run id, job, who launched it, the failed step keys
and the first error in ``mart.pipeline_events`` of its own DuckDB file
(:mod:`barometre.pipeline_events`). If ``BAROMETRE_ALERT_WEBHOOK`` is set when the sensor runs,
the same facts are POSTed as JSON (``{"text": …, "event": {…}}``); the URL is read from the
environment at each tick and never logged or stored.

A failure is recorded once (the run id is the key), and alerted at most once: the row is
inserted first with ``webhook`` = ``pending``, then the alert is POSTed and its outcome written
over ``pending``. A tick that fails half-way (the events file locked by a reader for too long) is
retried by Dagster from the same run; the retry finds the row and sends nothing. A row left
``pending`` means the tick stopped between the insert and writing the outcome: the alert may or may
not have gone out (the sensor's log of that tick says), and it is not sent again.
"""

import os
from datetime import datetime, timezone

import dagster as dg

from barometre.pipeline_events import (
    PENDING,
    WEBHOOK_ENV,
    FailureEvent,
    error_of,
    is_recorded,
    launched_by,
    post_alert,
    record_failure,
    redact_url,
    set_webhook,
)


class PipelineEvents(dg.ConfigurableResource):
    """Where failures are recorded (``BAROMETRE_EVENTS_DB``), and the name of the environment
    variable holding the alert webhook (its value is read at each tick, never configured here)."""

    path: str
    webhook_env: str = WEBHOOK_ENV

    def webhook(self) -> str | None:
        return os.environ.get(self.webhook_env) or None


def _innermost(error) -> str | None:
    """``ExceptionClass: message`` of the deepest cause (Dagster wraps the asset's own error)."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause
    if error is None:
        return None
    message = error.message.strip()
    prefix, sep, rest = message.partition(": ")  # "barometre.http.FetchError: …" → "FetchError: …"
    if sep and error.cls_name and prefix.rsplit(".", 1)[-1] == error.cls_name:
        return f"{error.cls_name}: {rest}"
    return f"{error.cls_name}: {message}" if error.cls_name else message


def failure_event(context: dg.RunFailureSensorContext) -> FailureEvent:
    run = context.dagster_run
    steps = context.get_step_failure_events()
    record = context.instance.get_run_record_by_id(run.run_id)
    ended = getattr(record, "end_time", None)
    occurred = datetime.fromtimestamp(ended, timezone.utc) if ended else datetime.now(timezone.utc)
    messages = [_innermost(getattr(e.event_specific_data, "error", None)) for e in steps]
    messages.append(context.failure_event.message)
    return FailureEvent(run_id=run.run_id, job_name=run.job_name, launched_by=launched_by(dict(run.tags)),
                        failed_steps=tuple(dict.fromkeys(e.step_key for e in steps if e.step_key)),
                        error=error_of(messages), occurred_at=occurred)


@dg.run_failure_sensor(name="record_run_failures", default_status=dg.DefaultSensorStatus.RUNNING,
                       minimum_interval_seconds=30,
                       description="Records every failed run of the barometer (run id, job, failed steps, error) in "
                                   "mart.pipeline_events of BAROMETRE_EVENTS_DB, and POSTs it to "
                                   "BAROMETRE_ALERT_WEBHOOK when that variable is set.")
def record_run_failures(context: dg.RunFailureSensorContext, pipeline_events: PipelineEvents):
    run_id = context.dagster_run.run_id
    if is_recorded(pipeline_events.path, run_id):
        context.log.info(f"run {run_id} is already in mart.pipeline_events")
        return
    event = failure_event(context)
    url = pipeline_events.webhook()
    # The row before the POST: once it is in, a retried tick returns above and alerts nothing.
    if not record_failure(pipeline_events.path, event, PENDING if url else "not configured"):
        context.log.info(f"run {run_id} is already in mart.pipeline_events")
        return
    context.log.info(f"recorded the failure of run {run_id} ({event.job_name}) in {pipeline_events.path}")
    if url:
        webhook = post_alert(url, event)
        log = context.log.info if webhook.startswith("sent") else context.log.warning
        log(f"alert for run {run_id} to {redact_url(url)}: {webhook}")
        set_webhook(pipeline_events.path, run_id, webhook)


SENSORS = [record_run_failures]
