"""The SQL marts (barometre/sql.py) against their pandas specification (barometre/marts.py,
barometre/cohesion.py) on SYNTHETIC values of real communes (tests/bench/scaling.py) and on small
frames with ties, DROM, zero and negative values: equal within 1e-9, exactly for ranks and counts.
The snapshot's marts are compared in tests/integration/test_sql_marts.py."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from barometre import cohesion, contract, indicators, marts, sql
from tests.bench import scaling
from tests.sql_equality import assert_same


def _frames(inputs: dict, catalogue) -> list[pd.DataFrame]:
    """The indicator frames of the synthetic communes, as tests/bench/scaling.ours_pandas builds them:
    commune rows, then départements, régions and France summed from counts."""
    frames = []
    keys = ["code", "period", "period_start", "period_end", "numerator", "denominator"]
    for ind in catalogue.indicators:
        counts = inputs["counts"][ind.id]
        rate = scaling._rate(scaling.SCALE[ind.unit])
        commune = counts.assign(value=rate(counts["numerator"], counts["denominator"]))
        part = [indicators._frame(ind.id, commune, level="commune", source_id=scaling.SYNTHETIC_SOURCE,
                                  derived=False, vintage=scaling.SYNTHETIC_VINTAGE)]
        dep = indicators.aggregate_counts(counts, inputs["hierarchy"], rate, ind.id, scaling.SYNTHETIC_SOURCE,
                                          child_level="commune", parent_levels=("departement",),
                                          vintage=scaling.SYNTHETIC_VINTAGE)
        up = indicators.aggregate_counts(dep[keys], inputs["hierarchy"], rate, ind.id, scaling.SYNTHETIC_SOURCE,
                                         france=("FRM", "FRMD"), vintage=scaling.SYNTHETIC_VINTAGE)
        frames.append(pd.concat([*part, dep, up], ignore_index=True))
    return frames


@pytest.fixture(scope="module")
def synthetic(catalogue):
    """Corse and Guadeloupe (392 real communes, 3 départements, 2 régions), 3 SYNTHETIC periods,
    with two département rows per indicator given again as published (``derived`` False, value + 1),
    so that the reference rule has work to do (France is not complete: no France row)."""
    communes = scaling.real_communes()
    few = communes[communes["code_region"].isin(["94", "01"])]
    inputs = scaling.synthetic_inputs(3, catalogue, communes=few)
    frames = _frames(inputs, catalogue)
    for n, ind in enumerate(catalogue.indicators):  # a published copy of some rows: the reference
        copy = frames[n][frames[n]["level"] == "departement"].head(2).assign(derived=False, value=lambda f: f["value"] + 1)
        frames[n] = pd.concat([frames[n], copy], ignore_index=True)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA indicators").fetchall()
    for ind, frame in zip(catalogue.indicators, frames):
        con.register("_f", frame)
        con.execute(f"CREATE TABLE indicators.{ind.id} AS SELECT * FROM _f").fetchall()
        con.unregister("_f")
    for name in ("scope", "population"):
        con.register("_f", inputs[name])
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _f").fetchall()
        con.unregister("_f")
    yield con, frames, inputs
    con.close()


def _table(con, name: str) -> pd.DataFrame:
    return con.execute(f"SELECT * FROM {name}").df()


def test_indicator_values_sql_is_the_pandas_reference_rule(synthetic, catalogue):
    con, frames, _ = synthetic
    n = sql.indicator_values(con, catalogue, [f"indicators.{i.id}" for i in catalogue.indicators], "iv")
    spec = marts.indicator_values(catalogue, frames)
    assert n == len(spec) == 16 * 3 * (392 + 3 + 2) + 16 * 2
    got = _table(con, "iv")
    assert_same(got, spec, "indicator_values")
    # the published copy wins over the derived row; exactly one reference row per key
    assert int((~got["is_reference"]).sum()) == 16 * 2
    assert got.loc[~got["is_reference"], "derived"].all()
    assert got[got["is_reference"]].duplicated(["indicator_id", "level", "code", "geography_vintage",
                                               "period"]).sum() == 0


def test_disparities_rankings_convergence_sql_equal_pandas_on_synthetic_communes(synthetic, catalogue):
    with scaling._commune_level():  # the communes are analysed too, as in the benchmark
        _compare_synthetic(synthetic, catalogue)


def _compare_synthetic(synthetic, catalogue):
    con, frames, inputs = synthetic
    sql.indicator_values(con, catalogue, [f"indicators.{i.id}" for i in catalogue.indicators], "iv")
    values = marts.indicator_values(catalogue, frames)
    ref = cohesion.reference_values(values, inputs["scope"])

    assert sql.disparities(con, catalogue, "iv", "scope", "population", "disp") == 16 * 3 * 3 * 2  # levels commune, département, région × scopes
    assert_same(_table(con, "disp"), cohesion.disparities(ref, catalogue, inputs["population"]), "disparities")

    sql.rankings(con, catalogue, "iv", "scope", "ranks")
    spec = cohesion.rankings(ref, catalogue, cohesion.france_values(values))
    assert_same(_table(con, "ranks"), spec, "rankings")
    assert spec["previous_period"].notna().any() and spec["rank_metro"].notna().any()

    sql.convergence(con, catalogue, "iv", "scope", "conv")
    spec = cohesion.convergence(ref, catalogue)
    assert spec["beta"].notna().sum() > 100 and spec["is_headline"].sum() > 16
    assert_same(_table(con, "conv"), spec, "convergence")


def _ref_con(ref: pd.DataFrame, france: pd.DataFrame | None = None):
    """A connection holding ``ref`` (cohesion reference rows) as an indicator_values table and its scope."""
    con = duckdb.connect()
    values = ref.drop(columns="is_metropolitan").assign(is_reference=True)
    if france is not None:
        values = pd.concat([values, france.assign(is_reference=True)], ignore_index=True)
    scope = ref[["level", "code", "geography_vintage", "is_metropolitan"]].drop_duplicates()
    con.register("values_", values)
    con.register("scope_", scope)
    return con


def _ref(indicator_id: str, rows: dict[str, dict[str, float]], metro=("971",)) -> pd.DataFrame:
    """period → code → value, level département."""
    parts = []
    for period, values in rows.items():
        start, end = int(period[:4]), int(period[-4:])
        parts.append(pd.DataFrame({
            "indicator_id": indicator_id, "level": "departement", "code": list(values), "geography_vintage": "cog_2026",
            "period": period, "period_start": start, "period_end": end, "value": [float(v) for v in values.values()],
            "source_id": "a_source",
            "is_metropolitan": pd.array([c not in metro for c in values], dtype="boolean")}))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("indicator_id", ["taux_chomage", "revenu_median_uc", "solde_migratoire_annuel"])
def test_edge_cases_ties_zeros_negatives_one_territory(catalogue, indicator_id):
    rows = {
        "2012": {"01": 5, "02": 5, "03": 0, "04": 7.5, "971": 12},   # a tie, a zero
        "2013": {"01": 4, "02": 6, "03": 2, "04": 7.5, "971": 11},
        "2014": {"01": -1, "02": 6, "03": 2, "04": 3, "971": 11},    # a negative value
        "2015": {"01": 3},                                           # one territory
        "2016": {"01": 3, "02": 3, "03": 3, "04": 3},                # no dispersion
        "2017": {"01": 4, "02": 4, "03": 4, "04": 4},                # same change everywhere
    }
    ref = _ref(indicator_id, rows)
    france = pd.DataFrame({"indicator_id": indicator_id, "level": "france", "code": ["FRM", "FRMD", "FRMD"],
                           "geography_vintage": "cog_2026", "period": ["2012", "2012", "2013"],
                           "period_start": [2012, 2012, 2013], "period_end": [2012, 2012, 2013],
                           "value": [6.0, 6.5, 6.1], "source_id": "a_source"})
    con = _ref_con(ref, france)
    values = pd.concat([ref.drop(columns="is_metropolitan").assign(is_reference=True),
                        france.assign(is_reference=True)], ignore_index=True)
    population = pd.DataFrame({"level": "departement", "code": ["01", "02", "03", "04", "971", "01", "02"],
                               "year": [2012] * 5 + [2013] * 2, "population": [10.0, 20, 30, 40, 50, 11, 21],
                               "source_id": ["p"] * 5 + ["q"] * 2})
    con.register("population_", population)
    sql.disparities(con, catalogue, "values_", "scope_", "population_", "disp")
    assert_same(_table(con, "disp"), cohesion.disparities(ref, catalogue, population), "disparities")
    sql.disparities(con, catalogue, "values_", "scope_", None, "disp0")
    assert_same(_table(con, "disp0"), cohesion.disparities(ref, catalogue, None), "disparities (no population)")
    sql.rankings(con, catalogue, "values_", "scope_", "ranks")
    assert_same(_table(con, "ranks"), cohesion.rankings(ref, catalogue, cohesion.france_values(values)), "rankings")
    sql.convergence(con, catalogue, "values_", "scope_", "conv")
    assert_same(_table(con, "conv"), cohesion.convergence(ref, catalogue), "convergence")


def test_outputs_have_the_contract_types(synthetic, catalogue):
    con, _, _ = synthetic
    sql.indicator_values(con, catalogue, [f"indicators.{i.id}" for i in catalogue.indicators], "iv")
    for name, fn in [("disparities", lambda o: sql.disparities(con, catalogue, "iv", "scope", "population", o)),
                     ("rankings", lambda o: sql.rankings(con, catalogue, "iv", "scope", o)),
                     ("convergence", lambda o: sql.convergence(con, catalogue, "iv", "scope", o))]:
        fn(f"t_{name}")
        got = con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                          f"WHERE table_name = 't_{name}' ORDER BY ordinal_position").fetchall()
        assert got == list(contract.TYPES[name].items())
    got = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'iv' "
                      "ORDER BY ordinal_position").fetchall()
    assert got == list(contract.TYPES["indicator_values"].items())


def test_sums_from_counts_sql_equal_sum_to_parents(synthetic):
    """sql.sum_to_parents_query against geography.sum_to_parents: a commune without a count leaves
    its département (and région) out; ``parents`` restricts the parents."""
    from barometre import geography
    con, _, inputs = synthetic
    counts = inputs["counts"]["taux_chomage"].copy()
    counts.loc[counts["code"] == "2A004", "numerator"] = np.nan  # Ajaccio: 2A incomplete in every period
    h = inputs["hierarchy"]
    con.register("_c", counts)
    con.register("_h", h)
    try:
        for parent, parents, codes in (("departement", None, ["2B", "971"]), ("region", None, ["01"]),
                                       ("region", ("94",), [])):
            got = con.execute(sql.sum_to_parents_query("_c", "_h", "commune", parent, scaling.SYNTHETIC_VINTAGE,
                                                       parents=parents) + " ORDER BY code, period").df()
            spec = geography.sum_to_parents(counts, h, "commune", parent, scaling.SYNTHETIC_VINTAGE, parents=parents)
            assert sorted(set(got["code"])) == codes
            if codes:
                assert_same(got[list(spec.columns)], spec.sort_values(["code", "period"]), f"commune → {parent}")
            else:
                assert spec.empty
    finally:
        con.unregister("_c")
        con.unregister("_h")


def test_disparities_one_indicator_at_a_time_are_the_same_rows(synthetic, catalogue):
    """Beyond ``batch_rows`` rows (2 million by default: the commune level over many periods),
    one indicator at a time: the same rows, in the same order, as one query."""
    con, _, _ = synthetic
    sql.indicator_values(con, catalogue, [f"indicators.{i.id}" for i in catalogue.indicators], "iv")
    with scaling._commune_level():
        n_one = sql.disparities(con, catalogue, "iv", "scope", "population", "disp_one")
        n_batched = sql.disparities(con, catalogue, "iv", "scope", "population", "disp_batched", batch_rows=100)
    assert n_one == n_batched == 16 * 3 * 2 * 3  # indicators × periods × scopes × levels (commune, département, région)
    assert_same(_table(con, "disp_batched"), _table(con, "disp_one"), "disparities one indicator at a time")
