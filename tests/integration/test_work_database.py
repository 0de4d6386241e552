"""The working database's IO manager: one DuckDB connection per run, closed when the run ends."""

import subprocess
import sys

import dagster as dg
import duckdb
import pandas as pd
import pytest

from assets.resources import work_database_resources
from barometre.duckdb_config import duckdb_config

pytestmark = pytest.mark.integration


@dg.asset(key_prefix="raw")
def counts() -> pd.DataFrame:
    return pd.DataFrame({"code": ["01", "2A", "971"], "n": [3, 1, 2]})


@dg.asset(key_prefix="core", ins={"counts": dg.AssetIn(key=["raw", "counts"])})
def total(counts: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"n": [int(counts["n"].sum())]})


@dg.asset(key_prefix="core", ins={"counts": dg.AssetIn(key=["raw", "counts"])})
def broken(counts: pd.DataFrame) -> pd.DataFrame:
    raise ValueError("bad input")


def test_inputs_and_outputs_go_through_the_work_database(tmp_path):
    db = tmp_path / "work.duckdb"
    result = dg.materialize([counts, total], resources=work_database_resources(db))
    assert result.success
    # The run's connection is closed: another one, read-only, can open the file.
    con = duckdb.connect(str(db), read_only=True, config=duckdb_config())
    assert con.execute("SELECT code, n FROM raw.counts ORDER BY code").fetchall() == [("01", 3), ("2A", 1), ("971", 2)]
    assert con.execute("SELECT n FROM core.total").fetchall() == [(6,)]
    con.close()
    # A second run replaces the rows instead of appending them.
    assert dg.materialize([counts, total], resources=work_database_resources(db)).success
    con = duckdb.connect(str(db), read_only=True, config=duckdb_config())
    assert con.execute("SELECT count(*) FROM raw.counts").fetchall() == [(3,)]
    con.close()


def test_connection_is_closed_when_a_step_fails(tmp_path):
    db = tmp_path / "work.duckdb"
    result = dg.materialize([counts, broken], resources=work_database_resources(db),
                            raise_on_error=False)
    assert not result.success
    con = duckdb.connect(str(db), read_only=True, config=duckdb_config())
    assert con.execute("SELECT count(*) FROM raw.counts").fetchall() == [(3,)]
    con.close()


@dg.asset(deps=[dg.AssetKey(["raw", "counts"])])
def report_like() -> dg.MaterializeResult:
    """Like barometre_report: stores nothing through the I/O manager (its output is a
    MaterializeResult) and loads nothing (a dependency, not an input)."""
    return dg.MaterializeResult(metadata={"pages": 3})


def test_a_run_that_stores_nothing_does_not_open_the_work_database(tmp_path):
    db = tmp_path / "work.duckdb"
    result = dg.materialize([report_like], resources=work_database_resources(db))
    assert result.success
    assert not db.exists()


def test_a_run_that_stores_nothing_runs_while_another_process_writes(tmp_path):
    """barometre_report is not in the duckdb pool: it may run while a refresh run of another
    process holds the working database read-write (DuckDB's file lock admits one such process)."""
    db = tmp_path / "work.duckdb"
    writer = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
         "con.execute('CREATE TABLE t AS SELECT 1 AS x').fetchall(); print('ready', flush=True); sys.stdin.read()",
         str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "ready\n"
        # The lock is real: a second read-write connection from this process is refused.
        with pytest.raises(duckdb.IOException, match="Could not set lock on file"):
            duckdb.connect(str(db))
        result = dg.materialize([report_like], resources=work_database_resources(db),
                                raise_on_error=False)
        assert result.success
        assert result.asset_materializations_for_node("report_like")[0].metadata["pages"].value == 3
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    assert writer.returncode == 0


def _counts_with(frame: pd.DataFrame):
    @dg.asset(key_prefix="raw", name="counts")
    def counts_() -> pd.DataFrame:
        return frame
    return counts_


def test_an_empty_frame_replaces_the_table(tmp_path):
    """An empty output is stored as an empty table with its own columns: in a fresh working
    database the downstream asset loads it, in an existing one the previous table is replaced."""
    empty = pd.DataFrame({"code": pd.Series([], dtype="string"), "n": pd.Series([], dtype="int64"),
                          "source": pd.Series([], dtype="string")})
    fresh = tmp_path / "fresh.duckdb"
    result = dg.materialize([_counts_with(empty), total], resources=work_database_resources(fresh))
    assert result.success
    con = duckdb.connect(str(fresh), read_only=True, config=duckdb_config())
    assert con.execute("SELECT count(*) FROM raw.counts").fetchall() == [(0,)]
    assert con.execute("SELECT n FROM core.total").fetchall() == [(0,)]
    con.close()

    db = tmp_path / "work.duckdb"
    assert dg.materialize([counts], resources=work_database_resources(db)).success
    assert dg.materialize([_counts_with(empty)], resources=work_database_resources(db)).success
    con = duckdb.connect(str(db), read_only=True, config=duckdb_config())
    assert con.execute("SELECT count(*) FROM raw.counts").fetchall() == [(0,)]
    assert con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'raw' "
                       "AND table_name = 'counts' ORDER BY ordinal_position").fetchall() == [
        ("code", "VARCHAR"), ("n", "BIGINT"), ("source", "VARCHAR")]
    con.close()
