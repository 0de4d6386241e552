"""The working database's IO manager: one DuckDB connection per run, closed when the run ends."""

import shutil
import subprocess
import sys

import dagster as dg
import duckdb
import pandas as pd
import pytest

from dagster_duckdb import DuckDBResource

from assets.resources import WorkDatabaseConnection, work_database_resources
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


class _Opens:
    """Every ``duckdb.connect`` of a file (dagster-duckdb's ``DuckDBResource`` calls it through
    the module): the connections opened, by path."""

    def __init__(self, monkeypatch):
        self.connections: dict[str, list] = {}
        connect = duckdb.connect

        def counting(*args, **kwargs):
            con = connect(*args, **kwargs)
            path = str(kwargs.get("database", args[0] if args else ":memory:"))
            self.connections.setdefault(path, []).append(con)
            return con

        monkeypatch.setattr(duckdb, "connect", counting)


_SEEN: dict = {}


@dg.asset(key_prefix="core", deps=[counts])
def doubled(duckdb: DuckDBResource) -> dg.MaterializeResult:
    """A SQL asset, as those of assets/marts.py: the tables the I/O manager wrote, in SQL."""
    with duckdb.get_connection() as con:
        _SEEN["sql"] = con
        con.execute("CREATE SCHEMA IF NOT EXISTS core").fetchall()
        con.execute("CREATE OR REPLACE TABLE core.doubled AS SELECT code, 2 * n AS n FROM raw.counts").fetchall()
    return dg.MaterializeResult()


@dg.asset(key_prefix="core", ins={"doubled": dg.AssetIn(key=["core", "doubled"], metadata={"columns": ["n", "code"]})})
def doubled_total(doubled: pd.DataFrame) -> pd.DataFrame:
    _SEEN["loaded"] = doubled
    return pd.DataFrame({"n": [int(doubled["n"].sum())]})


def test_the_io_manager_and_a_sql_asset_share_the_run_connection(tmp_path, monkeypatch):
    """One connection to the working database for the whole run: the I/O manager stores
    ``raw.counts`` on it, the SQL asset's ``DuckDBResource`` yields that same connection, the
    I/O manager loads the SQL asset's table from it; closed when the run ends."""
    opens = _Opens(monkeypatch)
    db = tmp_path / "work.duckdb"
    result = dg.materialize([counts, doubled, doubled_total], resources=work_database_resources(db))
    assert result.success
    assert len(opens.connections[str(db)]) == 1
    assert _SEEN["sql"] is opens.connections[str(db)][0]
    # Only the columns the input names, in its order.
    assert _SEEN["loaded"].to_dict("list") == {"n": [6, 2, 4], "code": ["01", "2A", "971"]}
    assert list(_SEEN["loaded"].dtypes.astype(str)) == ["int64", "object"]
    con = duckdb.connect(str(db), read_only=True, config=duckdb_config())
    assert con.execute("SELECT n FROM core.doubled_total").fetchall() == [(12,)]
    con.close()
    metadata = result.asset_materializations_for_node("raw__counts")[0].metadata
    assert metadata["dagster/table_name"].value == "raw.counts"
    assert metadata["Query"].value == "SELECT * FROM raw.counts"


def test_a_run_of_a_sql_asset_that_queries_nothing_does_not_open_the_work_database(tmp_path, monkeypatch):
    """The resource ``duckdb`` is initialised for the run, but the file is opened only when a step
    asks for a connection."""
    opens = _Opens(monkeypatch)

    @dg.asset(deps=[dg.AssetKey(["raw", "counts"])])
    def idle(duckdb: DuckDBResource) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"database": duckdb.database})

    db = tmp_path / "work.duckdb"
    result = dg.materialize([idle], resources=work_database_resources(db))
    assert result.success
    assert result.asset_materializations_for_node("idle")[0].metadata["database"].value == str(db)
    assert str(db) not in opens.connections
    assert not db.exists()


def test_outside_a_run_each_connection_is_its_own():
    """Outside a run (a script, a test) the resource behaves as ``DuckDBResource``: a connection per
    ``get_connection``, closed after it."""
    resource = WorkDatabaseConnection(database=":memory:", connection_config=duckdb_config())
    with resource.get_connection() as first:
        first.execute("CREATE TABLE t AS SELECT 1 AS x").fetchall()
    with pytest.raises(duckdb.ConnectionException):
        first.execute("SELECT 1").fetchall()
    with resource.get_connection() as second:
        assert second is not first


def test_a_changed_set_of_columns_replaces_the_table(tmp_path):
    """The stock dagster-duckdb handler inserts into the existing table (a binder error when the
    columns changed); this one replaces it, with the new columns and only the new rows."""
    db = tmp_path / "work.duckdb"
    assert dg.materialize([counts], resources=work_database_resources(db)).success
    wider = pd.DataFrame({"code": ["2B"], "source": ["insee"], "n": [7]})
    assert dg.materialize([_counts_with(wider)], resources=work_database_resources(db)).success
    con = duckdb.connect(str(db), read_only=True, config=duckdb_config())
    assert con.execute("SELECT * FROM raw.counts").fetchall() == [("2B", "insee", 7)]
    assert [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' "
                                      "AND table_name = 'counts' ORDER BY ordinal_position").fetchall()] == [
        "code", "source", "n"]
    con.close()


def test_a_real_table_loads_with_its_dtypes(baseline, tmp_path):
    """The COG communes of the full run, loaded by the I/O manager with the columns
    assets/cohesion.py asks for: the code columns as strings (leading zeros kept), the COG vintage
    as int64, the population as pandas' nullable Int64 (the Kerguelen have none; in the COG of
    2021 no département either), in the table's order."""
    db = tmp_path / "work.duckdb"
    shutil.copy(baseline.work_db, db)
    from assets.cohesion import _COMMUNES

    @dg.asset(ins={"communes": _COMMUNES})
    def probe(communes: pd.DataFrame) -> dg.MaterializeResult:
        _SEEN["communes"] = communes
        return dg.MaterializeResult()

    upstream = dg.AssetSpec(key=_COMMUNES.key)
    assert dg.materialize([upstream, probe], resources=work_database_resources(db), selection=[probe]).success
    frame = _SEEN["communes"]
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        "cog_vintage": "int64", "code_commune": "object", "code_departement": "object", "population": "Int64"}
    assert len(frame) == 210114
    assert frame.iloc[0].to_dict() == {"cog_vintage": 2021, "code_commune": "01001", "code_departement": "01",
                                       "population": 779}
    row = frame[(frame["cog_vintage"] == 2026) & (frame["code_commune"] == "2A004")].iloc[0]
    assert (row["code_departement"], row["population"]) == ("2A", 76320)
    kerguelen = frame[(frame["cog_vintage"] == 2021) & (frame["code_commune"] == "98412")].iloc[0]
    assert kerguelen["code_departement"] is None and kerguelen["population"] is pd.NA
    assert int(frame["population"].isna().sum()) == 36


@dg.asset(key_prefix="core", ins={"counts": dg.AssetIn(key=["raw", "counts"])})
def first_reader(counts: pd.DataFrame) -> pd.DataFrame:
    _SEEN["first"] = counts.copy()
    counts["n"] *= 10  # in place: the next reader must not see it
    counts.loc[0, "code"] = "XX"
    return counts


@dg.asset(key_prefix="core", deps=[first_reader])
def update_between(duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Changes raw.counts in place, which no asset of the pipeline does (each table is stored once
    per run, before it is loaded): shows that the second load does not read the table again."""
    with duckdb.get_connection() as con:
        con.execute("UPDATE raw.counts SET n = 0").fetchall()
    return dg.MaterializeResult()


@dg.asset(key_prefix="core", deps=[update_between],
          ins={"counts": dg.AssetIn(key=["raw", "counts"])})
def second_reader(counts: pd.DataFrame) -> pd.DataFrame:
    _SEEN["second"] = counts
    return counts


@dg.asset(key_prefix="core", deps=[second_reader],
          ins={"codes": dg.AssetIn(key=["raw", "counts"], metadata={"columns": ["code"]})})
def third_reader(codes: pd.DataFrame) -> pd.DataFrame:
    _SEEN["codes"] = codes
    return codes


def test_a_table_loaded_by_several_steps_is_read_once_and_each_gets_its_own_copy(tmp_path):
    db = tmp_path / "work.duckdb"
    result = dg.materialize([counts, first_reader, update_between, second_reader, third_reader],
                            resources=work_database_resources(db))
    assert result.success
    expected = {"code": ["01", "2A", "971"], "n": [3, 1, 2]}
    assert _SEEN["first"].to_dict("list") == expected
    # The first reader's changes in place are not seen; the UPDATE is not either (no second read).
    assert _SEEN["second"].to_dict("list") == expected
    assert list(_SEEN["second"].dtypes.astype(str)) == ["object", "int64"]
    # An input naming columns is cut from the frame of the whole table.
    assert _SEEN["codes"].to_dict("list") == {"code": ["01", "2A", "971"]}
    con = duckdb.connect(str(db), read_only=True, config=duckdb_config())
    assert con.execute("SELECT * FROM core.first_reader").fetchall() == [("XX", 30), ("2A", 10), ("971", 20)]
    assert con.execute("SELECT * FROM raw.counts").fetchall() == [("01", 0), ("2A", 0), ("971", 0)]
    con.close()
    # A new run reads the table again.
    assert dg.materialize([counts, second_reader], resources=work_database_resources(db),
                          selection=[second_reader]).success
    assert _SEEN["second"]["n"].tolist() == [0, 0, 0]


@dg.asset(key_prefix="raw")
def lists(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw").fetchall()
        con.execute("CREATE OR REPLACE TABLE raw.lists AS SELECT 'a' AS code, [1, 2] AS xs").fetchall()
    return dg.MaterializeResult()


@dg.asset(key_prefix="core", ins={"lists": dg.AssetIn(key=["raw", "lists"])})
def list_appender(lists: pd.DataFrame) -> pd.DataFrame:
    lists["xs"].iloc[0][0] = 9  # changes the cell's array in place
    return lists[["code"]]


@dg.asset(key_prefix="core", deps=[list_appender], ins={"lists": dg.AssetIn(key=["raw", "lists"])})
def list_reader(lists: pd.DataFrame) -> pd.DataFrame:
    _SEEN["xs"] = list(lists["xs"].iloc[0])
    return lists[["code"]]


def test_a_table_with_a_list_column_is_read_again_by_each_step(tmp_path):
    """Its cells are numpy arrays, which a step may change in place: not shared."""
    result = dg.materialize([lists, list_appender, list_reader], resources=work_database_resources(tmp_path / "w.duckdb"))
    assert result.success
    assert _SEEN["xs"] == [1, 2]
