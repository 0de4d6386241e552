"""Raw layer: each source file parsed into a tidy frame, stored as ``raw.<name>``.

The asset bodies only read bytes through the ``source_files`` resource and call the pure parsers
of :mod:`barometre.sources`; a file that cannot be parsed fails its asset with the parser's
message (file, column, rule, example rows).
"""

from collections.abc import Callable

import dagster as dg
import pandas as pd

from assets._metadata import frame_metadata
from assets.resources import DUCKDB_POOL, SourceFiles
from barometre.catalogue import load_catalogue
from barometre.sources import (
    cget_2018,
    chomage,
    cog,
    diplomes,
    drees_medecins,
    elections,
    etat_civil,
    filosofi,
    population,
)

GROUP = "raw"
# Tag naming the catalogue source each raw table is read from: the source-release sensors and the
# freshness policies select a source's tables by it (sensors/).
SOURCE_TAG = "source"

def _describe(source_id: str, grain: str) -> str:
    src = load_catalogue().source(source_id)
    return f"{grain}\n\nSource `{src.id}`: {src.title} — {src.producer}. Licence: {src.licence}."

@dg.asset(key_prefix="raw", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          tags={SOURCE_TAG: "cget_barometre_2018"},
          description=_describe("cget_barometre_2018", "CGET 2018 barometer values, one row per file × territory × period "
                                                       "(map level, régions, France)."))
def cget_barometre_2018(context: dg.AssetExecutionContext, source_files: SourceFiles) -> pd.DataFrame:
    catalogue = load_catalogue()
    store = source_files.store()
    carte = catalogue.source("cget_barometre_2018").extra["carte"]
    france_code_of = {i.cget_id: i.cget_france_code for i in catalogue.indicators if i.cget_id}
    parts = []
    for path in store.glob("barometre_2018/carte_*.csv"):
        cget_id = cget_2018.file_indicator(path, "carte", carte)
        if cget_id is None:  # not a file name of the publisher: a copy, reported by check source_folders
            continue
        spec = carte[cget_id]
        parts.append(cget_2018.parse_carte(store.read(path), path, cget_id, spec["level"], spec["geography_vintage"]))
    for path in store.glob("barometre_2018/histo_*.csv"):
        cget_id = cget_2018.file_indicator(path, "histo", carte)
        if cget_id is not None:
            parts.append(cget_2018.parse_histo(store.read(path), path, cget_id))
    parts.append(cget_2018.parse_baro(store.read("barometre_2018/baro.csv"), "barometre_2018/baro.csv", france_code_of))
    frame = pd.concat(parts, ignore_index=True)
    context.add_output_metadata(frame_metadata(frame, n_files=len(parts),
                                               n_missing_values=int(frame["value"].isna().sum())))
    return frame

@dg.asset(key_prefix="raw", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          tags={SOURCE_TAG: "cget_barometre_2018"},
          description=_describe("cget_barometre_2018", "Names of the CGET 2018 meshes: zones d'emploi 2010 and EPCI 2018 "
                                                       "(TopoJSON properties), one row per territory."))
def cget_territoires(context: dg.AssetExecutionContext, source_files: SourceFiles) -> pd.DataFrame:
    store = source_files.store()
    frame = pd.concat([
        cget_2018.parse_topojson_names(store.read(p := "barometre_2018/ze_wgs84_utf8.topojson"), p, "zone_emploi", "ze_2010"),
        cget_2018.parse_topojson_names(store.read(p := "barometre_2018/epci2018_wgs84_utf8.topojson"), p, "epci", "epci_2018"),
    ], ignore_index=True)
    context.add_output_metadata(frame_metadata(frame))
    return frame

def _panel_asset(name: str, source_id: str, file: str, parse: Callable[[bytes, str], pd.DataFrame], grain: str):
    @dg.asset(name=name, key_prefix="raw", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
              tags={SOURCE_TAG: source_id}, description=_describe(source_id, grain) + f"\n\nFile: `{file}`.")
    def _asset(context: dg.AssetExecutionContext, source_files: SourceFiles) -> pd.DataFrame:
        frame = source_files.store().parse(file, parse)
        context.add_output_metadata(frame_metadata(frame))
        return frame

    return _asset

PANELS = [
    _panel_asset("filosofi_departement", "insee_filosofi_departement", filosofi.FILE, filosofi.parse,
                 "Filosofi income and poverty, one row per département × year, every published column."),
    _panel_asset("chomage_departement", "insee_chomage_localise", chomage.FILE, chomage.parse,
                 "Localised unemployment rate, one row per département × year."),
    _panel_asset("population_departement", "insee_estimations_population", population.FILE, population.parse,
                 "Population at 1 January, one row per département × year."),
    _panel_asset("naissances_departement", "insee_naissances", etat_civil.BIRTHS_FILE, etat_civil.parse_births,
                 "Live births (place of residence), one row per département × year."),
    _panel_asset("deces_departement", "insee_deces", etat_civil.DEATHS_FILE, etat_civil.parse_deaths,
                 "Deaths, one row per département × year."),
    _panel_asset("medecins_departement", "drees_medecins", drees_medecins.FILE, drees_medecins.parse,
                 "Active doctors and density per 100 000, one row per département × year."),
    _panel_asset("diplomes_departement", "insee_diplomes_rp", diplomes.FILE, diplomes.parse,
                 "Higher-education graduates share, one row per département × census year (2011, 2016, 2022)."),
]

@dg.asset(key_prefix="raw", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          tags={SOURCE_TAG: "interieur_presidentielle_t1"},
          description=_describe("interieur_presidentielle_t1", "Presidential first-round turnout counts, one row per "
                                                               "election × Ministry territory (département, COM, abroad)."))
def presidentielle_t1_departement(context: dg.AssetExecutionContext, source_files: SourceFiles) -> pd.DataFrame:
    store = source_files.store()
    frame = pd.concat([store.parse(f, lambda raw, path, year=year: elections.parse(raw, year, path))
                       for year, f in elections.FILES.items()], ignore_index=True)
    context.add_output_metadata(frame_metadata(frame))
    return frame

def _cog_vintages() -> list[int]:
    return sorted(int(v) for v in load_catalogue().source(cog.SOURCE_ID).extra["vintages"])

def _cog_asset(name: str, file_name: str, parse, grain: str):
    @dg.asset(name=name, key_prefix="raw", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
              tags={SOURCE_TAG: cog.SOURCE_ID}, description=_describe(cog.SOURCE_ID, grain))
    def _asset(context: dg.AssetExecutionContext, source_files: SourceFiles) -> pd.DataFrame:
        store = source_files.store()
        frame = pd.concat([parse(store.read(cog.path(v, file_name)), v) for v in _cog_vintages()], ignore_index=True)
        context.add_output_metadata(frame_metadata(frame))
        return frame

    return _asset

COG = [
    _cog_asset("cog_communes", "communes", cog.parse_communes,
               "Communes of each COG release 2021–2026 with their population, one row per release × commune."),
    _cog_asset("cog_epci_membres", "epci", cog.parse_epci_members,
               "EPCI à fiscalité propre of each COG release, one row per release × EPCI × member commune."),
    _cog_asset("cog_departements", "departements", cog.parse_departements,
               "Départements of each COG release, one row per release × département."),
    _cog_asset("cog_regions", "regions", cog.parse_regions, "Régions of each COG release, one row per release × région."),
]

@dg.asset(key_prefix="raw", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          description="Every source file of the catalogue, one row per file: where it was read from (snapshot or "
                      "live URL), when, the HTTP status, ETag and Last-Modified of a live download, bytes, SHA-256.")
def source_files_manifest(context: dg.AssetExecutionContext, source_files: SourceFiles) -> pd.DataFrame:
    catalogue = load_catalogue()
    store = source_files.store()
    rows = []
    for src in catalogue.sources:
        for pattern in src.files:
            paths = store.glob(pattern)
            if not paths:
                raise FileNotFoundError(f"source {src.id}: no file matches {pattern!r} in {store.root}")
            rows += [{"source_id": src.id, **store.describe(path, src.url)} for path in paths]
    frame = pd.DataFrame(rows).astype({"http_status": "Int64", "bytes": "int64", "url": "string", "etag": "string",
                                       "last_modified": "string", "fetched_url": "string"})
    context.add_output_metadata(frame_metadata(frame))
    return frame

ASSETS = [cget_barometre_2018, cget_territoires, *PANELS, presidentielle_t1_departement, *COG, source_files_manifest]
