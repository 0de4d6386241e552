"""The SQL marts of the full run (barometre/sql.py, materialised by assets/marts.py and
assets/cohesion.py on the working database) against their pandas specification
(barometre/marts.py, barometre/cohesion.py) computed from the same run's tables: equal within
1e-9, exactly for ranks, counts, codes and reasons; and published unchanged."""

import shutil

import duckdb
import pytest

from barometre import cohesion, contract, marts, sql
from barometre.catalogue import load_catalogue
from tests.sql_equality import assert_same


@pytest.fixture(scope="module")
def work(baseline, tmp_path_factory):
    """A copy of the full run's working database (another test may open the original)."""
    copy = tmp_path_factory.mktemp("sql_marts") / "work.duckdb"
    shutil.copy(baseline.work_db, copy)
    con = duckdb.connect(str(copy), read_only=True)
    yield con
    con.close()


def _df(con, table: str):
    return con.execute(f"SELECT * FROM {table}").df()


def test_snapshot_marts_from_sql_equal_the_pandas_specification(work):
    catalogue = load_catalogue()
    frames = [_df(work, f"indicators.{i.id}") for i in catalogue.indicators]
    values = _df(work, "mart.indicator_values")
    assert_same(values, marts.indicator_values(catalogue, frames), "indicator_values")
    assert len(values) == 116624 and int(values["is_reference"].sum()) == 114799
    ref = cohesion.reference_values(values, _df(work, "core.territory_scope"))
    disp = _df(work, "mart.disparities")
    assert_same(disp, cohesion.disparities(ref, catalogue, _df(work, "core.territory_population")), "disparities")
    ranks = _df(work, "mart.rankings")
    assert_same(ranks, cohesion.rankings(ref, catalogue, cohesion.france_values(values)), "rankings")
    # The asset's headline table from the first and last ranks only is the one of the whole table.
    territories = _df(work, "mart.territories")
    assert cohesion.ranking_headlines(sql.ranking_ends(work, "mart.rankings"), territories).equals(
        cohesion.ranking_headlines(ranks, territories))
    conv = _df(work, "mart.convergence")
    assert_same(conv, cohesion.convergence(ref, catalogue), "convergence")
    # A value read from the data (docs/warehouse.md, example 6): départements' unemployment, 2012 → 2021.
    row = conv[(conv["indicator_id"] == "taux_chomage") & (conv["level"] == "departement") & (conv["scope"] == "all")
               & (conv["comparison"] == "first_last")].iloc[0]
    assert (row["period_from"], row["period_to"], row["n_common"]) == ("2012", "2021", 96)
    assert round(row["beta"], 4) == -0.0249 and bool(row["beta_convergence"])


def test_sql_marts_are_published_with_the_contract_types(work, published):
    con, _ = published
    for name in ("indicator_values", "disparities", "rankings", "convergence"):
        types = con.execute(f"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'mart' "
                            f"AND table_name = '{name}' ORDER BY ordinal_position").fetchall()
        assert types == list(contract.TYPES[name].items()), name
        n = con.execute(f"SELECT count(*) FROM mart.{name}").fetchall()[0][0]
        assert n == work.execute(f"SELECT count(*) FROM mart.{name}").fetchall()[0][0], name


def test_disparities_and_convergence_are_the_same_bits_at_every_run(baseline, tmp_path):
    """In parallel, DuckDB adds partial sums of doubles in an order that changes from run to run
    (6 runs gave 6 different mart.disparities before ``sql._one_thread``); the published rows and
    their digests must not change when nothing did. Three runs on a copy of the full run's working
    database give the bits of the run's own tables."""
    from barometre import duckdb_config

    copy = tmp_path / "work.duckdb"
    shutil.copy(baseline.work_db, copy)
    con = duckdb_config.connect(copy)
    try:
        catalogue = load_catalogue()
        digest = lambda table: con.execute(f"SELECT bit_xor(hash(x)), count(*) FROM {table} x").fetchall()[0]  # noqa: E731
        expected = (digest("mart.disparities"), digest("mart.convergence"))
        for _ in range(3):
            sql.disparities(con, catalogue, "mart.indicator_values", "core.territory_scope",
                            "core.territory_population", "main.d")
            sql.convergence(con, catalogue, "mart.indicator_values", "core.territory_scope", "main.c")
            assert (digest("main.d"), digest("main.c")) == expected
        assert expected[0][1] == 662 and expected[1][1] == 550
    finally:
        con.close()
