"""Resources: where the source files are read from and where the barometer is published.

Paths default to the project's ``data/`` folder and can be overridden with the environment
variables ``BAROMETRE_SNAPSHOT_DIR``, ``BAROMETRE_WORK_DB``, ``BAROMETRE_DB`` and
``BAROMETRE_LANDING_DIR``; ``BAROMETRE_SOURCES`` switches sources to their live endpoints and
``BAROMETRE_MIRROR`` fetches them from a mirror (see ``.env.example`` and docs/sources.md); tests
pass their own values to :func:`barometre.definitions.build_resources`.
"""

import contextlib

import dagster as dg
import duckdb
import pandas as pd
from dagster._core.storage.db_io_manager import DbIOManager
from dagster_duckdb.io_manager import DuckDbClient
from dagster_duckdb_pandas import DuckDBPandasIOManager, DuckDBPandasTypeHandler
from pydantic import PrivateAttr

from barometre.duckdb_config import duckdb_config
from barometre.http import HttpClient, HttpSettings
from barometre.landing import SourceStore, open_store

# The assets that write DuckDB (the working database through the I/O manager, the publication its
# own file; all of them today) are in this concurrency pool, limited to one run at a time by
# dagster.yaml (concurrency.pools: granularity run, default_limit 1): two runs never write the
# same file.
DUCKDB_POOL = "duckdb"

class SourceFiles(dg.ConfigurableResource):
    """Source files by their snapshot path: from the bundled snapshot (``data/snapshot/``), or,
    for the sources switched to live, from their publisher (landed under ``data/landing/``).

    One HTTP client per run (one rate limiter per host); within a run each live file is
    downloaded once, whichever asset reads it first.
    """

    snapshot_dir: str
    sources: str = "snapshot"
    mirror: str = ""
    landing_dir: str = ""

    _run_id: str | None = PrivateAttr(default=None)
    _client: HttpClient | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._run_id = context.run_id

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def store(self) -> SourceStore:
        if self.sources.strip() != "snapshot" and self._client is None:
            self._client = HttpClient(HttpSettings(mirror=self.mirror or None))
        return open_store(self.snapshot_dir, sources=self.sources, landing_dir=self.landing_dir or None,
                          client=self._client, session=self._run_id)

class PublishedWarehouse(dg.ConfigurableResource):
    """The DuckDB file dashboards read, replaced atomically at each publication."""

    path: str

class _ReplacingPandasTypeHandler(DuckDBPandasTypeHandler):
    """Writes an unpartitioned asset with ``CREATE OR REPLACE TABLE``.

    The stock handler deletes the rows and inserts into the existing table, so a table whose
    columns changed between two versions of the code (e.g. ``raw.fichiers_sources`` gaining
    its HTTP columns) fails with a DuckDB binder error in an existing working database. An empty
    frame is written too (the stock handler skips it: no table in a fresh working database, the
    previous columns in an existing one): its table has its columns and no rows.
    """

    def handle_output(self, context, table_slice, obj: pd.DataFrame, connection):
        if context.has_partition_key:
            return super().handle_output(context, table_slice, obj, connection)
        connection.execute(f"create or replace table {table_slice.schema}.{table_slice.table} as select * from obj")


class _RunConnection(DuckDbClient):
    """DuckDbClient that hands out one connection for the whole run instead of opening one per
    call. The connection is opened on first use, so a run that stores and loads nothing through
    the I/O manager (e.g. ``barometre_report`` alone, outside the ``duckdb`` pool) never opens the
    working database and cannot collide with another run's writer on DuckDB's file lock."""

    def __init__(self, database: str, config: dict):
        self._database = database
        self._config = config
        self._connection: duckdb.DuckDBPyConnection | None = None

    @contextlib.contextmanager
    def connect(self, context, table_slice):
        if self._connection is None:
            self._connection = duckdb.connect(self._database, config=self._config)
        yield self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class WorkDatabase(DuckDBPandasIOManager):
    """The working database (``data/work/barometre_work.duckdb``): one table per asset
    (``schema.table`` from the asset key), replaced at each materialisation, written through one
    DuckDB connection for the whole run instead of one per input and output.

    Opening a DuckDB connection costs ~20 ms and closing one after a write checkpoints the file;
    a run loads ~110 inputs and stores ~50 outputs (docs/benchmarks.md). The connection is opened
    when the run first loads or stores a table (a run that does neither never opens the file) and
    closed (and checkpointed) when the run ends, failed or not. Tables, schemas and SQL are those
    of ``DuckDBPandasIOManager``; the in-process executor keeps a single writer. While a run lasts,
    another connection to the file from the same process must use the same configuration
    (``dagster_duckdb.DuckDBResource`` does; a read-only one is refused).
    """

    @staticmethod
    def type_handlers():
        return [_ReplacingPandasTypeHandler()]

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        # barometre.duckdb_config unless the resource's connection_config says otherwise (the same
        # values for every connection of the process: DuckDB refuses two configurations of one file).
        client = _RunConnection(self.database, {"custom_user_agent": "dagster", **duckdb_config(),
                                                **self.connection_config})
        try:
            yield DbIOManager(db_client=client, database=self.database, schema=self.schema_,
                              type_handlers=self.type_handlers(), default_load_type=self.default_load_type(),
                              io_manager_name="WorkDatabase")
        finally:
            client.close()
