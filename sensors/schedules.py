"""Schedules: the whole barometer is refreshed monthly (Europe/Paris)."""


import dagster as dg

refresh_all_job = dg.define_asset_job(
    "refresh_barometre", selection=dg.AssetSelection.all(),
    description="Materialise every asset of the barometer, from the sources to the published file.")

monthly_refresh = dg.ScheduleDefinition(
    name="monthly_refresh", job=refresh_all_job, cron_schedule="0 6 1 * *", execution_timezone="Europe/Paris",
    description="Refresh the whole barometer at 06:00 (Paris time) on the first day of each month.")

JOBS = [refresh_all_job]
SCHEDULES = [monthly_refresh]
