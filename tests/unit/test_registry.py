"""The source registry (barometre/sources/registry.py) and the indicators' registration of their
inputs (barometre/indicators.py), on the real catalogue and snapshot."""

import dataclasses
from pathlib import Path

import pytest

from barometre import commune_indicators, indicators, validation
from barometre.catalogue import CatalogueError, load_catalogue, parse_catalogue
from barometre.landing import open_store
from barometre.sources import registry
from barometre.sources._spreadsheet import read_sheet
from barometre.sources.registry import RawTable, RegistryError, SourceParse
from tests.support.geography import snapshot_hierarchy

CATALOGUE = load_catalogue()
RAW_TABLES = {  # the naming scheme of docs/architecture.md (Changelog): <source id>_<table>, level last
    "cget_barometre_2018_valeurs": "cget_barometre_2018",
    "cget_barometre_2018_territoires": "cget_barometre_2018",
    "insee_filosofi_departement": "insee_filosofi_departement",
    "insee_chomage_localise_departement": "insee_chomage_localise",
    "insee_estimations_population_departement": "insee_estimations_population",
    "insee_naissances_departement": "insee_naissances",
    "insee_deces_departement": "insee_deces",
    "drees_medecins_departement": "drees_medecins",
    "insee_diplomes_rp_departement": "insee_diplomes_rp",
    "interieur_presidentielle_t1_departement": "interieur_presidentielle_t1",
    "etalab_decoupage_administratif_communes": "etalab_decoupage_administratif",
    "etalab_decoupage_administratif_membres_epci": "etalab_decoupage_administratif",
    "etalab_decoupage_administratif_departements": "etalab_decoupage_administratif",
    "etalab_decoupage_administratif_regions": "etalab_decoupage_administratif",
    **{f"insee_filosofi_cc_{t}": "insee_filosofi_cc" for t in ("commune", "epci", "departement", "region", "france",
                                                              "zone_emploi", "secret_statistique")},
    "insee_estimations_population_age_departement": "insee_estimations_population_age",
    "insee_estimations_population_age_totaux": "insee_estimations_population_age",
    **{f"neet_observatoire_territoires_{t}": "neet_observatoire_territoires"
       for t in ("commune", "epci", "departement", "region")},
    "interieur_presidentielle_2017_communes": "interieur_presidentielle_2017_communes",
    "insee_chomage_zone_emploi": "insee_chomage_zone_emploi",
    "insee_chomage_zone_emploi_partie_regionale": "insee_chomage_zone_emploi",
    "insee_zonage_zones_emploi_2020_communes": "insee_zonage_zones_emploi_2020",
}


def _parse(name: str) -> SourceParse:
    return next(p for p in registry.parses() if p.name == name)


def test_every_raw_table_is_named_after_its_source():
    tables = registry.raw_tables()
    assert {name: registry.source_of(name) for name in tables} == RAW_TABLES
    for name, source_id in RAW_TABLES.items():
        assert name == source_id or name.startswith(f"{source_id}_")
        assert tables[name].schema.table == name
    registry.check_registry(CATALOGUE)


def test_the_gx_suites_and_the_manifest_read_the_registry():
    assert list(validation.raw_schemas(CATALOGUE)) == [*registry.raw_tables(), "fichiers_sources"]
    files = registry.source_files(CATALOGUE)
    assert list(files) == [s.id for s in CATALOGUE.sources]
    assert files["interieur_presidentielle_t1"] == (
        "elections/2007-t1-definitifs-departements.csv", "elections/2012-t1-definitifs-departements.csv",
        "elections/2017-t1-definitifs-departements.csv", "elections/2022-t1-provisoires-departements.csv")
    # Files no parse reads are still recorded (the report reads the département mesh).
    assert "barometre_2018/dep_wgs84_utf8.topojson" in files["cget_barometre_2018"]
    store = open_store()
    # rows of mart.sources: 63, the 6 Filosofi base cc archives, 1 workbook by age, 4 NEET files, the 3 files of issue 15
    assert sum(len(store.glob(f)) for fs in files.values() for f in fs) == 77


def test_a_parse_reads_the_snapshot_through_the_store():
    frames = _parse("insee_estimations_population_departement").run(open_store(), CATALOGUE)
    pop = frames["insee_estimations_population_departement"]
    assert len(pop) == 960
    assert pop.query("code_departement == '01' and year == 2012")["pop_jan1"].item() == 612191


def test_a_parse_may_return_several_tables_from_one_workbook():
    raw = (Path(__file__).parents[1] / "fixtures" / "spreadsheets" / "chomage-zone-t1-2003-t3-2023.xlsx").read_bytes()
    schema = registry.raw_tables()["insee_chomage_localise_departement"].schema

    def read(store, catalogue):
        return {"insee_chomage_localise_ze": read_sheet(raw, "x.xlsx", "txcho_ze", columns=["ZE2020", "LIBZE2020"],
                                                        header_row=5, header_prefix_only=True),
                "insee_chomage_localise_parties_ze": read_sheet(raw, "x.xlsx", "txcho_parties reg",
                                                                columns=["ZER2020"], header_row=7,
                                                                header_prefix_only=True)}

    tables = tuple(RawTable(n, dataclasses.replace(schema, table=n), "")
                   for n in ("insee_chomage_localise_ze", "insee_chomage_localise_parties_ze"))
    parse = SourceParse("insee_chomage_localise", ("x.xlsx",), read, tables)
    registry.check_registry(CATALOGUE, (*registry.parses(), parse))
    frames = parse.run(None, CATALOGUE)
    assert len(frames["insee_chomage_localise_ze"]) == 302
    assert len(frames["insee_chomage_localise_parties_ze"]) == 28
    assert frames["insee_chomage_localise_ze"].iloc[0].tolist() == ["0051", "Alençon"]
    with pytest.raises(RegistryError) as err:
        dataclasses.replace(parse, tables=tables[:1]).run(None, CATALOGUE)
    assert str(err.value) == ("parse insee_chomage_localise_ze of source insee_chomage_localise returned tables "
                              "['insee_chomage_localise_parties_ze', 'insee_chomage_localise_ze'], declared "
                              "['insee_chomage_localise_ze']")


def test_the_registry_refuses_a_misnamed_or_unknown_table():
    population = _parse("insee_estimations_population_departement")
    table = population.tables[0]
    misnamed = dataclasses.replace(population, tables=(dataclasses.replace(table, name="population_departement"),))
    with pytest.raises(RegistryError) as err:
        registry.check_registry(CATALOGUE, (misnamed,))
    assert str(err.value) == ("raw table 'population_departement': its name must start with its source id "
                              "'insee_estimations_population' (<source id>_<table>)")
    unknown = dataclasses.replace(population, source_id="insee_recensement")
    with pytest.raises(RegistryError, match=r"parse insee_estimations_population_departement: source "
                                            r"'insee_recensement' is not in the catalogue"):
        registry.check_registry(CATALOGUE, (unknown,))
    others = tuple(p for p in registry.parses() if p.source_id != "drees_medecins")
    with pytest.raises(RegistryError) as err:
        registry.check_registry(CATALOGUE, others)
    assert str(err.value) == "catalogue source(s) ['drees_medecins'] have no parse in barometre/sources (declare PARSES)"


def test_the_catalogue_no_longer_lists_files():
    doc = {"dimensions": [], "sources": [{"id": "s", "producer": "p", "title": "t", "url": "u", "licence": "l",
                                          "files": ["a.csv"]}]}
    with pytest.raises(CatalogueError) as err:
        parse_catalogue({**doc, "dimensions": [{"id": d.id, "name": d.name, "description": d.description}
                                               for d in CATALOGUE.dimensions]})
    assert str(err.value) == ("source 's': files are declared by the source module (PARSES in barometre/sources/), "
                              "not in the catalogue")


def test_every_indicator_has_a_formula_reading_asset_keys():
    formulas = indicators.formulas(CATALOGUE)
    assert list(formulas) == [i.id for i in CATALOGUE.indicators]
    defaults = sorted(i for i, f in formulas.items() if f.function is indicators.from_cget)
    assert defaults == ["benevoles_pour_100_hab", "coefficient_integration_fiscale",
                        "part_chomage_longue_duree", "part_fonctions_productives", "part_locaux_thd"]
    assert indicators.inputs_of("medecins_pour_100k") == {
        "medecins": "raw/drees_medecins_departement", "population": "raw/insee_estimations_population_departement",
        "hierarchy": "core/hierarchie_territoires"}
    raw_keys = {f.inputs[n] for f in formulas.values() for n in f.inputs if f.inputs[n].startswith("raw/")}
    assert raw_keys <= {t.key for t in registry.raw_tables().values()}


def test_an_indicator_without_formula_or_a_formula_without_indicator_is_refused():
    growth = CATALOGUE.indicator("croissance_population_annuelle")
    new = dataclasses.replace(growth, id="part_logements_vacants")
    with pytest.raises(indicators.FormulaError) as err:
        indicators.formulas(dataclasses.replace(CATALOGUE, indicators=(*CATALOGUE.indicators, new)))
    assert str(err.value) == ("indicator 'part_logements_vacants' (sources ['insee_estimations_population', "
                              "'etalab_decoupage_administratif']) has no formula: register one with "
                              "@indicator('part_logements_vacants', inputs=...) in barometre/indicators.py")
    without = tuple(i for i in CATALOGUE.indicators if i.id != "taux_chomage")
    with pytest.raises(indicators.FormulaError) as err:
        indicators.formulas(dataclasses.replace(CATALOGUE, indicators=without))
    assert str(err.value) == ("formulas without a catalogue indicator: ['taux_chomage'] "
                              "(add them to barometre/catalogue.yaml)")


def test_a_formula_returns_its_values_and_its_findings():
    store = open_store()
    read = {n: t for p in registry.parses() if p.name in (
        "interieur_presidentielle_t1_departement", "cget_barometre_2018_valeurs") for n, t in p.run(store, CATALOGUE).items()}
    values, findings = indicators.evaluate(CATALOGUE, "participation_presidentielle_t1", {
        "cget": read["cget_barometre_2018_valeurs"], "elections": read["interieur_presidentielle_t1_departement"],
        "hierarchy": snapshot_hierarchy(), **commune_indicators.empty_commune_inputs()})
    fr = values[(values["code"] == "FR")].set_index("period")["value"].round(2).to_dict()
    assert fr == {"2007": 83.77, "2012": 79.48, "2017": 77.77}  # France entière: no 2022 (no voters abroad)
    assert findings[["kind", "code", "period", "source_id"]].values.tolist() == [
        ["not_computable", "FR", "2022", "interieur_presidentielle_t1"]]
    assert list(findings.columns) == indicators.FINDING_COLUMNS
    # An indicator without findings returns none.
    _, none = indicators.evaluate(CATALOGUE, "part_chomage_longue_duree", {"cget": read["cget_barometre_2018_valeurs"]})
    assert none.empty and list(none.columns) == indicators.FINDING_COLUMNS
