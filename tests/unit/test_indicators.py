"""Indicator formulas on the real snapshot, checked against values recomputed by hand from the
raw files (not through the parsers)."""

import csv

import pandas as pd
import pytest

from barometre import commune_indicators, geography, indicators
from barometre.sources import elections, etat_civil, population
from tests.support.geography import snapshot_hierarchy


def _csv(store, path, skip=0):
    lines = store.read(path).decode("utf-8").splitlines()[skip:]
    return [[c.strip('"') for c in row] for row in csv.reader(lines, delimiter=";")][1:]


@pytest.fixture(scope="module")
def hierarchy():
    return snapshot_hierarchy()


@pytest.fixture(scope="module")
def turnout(store, catalogue, hierarchy):
    el = pd.concat([elections.parse(store.read(f), y) for y, f in elections.FILES.items()], ignore_index=True)
    cget = pd.DataFrame(columns=["source_file", "cget_id", "level", "geography_vintage", "code", "name", "period",
                                 "period_start", "period_end", "value"])
    return indicators.compute(catalogue, "participation_presidentielle_t1",
                              {"cget": cget, "elections": el, "hierarchy": hierarchy,
                               **commune_indicators.empty_commune_inputs()})  # communes: test_commune_sql.py


def _one(frame, **where):
    for col, val in where.items():
        frame = frame[frame[col] == val]
    assert len(frame) == 1, where
    return frame.iloc[0]


def test_region_turnout_is_sum_of_departement_counts(store, turnout):
    rows = _csv(store, elections.FILES[2017], skip=1)
    idf = {"75", "77", "78", "91", "92", "93", "94", "95"}
    inscrits = sum(int(r[2]) for r in rows if r[0] in idf)
    votants = sum(int(r[5]) for r in rows if r[0] in idf)
    row = _one(turnout, level="region", code="11", period="2017")
    assert (row["numerator"], row["denominator"]) == (votants, inscrits) == (5751509, 7199231)
    assert row["value"] == pytest.approx(79.8906, abs=1e-4)
    assert bool(row["derived"]) is True


def test_france_turnout_perimeters(turnout):
    fr = {(r.code, r.period): round(r.value, 2) for r in turnout[turnout["level"] == "france"].itertuples()}
    # France entière (with COM and voters abroad), the 101 départements, metropolitan France.
    assert fr[("FR", "2017")] == 77.77
    assert fr[("FRMD", "2017")] == 79.02 and fr[("FRMD", "2012")] == 80.67  # the CGET's 79.0 and 80.7
    assert fr[("FRM", "2017")] == 80.02
    assert ("FR", "2022") not in fr  # the provisional 2022 file has no voters abroad
    assert fr[("FRM", "2022")] == 76.19


def test_departement_turnout_keeps_codes(turnout):
    dep = turnout[turnout["level"] == "departement"]
    assert set(dep["period"]) == {"2007", "2012", "2017", "2022"}
    assert dep.groupby("period")["code"].nunique().to_dict() == {"2007": 101, "2012": 101, "2017": 101, "2022": 101}
    assert _one(dep, code="01", period="2007")["value"] == pytest.approx(320859 / 372899 * 100)


def test_migratory_rate_recomputed_by_hand(store, catalogue, hierarchy):
    pop = {(r[0], int(r[1])): int(r[2]) for r in _csv(store, population.FILE)}
    births = {(r[0], int(r[1])): int(r[2]) for r in _csv(store, etat_civil.BIRTHS_FILE)}
    deaths = {(r[0], int(r[1])): int(r[2]) for r in _csv(store, etat_civil.DEATHS_FILE)}
    expected = ((pop[("2A", 2013)] - pop[("2A", 2012)]) - (births[("2A", 2012)] - deaths[("2A", 2012)])) \
        / pop[("2A", 2012)] * 100
    inputs = {
        "cget": pd.DataFrame(columns=["cget_id"]),
        "population": population.parse(store.read(population.FILE)),
        "naissances": etat_civil.parse_births(store.read(etat_civil.BIRTHS_FILE)),
        "deces": etat_civil.parse_deaths(store.read(etat_civil.DEATHS_FILE)),
        "hierarchy": hierarchy,
    }
    ind = catalogue.indicator("solde_migratoire_annuel")
    out = indicators.solde_migratoire_annuel(ind, {**inputs, "cget": _empty_cget()})
    row = _one(out, level="departement", code="2A", period="2012-2013")
    assert row["value"] == pytest.approx(expected) == pytest.approx(2.5923, abs=1e-4)
    # France métropolitaine: counts summed over the 96 départements before the ratio.
    num = sum((pop[(d, 2013)] - pop[(d, 2012)]) - (births[(d, 2012)] - deaths[(d, 2012)]) for d in {k[0] for k in pop})
    den = sum(pop[(d, 2012)] for d in {k[0] for k in pop})
    assert _one(out, level="france", code="FRM", period="2012-2013")["value"] == pytest.approx(num / den * 100)


def _empty_cget():
    return pd.DataFrame(columns=["source_file", "cget_id", "level", "geography_vintage", "code", "name", "period",
                                 "period_start", "period_end", "value"])


def test_partial_region_is_not_published(hierarchy):
    deps_84 = sorted(c for c, r in geography.parent_of(hierarchy, "departement", "region").items() if r == "84")
    counts = pd.DataFrame({"code": deps_84, "period": "2020", "period_start": 2020, "period_end": 2020,
                           "numerator": 1.0, "denominator": 10.0})
    out = indicators.aggregate_counts(counts, hierarchy, lambda n, d: n / d, "x", "src")
    assert out[out["level"] == "region"][["code", "numerator", "denominator"]].values.tolist() == [["84", 12.0, 120.0]]
    # Without 07, Auvergne-Rhône-Alpes would be a partial sum: it is left out.
    out = indicators.aggregate_counts(counts[counts["code"] != "07"], hierarchy, lambda n, d: n / d, "x", "src")
    assert out[out["level"] == "region"].empty


def test_annual_growth_is_annualised_over_the_gap():
    growth = indicators._annual_growth(pd.Series([121.0]), pd.Series([100.0]), 2)
    assert growth.iloc[0] == pytest.approx(10.0)
