"""Dagster entry point of the barometer (named in ``workspace.yaml``), and ``make run``.

This is the only module of :mod:`barometre` that imports Dagster: it assembles the assets of
``assets/`` (with the automation conditions and freshness policies of ``sensors/automation.py``),
the asset checks of ``assets/checks.py`` (Great Expectations suites, blocking) and the schedule,
source-release sensors and failure alerts of ``sensors/`` into one :class:`dagster.Definitions`
with the in-process executor (one process, hence a single DuckDB writer per run;
``dagster.yaml`` lets one run at a time write).

``python -m barometre.definitions`` materialises every asset on the bundled snapshot (or, with
``BAROMETRE_SOURCES=live``, on the publishers' live files) and prints a summary of the published
database and of the checks; when a check or a source fails, it says which, and that the
published database was left as it was (exit status 1).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import dagster as dg

from assets import checks, cohesion, communes, core, indicators, ingest, marts, report
from assets.report import ReportSite
from assets.resources import PublishedWarehouse, SourceFiles, work_database_resources
from barometre import warehouse
from barometre.catalogue import load_catalogue
from barometre.duckdb_config import duckdb_config
from barometre.landing import DEFAULT_LANDING_DIR, DEFAULT_SNAPSHOT_DIR, live_registry, live_source_ids
from barometre.pipeline_events import DEFAULT_EVENTS_DB
from barometre.report.build import default_report_dir
from sensors import alerts, automation, releases, schedules

ALL_ASSETS = automation.with_policies([*ingest.ASSETS, *core.ASSETS, *communes.ASSETS, *indicators.ASSETS,
                                       *marts.ASSETS, *cohesion.ASSETS, *report.ASSETS])
ALL_CHECKS = checks.CHECKS
JOBS = [*schedules.JOBS, *releases.JOBS]
SENSORS = [*releases.SENSORS, *alerts.SENSORS, *automation.SENSORS]


def build_resources(*, snapshot_dir: str | os.PathLike | None = None, work_db: str | os.PathLike | None = None,
                    published_db: str | os.PathLike | None = None, report_dir: str | os.PathLike | None = None,
                    sources: str | None = None, mirror: str | None = None,
                    landing_dir: str | os.PathLike | None = None,
                    events_db: str | os.PathLike | None = None) -> dict:
    """Resources with explicit values, else ``$BAROMETRE_SNAPSHOT_DIR``, ``$BAROMETRE_WORK_DB``,
    ``$BAROMETRE_DB``, ``$BAROMETRE_REPORT_DIR``, ``$BAROMETRE_SOURCES`` (``snapshot``),
    ``$BAROMETRE_MIRROR``, ``$BAROMETRE_LANDING_DIR``, ``$BAROMETRE_EVENTS_DB``, else the
    project's ``data/`` folder (the report goes to ``report/`` beside the published file)."""
    snapshot_dir = snapshot_dir or os.environ.get("BAROMETRE_SNAPSHOT_DIR") or DEFAULT_SNAPSHOT_DIR
    work_db = Path(work_db or os.environ.get("BAROMETRE_WORK_DB") or warehouse.DEFAULT_WORK_DB)
    published_db = published_db or os.environ.get("BAROMETRE_DB") or warehouse.DEFAULT_PUBLISHED_DB
    report_dir = report_dir or os.environ.get("BAROMETRE_REPORT_DIR") or default_report_dir(published_db)
    sources = sources or os.environ.get("BAROMETRE_SOURCES") or "snapshot"
    live_source_ids(sources, live_registry(load_catalogue()))  # refuse a wrong value before any run
    work_db.parent.mkdir(parents=True, exist_ok=True)
    return {
        # "duckdb": the run's connection to the working database (a DuckDBResource, taken by the SQL
        # assets); "io_manager": the I/O manager storing and loading frames through that connection.
        **work_database_resources(work_db, duckdb_config()),
        "source_files": SourceFiles(snapshot_dir=str(snapshot_dir), sources=sources,
                                    mirror=mirror or os.environ.get("BAROMETRE_MIRROR", ""),
                                    landing_dir=str(landing_dir or os.environ.get("BAROMETRE_LANDING_DIR")
                                                    or DEFAULT_LANDING_DIR)),
        "published_warehouse": PublishedWarehouse(path=str(published_db)),
        "report_site": ReportSite(path=str(report_dir), snapshot_dir=str(snapshot_dir)),
        "pipeline_events": alerts.PipelineEvents(
            path=str(events_db or os.environ.get("BAROMETRE_EVENTS_DB") or DEFAULT_EVENTS_DB)),
    }


def build_defs(**paths) -> dg.Definitions:
    """The code location. Tests pass ``snapshot_dir``, ``work_db``, ``published_db``…"""
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=JOBS,
        schedules=schedules.SCHEDULES,
        sensors=SENSORS,
        resources=build_resources(**paths),
        executor=dg.in_process_executor,
    )


defs = build_defs()


def materialize_all(instance: dg.DagsterInstance | None = None, log_level: str = "DEBUG",
                    selection: dg.AssetSelection | None = None, **paths) -> dg.ExecuteInProcessResult:
    """Materialise every asset (or ``selection``) with its checks in one in-process run (console
    log at ``log_level``). A failed step or blocking check does not raise: the run's ``success``
    is False and the assets downstream of the failure are not materialised."""
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    return dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=build_resources(**paths), instance=instance,
                          run_config=run_config, selection=selection, raise_on_error=False)


def main() -> int:
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    start = time.perf_counter()
    # Step-by-step events stay in the run's event log (see them in `make ui`); the console only
    # shows warnings and errors, then the summary.
    result = materialize_all(instance=instance, log_level=os.environ.get("BAROMETRE_LOG_LEVEL", "WARNING"))
    wall = time.perf_counter() - start
    published = build_resources()["published_warehouse"].path
    report = checks.run_report(result, [key for a in ALL_ASSETS for key in a.keys])
    if not result.success:
        print(f"\nMaterialisation failed: {warehouse.untouched_note(published)}\n{report}", file=sys.stderr)
        return 1
    print(warehouse.summary(published))
    print(f"\n{report}")
    site = result.asset_materializations_for_node("barometre_report")[0].metadata
    print(f"\n  Report: {site['index'].value} ({site['pages'].value} pages, built in "
          f"{site['build_seconds'].value} s from the published file): open it in a browser, no server needed.")
    print(f"\n  Materialisation of {sum(len(a.keys) for a in ALL_ASSETS)} assets and {len(checks.evaluations(result))} asset checks: "
          f"{wall:.1f} s wall time (in-process executor).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
