"""One DuckDB configuration for every connection the pipeline opens.

The working database (the I/O manager and the SQL assets), the publication's staging file, the
report reading the published file, the failure events file, the benchmark and the tests' helpers
all connect through :func:`connect` or pass :func:`duckdb_config` as their ``config``, so that
they share:

- ``memory_limit`` (``BAROMETRE_DUCKDB_MEMORY_LIMIT``, default :data:`DEFAULT_MEMORY_LIMIT`):
  beyond it DuckDB spills to its temp directory instead of growing;
- ``threads`` (``BAROMETRE_DUCKDB_THREADS``, default: the machine's cores);
- ``temp_directory`` (``BAROMETRE_DUCKDB_TEMP_DIR``, default ``duckdb_tmp/`` in the folder of
  ``$BAROMETRE_WORK_DB``, i.e. ``data/work/duckdb_tmp``): where a query larger than the memory
  limit spills, also for in-memory databases (which otherwise fail). DuckDB creates it at the
  first spill and removes it when the connection closes; its files are named after the process and
  the instance (DuckDB 2.0), so concurrent processes can share it.

The same values for every connection of a process, whatever its file: DuckDB refuses a second
connection to a file already open in the same process with another configuration. Dashboards open
the published file with their own settings (another process: no conflict).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

ENV_MEMORY_LIMIT = "BAROMETRE_DUCKDB_MEMORY_LIMIT"
ENV_THREADS = "BAROMETRE_DUCKDB_THREADS"
ENV_TEMP_DIR = "BAROMETRE_DUCKDB_TEMP_DIR"
DEFAULT_MEMORY_LIMIT = "2GB"
# The default working database's folder (barometre.warehouse.DEFAULT_WORK_DB; not imported: the
# warehouse module connects through this one).
DEFAULT_WORK_DIR = Path(__file__).resolve().parents[1] / "data" / "work"
TEMP_DIR_NAME = "duckdb_tmp"


def temp_directory() -> Path:
    """``$BAROMETRE_DUCKDB_TEMP_DIR``, else ``duckdb_tmp/`` beside ``$BAROMETRE_WORK_DB``, else
    ``data/work/duckdb_tmp``."""
    if os.environ.get(ENV_TEMP_DIR, "").strip():
        return Path(os.environ[ENV_TEMP_DIR].strip())
    work = os.environ.get("BAROMETRE_WORK_DB", "").strip()
    return (Path(work).parent if work else DEFAULT_WORK_DIR) / TEMP_DIR_NAME


def threads() -> int:
    value = os.environ.get(ENV_THREADS, "").strip()
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{ENV_THREADS} must be a whole number of threads ≥ 1, not {value!r}")
    return int(value)


def duckdb_config() -> dict[str, str | int]:
    """The ``config`` of every DuckDB connection: memory limit, threads, temp directory. The
    temp directory's parent is created (DuckDB creates only the last level, at the first spill)."""
    tmp = temp_directory()
    tmp.parent.mkdir(parents=True, exist_ok=True)
    return {"memory_limit": os.environ.get(ENV_MEMORY_LIMIT, "").strip() or DEFAULT_MEMORY_LIMIT,
            "threads": threads(), "temp_directory": str(tmp)}


def connect(database: str | os.PathLike = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` with :func:`duckdb_config`."""
    return duckdb.connect(str(database), read_only=read_only, config=duckdb_config())
