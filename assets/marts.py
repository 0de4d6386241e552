"""Mart layer: the tables of the warehouse contract (docs/warehouse.md), then their publication.

``mart.*`` assets are built in the working database; ``published_barometre`` copies them into
``data/barometre.duckdb`` by atomic replace, so dashboards never read a half-written file.
"""

import time

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from assets._metadata import frame_metadata, mart_descriptions, table_metadata
from assets.checks import folder_report
from assets.cohesion import MART_NAMES as COHESION_MART_NAMES
from assets.core import REJECTION_KEYS
from assets.indicators import FINDING_KEYS, KEYS as INDICATOR_KEYS
from assets.resources import DUCKDB_POOL, PublishedWarehouse, SourceFiles
from barometre import commune_indicators, contract, marts, sql, warehouse
from barometre.catalogue import load_catalogue
from barometre.validation import folders

GROUP = "marts"
_INDICATOR_INS = {key.path[-1]: dg.AssetIn(key=key) for key in INDICATOR_KEYS}
_FINDING_INS = {f"findings__{key.path[-1]}": dg.AssetIn(key=key) for key in FINDING_KEYS}

def _out(context: dg.AssetExecutionContext, frame: pd.DataFrame, **extra) -> pd.DataFrame:
    context.add_output_metadata(frame_metadata(frame, descriptions=mart_descriptions(context.asset_key), **extra))
    return frame

@dg.asset(key_prefix="mart", group_name=GROUP, kinds={"duckdb"}, pool=DUCKDB_POOL, deps=INDICATOR_KEYS)
def indicator_values(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """One row per published or derived value: indicator × level × territory × period × source,
    exactly one ``is_reference`` row per (indicator, level, code, geography_vintage, period).
    Computed by DuckDB on the working database from the ``indicators.*`` tables
    (:func:`barometre.sql.indicator_values`; its pandas specification :func:`barometre.marts.indicator_values`)."""
    catalogue = load_catalogue()
    table = "mart.indicator_values"
    start = time.perf_counter()
    with duckdb.get_connection() as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS mart").fetchall()
        sql.indicator_values(con, catalogue, [".".join(key.path) for key in INDICATOR_KEYS], table)
        seconds = time.perf_counter() - start
        summary = con.execute(f"""
            SELECT indicator_id, string_agg(DISTINCT level, ', ' ORDER BY level) AS levels,
                   count(DISTINCT period) AS periods, count(*) AS rows
            FROM {table} WHERE is_reference GROUP BY indicator_id ORDER BY indicator_id""").df()
        metadata = table_metadata(con, table, contract.TYPES["indicator_values"],
                                  descriptions=mart_descriptions(context.asset_key),
                                  by_indicator=dg.MetadataValue.md(summary.to_markdown(index=False)),
                                  sql_seconds=round(seconds, 3))
    return dg.MaterializeResult(metadata=metadata)

@dg.asset(key_prefix="mart", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={**_INDICATOR_INS, **_FINDING_INS,
               "indicator_values": dg.AssetIn(key=["mart", "indicator_values"]),
               "rejected_rows": dg.AssetIn(key=["mart", "rejected_rows"])})
def quality_report(context: dg.AssetExecutionContext, source_files: SourceFiles, indicator_values: pd.DataFrame,
                   rejected_rows: pd.DataFrame, **frames: pd.DataFrame) -> pd.DataFrame:
    """What is not in ``indicator_values`` and why: missing source values, source disagreements, the
    findings of every indicator (``findings/<id>``: repeated COG releases, EPCI without a comparable
    perimeter, values that cannot be computed…), rejected rows, copies left in a source folder. One
    row per finding."""
    indicator_frames = [frames[name] for name in _INDICATOR_INS]
    findings = [frames[name] for name in _FINDING_INS]
    frame = marts.quality_report(load_catalogue(), indicator_values, indicator_frames, findings, rejected_rows)
    copies = folders.quality_rows(folder_report(source_files.store().root))  # copies left in a source folder
    if copies:
        frame = pd.concat([frame, pd.DataFrame(copies, columns=marts.QUALITY_COLUMNS)], ignore_index=True)
    return _out(context, frame, by_kind=dg.MetadataValue.json(frame["kind"].value_counts().to_dict()))

@dg.asset(key_prefix="mart", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"__".join(key.path): dg.AssetIn(key=key) for key in REJECTION_KEYS})
def rejected_rows(context: dg.AssetExecutionContext, **rejections: pd.DataFrame) -> pd.DataFrame:
    """Source cells set aside by a rule, never published: source_id, rule, code, period, column, value
    (the union of every source's ``core/<raw table>_rejets``)."""
    parts = [frame[marts.REJECTED_COLUMNS] for frame in rejections.values()]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=marts.REJECTED_COLUMNS)
    return _out(context, frame)

# Raw tables whose names (LIBGEO) name the territories of vintages no other table names.
_SOURCE_NAMES = {"epci": "insee_filosofi_cc_epci", "zone_emploi": "insee_filosofi_cc_zone_emploi"}

@dg.asset(key_prefix="mart", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"cog_regions": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_regions"]),
               "cog_departements": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_departements"]),
               "hierarchie_territoires": dg.AssetIn(key=["core", "hierarchie_territoires"]),
               "cog_epci_membres": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_membres_epci"],
                                              metadata={"columns": ["cog_vintage", "code_epci", "nom_epci"]}),
               "cget_territoires": dg.AssetIn(key=["raw", "cget_barometre_2018_territoires"]),
               **{f"names__{level}": dg.AssetIn(key=["raw", table],
                                                metadata={"columns": ["code", "name", "geography_vintage"]})
                  for level, table in _SOURCE_NAMES.items()},
               "indicator_values": dg.AssetIn(key=["mart", "indicator_values"],
                                              metadata={"columns": ["level", "code", "geography_vintage"]}),
               "communes_2017": dg.AssetIn(key=["raw", "interieur_presidentielle_2017_communes"],
                                           metadata={"columns": ["round", "kind", "code_commune", "libelle",
                                                                 "code_departement"]}),
               "ze2020_communes": dg.AssetIn(key=["raw", "insee_zonage_zones_emploi_2020_communes"])})
def territories(context: dg.AssetExecutionContext, cog_regions: pd.DataFrame, cog_departements: pd.DataFrame,
                hierarchie_territoires: pd.DataFrame, cog_epci_membres: pd.DataFrame, cget_territoires: pd.DataFrame,
                indicator_values: pd.DataFrame, communes_2017: pd.DataFrame, ze2020_communes: pd.DataFrame,
                **names: pd.DataFrame) -> pd.DataFrame:
    """One row per territory (level, code, geography_vintage) with its name and parents (from
    ``core.hierarchie_territoires``); the zones d'emploi 2020 and the 2017 communes named by their
    sources, and the Filosofi base cc sheets' LIBGEO naming the EPCI and zones d'emploi of the
    vintages no other table names."""
    source_names = pd.concat([names[f"names__{level}"].assign(level=level) for level in _SOURCE_NAMES],
                             ignore_index=True)
    frame = marts.territories(cog_regions, cog_departements, hierarchie_territoires, cog_epci_membres, cget_territoires,
                              indicator_values, commune_indicators.territory_names(communes_2017, ze2020_communes),
                              source_names)
    return _out(context, frame, unnamed=int(frame["name"].isna().sum()))

@dg.asset(key_prefix="mart", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL)
def dimensions(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """The six cohesion dimensions, from the catalogue."""
    return _out(context, marts.dimensions_table(load_catalogue()))

@dg.asset(key_prefix="mart", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL)
def indicators(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """The sixteen indicators (name, dimension, unit, polarity, definition, sources), from the catalogue."""
    return _out(context, marts.indicators_table(load_catalogue()))

@dg.asset(key_prefix="mart", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"source_files_manifest": dg.AssetIn(key=["raw", "fichiers_sources"])})
def sources(context: dg.AssetExecutionContext, source_files_manifest: pd.DataFrame) -> pd.DataFrame:
    """One row per source file read: producer, title, URL, licence, retrieval date, SHA-256."""
    return _out(context, marts.sources_table(load_catalogue(), source_files_manifest))

MART_NAMES = ["dimensions", "indicators", "sources", "territories", "indicator_values", "quality_report", "rejected_rows",
              *COHESION_MART_NAMES]

@dg.asset(group_name="publication", kinds={"duckdb"}, pool=DUCKDB_POOL,
          deps=[dg.AssetKey(["mart", name]) for name in MART_NAMES])
def published_barometre(context: dg.AssetExecutionContext, published_warehouse: PublishedWarehouse,
                        duckdb: DuckDBResource) -> dg.MaterializeResult:
    """The published DuckDB file (``data/barometre.duckdb`` or ``$BAROMETRE_DB``) with schema
    ``mart``: a staging file attached to the working database, filled with ``CREATE TABLE … AS
    SELECT`` from its ``mart`` tables (cast to barometre/contract.py's types), checkpointed,
    detached, then atomically replaced. ``mart.publication`` records the run, code version, source
    checksums, row counts and schema version."""
    start = time.perf_counter()
    with duckdb.get_connection() as con:
        counts = warehouse.publish_from(con, MART_NAMES, published_warehouse.path, run_id=context.run_id)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(published_warehouse.path),
        "schema_version": warehouse.SCHEMA_VERSION,
        "row_counts": dg.MetadataValue.json(counts),
        "publish_seconds": round(time.perf_counter() - start, 3),
    })

ASSETS = [indicator_values, quality_report, rejected_rows, territories, dimensions, indicators, sources,
          published_barometre]
