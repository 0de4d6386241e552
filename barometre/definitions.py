"""Dagster entry point of the barometer (named in ``workspace.yaml``), and ``make run``.

This is the only module of :mod:`barometre` that imports Dagster: it assembles the assets of
``assets/`` and the schedules of ``sensors/`` into one :class:`dagster.Definitions` with the
in-process executor (one process, hence a single DuckDB writer), with the asset checks of
``assets/checks.py`` (Great Expectations suites, blocking).

``python -m barometre.definitions`` materialises every asset on the bundled snapshot and prints
a summary of the published database and of the checks; when a check or a source fails, it says
which, and that the published database was left as it was (exit status 1).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import dagster as dg
from dagster_duckdb_pandas import DuckDBPandasIOManager

from assets import checks, core, indicators, ingest, marts
from assets.resources import PublishedWarehouse, SourceFiles
from barometre import warehouse
from barometre.landing import DEFAULT_SNAPSHOT_DIR
from sensors import schedules

ALL_ASSETS = [*ingest.ASSETS, *core.ASSETS, *indicators.ASSETS, *marts.ASSETS]
ALL_CHECKS = checks.CHECKS


def build_resources(*, snapshot_dir: str | os.PathLike | None = None, work_db: str | os.PathLike | None = None,
                    published_db: str | os.PathLike | None = None) -> dict:
    """Resources with explicit paths, else ``$BAROMETRE_SNAPSHOT_DIR``, ``$BAROMETRE_WORK_DB``,
    ``$BAROMETRE_DB``, else the project's ``data/`` folder."""
    snapshot_dir = snapshot_dir or os.environ.get("BAROMETRE_SNAPSHOT_DIR") or DEFAULT_SNAPSHOT_DIR
    work_db = Path(work_db or os.environ.get("BAROMETRE_WORK_DB") or warehouse.DEFAULT_WORK_DB)
    published_db = published_db or os.environ.get("BAROMETRE_DB") or warehouse.DEFAULT_PUBLISHED_DB
    work_db.parent.mkdir(parents=True, exist_ok=True)
    return {
        "io_manager": DuckDBPandasIOManager(database=str(work_db)),
        "source_files": SourceFiles(snapshot_dir=str(snapshot_dir)),
        "published_warehouse": PublishedWarehouse(path=str(published_db)),
    }


def build_defs(**paths) -> dg.Definitions:
    """The code location. Tests pass ``snapshot_dir``, ``work_db`` and ``published_db``."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=schedules.JOBS,
        schedules=schedules.SCHEDULES,
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
    print(f"\n  Materialisation of {len(ALL_ASSETS)} assets and {len(checks.evaluations(result))} asset checks: "
          f"{wall:.1f} s wall time (in-process executor).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
