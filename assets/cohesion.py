"""Cohesion layer: disparities, convergence, rankings, dimension scores and France headlines.

Thin assets over :mod:`barometre.cohesion`, grouped ``cohesion``; ``disparities``, ``convergence`` and
``rankings`` run their DuckDB SQL (:mod:`barometre.sql`) on the working database through the
``duckdb`` resource. They read the reference rows
of ``mart.indicator_values`` and are published with the other marts by ``published_barometre``.
Each asset's metadata carries a markdown table of its headline figures. Methods:
docs/methodology.md; columns: docs/warehouse.md.
"""

import time

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from assets._metadata import frame_metadata, mart_descriptions, table_metadata
from assets.resources import DUCKDB_POOL
from barometre import cohesion, contract, geography, sql, warehouse
from barometre.catalogue import load_catalogue
from barometre.sources.cog import SOURCE_ID as COG_SOURCE_ID, static_population_departements

GROUP = "cohesion"
_KINDS = {"pandas", "duckdb"}
_VALUES = {"indicator_values": dg.AssetIn(key=["mart", "indicator_values"])}
_SCOPE = {"territory_scope": dg.AssetIn(key=["core", "territory_scope"])}
# Only the columns used (the DuckDB IO manager selects them): the communes of six COG releases.
_COMMUNES = dg.AssetIn(key=["raw", "etalab_decoupage_administratif_communes"],
                       metadata={"columns": ["cog_vintage", "code_commune", "code_departement", "population"]})

def _md(frame: pd.DataFrame) -> dg.MetadataValue:
    shown = frame.astype(object).where(frame.notna(), "–")
    return dg.MetadataValue.md(shown.to_markdown(index=False))

def _out(context: dg.AssetExecutionContext, frame: pd.DataFrame, **extra) -> pd.DataFrame:
    context.add_output_metadata(frame_metadata(frame, descriptions=mart_descriptions(context.asset_key), **extra))
    return frame

@dg.asset(key_prefix="core", group_name=GROUP, kinds=_KINDS, pool=DUCKDB_POOL,
          ins={"territories": dg.AssetIn(key=["mart", "territories"]),
               "cog_epci_membres": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_membres_epci"],
                                              metadata={"columns": ["cog_vintage", "code_epci", "code_commune"]}),
               "cog_communes": _COMMUNES})
def territory_scope(context: dg.AssetExecutionContext, territories: pd.DataFrame, cog_epci_membres: pd.DataFrame,
                    cog_communes: pd.DataFrame) -> pd.DataFrame:
    """Whether each territory of the analysed levels is metropolitan (scope ``metro`` of the
    cohesion marts) and on what basis: the code for départements, régions and zones d'emploi
    2010; the member communes in a COG release (else the SIREN) for EPCI."""
    frame = cohesion.territory_scope(territories, cog_epci_membres, cog_communes)
    counts = frame.groupby(["level", "geography_vintage", "basis"], dropna=False)["is_metropolitan"].agg(
        metro=lambda s: int((s == True).sum()), drom=lambda s: int((s == False).sum()),  # noqa: E712
        unknown=lambda s: int(s.isna().sum())).reset_index()
    return _out(context, frame, by_level=_md(counts))

@dg.asset(key_prefix="core", group_name=GROUP, kinds=_KINDS, pool=DUCKDB_POOL,
          ins={"population_departement": dg.AssetIn(key=["raw", "insee_estimations_population_departement"]),
               "cog_communes": _COMMUNES,
               "cog_reference_years": dg.AssetIn(key=["core", "etalab_decoupage_administratif_annees_reference"]),
               "hierarchie_territoires": dg.AssetIn(key=["core", "hierarchie_territoires"])})
def territory_population(context: dg.AssetExecutionContext, population_departement: pd.DataFrame,
                         cog_communes: pd.DataFrame, cog_reference_years: pd.DataFrame,
                         hierarchie_territoires: pd.DataFrame) -> pd.DataFrame:
    """Population at 1 January of départements and régions by year, the weights of
    ``mart.disparities.weighted_mean``, from the sources the catalogue's ``weights`` names per
    level, in its order: INSEE estimates (2012–2021, metropolitan départements), then the COG
    populations légales (reference years 2019, 2020, 2022, 2023; Mayotte left out)."""
    region_of = geography.parent_of(hierarchie_territoires, "departement", "region")
    catalogue = load_catalogue()
    # The population each input gives, by the source id of its raw table (assets/ingest.py); which
    # source weights which level, in which order, is the catalogue's ``weights``.
    by_source = {
        "insee_estimations_population": cohesion.estimated_population(population_departement, region_of),
        COG_SOURCE_ID: cohesion.legal_population(cog_communes, cog_reference_years, region_of,
                                                 static_population_departements(catalogue)),
    }
    frame = cohesion.territory_population(by_source, catalogue.weights)
    counts = frame.groupby(["level", "source_id"])["year"].agg(
        years=lambda s: ", ".join(str(y) for y in sorted(s.unique())), rows="size").reset_index()
    return _out(context, frame, by_source=_md(counts))

# The marts computed by DuckDB on the working database (barometre/sql.py; their pandas
# specification barometre/cohesion.py): upstream declared with ``deps``, tables read and written
# in SQL, no frame through the I/O manager.
_VALUES_KEY = dg.AssetKey(["mart", "indicator_values"])
_SCOPE_KEY = dg.AssetKey(["core", "territory_scope"])
_SQL_KINDS = {"duckdb"}
VALUES_TABLE, SCOPE_TABLE, POPULATION_TABLE = "mart.indicator_values", "core.territory_scope", "core.territory_population"

def _sql_result(context: dg.AssetExecutionContext, con, name: str, seconds: float, **extra) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=table_metadata(
        con, f"mart.{name}", contract.TYPES[name], descriptions=mart_descriptions(context.asset_key),
        sql_seconds=round(seconds, 3), **extra))

@dg.asset(key_prefix="mart", group_name=GROUP, kinds=_SQL_KINDS, pool=DUCKDB_POOL,
          deps=[_VALUES_KEY, _SCOPE_KEY, dg.AssetKey(["core", "territory_population"])])
def disparities(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Dispersion between the territories of a level: one row per indicator × level × scope
    (``all``, ``metro``) × geography vintage × period — n, min, max, max/min, range, deciles,
    quartiles, d9/d1, mean, population-weighted mean, std, cv, Gini, Theil (DuckDB SQL,
    :func:`barometre.sql.disparities`)."""
    start = time.perf_counter()
    with duckdb.get_connection() as con:
        sql.disparities(con, load_catalogue(), VALUES_TABLE, SCOPE_TABLE, POPULATION_TABLE, "mart.disparities")
        seconds = time.perf_counter() - start
        frame = con.execute("SELECT * FROM mart.disparities").df()  # one row per set of territories: small
        return _sql_result(context, con, "disparities", seconds, headline=_md(cohesion.disparity_headlines(frame)))

@dg.asset(key_prefix="mart", group_name=GROUP, kinds=_SQL_KINDS, pool=DUCKDB_POOL, deps=[_VALUES_KEY, _SCOPE_KEY])
def convergence(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Do territories converge? One row per indicator × level × scope × pair of periods (each
    consecutive pair, and first → last): σ convergence (cv falls on the same territories), β
    convergence (annualised change regressed on the initial level), their ``verdict`` and
    ``is_headline``; the metadata table shows the headline rows. Per-pair statistics in DuckDB SQL,
    the p-values, verdicts and headlines in Python on the aggregated rows (:func:`barometre.sql.convergence`)."""
    start = time.perf_counter()
    with duckdb.get_connection() as con:
        frame = sql.convergence_frame(con, load_catalogue(), VALUES_TABLE, SCOPE_TABLE)
        sql.write_frame(con, "convergence", frame, "mart.convergence")
        seconds = time.perf_counter() - start
        return _sql_result(context, con, "convergence", seconds, headline=_md(cohesion.convergence_headlines(frame)))

@dg.asset(key_prefix="mart", group_name=GROUP, kinds=_SQL_KINDS, pool=DUCKDB_POOL,
          deps=[_VALUES_KEY, _SCOPE_KEY, dg.AssetKey(["mart", "territories"])])
def rankings(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Every territory ranked among those of its level and period (rank 1 = best by polarity;
    polarity 0: by value descending), with its percentile, gap to France and change since the
    previous period (DuckDB SQL, :func:`barometre.sql.rankings`)."""
    start = time.perf_counter()
    with duckdb.get_connection() as con:
        sql.rankings(con, load_catalogue(), VALUES_TABLE, SCOPE_TABLE, "mart.rankings")
        seconds = time.perf_counter() - start
        ends = sql.ranking_ends(con, "mart.rankings")  # the headline reads the first and last ranks only
        territories = con.execute("SELECT level, code, geography_vintage, name FROM mart.territories").df()
        return _sql_result(context, con, "rankings", seconds,
                           headline=_md(cohesion.ranking_headlines(ends, territories)))

@dg.asset(key_prefix="mart", group_name=GROUP, kinds=_KINDS, pool=DUCKDB_POOL, ins={**_VALUES, **_SCOPE})
def dimension_scores(context: dg.AssetExecutionContext, indicator_values: pd.DataFrame,
                     territory_scope: pd.DataFrame) -> pd.DataFrame:
    """Per level, territory and period: the mean signed z-score of each cohesion dimension's
    indicators (polarity 0 excluded), only at periods where all of them are observed."""
    ref = cohesion.reference_values(indicator_values, territory_scope)
    frame, coverage = cohesion.dimension_scores(ref, load_catalogue())
    return _out(context, frame, coverage=_md(coverage))

@dg.asset(key_prefix="mart", group_name=GROUP, kinds=_KINDS, pool=DUCKDB_POOL, ins=_VALUES)
def france_summary(context: dg.AssetExecutionContext, indicator_values: pd.DataFrame) -> pd.DataFrame:
    """Per indicator and France perimeter: the value at each period, the change since the
    previous period and its headline sentence in French."""
    frame = cohesion.france_summary(cohesion.france_values(indicator_values), load_catalogue())
    return _out(context, frame, headline=_md(cohesion.france_headlines(frame)))

MART_NAMES = list(warehouse.COHESION_TABLES)

ASSETS = [territory_scope, territory_population, disparities, convergence, rankings, dimension_scores, france_summary]
