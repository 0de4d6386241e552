"""Core layer: reference tables derived from the raw sources, stored as ``core.<name>``."""

import dagster as dg
import pandas as pd

from assets._metadata import frame_metadata
from assets.resources import DUCKDB_POOL
from barometre import commune_indicators, geography
from barometre.catalogue import load_catalogue
from barometre.sources import cog, registry

GROUP = "core"

@dg.asset(key_prefix="core", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"cog_communes": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_communes"]),
               "cog_epci_membres": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_membres_epci"]),
               "cog_departements": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_departements"]),
               "ze2020_communes": dg.AssetIn(key=["raw", "insee_zonage_zones_emploi_2020_communes"])})
def hierarchie_territoires(context: dg.AssetExecutionContext, cog_communes: pd.DataFrame,
                           cog_epci_membres: pd.DataFrame, cog_departements: pd.DataFrame,
                           ze2020_communes: pd.DataFrame) -> pd.DataFrame:
    """Which territory belongs to which, for each COG release: commune → département, région and
    EPCI, département → région, département and région → France (FRM, FRMD); and for the zonage
    en zones d'emploi 2020 (``ze_2020``): commune → zone d'emploi, zone → région (the zones inside
    one région) and France. One row per membership (child level and code, parent level and code,
    geography vintage); every aggregation reads it (see docs/geography.md)."""
    frame = geography.hierarchy(cog_communes, cog_epci_membres, cog_departements,
                                extra=[commune_indicators.hierarchy_ze2020(ze2020_communes)])
    counts = frame.groupby(["child_level", "parent_level", "geography_vintage"]).size().unstack("geography_vintage")
    context.add_output_metadata(frame_metadata(frame, rows_by_relation=dg.MetadataValue.md(counts.to_markdown())))
    return frame

@dg.asset(name="etalab_decoupage_administratif_annees_reference", key_prefix="core", group_name=GROUP,
          kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"cog_communes": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_communes"])})
def cog_reference_years(context: dg.AssetExecutionContext, cog_communes: pd.DataFrame) -> pd.DataFrame:
    """Reference year of the populations of each COG release, dated by a witness commune against
    INSEE's populations légales; ``repeats_vintage`` marks a release that repeats the previous
    one's populations (left out of growth series). One row per release."""
    witness = load_catalogue().source(cog.SOURCE_ID).extra["population_witness"]
    frame = cog.reference_years(cog_communes, witness["commune"], witness["populations_legales"])
    context.add_output_metadata(frame_metadata(frame))
    return frame

@dg.asset(name="etalab_decoupage_administratif_comparabilite_epci", key_prefix="core", group_name=GROUP,
          kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"cog_communes": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_communes"]),
               "cog_epci_membres": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_membres_epci"]),
               "cog_reference_years": dg.AssetIn(key=["core", "etalab_decoupage_administratif_annees_reference"])})
def epci_comparability(context: dg.AssetExecutionContext, cog_communes: pd.DataFrame, cog_epci_membres: pd.DataFrame,
                       cog_reference_years: pd.DataFrame) -> pd.DataFrame:
    """Whether each EPCI can be compared between two consecutive distinct COG population years
    (on the later perimeter), with the communes that prevent it. One row per EPCI × pair."""
    frame = geography.epci_comparability(cog_communes, cog_epci_membres, cog.cog_pairs(cog_reference_years),
                                         cog.static_population_departements(load_catalogue()))
    context.add_output_metadata(frame_metadata(frame, n_not_comparable=int((~frame["comparable"]).sum())))
    return frame

def _rejections_asset(table: registry.RawTable) -> dg.AssetsDefinition:
    """``core/<raw table>_rejets``: the cells its quarantine rules set aside (one row per rejected cell
    with its rule), for every raw table whose declaration has such rules."""
    rules = [q for q in table.schema.quarantine if q.set_aside is not None]

    @dg.asset(name=f"{table.name}_rejets", key_prefix="core", group_name=GROUP, kinds={"pandas", "duckdb"},
              pool=DUCKDB_POOL, ins={"table": dg.AssetIn(key=["raw", table.name])},
              description=f"Cells of raw.{table.name} set aside by its quarantine rules "
                          f"({', '.join(q.name for q in rules)}), one row per rejected cell with its rule.")
    def _asset(context: dg.AssetExecutionContext, table: pd.DataFrame) -> pd.DataFrame:
        frame = pd.concat([q.set_aside(table) for q in rules], ignore_index=True).drop_duplicates(ignore_index=True)
        context.add_output_metadata(frame_metadata(frame, by_rule=dg.MetadataValue.json(
            frame["rule"].value_counts().to_dict())))
        return frame

    return _asset

REJECTIONS = [_rejections_asset(t) for t in registry.raw_tables().values()
              if any(q.set_aside is not None for q in t.schema.quarantine)]
REJECTION_KEYS = [key for a in REJECTIONS for key in a.keys]

ASSETS = [hierarchie_territoires, cog_reference_years, epci_comparability, *REJECTIONS]
