"""The working database's IO manager: one DuckDB connection per run, closed when the run ends."""

import dagster as dg
import duckdb
import pandas as pd
import pytest

from assets.resources import WorkDatabase

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
    result = dg.materialize([counts, total], resources={"io_manager": WorkDatabase(database=str(db))})
    assert result.success
    # The run's connection is closed: another one, read-only, can open the file.
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT code, n FROM raw.counts ORDER BY code").fetchall() == [("01", 3), ("2A", 1), ("971", 2)]
    assert con.execute("SELECT n FROM core.total").fetchall() == [(6,)]
    con.close()
    # A second run replaces the rows instead of appending them.
    assert dg.materialize([counts, total], resources={"io_manager": WorkDatabase(database=str(db))}).success
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.counts").fetchall() == [(3,)]
    con.close()


def test_connection_is_closed_when_a_step_fails(tmp_path):
    db = tmp_path / "work.duckdb"
    result = dg.materialize([counts, broken], resources={"io_manager": WorkDatabase(database=str(db))},
                            raise_on_error=False)
    assert not result.success
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.counts").fetchall() == [(3,)]
    con.close()
