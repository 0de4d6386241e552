"""geography.HierarchyTable (the hierarchy in the working database, sums in SQL) against the frame
versions of geography.links / children_of / sum_to_parents, their executable specification: the
same rows, values, dtypes and order on the snapshot's real COG 2025 and 2026 releases."""

import duckdb
import pandas as pd
import pytest

from barometre import geography
from tests.support.geography import cog_tables, snapshot_hierarchy

VINTAGES = (2025, 2026)


@pytest.fixture(scope="module")
def table():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core").fetchall()
    con.register("_h", snapshot_hierarchy(VINTAGES))
    con.execute("CREATE TABLE core.hierarchie_territoires AS SELECT * FROM _h").fetchall()
    con.unregister("_h")
    yield geography.HierarchyTable(con)
    con.close()


def _communes(vintage: int) -> pd.DataFrame:
    communes = cog_tables(VINTAGES)[0]
    return communes[communes["cog_vintage"] == vintage].rename(columns={"code_commune": "code"})[["code", "population"]]


@pytest.mark.parametrize("parent", ["departement", "region", "epci"])
def test_commune_populations_summed_in_sql_equal_the_frame_version(table, parent):
    frame, vintage = snapshot_hierarchy(VINTAGES), geography.cog_vintage(2026)
    counts = _communes(2026)
    spec = geography.sum_to_parents(counts, frame, "commune", parent, vintage, keys=(), columns=("population",))
    got = geography.sum_to_parents(counts, table, "commune", parent, vintage, keys=(), columns=("population",))
    pd.testing.assert_frame_equal(got, spec, check_exact=True)
    assert str(got["population"].dtype) == "Int64"
    if parent == "departement":  # a real figure: the COG 2026 population of Corse-du-Sud
        assert got.set_index("code").loc["2A", "population"] == spec.set_index("code").loc["2A", "population"] > 150_000


def test_a_commune_without_a_count_leaves_its_parents_out_in_both(table):
    frame, vintage = snapshot_hierarchy(VINTAGES), geography.cog_vintage(2025)
    counts = _communes(2025)
    counts.loc[counts["code"] == "2A004", "population"] = pd.NA  # Ajaccio
    for parent, missing in (("departement", "2A"), ("region", "94")):
        got = geography.sum_to_parents(counts, table, "commune", parent, vintage, keys=(), columns=("population",))
        spec = geography.sum_to_parents(counts, frame, "commune", parent, vintage, keys=(), columns=("population",))
        pd.testing.assert_frame_equal(got, spec, check_exact=True)
        assert missing not in set(got["code"]) and len(got) > 0


def test_periods_and_parents_restricted_to_france_perimeters(table):
    frame, vintage = snapshot_hierarchy(VINTAGES), geography.cog_vintage(2026)
    pops = _communes(2026)
    dep = geography.sum_to_parents(pops, frame, "commune", "departement", vintage, keys=(), columns=("population",))
    counts = pd.concat([dep.assign(period=str(y), period_start=y, period_end=y, numerator=dep["population"] * 1.0,
                                   denominator=dep["population"] * 2.0) for y in (2024, 2025)], ignore_index=True)
    counts = counts.drop(columns="population")
    got = geography.sum_to_parents(counts, table, "departement", "france", vintage, parents=("FRM", "FRMD"))
    spec = geography.sum_to_parents(counts, frame, "departement", "france", vintage, parents=("FRM", "FRMD"))
    pd.testing.assert_frame_equal(got, spec, check_exact=True)
    assert list(got["code"]) == ["FRM", "FRM", "FRMD", "FRMD"] and list(got["period"]) == ["2024", "2025"] * 2
    assert got["numerator"].iloc[2] == float(dep["population"].sum())  # FRMD: the 101 départements


def test_links_and_children_equal_the_frame_version(table):
    frame, vintage = snapshot_hierarchy(VINTAGES), geography.cog_vintage(2026)
    got = geography.children_of(table, "region", "france", vintage)
    assert got == geography.children_of(frame, "region", "france", vintage)
    assert len(got["FRM"]) == 13 and len(got["FRMD"]) == 18
    pd.testing.assert_frame_equal(
        geography.links(table, "departement", "region", vintage).sort_values("child_code", ignore_index=True),
        geography.links(frame, "departement", "region", vintage).sort_values("child_code", ignore_index=True))
