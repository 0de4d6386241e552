"""Indicator layer: one asset per catalogue indicator, grouped by its cohesion dimension.

The assets are generated from the catalogue; each body only gathers its inputs and calls
:func:`barometre.indicators.compute`, where the formula lives.
"""

import dagster as dg
import pandas as pd

from assets._metadata import frame_metadata
from assets.resources import DUCKDB_POOL
from barometre import indicators
from barometre.catalogue import Indicator, load_catalogue

# Input name used by barometre.indicators → asset key it is read from.
INPUT_KEYS = {
    "cget": ["raw", "cget_barometre_2018"],
    "filosofi": ["raw", "filosofi_departement"],
    "filosofi_rejections": ["core", "filosofi_rejections"],
    "chomage": ["raw", "chomage_departement"],
    "population": ["raw", "population_departement"],
    "naissances": ["raw", "naissances_departement"],
    "deces": ["raw", "deces_departement"],
    "medecins": ["raw", "medecins_departement"],
    "diplomes": ["raw", "diplomes_departement"],
    "elections": ["raw", "presidentielle_t1_departement"],
    "cog_communes": ["raw", "cog_communes"],
    "cog_epci_members": ["raw", "cog_epci_membres"],
    "cog_references": ["core", "cog_reference_years"],
    "epci_comparability": ["core", "epci_comparability"],
    "hierarchy": ["core", "hierarchie_territoires"],
}

def describe(ind: Indicator) -> str:
    """The UI description of an indicator asset: definition, unit, sources, levels and periods."""
    catalogue = load_catalogue()
    polarity = {"+": "higher is better", "-": "lower is better", "0": "contextual (no better direction)"}[ind.polarity]
    lines = [
        f"**{ind.name}** — one row per level × territory × period × source.",
        "",
        ind.definition,
        "",
        f"- Dimension: {catalogue.dimension(ind.dimension).name}",
        f"- Unit: {ind.unit}; polarity {ind.polarity} ({polarity})",
        "- Sources: " + "; ".join(f"`{s}` ({catalogue.source(s).producer})" for s in ind.sources),
        "- Levels and periods: " + "; ".join(f"{lvl} {', '.join(p)}" for lvl, p in ind.periods.items()),
    ]
    return "\n".join(lines)

def _indicator_asset(ind: Indicator) -> dg.AssetsDefinition:
    names = indicators.inputs_of(ind.id)

    @dg.asset(name=ind.id, key_prefix="indicators", group_name=ind.dimension, kinds={"pandas", "duckdb"},
              pool=DUCKDB_POOL, description=describe(ind), ins={n: dg.AssetIn(key=INPUT_KEYS[n]) for n in names})
    def _asset(context: dg.AssetExecutionContext, **inputs: pd.DataFrame) -> pd.DataFrame:
        frame = indicators.compute(load_catalogue(), ind.id, inputs)
        per_level = frame[frame["value"].notna()].groupby("level")["period"].unique()
        context.add_output_metadata(frame_metadata(
            frame, n_missing_values=int(frame["value"].isna().sum()),
            periods_by_level=dg.MetadataValue.json({lvl: sorted(p) for lvl, p in per_level.items()})))
        return frame

    return _asset

ASSETS = [_indicator_asset(ind) for ind in load_catalogue().indicators]
KEYS = [dg.AssetKey(["indicators", ind.id]) for ind in load_catalogue().indicators]
