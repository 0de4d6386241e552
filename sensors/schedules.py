"""Schedules: the whole barometer is refreshed monthly (Europe/Paris).

``monthly_refresh`` is running by default: the daemon that ``dagster dev`` (``make ui``) starts
launches ``refresh_barometre`` at 06:00 Paris time on the first day of each month. The run reads the
sources as ``BAROMETRE_SOURCES`` says (the snapshot by default; ``live`` in a deployment that
follows the publishers). Runs wait in the queue while another run writes the DuckDB files
(``dagster.yaml``: concurrency pool ``duckdb``, one run at a time).
"""

import dagster as dg

TIMEZONE = "Europe/Paris"
MONTHLY_CRON = "0 6 1 * *"

refresh_all_job = dg.define_asset_job(
    "refresh_barometre", selection=dg.AssetSelection.all(),
    description="Materialise every asset of the barometer, from the sources to the published file.")

monthly_refresh = dg.ScheduleDefinition(
    name="monthly_refresh", job=refresh_all_job, cron_schedule=MONTHLY_CRON, execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the whole barometer at 06:00 (Paris time) on the first day of each month.")

JOBS = [refresh_all_job]
SCHEDULES = [monthly_refresh]
