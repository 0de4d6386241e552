"""One DuckDB configuration for every connection (barometre/duckdb_config.py)."""

import os

import dagster as dg
import pandas as pd
import pytest

from assets.resources import WorkDatabaseConnection
from barometre import duckdb_config, warehouse
from barometre.definitions import build_resources

SETTINGS = ("SELECT current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('temp_directory')")


@pytest.fixture
def configured(tmp_path, monkeypatch):
    monkeypatch.setenv("BAROMETRE_DUCKDB_MEMORY_LIMIT", "1GiB")
    monkeypatch.setenv("BAROMETRE_DUCKDB_THREADS", "1")
    monkeypatch.setenv("BAROMETRE_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    return tmp_path


def test_defaults(monkeypatch):
    for name in ("BAROMETRE_DUCKDB_MEMORY_LIMIT", "BAROMETRE_DUCKDB_THREADS", "BAROMETRE_DUCKDB_TEMP_DIR",
                 "BAROMETRE_WORK_DB"):
        monkeypatch.delenv(name, raising=False)
    assert duckdb_config.duckdb_config() == {
        "memory_limit": "2GB", "threads": os.cpu_count(),
        "temp_directory": str(warehouse.DEFAULT_WORK_DB.parent / "duckdb_tmp")}
    # beside the working database that $BAROMETRE_WORK_DB names
    monkeypatch.setenv("BAROMETRE_WORK_DB", "/srv/barometre/work/w.duckdb")
    assert duckdb_config.temp_directory().as_posix() == "/srv/barometre/work/duckdb_tmp"


def test_threads_must_be_a_whole_number(monkeypatch):
    monkeypatch.setenv("BAROMETRE_DUCKDB_THREADS", "two")
    with pytest.raises(ValueError, match="BAROMETRE_DUCKDB_THREADS must be a whole number of threads ≥ 1, not 'two'"):
        duckdb_config.duckdb_config()


def test_the_pipelines_work_database_connection_has_the_configuration(configured):
    resources = build_resources(work_db=configured / "work.duckdb", published_db=configured / "barometre.duckdb")
    assert resources["duckdb"].data["connection_config"] == {"memory_limit": "1GiB", "threads": 1,
                                                              "temp_directory": str(configured / "spill")}
    # The run's connection, which the I/O manager uses too.
    with dg.build_resources({"duckdb": resources["duckdb"], "io_manager": resources["io_manager"]}) as built:
        assert built.io_manager.connection is built.duckdb
        with built.duckdb.get_connection() as con:
            assert con.execute(SETTINGS).fetchall() == [("1.0 GiB", 1, str(configured / "spill"))]
    # A connection resource built without it (as tests do) gets the same values.
    with WorkDatabaseConnection(database=str(configured / "other.duckdb")).get_connection() as con:
        assert con.execute(SETTINGS).fetchall() == [("1.0 GiB", 1, str(configured / "spill"))]


def test_the_published_file_is_written_and_read_with_it(configured):
    path = configured / "barometre.duckdb"
    assert warehouse.publish({"t": pd.DataFrame({"v": [1, 2]})}, path) == {"t": 2}
    con = duckdb_config.connect(path, read_only=True)
    try:
        assert con.execute(SETTINGS).fetchall() == [("1.0 GiB", 1, str(configured / "spill"))]
        assert con.execute("SELECT sum(v) FROM mart.t").fetchall() == [(3,)]
    finally:
        con.close()


def test_beyond_the_memory_limit_duckdb_spills_to_the_temp_directory(configured, monkeypatch):
    monkeypatch.setenv("BAROMETRE_DUCKDB_MEMORY_LIMIT", "16MB")
    con = duckdb_config.connect()  # in memory: without a temp directory it would spill into ./.tmp
    try:
        # 3 million rows of two 8-byte columns (48 MB) in a 16 MB budget: the rest goes to disk.
        con.execute("CREATE TABLE t AS SELECT range AS i, random() AS r FROM range(3000000)").fetchall()
        (n, size), = con.execute("SELECT count(*), sum(size) FROM duckdb_temporary_files()").fetchall()
        assert n > 0 and size > 16_000_000
        assert any(p.name.startswith("duckdb_temp_") for p in (configured / "spill").iterdir())
        assert con.execute("SELECT count(*), sum(i) FROM t").fetchall() == [(3_000_000, 3_000_000 * 2_999_999 // 2)]
    finally:
        con.close()
    assert not (configured / "spill").exists()  # DuckDB removes the directory it created
