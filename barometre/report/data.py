"""What the report shows, read from the *published* DuckDB file only (opened read-only).

:func:`load` runs a handful of queries on ``mart.*`` and returns a :class:`Published` holding
plain pandas frames; the pages are built from it without going back to the database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb
import pandas as pd

from barometre import duckdb_config, warehouse

# Preference between France perimeters for the figure shown on the home page, when their latest
# periods are the same (the cohesion marts' benchmark order, then France entière).
FRANCE_PREFERENCE = ("FRMD", "FRM", "FR")
# The level whose convergence verdict is shown on the home page: the finest with a verdict.
VERDICT_LEVELS = ("departement", "zone_emploi", "epci", "region")


@dataclass
class Published:
    publication: dict
    dimensions: pd.DataFrame
    indicators: pd.DataFrame
    sources: pd.DataFrame
    values: pd.DataFrame  # reference rows of every level but france, with the territory's name
    france: pd.DataFrame  # mart.france_summary
    disparities: pd.DataFrame
    convergence: pd.DataFrame
    rankings: pd.DataFrame  # régions and départements, with names
    quality: pd.DataFrame  # mart.quality_report


def _df(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def load(published_db: str | os.PathLike) -> Published:
    """Read everything the report needs from the published file, read-only."""
    con = duckdb_config.connect(published_db, read_only=True)
    try:
        return Published(
            publication=warehouse.read_publication(con),
            dimensions=_df(con, "SELECT * FROM mart.dimensions ORDER BY position"),
            indicators=_df(con, "SELECT * FROM mart.indicators ORDER BY position"),
            sources=_df(con, """
                SELECT source_id, any_value(producer) AS producer, any_value(title) AS title, any_value(url) AS url,
                       any_value(licence) AS licence, max(retrieved_at) AS retrieved_at, count(*) AS n_files
                FROM mart.sources GROUP BY source_id ORDER BY source_id"""),
            values=_df(con, """
                SELECT v.indicator_id, v.level, v.code, t.name, v.geography_vintage, v.period, v.period_start,
                       v.period_end, v.value, v.source_id, v.derived
                FROM mart.indicator_values v
                LEFT JOIN mart.territories t USING (level, code, geography_vintage)
                WHERE v.is_reference AND v.level <> 'france'
                ORDER BY v.indicator_id, v.level, v.geography_vintage, v.period_end, v.period_start, v.code"""),
            france=_df(con, "SELECT * FROM mart.france_summary ORDER BY indicator_id, code, period_end, period_start"),
            disparities=_df(con, "SELECT * FROM mart.disparities ORDER BY indicator_id, level, scope, period_end, "
                                 "period_start"),
            convergence=_df(con, "SELECT * FROM mart.convergence ORDER BY indicator_id, level, scope, comparison, "
                                 "period_from, period_to"),
            rankings=_df(con, """
                SELECT r.*, t.name FROM mart.rankings r
                LEFT JOIN mart.territories t USING (level, code, geography_vintage)
                WHERE r.level IN ('region', 'departement')
                ORDER BY r.indicator_id, r.level, r.period, r.rank, r.code"""),
            quality=_df(con, "SELECT * FROM mart.quality_report ORDER BY indicator_id, kind, level, code, period"),
        )
    finally:
        con.close()


def by_indicator(pub: Published) -> dict[str, Published]:
    """The same frames split by indicator (each page reads its own rows only)."""
    def split(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {k: g for k, g in frame.groupby("indicator_id", sort=False)}

    parts = {name: split(getattr(pub, name))
             for name in ("values", "france", "disparities", "convergence", "rankings", "quality")}
    out = {}
    for ind in pub.indicators["indicator_id"]:
        frames = {name: parts[name].get(ind, getattr(pub, name).iloc[0:0]) for name in parts}
        out[ind] = Published(publication=pub.publication, dimensions=pub.dimensions, indicators=pub.indicators,
                             sources=pub.sources, **frames)
    return out


def main_france(france: pd.DataFrame) -> pd.Series | None:
    """The latest France value of one indicator's ``france_summary`` rows: the perimeter with the
    most recent period, FRMD before FRM before FR on a tie. None when there is no France value."""
    latest = france[france["is_latest"]]
    if latest.empty:
        return None
    rank = latest["code"].map({c: i for i, c in enumerate(FRANCE_PREFERENCE)}).fillna(len(FRANCE_PREFERENCE))
    best = latest.assign(_rank=rank).sort_values(["period_end", "period_start", "_rank"],
                                                 ascending=[False, False, True])
    return best.iloc[0]


def headlines(convergence: pd.DataFrame) -> pd.DataFrame:
    """The headline comparisons (``is_headline``: one per indicator × level × scope, chosen by
    the pipeline, docs/methodology.md) of some ``mart.convergence`` rows."""
    return convergence[convergence["is_headline"].fillna(False).astype(bool)]


def digests(published_db: str | os.PathLike) -> dict:
    """Digests of the published rows, for the incremental report: ``{"indicators": {indicator_id:
    digest of its rows}, "shared": digest of the tables every page shows}``, as the publication
    recorded them in ``mart.publication`` (``indicator_digests``, ``shared_digest``:
    :func:`barometre.warehouse.row_digests`). A file published before schema version 4 has no
    such columns: they are then computed from its rows, the same way."""
    con = duckdb_config.connect(published_db, read_only=True)
    try:
        pub = warehouse.read_publication(con)
        if "indicator_digests" in pub:
            indicators, shared = pub["indicator_digests"] or {}, pub["shared_digest"]
        else:
            indicators, shared = warehouse.row_digests(con)
    finally:
        con.close()
    return {"indicators": dict(indicators), "shared": shared or ""}
