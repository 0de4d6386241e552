"""Geography as data: the level registry, the vintage type, the hierarchy of territories built
from the snapshot's COG files, and the aggregations that read it (real values)."""

import csv
import gzip
import json

import pandas as pd
import pytest

from barometre import geography, indicators
from barometre.geography import GeographyVintage
from barometre.landing import SnapshotStore
from barometre.sources import drees_medecins, population
from tests.support.geography import snapshot_hierarchy


@pytest.fixture(scope="module")
def hierarchy():
    return snapshot_hierarchy()


def _raw_json(path):
    return json.loads(gzip.decompress(SnapshotStore().read(path)))


def _csv_rows(path):
    lines = SnapshotStore().read(path).decode("utf-8").splitlines()
    return [[c.strip('"') for c in row] for row in csv.reader(lines, delimiter=";")][1:]


# ---------------------------------------------------------------------------------------------
# Levels and vintages


def test_levels_are_ordered_from_france_to_commune_with_their_labels():
    assert geography.LEVEL_IDS == ("france", "region", "departement", "epci", "zone_emploi", "commune")
    dep, ze = geography.level("departement"), geography.level("zone_emploi")
    assert (dep.order, dep.singular, dep.plural, dep.plural_in_text, dep.with_article) == (
        2, "Département", "Départements", "départements", "le département")
    assert (ze.singular, ze.plural, ze.plural_in_text) == ("Zone d'emploi", "Zones d'emploi", "zones d'emploi")
    assert geography.level("epci").plural_in_text == "EPCI"
    with pytest.raises(ValueError, match=r"^unknown level 'canton' \(known: france, region, departement, epci, "
                                         r"zone_emploi, commune\)$"):
        geography.level("canton")


def test_the_report_orders_and_labels_every_level_commune_included():
    from barometre.catalogue import LEVELS
    from barometre.report import build
    assert LEVELS == geography.LEVEL_IDS
    assert geography.sort_levels(["commune", "epci", "region", "departement", "commune"]) == [
        "region", "departement", "epci", "commune"]
    assert (build.LEVEL_PLURAL["commune"], build.LEVEL_SINGULAR["zone_emploi"]) == ("Communes", "Zone d'emploi")


def test_geography_vintage_is_parsed_once_with_its_label():
    v = GeographyVintage.parse("ze_2010")
    assert (v.kind, v.year, str(v), v.label) == ("ze", 2010, "ze_2010", "zonage 2010")
    assert GeographyVintage.parse("cog_2026") == GeographyVintage.cog(2026) and geography.cog_vintage(2024) == "cog_2024"
    assert GeographyVintage.parse("epci_2017") < GeographyVintage.parse("epci_2018")
    assert GeographyVintage.parse("cog_2026").label == "géographie 2026"
    # An EPCI of a COG release is a perimeter; a département of the same release a geography.
    assert geography.vintage_label("epci", "cog_2022") == "périmètres 2022"
    assert geography.vintage_label("departement", "cog_2026") == "géographie 2026"
    with pytest.raises(ValueError, match=r"^geography vintage 'cog2026' is not <kind>_<year> \(e\.g\. cog_2026, "
                                         r"ze_2010\)$"):
        GeographyVintage.parse("cog2026")
    with pytest.raises(ValueError, match=r"^unknown geography vintage kind 'iris' \(known: cog, ze, epci\)$"):
        GeographyVintage.parse("iris_2020")


def test_the_metropolitan_rule_and_its_basis_belong_to_the_vintage():
    flag, basis = geography.metropolitan_scope("zone_emploi", "ze_2010", pd.Series(["0050", "0404"]))
    assert flag.tolist() == [True, False] and set(basis) == {"ZE 2010 code (2010 région prefix)"}
    # ZE 2020 has its own rule (same prefixes: 00XX straddles two metropolitan régions); another
    # zonage has none until one is declared.
    flag, basis = geography.metropolitan_scope("zone_emploi", "ze_2020", pd.Series(["0051", "0401", "8413"]))
    assert flag.tolist() == [True, False, True] and set(basis) == {"ZE 2020 code (région prefix)"}
    with pytest.raises(ValueError, match=r"^no metropolitan rule for level 'zone_emploi' in geography vintage "
                                         r"'ze_1990'$"):
        geography.metropolitan_scope("zone_emploi", "ze_1990", pd.Series(["8413"]))
    flag, basis = geography.metropolitan_scope("epci", "cog_2024", pd.Series(["249740119", "200012060"]))
    assert flag.isna().tolist() == [False, True] and basis.tolist() == [
        "SIREN 24 + département", "unknown: SIREN in no bundled COG release"]


# ---------------------------------------------------------------------------------------------
# The hierarchy on the snapshot (COG 2026)


def test_hierarchy_rows_per_relation_in_cog_2026(hierarchy):
    assert list(hierarchy.columns) == geography.HIERARCHY_COLUMNS
    assert set(hierarchy["geography_vintage"]) == {"cog_2026"}
    counts = hierarchy.groupby(["child_level", "parent_level"]).size().to_dict()
    assert counts == {("commune", "departement"): 34875, ("commune", "region"): 34875, ("commune", "epci"): 34871,
                      ("departement", "region"): 101, ("departement", "france"): 197, ("region", "france"): 31}


def test_hierarchy_departements_of_a_region_and_france_perimeters(hierarchy):
    regions = geography.children_of(hierarchy, "departement", "region", "cog_2026")
    raw = [d for d in _raw_json("cog/2026/departements.json.gz") if d["region"] == "84"]
    assert regions["84"] == tuple(sorted(d["code"] for d in raw)) and len(regions["84"]) == 12
    assert regions["94"] == ("2A", "2B")
    france = geography.children_of(hierarchy, "departement", "france")
    assert (len(france["FRM"]), len(france["FRMD"])) == (96, 101) and "FR" not in france
    assert set(france["FRMD"]) - set(france["FRM"]) == {"971", "972", "973", "974", "976"}
    assert geography.children_of(hierarchy, "region", "france")["FRM"] == (
        "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94")


def test_hierarchy_commune_to_epci_rows_of_a_named_epci(hierarchy):
    [raw] = [e for e in _raw_json("cog/2026/epci.json.gz") if e["nom"] == "CC de Petite-Terre"]
    rows = hierarchy[(hierarchy["parent_level"] == "epci") & (hierarchy["parent_code"] == raw["code"])]
    assert raw["code"] == "200050532"
    assert sorted(rows["child_code"]) == sorted(m["code"] for m in raw["membres"]) == ["97608", "97615"]
    assert geography.parent_of(hierarchy, "commune", "departement")["97608"] == "976"
    assert geography.parent_of(hierarchy, "commune", "region")["97615"] == "06"


def test_hierarchy_rejects_a_code_without_its_format():
    communes = pd.DataFrame({"cog_vintage": [2026], "code_commune": ["1001"], "code_departement": ["01"],
                             "code_region": ["84"]})
    members = pd.DataFrame(columns=["cog_vintage", "code_epci", "code_commune"])
    deps = pd.DataFrame({"cog_vintage": [2026], "code_departement": ["01"], "code_region": ["84"]})
    with pytest.raises(ValueError, match=r"^hierarchy: child codes of level commune without its format, "
                                         r"e\.g\. \['1001'\]$"):
        geography.hierarchy(communes, members, deps)


# ---------------------------------------------------------------------------------------------
# Aggregations read the hierarchy


def test_region_doctor_density_is_the_sum_of_its_departements(store, catalogue, hierarchy):
    doctors = {(r[0], int(r[1])): int(r[3]) for r in _csv_rows(drees_medecins.FILE)}
    pop = {(r[0], int(r[1])): int(r[2]) for r in _csv_rows(population.FILE)}
    deps_84 = [d["code"] for d in _raw_json("cog/2026/departements.json.gz") if d["region"] == "84"]
    expected = sum(doctors[(d, 2020)] for d in deps_84) / sum(pop[(d, 2020)] for d in deps_84) * 100_000
    out = indicators.compute(catalogue, "medecins_pour_100k", {
        "medecins": drees_medecins.parse(store.read(drees_medecins.FILE)),
        "population": population.parse(store.read(population.FILE)), "hierarchy": hierarchy})
    [row] = out[(out["level"] == "region") & (out["code"] == "84") & (out["period"] == "2020")].itertuples()
    assert (row.numerator, row.denominator) == (sum(doctors[(d, 2020)] for d in deps_84),
                                                sum(pop[(d, 2020)] for d in deps_84))
    assert row.value == pytest.approx(expected, rel=1e-12) and row.derived
    assert (row.numerator, row.denominator, round(row.value, 4)) == (27371, 8078652, 338.8065)


def test_sum_to_parents_publishes_a_parent_only_with_all_its_children(hierarchy):
    communes = geography.links(hierarchy, "commune", "epci")
    members = communes[communes["parent_code"] == "200050532"]["child_code"]
    counts = pd.DataFrame({"code": members, "period": "2020", "period_start": 2020, "period_end": 2020,
                           "numerator": [1.0, 2.0], "denominator": [10.0, 20.0]})
    out = geography.sum_to_parents(counts, hierarchy, "commune", "epci")
    assert out[["code", "numerator", "denominator"]].values.tolist() == [["200050532", 3.0, 30.0]]
    assert geography.sum_to_parents(counts.iloc[:1], hierarchy, "commune", "epci").empty
