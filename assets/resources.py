"""Resources: where the source files are read from and where the barometer is published.

Paths default to the project's ``data/`` folder and can be overridden with the environment
variables ``BAROMETRE_SNAPSHOT_DIR``, ``BAROMETRE_WORK_DB``, ``BAROMETRE_DB`` and
``BAROMETRE_LANDING_DIR``; ``BAROMETRE_SOURCES`` switches sources to their live endpoints and
``BAROMETRE_MIRROR`` fetches them from a mirror (see ``.env.example`` and docs/sources.md); tests
pass their own values to :func:`barometre.definitions.build_resources`.
"""

import collections
import contextlib
import os
import re
import time

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource
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

class WorkDatabaseConnection(DuckDBResource):
    """The run's connection to the working database (``data/work/barometre_work.duckdb``): the one
    owner of it, resource key ``duckdb``. The SQL assets take it as dagster-duckdb's
    ``DuckDBResource`` (this class is one) and :class:`WorkDatabase`, the I/O manager, stores and
    loads through it, so that both use one DuckDB connection for the whole run.

    Within a run, :meth:`get_connection` yields that connection, opened (:meth:`connect`: as
    ``DuckDBResource`` opens one, with the project's configuration) the first time a step asks
    for it, so a run that loads, stores and queries nothing (e.g. ``barometre_report`` alone, outside the ``duckdb`` pool) never opens the
    file and cannot collide with another run's writer on DuckDB's file lock. It is closed (and the
    file checkpointed) when the run ends, failed or not. Outside a run (no
    ``setup_for_execution``) each call opens and closes its own connection, as ``DuckDBResource``.

    Opening a connection costs ~20 ms and closing one after a write checkpoints the file; a run
    loads ~170 inputs and stores ~50 outputs (docs/benchmarks.md). The configuration is
    :func:`barometre.duckdb_config.duckdb_config`'s (``connection_config`` overrides it): another
    connection to the file from the same process while the run lasts must use the same
    configuration (DuckDB refuses two configurations of one file; a read-only one is refused too).
    """

    _in_run: bool = PrivateAttr(default=False)
    _connection: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._in_run = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.close()

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A new read-write connection, as ``DuckDBResource.get_connection`` opens one
        (``custom_user_agent: dagster``; on ``RuntimeError`` or ``duckdb.IOException``, e.g.
        another process's lock, 10 retries 0.1 s, 0.2 s… apart), with
        :func:`~barometre.duckdb_config.duckdb_config` unless ``connection_config`` says otherwise."""
        config = {"custom_user_agent": "dagster", **duckdb_config(), **self.connection_config}
        for delay in [0.1 * 2 ** n for n in range(_RETRIES)]:
            try:
                return duckdb.connect(database=self.database, read_only=False, config=config)
            except (RuntimeError, duckdb.IOException):
                time.sleep(delay)
        return duckdb.connect(database=self.database, read_only=False, config=config)

    @contextlib.contextmanager
    def get_connection(self):
        if not self._in_run:
            connection = self.connect()
            try:
                yield connection
            finally:
                connection.close()
            return
        if self._connection is None:
            self._connection = self.connect()
        yield self._connection

    def close(self) -> None:
        """Close the run's connection if it was opened (checkpointing the file)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


# DuckDBResource's retries of a connection (dagster-duckdb 0.29.27: 10, 0.1 s doubling, ~100 s in all).
_RETRIES = 10


# The frames the I/O manager keeps within a run, in cells (rows × columns; 35–65 bytes a cell on the
# snapshot's tables, strings included: at most ~400 MB). On the snapshot the tables loaded by more
# than one step are 11.7 M cells (core.hierarchie_territoires 3.3 M, loaded by 8 steps); with 8 M
# kept, the run converts 41 % of the cells it would without (4 M: 74 %).
CACHE_CELLS = 8_000_000
# DuckDB types whose cells pandas holds as mutable objects (numpy arrays, dicts): never kept.
_NESTED = re.compile(r"\[|^(STRUCT|MAP|UNION)\b")


class WorkDatabase(dg.ConfigurableIOManager):
    """The I/O manager of the working database: one table per asset, ``schema.table`` from the
    asset key (the table is its last part, the schema the one before), on the run's connection
    (:class:`WorkDatabaseConnection`, the nested resource ``connection``).

    - store: ``CREATE SCHEMA IF NOT EXISTS``, then ``CREATE OR REPLACE TABLE schema.table AS
      SELECT * FROM frame``: a table whose columns changed between two versions of the code (e.g.
      ``raw.fichiers_sources`` gaining its HTTP columns) is replaced, not appended to; an empty
      frame gives a table with its columns and no rows (in a fresh working database as in an
      existing one). The output's metadata records ``dagster/table_name`` and the ``Query`` that
      loads it back; row count and column schema are the asset's (``assets/_metadata.py``).
    - load: ``SELECT * FROM schema.table`` into a pandas frame (DuckDB's ``fetchdf``), or only the
      columns the input names in its metadata (``AssetIn(metadata={"columns": [...]})``).
    - within a run, a table loaded by several steps is read from DuckDB once: the I/O manager
      keeps the frames it loaded (up to :data:`CACHE_CELLS` cells, the least recently used
      dropped first) and hands each step its own copy (``DataFrame.copy()``: the same values and
      dtypes, arrays of its own; the cells of the object columns are ``str`` or ``None``,
      immutable, so sharing them is safe; a table with a LIST, STRUCT or MAP column, whose cells
      are mutable, is not kept); an input naming columns is taken from a kept frame of
      the whole table. Converting DuckDB's strings to Python objects is most of a load
      (``core.hierarchie_territoires``, 666,430 rows, is loaded by 8 steps). A table is stored at
      most once per run, before any step of the run loads it (its consumers run after it); a
      store drops the frames kept of its table all the same. Nothing is kept across runs.

    Unpartitioned assets only (none is partitioned) and pandas frames only.
    """

    connection: dg.ResourceDependency[WorkDatabaseConnection]

    _kept: "collections.OrderedDict[tuple, pd.DataFrame]" = PrivateAttr(default_factory=collections.OrderedDict)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._kept.clear()

    @staticmethod
    def _table(key: dg.AssetKey) -> str:
        path = key.path
        return f"{path[-2] if len(path) > 1 else 'public'}.{path[-1]}"

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"WorkDatabase stores pandas DataFrames: {context.asset_key.to_user_string()} "
                            f"returned {type(obj).__name__}")
        if context.has_asset_partitions:
            raise NotImplementedError(f"WorkDatabase does not store partitions ({context.asset_key.to_user_string()})")
        table = self._table(context.asset_key)
        for kept in [k for k in self._kept if k[0] == table]:
            del self._kept[kept]
        with self.connection.get_connection() as con:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}").fetchall()
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM obj").fetchall()
        context.add_output_metadata({"Query": f"SELECT * FROM {table}", "dagster/table_name": table})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        columns = (context.definition_metadata or {}).get("columns")
        table = self._table(context.asset_key)
        key = (table, tuple(columns) if columns else None)
        frame = self._kept.get(key)
        if frame is None and columns and set(columns) <= set(self._kept.get((table, None), pd.DataFrame()).columns):
            frame = self._kept[(table, None)][list(columns)]
        if frame is None:
            with self.connection.get_connection() as con:
                result = con.execute(f"SELECT {', '.join(columns) if columns else '*'} FROM {table}")
                nested = any(_NESTED.search(str(column[1])) for column in result.description)
                frame = result.fetchdf()
            if nested:  # lists, structs, maps: mutable cells (arrays, dicts), not shared between steps
                return frame
        self._keep(key, frame)
        return frame.copy()

    def _keep(self, key: tuple, frame: pd.DataFrame) -> None:
        self._kept.pop(key, None)
        cells = frame.size
        if cells > CACHE_CELLS:
            return
        while self._kept and sum(f.size for f in self._kept.values()) + cells > CACHE_CELLS:
            self._kept.popitem(last=False)
        self._kept[key] = frame


def work_database_resources(database: str | os.PathLike, connection_config: dict | None = None) -> dict:
    """The resources ``duckdb`` (:class:`WorkDatabaseConnection`) and ``io_manager``
    (:class:`WorkDatabase`) on the working database ``database``, sharing one connection per run.
    ``connection_config`` defaults to :func:`barometre.duckdb_config.duckdb_config`.

    The connection resource is given with all its values but as ``configure_at_launch``: Dagster
    then resolves the I/O manager's nested ``connection`` to the top-level ``duckdb`` resource
    (the same instance for the run), where a fully configured nested resource would be
    initialised a second time for the I/O manager (a second connection)."""
    connection = WorkDatabaseConnection.configure_at_launch(
        database=str(database), connection_config=duckdb_config() if connection_config is None else connection_config)
    return {"duckdb": connection, "io_manager": WorkDatabase(connection=connection)}
