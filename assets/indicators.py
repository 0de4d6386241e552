"""Indicator layer: one asset per catalogue indicator, grouped by its cohesion dimension.

The assets are generated from the catalogue; each body only gathers its inputs and calls
:func:`barometre.indicators.evaluate`, where the formula lives with the asset keys it reads
(``@indicator``); each also publishes its findings as ``findings/<id>``.

The hierarchy of territories is not loaded into pandas (666,000 rows): a formula that reads
``core/hierarchie_territoires`` gets :class:`barometre.geography.HierarchyTable` on the working
database, so its sums from counts run there in SQL, and the asset declares the table as a dep.
"""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from assets._metadata import frame_metadata
from assets.resources import DUCKDB_POOL
from barometre import geography, indicators
from barometre.catalogue import Indicator, load_catalogue

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

# The input a formula gets as a table of the working database rather than a frame.
HIERARCHY = "core/hierarchie_territoires"


def _indicator_asset(ind: Indicator) -> dg.AssetsDefinition:
    """``indicators/<id>`` (the values) and ``findings/<id>`` (what the formula left out and why, rows
    of mart.quality_report) from one call of the formula, reading the asset keys it registered."""
    formula = indicators.formulas(load_catalogue())[ind.id]
    outs = {"values": dg.AssetOut(key=["indicators", ind.id], group_name=ind.dimension, kinds={"pandas", "duckdb"},
                                  description=describe(ind)),
            "findings": dg.AssetOut(key=["findings", ind.id], group_name=ind.dimension, kinds={"pandas", "duckdb"},
                                    description=f"What the formula of `{ind.id}` left out and why: rows of "
                                                f"mart.quality_report (possibly none).")}
    in_database = {name for name, key in formula.inputs.items() if key == HIERARCHY}
    ins = {name: dg.AssetIn(key=key.split("/")) for name, key in formula.inputs.items() if name not in in_database}
    deps = [dg.AssetKey(HIERARCHY.split("/"))] if in_database else []

    @dg.multi_asset(name=f"indicators__{ind.id}", outs=outs, ins=ins, deps=deps, pool=DUCKDB_POOL, can_subset=False)
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource, **inputs: pd.DataFrame):
        with duckdb.get_connection() as con:  # the run's one connection, the I/O manager's
            tables = {name: geography.HierarchyTable(con) for name in in_database}
            frame, findings = indicators.evaluate(load_catalogue(), ind.id, {**inputs, **tables})
        per_level = frame[frame["value"].notna()].groupby("level")["period"].unique()
        yield dg.Output(frame, output_name="values", metadata=frame_metadata(
            frame, n_missing_values=int(frame["value"].isna().sum()),
            periods_by_level=dg.MetadataValue.json({lvl: sorted(p) for lvl, p in per_level.items()})))
        yield dg.Output(findings, output_name="findings", metadata=frame_metadata(
            findings, by_kind=dg.MetadataValue.json(findings["kind"].value_counts().to_dict())))

    return _asset

ASSETS = [_indicator_asset(ind) for ind in load_catalogue().indicators]
KEYS = [dg.AssetKey(["indicators", ind.id]) for ind in load_catalogue().indicators]
FINDING_KEYS = [dg.AssetKey(["findings", ind.id]) for ind in load_catalogue().indicators]
