"""Core layer: reference tables derived from the raw sources, stored as ``core.<name>``."""

import dagster as dg
import pandas as pd

from assets._metadata import frame_metadata
from assets.resources import DUCKDB_POOL
from barometre import geography
from barometre.catalogue import load_catalogue
from barometre.sources import cog, filosofi

GROUP = "core"

@dg.asset(key_prefix="core", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"cog_departements": dg.AssetIn(key=["raw", "cog_departements"])})
def departement_region(context: dg.AssetExecutionContext, cog_departements: pd.DataFrame) -> pd.DataFrame:
    """The 101 départements and their région (latest COG release), one row per département."""
    latest = cog_departements[cog_departements["cog_vintage"] == cog_departements["cog_vintage"].max()]
    mapping = geography.region_of_departement(latest)
    frame = pd.DataFrame({"code_departement": list(mapping), "code_region": list(mapping.values())})
    context.add_output_metadata(frame_metadata(frame))
    return frame

@dg.asset(key_prefix="core", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"cog_communes": dg.AssetIn(key=["raw", "cog_communes"])})
def cog_reference_years(context: dg.AssetExecutionContext, cog_communes: pd.DataFrame) -> pd.DataFrame:
    """Reference year of the populations of each COG release, dated by a witness commune against
    INSEE's populations légales; ``repeats_vintage`` marks a release that repeats the previous
    one's populations (left out of growth series). One row per release."""
    witness = load_catalogue().source(cog.SOURCE_ID).extra["population_witness"]
    frame = cog.reference_years(cog_communes, witness["commune"], witness["populations_legales"])
    context.add_output_metadata(frame_metadata(frame))
    return frame

@dg.asset(key_prefix="core", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"cog_communes": dg.AssetIn(key=["raw", "cog_communes"]),
               "cog_epci_membres": dg.AssetIn(key=["raw", "cog_epci_membres"]),
               "cog_reference_years": dg.AssetIn(key=["core", "cog_reference_years"])})
def epci_comparability(context: dg.AssetExecutionContext, cog_communes: pd.DataFrame, cog_epci_membres: pd.DataFrame,
                       cog_reference_years: pd.DataFrame) -> pd.DataFrame:
    """Whether each EPCI can be compared between two consecutive distinct COG population years
    (on the later perimeter), with the communes that prevent it. One row per EPCI × pair."""
    frame = geography.epci_comparability(cog_communes, cog_epci_membres, cog.cog_pairs(cog_reference_years),
                                         cog.static_population_departements(load_catalogue()))
    context.add_output_metadata(frame_metadata(frame, n_not_comparable=int((~frame["comparable"]).sum())))
    return frame

@dg.asset(key_prefix="core", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"filosofi_departement": dg.AssetIn(key=["raw", "filosofi_departement"])})
def filosofi_rejections(context: dg.AssetExecutionContext, filosofi_departement: pd.DataFrame) -> pd.DataFrame:
    """Filosofi medians set aside (not INSEE medians), one row per rejected cell with its rule."""
    frame = filosofi.median_rejections(filosofi_departement, "insee_filosofi_departement")
    context.add_output_metadata(frame_metadata(frame, by_rule=dg.MetadataValue.json(
        frame["rule"].value_counts().to_dict())))
    return frame

ASSETS = [departement_region, cog_reference_years, epci_comparability, filosofi_rejections]
