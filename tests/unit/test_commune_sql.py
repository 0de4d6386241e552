"""The commune → mesh sums in DuckDB SQL (issue 15): equal to the pandas specification on the
real snapshot, and DuckDB's rule for two connections to one working database in one process."""

import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from barometre import commune_indicators as ci
from barometre import geography
from tests.unit.test_communes import (cog_communes, cog_departements, cog_epci, composition,  # noqa: F401
                                      counts, departements_2017, results)

# Two COG releases are enough for the comparison: the current one (EPCI, départements, régions,
# France) and the ZE2020 composition's (zones d'emploi).
TARGETS = (2023, 2026)


@pytest.fixture(scope="module")
def hierarchy(cog_communes, cog_epci, cog_departements, composition):  # noqa: F811
    return geography.hierarchy(cog_communes, cog_epci, cog_departements, extra=[ci.hierarchy_ze2020(composition)])


@pytest.fixture(scope="module")
def passage(counts, cog_communes):  # noqa: F811
    return ci.passage_table(counts, cog_communes, TARGETS)


@pytest.fixture(scope="module")
def sql_sums(counts, passage, hierarchy):  # noqa: F811
    con = duckdb.connect()
    con.execute("create schema core")
    for name, frame in (("interieur_presidentielle_2017_comptes_communes", counts),
                        ("interieur_presidentielle_2017_passage_communes", passage[0]),
                        ("hierarchie_territoires", hierarchy)):
        con.register("frame", frame)
        con.execute(f"create table core.{name} as select * from frame")
        con.unregister("frame")
    out = con.execute(ci.mesh_sums_sql()).df()
    con.close()
    return out


def test_ze2020_hierarchy(hierarchy):
    ze = hierarchy[hierarchy["geography_vintage"] == "ze_2020"]
    rel = ze.groupby(["child_level", "parent_level"]).size().to_dict()
    # 34,945 communes of COG 2023 in 306 zones; 292 zones inside one région; the 14 straddling
    # zones (00XX) have no région parent; 306 zones in FRMD, the 287 metropolitan ones in FRM.
    assert rel == {("commune", "zone_emploi"): 34_945, ("zone_emploi", "region"): 292,
                   ("zone_emploi", "france"): 306 + 287}
    regions = dict(zip(ze.loc[ze["parent_level"] == "region", "child_code"],
                       ze.loc[ze["parent_level"] == "region", "parent_code"]))
    assert regions["2804"] == "28" and "0051" not in regions  # Caen (Normandie); 0051 straddles two régions
    frm = set(ze.loc[ze["parent_code"] == "FRM", "child_code"])
    assert "0051" in frm and "0401" not in frm  # La Réunion's zones are not metropolitan


def test_sql_sums_equal_the_pandas_specification(sql_sums, counts, passage, hierarchy):  # noqa: F811
    complete = sql_sums[sql_sums["n_missing"] == 0].drop(columns="missing").reset_index(drop=True)
    expected = ci.mesh_sums_pandas(counts, passage[0], hierarchy).drop(columns="missing")
    pd.testing.assert_frame_equal(complete, expected, check_dtype=False)
    levels = complete.groupby(["level", "geography_vintage"]).size().to_dict()
    assert levels == {("departement", "cog_2026"): 101, ("epci", "cog_2023"): 1_254, ("epci", "cog_2026"): 1_251,
                      ("france", "cog_2026"): 2, ("region", "cog_2026"): 18, ("zone_emploi", "ze_2020"): 305}




def test_sql_sums_equal_turnout_2017(sql_sums, counts, cog_communes, cog_epci, cog_departements,  # noqa: F811
                                     composition):  # noqa: F811
    values, _ = ci.turnout_2017(counts, cog_communes, cog_epci, cog_departements, composition, epci_vintages=(2026,))
    spec = values[values["level"] != "commune"].set_index(["level", "code", "geography_vintage"])
    got = sql_sums[(sql_sums["n_missing"] == 0) & (sql_sums["geography_vintage"] != "cog_2023")].set_index(
        ["level", "code", "geography_vintage"])
    assert sorted(got.index) == sorted(spec.index)
    joined = got.join(spec, rsuffix="_spec")
    assert (joined["numerator"] == joined["numerator_spec"]).all()
    assert (joined["denominator"] == joined["denominator_spec"]).all()
    assert joined.loc[("france", "FRMD", "cog_2026"), ["numerator", "denominator"]].tolist() == [36_257_037,
                                                                                               45_885_832]


def test_sql_left_out_territories_name_their_missing_communes(sql_sums):
    left = sql_sums[sql_sums["n_missing"] > 0].set_index(["level", "code", "geography_vintage"])
    # Caen's zone: Sannerville (14666), restored in 2020 out of Saline, has no 2017 count.
    caen = left.loc[("zone_emploi", "2804", "ze_2020")]
    assert caen["missing"] == "14666" and pd.isna(caen["numerator"])
    assert sorted(left.xs("cog_2026", level="geography_vintage").index.get_level_values("code")) == [
        "200034874", "200065597", "200066637", "200071918"]


def test_two_connections_to_the_working_database_in_one_process(tmp_path):
    """DuckDB lets one process open one file through several connections only with the same
    configuration (they share one database instance): the run's connection (the resource
    ``duckdb``, ``custom_user_agent: dagster``) and another ``DuckDBResource`` connection of the
    same process see each other's writes; a connection with another configuration is refused while
    the first is open."""
    path = str(tmp_path / "work.duckdb")
    io_manager = duckdb.connect(path, config={"custom_user_agent": "dagster"})  # as DuckDBResource opens it
    io_manager.execute("create schema core; create table core.t as select 1 as a").fetchall()
    with DuckDBResource(database=path).get_connection() as sql:
        assert sql.execute("select a from core.t").fetchall() == [(1,)]
        sql.execute("create table core.u as select a + 1 as b from core.t").fetchall()
    assert io_manager.execute("select b from core.u").fetchall() == [(2,)]
    with pytest.raises(duckdb.ConnectionException, match="different configuration"):
        duckdb.connect(path, read_only=True)
    io_manager.close()
