"""The heavy mart transforms as DuckDB SQL on the working database (issue 18, docs/scaling.md step 1).

Each function runs on a ``duckdb`` connection, reads tables whose names it is given (``schema.table``,
or ``catalog.schema.table``) and writes one table with ``CREATE OR REPLACE TABLE``; it returns the
row count. The pandas functions of :mod:`barometre.marts` and :mod:`barometre.cohesion` are their
executable specification: tests/unit/test_sql.py and tests/integration/test_sql_marts.py compare
both on synthetic communes and on the snapshot (equal within 1e-9, exactly for ranks and counts).

- :func:`indicator_values`: the rows of the indicator tables that have a value, one
  ``is_reference`` row per (indicator, level, code, geography vintage, period)
  (:func:`barometre.marts.indicator_values`);
- :func:`disparities`: n, min, max, deciles and quartiles (``quantile_cont``: the linear
  interpolation of pandas and numpy), mean, std, cv, Gini, Theil, population-weighted mean and
  the null reasons (:func:`barometre.cohesion.disparities`);
- :func:`rankings`: ``rank()``, the percentile from the count of territories at or above, the metro
  ranks, the France benchmark, the change since the previous period (:func:`barometre.cohesion.rankings`);
- :func:`convergence`: the per-pair statistics (σ; β with ``regr_slope`` / ``regr_r2``, the decile
  growths) in SQL; which periods pair (:func:`barometre.cohesion.period_pairs`), the β p-value, the
  verdict and the headline are computed in Python on the small aggregated table
  (:func:`barometre.cohesion.convergence`).

Column names and DuckDB types of the outputs: :mod:`barometre.contract`.
"""

from __future__ import annotations

import contextlib
import math

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from barometre import cohesion, contract
from barometre.catalogue import Catalogue
from barometre.units import change_kind, is_rate_of_change

_KEY = ["indicator_id", "level", "code", "geography_vintage", "period"]
_SERIES = ["indicator_id", "level", "geography_vintage", "source_id"]
# The set of territories compared together (ranked, summarised) in the marts.
_RANK_KEY = ("indicator_id", "level", "geography_vintage", "period")
# Rows of mart.indicator_values beyond which disparities are computed one indicator at a time.
DISPARITY_BATCH_ROWS = 2_000_000


def _lit(v) -> str:
    """A SQL literal."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "NULL"
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return "'" + str(v).replace("'", "''") + "'"


def _values(columns: dict[str, str], rows: list[tuple]) -> str:
    """``(SELECT …)`` of literal rows with typed columns (``columns``: name → DuckDB type)."""
    names = list(columns)
    if not rows:
        cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in columns.items())
        return f"(SELECT {cols} WHERE false)"
    body = ", ".join("(" + ", ".join(_lit(v) for v in row) + ")" for row in rows)
    cols = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in columns.items())
    return f"(SELECT {cols} FROM (VALUES {body}) AS t({', '.join(names)}))"


def _catalogue(catalogue: Catalogue) -> str:
    return _values({"indicator_id": "VARCHAR", "position": "BIGINT", "unit": "VARCHAR", "polarity": "VARCHAR",
                    "is_rate": "BOOLEAN", "change_kind": "VARCHAR", "sigma_measure": "VARCHAR"},
                   [(i.id, n, i.unit, i.polarity, bool(is_rate_of_change(i.unit)), change_kind(i.unit),
                     cohesion.sigma_measure(i.unit)) for n, i in enumerate(catalogue.indicators)])


@contextlib.contextmanager
def _one_thread(con: duckdb.DuckDBPyConnection):
    """Run the enclosed queries in one DuckDB thread. In parallel, DuckDB adds partial sums of
    doubles in an order that changes from run to run: a mean, a standard deviation or a slope
    then differs in its last bits (about 1e-15 relative) between two runs on the same rows, and so
    do the published rows and their digests (``mart.publication.indicator_digests``). In one
    thread the rows are added in their stored order: the same bits at every run. (Sums ordered by
    code, ``avg(x ORDER BY code)``, give the same guarantee but sort every group once per
    aggregate: 3× the time of ``mart.disparities`` at the commune level.)"""
    (threads,) = con.execute("SELECT current_setting('threads')").fetchall()[0]
    con.execute("SET threads = 1").fetchall()
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(threads)}").fetchall()


def _create(con: duckdb.DuckDBPyConnection, out: str, query: str) -> int:
    con.execute(f"CREATE OR REPLACE TABLE {out} AS {query}").fetchall()
    return con.execute(f"SELECT count(*) FROM {out}").fetchall()[0][0]


def _groups(values: str, by: tuple[str, ...] = _RANK_KEY) -> str:
    """``(SELECT …, _g)``: the distinct ``by`` of the reference rows of the analysed levels of
    ``values``, numbered in their sort order (``_g``). The windows, groupings and sorts of the marts
    run on this integer rather than on four text columns (whose long, often equal prefixes, such as
    ``geography_vintage``, make every comparison fall back to the whole strings); the text columns
    are joined back at the end, and ``ORDER BY _g`` sorts as ``ORDER BY`` the ``by`` columns would."""
    levels = ", ".join(_lit(lvl) for lvl in cohesion.ANALYSED_LEVELS)
    cols = ", ".join(by)
    return f"""(SELECT {cols}, row_number() OVER (ORDER BY {cols}) AS _g FROM (
        SELECT DISTINCT {cols} FROM {values}
        WHERE is_reference AND level IN ({levels}) AND value IS NOT NULL AND NOT isnan(value)))"""


def _same(a: str, b: str, cols) -> str:
    """``a.c IS NOT DISTINCT FROM b.c AND …``: a join on ``cols`` where NULL meets NULL, as a
    ``PARTITION BY`` or ``GROUP BY`` on them groups NULLs together."""
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in cols)


# ---------------------------------------------------------------------------------------------
# mart.indicator_values


def indicator_values_query(catalogue: Catalogue, tables: list[str]) -> str:
    """The query of :func:`indicator_values`: ``tables`` in the catalogue's order of indicators
    (their rows' order breaks the remaining ties, as ``pd.concat`` and a stable sort do)."""
    union = " UNION ALL ".join(
        f"SELECT indicator_id, level, code, geography_vintage, period, period_start, period_end, value, numerator, "
        f"denominator, source_id, derived, {n} AS _frame, rowid AS _row FROM {t}" for n, t in enumerate(tables))
    ranks = _values({"indicator_id": "VARCHAR", "source_id": "VARCHAR", "source_rank": "BIGINT"},
                    [(i.id, s, n) for i in catalogue.indicators for n, s in enumerate(i.sources)])
    cols = contract.columns("indicator_values")
    types = contract.TYPES["indicator_values"]
    select = ", ".join(f"CAST({'g' if c in _RANK_KEY else 'm'}.{c} AS {types[c]}) AS {c}"
                       for c in cols if c != "is_reference")
    key = ", ".join(_RANK_KEY)
    return f"""
    WITH g AS MATERIALIZED (
        SELECT d.*, row_number() OVER (ORDER BY {key}) AS _g,
               dense_rank() OVER (ORDER BY _pos NULLS LAST, level, geography_vintage) AS _a,
               dense_rank() OVER (ORDER BY indicator_id, period) AS _b
        FROM (SELECT DISTINCT {key}, c.position AS _pos
              FROM ({union}) u LEFT JOIN {_catalogue(catalogue)} c USING (indicator_id)
              WHERE u.value IS NOT NULL AND NOT isnan(u.value)) d
    ), v AS (
        SELECT g._g, g._a, g._b, u.* EXCLUDE ({key}), coalesce(r.source_rank, 99) AS _source_rank
        FROM ({union}) u
        JOIN g ON {_same("g", "u", _RANK_KEY)}
        LEFT JOIN {ranks} r ON r.indicator_id = g.indicator_id AND r.source_id = u.source_id
        WHERE u.value IS NOT NULL AND NOT isnan(u.value)
    ), marked AS (
        SELECT *, row_number() OVER (
            PARTITION BY _g, code ORDER BY derived, _source_rank, _frame, _row) = 1 AS is_reference
        FROM v
    )
    SELECT {select}, is_reference
    FROM marked m JOIN g USING (_g)
    ORDER BY m._a, m.code, m.period_start, m.period_end, m.is_reference DESC, m._b, m.derived, m._source_rank,
             m._frame, m._row"""


def indicator_values(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, tables: list[str], out: str) -> int:
    """``mart.indicator_values`` from the indicator tables ``tables`` (one per catalogue indicator,
    in its order) into ``out``; returns its row count."""
    return _create(con, out, indicator_values_query(catalogue, tables))


# ---------------------------------------------------------------------------------------------
# Reference rows and scopes (cohesion.reference_values, cohesion.with_scopes)


def _reference(values: str, scope: str) -> str:
    levels = ", ".join(_lit(lvl) for lvl in cohesion.ANALYSED_LEVELS)
    return f"""ref AS (
        SELECT v.indicator_id, v.level, v.code, v.geography_vintage, v.period, v.period_start, v.period_end,
               CAST(v.value AS DOUBLE) AS value, v.source_id, CAST(s.is_metropolitan AS BOOLEAN) AS is_metropolitan
        FROM {values} v
        LEFT JOIN (SELECT DISTINCT level, code, geography_vintage, is_metropolitan FROM {scope}) s
          ON s.level = v.level AND s.code = v.code AND s.geography_vintage IS NOT DISTINCT FROM v.geography_vintage
        WHERE v.is_reference AND v.level IN ({levels}) AND v.value IS NOT NULL AND NOT isnan(v.value)
    ), scoped AS (
        SELECT *, 'all' AS scope FROM ref
        UNION ALL
        SELECT *, 'metro' AS scope FROM ref WHERE coalesce(is_metropolitan, false)
    )"""


# ---------------------------------------------------------------------------------------------
# mart.disparities


def disparities_query(catalogue: Catalogue, values: str, scope: str, population: str | None) -> str:
    if population is None:
        pop_join, pop_aggs = "", "0 AS n_w, NULL::DOUBLE AS sw, NULL::DOUBLE AS swx, NULL::VARCHAR AS sources"
        pop_levels = "SELECT NULL::VARCHAR AS level WHERE false"
    else:
        pop_join = (f"LEFT JOIN {population} p ON p.level = x.level AND p.code = x.code "
                    f"AND p.year = x.period_start AND p.population IS NOT NULL")
        pop_aggs = ("count(p.population) AS n_w, sum(CAST(p.population AS DOUBLE)) AS sw, "
                    "sum(CAST(p.population AS DOUBLE) * x.value) AS swx, "
                    "string_agg(DISTINCT p.source_id, ',' ORDER BY p.source_id) AS sources")
        pop_levels = f"SELECT DISTINCT level FROM {population}"
    rate_reason = _lit(cohesion.RATE_OF_CHANGE_REASON)
    weighted = ("NULL::DOUBLE", "NULL::VARCHAR", _lit("no population table")) if population is None else (
        "CASE WHEN complete THEN swx / sw END",
        "CASE WHEN complete THEN 'population at 1 January ' || period_start || ': ' || coalesce(sources, '') END",
        "CASE WHEN complete THEN NULL WHEN level NOT IN (SELECT level FROM pop_levels) "
        "THEN 'no population on this mesh in the pipeline' "
        "ELSE (n - n_w) || ' of ' || n || ' territories without a population at 1 January ' || period_start END")
    select = contract.select_list("disparities")
    return f"""
    WITH {_reference(values, scope)},
    g AS MATERIALIZED {_groups(values, _RANK_KEY)},
    x AS (
        SELECT g._g, v.scope, v.level, v.code, v.period_start, v.period_end, v.value,
               row_number() OVER (PARTITION BY g._g, v.scope ORDER BY v.value) AS _rank,
               v.value / avg(v.value) OVER (PARTITION BY g._g, v.scope) AS _share
        FROM scoped v JOIN g ON {_same("g", "v", _RANK_KEY)}
    ), pop_levels AS ({pop_levels}),
    agg0 AS (
        SELECT x._g, x.scope, first(x.period_start) AS period_start, first(x.period_end) AS period_end,
               count(*) AS n, min(x.value) AS min, max(x.value) AS max, avg(x.value) AS mean,
               stddev_pop(x.value) AS _std,
               quantile_cont(x.value, [0.1, 0.25, 0.5, 0.75, 0.9]) AS _q,
               sum(x._rank * x.value) AS _ix,
               sum(CASE WHEN x._share > 0 THEN x._share * ln(x._share) END) AS _theil,
               count(*) FILTER (WHERE x.value <= 0) AS _nonpos,
               {pop_aggs}
        FROM x {pop_join}
        GROUP BY x._g, x.scope
    ), agg AS (
        SELECT g.indicator_id, g.level, agg0.scope, g.geography_vintage, g.period, agg0.* EXCLUDE (_g, scope)
        FROM agg0 JOIN g USING (_g)
    ), s AS (
        SELECT agg.*, coalesce(c.is_rate, false) AS _rate,
               _q[1] AS d1, _q[2] AS q1, _q[3] AS median, _q[4] AS q3, _q[5] AS d9,
               (n_w = n AND sw > 0) AS complete
        FROM agg LEFT JOIN {_catalogue(catalogue)} c USING (indicator_id)
    ), r AS (
        SELECT *,
               CASE WHEN n < 2 THEN 'fewer than 2 territories' WHEN _rate THEN {rate_reason}
                    WHEN _nonpos > 0 THEN _nonpos || ' of ' || n
                         || ' values ≤ 0: defined for strictly positive quantities only' END AS gini_theil_null_reason
        FROM s
    )
    SELECT {select} FROM (
        SELECT *, max - min AS range,
               CASE WHEN NOT _rate AND min > 0 THEN max / min END AS max_min_ratio,
               CASE WHEN NOT _rate AND d1 > 0 THEN d9 / d1 END AS d9_d1,
               CASE WHEN n >= 2 THEN _std END AS std,
               CASE WHEN NOT _rate AND n >= 2 AND mean > 0 THEN _std / mean END AS cv,
               CASE WHEN gini_theil_null_reason IS NULL
                    THEN 2 * _ix / (n * (mean * n)) - CAST(n + 1 AS DOUBLE) / n END AS gini,
               CASE WHEN gini_theil_null_reason IS NULL THEN _theil / n END AS theil,
               {weighted[0]} AS weighted_mean, {weighted[1]} AS weight_source,
               {weighted[2]} AS weighted_mean_null_reason,
               CASE WHEN _rate THEN {_lit(cohesion.RATE_OF_CHANGE_REASON + ": no cv, d9_d1 or max_min_ratio")}
                    ELSE nullif(concat_ws('; ',
                        CASE WHEN n < 2 THEN 'cv: fewer than 2 territories' END,
                        CASE WHEN n >= 2 AND NOT (mean > 0) THEN 'cv: mean ≤ 0' END,
                        CASE WHEN NOT (d1 > 0) THEN 'd9_d1: d1 ≤ 0' END,
                        CASE WHEN NOT (min > 0) THEN 'max_min_ratio: min ≤ 0' END), '') END AS ratio_null_reason
        FROM r)
    ORDER BY indicator_id, level, scope, geography_vintage, period_end, period_start, period"""


def disparities(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, values: str, scope: str,
                population: str | None, out: str, *, batch_rows: int = DISPARITY_BATCH_ROWS) -> int:
    """``mart.disparities`` from ``values`` (``mart.indicator_values``), ``scope``
    (``core.territory_scope``) and ``population`` (``core.territory_population``; ``None`` or an
    empty table: no weighted mean) into ``out``; returns its row count. Beyond ``batch_rows`` rows
    of ``values``, one indicator at a time (the same rows, in the same order)."""
    with _one_thread(con):  # the same bits at every run
        return _disparities(con, catalogue, values, scope, population, out, batch_rows)


def _disparities(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, values: str, scope: str,
                 population: str | None, out: str, batch_rows: int) -> int:
    if population is not None and con.execute(f"SELECT count(*) FROM {population}").fetchall()[0][0] == 0:
        population = None
    n = con.execute(f"SELECT count(*) FROM {values}").fetchall()[0][0]
    if n <= batch_rows:
        return _create(con, out, disparities_query(catalogue, values, scope, population))
    # One indicator at a time (its rows are independent of the others'), appended in the order of
    # the final sort (indicator_id first): the same rows in the same order as one query, whose
    # window and quantiles over every row (two scopes) exceed DuckDB's memory limit at 30 periods of
    # the communes (Out of Memory with 1 GB).
    ids = [r[0] for r in con.execute(f"SELECT DISTINCT indicator_id FROM {values} ORDER BY indicator_id").fetchall()]
    for k, ind in enumerate(ids):
        part = (f"(SELECT * FROM {values} WHERE indicator_id IS NULL)" if ind is None
                else f"(SELECT * FROM {values} WHERE indicator_id = {_lit(ind)})")
        query = disparities_query(catalogue, part, scope, population)
        if k == 0:
            con.execute(f"CREATE OR REPLACE TABLE {out} AS {query}").fetchall()
        else:
            con.execute(f"INSERT INTO {out} {query}").fetchall()
    return con.execute(f"SELECT count(*) FROM {out}").fetchall()[0][0]


# ---------------------------------------------------------------------------------------------
# Periods of each series (small: computed in Python)


def _series_periods(con: duckdb.DuckDBPyConnection, values: str, scope: str, by: list[str]) -> pd.DataFrame:
    cols = ", ".join(by)
    return con.execute(f"""WITH {_reference(values, scope)}
        SELECT DISTINCT {cols}, period, period_start, period_end FROM ref ORDER BY ALL""").df()


def _previous_periods(con: duckdb.DuckDBPyConnection, values: str, scope: str) -> list[tuple]:
    by = ["indicator_id", "level", "geography_vintage"]
    periods = _series_periods(con, values, scope, by)
    rows = []
    for key, series in periods.groupby(by, sort=False, dropna=False):
        for period, before in cohesion.previous_periods(series).items():
            rows.append((*[None if pd.isna(k) else k for k in key], period, before))
    return rows


# ---------------------------------------------------------------------------------------------
# mart.rankings


def rankings_query(catalogue: Catalogue, values: str, scope: str, previous: list[tuple]) -> str:
    """The query of :func:`rankings`. The windows run on a small integer key per set of
    territories ranked together (:func:`_groups`: indicator, level, geography vintage, period),
    over narrow rows (key, code, value, sort key, metropolitan); the previous period's value is
    found through the key of the previous period, and the text columns, the France benchmark and
    the previous period are joined back per key, at the end."""
    bench = ", ".join(_lit(c) for c in cohesion.FRANCE_BENCHMARK)
    pref = " ".join(f"WHEN {_lit(c)} THEN {n}" for n, c in enumerate(cohesion.FRANCE_BENCHMARK))
    prev = _values({"indicator_id": "VARCHAR", "level": "VARCHAR", "geography_vintage": "VARCHAR",
                    "period": "VARCHAR", "previous_period": "VARCHAR"}, previous)
    select = contract.select_list("rankings")
    return f"""
    WITH {_reference(values, scope)},
    fr AS (
        SELECT indicator_id, period, code AS france_code, CAST(value AS DOUBLE) AS france_value
        FROM {values}
        WHERE is_reference AND level = 'france' AND value IS NOT NULL AND NOT isnan(value) AND code IN ({bench})
        QUALIFY row_number() OVER (PARTITION BY indicator_id, period ORDER BY CASE code {pref} END) = 1
    ), prev AS {prev},
    g0 AS MATERIALIZED {_groups(values, _RANK_KEY)},
    g AS MATERIALIZED (
        SELECT g0.*, c.polarity, fr.france_code, fr.france_value, p.previous_period, gp._g AS _gp
        FROM g0
        LEFT JOIN {_catalogue(catalogue)} c ON c.indicator_id = g0.indicator_id
        LEFT JOIN fr ON fr.indicator_id = g0.indicator_id AND fr.period = g0.period
        LEFT JOIN prev p ON p.indicator_id = g0.indicator_id AND p.level = g0.level
             AND p.geography_vintage IS NOT DISTINCT FROM g0.geography_vintage AND p.period = g0.period
        LEFT JOIN g0 gp ON gp.indicator_id = g0.indicator_id AND gp.level = g0.level
             AND gp.geography_vintage IS NOT DISTINCT FROM g0.geography_vintage AND gp.period = p.previous_period
    ), k AS MATERIALIZED (
        SELECT g._g, ref.code, ref.value, CASE WHEN g.polarity = '-' THEN ref.value ELSE -ref.value END AS _key,
               coalesce(ref.is_metropolitan, false) AS _metro
        FROM ref JOIN g ON {_same("g", "ref", _RANK_KEY)}
    ), r AS (
        SELECT _g, code, value, rank() OVER (PARTITION BY _g ORDER BY _key) AS rank,
               count(*) OVER (PARTITION BY _g) AS rank_of,
               count(*) OVER (PARTITION BY _g ORDER BY _key RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                   AS _rank_max,
               CASE WHEN _metro THEN rank() OVER (PARTITION BY _g, _metro ORDER BY _key) END AS rank_metro,
               CASE WHEN _metro THEN count(*) OVER (PARTITION BY _g, _metro) END AS rank_of_metro
        FROM k
    )
    SELECT {select} FROM (
        SELECT g.indicator_id, g.level, g.geography_vintage, g.period, r.code, r.value, r.rank, r.rank_of,
               CASE WHEN r.rank_of > 1 THEN 100 * CAST(r.rank_of - r._rank_max AS DOUBLE) / (r.rank_of - 1) END
                   AS percentile,
               r.rank_metro, r.rank_of_metro,
               CASE g.polarity WHEN '+' THEN 'higher is better' WHEN '-' THEN 'lower is better'
                    WHEN '0' THEN 'value descending (polarity 0: no better direction)' END AS rank_order,
               g.france_code, g.france_value, r.value - g.france_value AS gap_to_france,
               CASE WHEN b.value IS NOT NULL THEN g.previous_period END AS previous_period,
               r.value - b.value AS change_since_previous_period, r._g
        FROM r JOIN g USING (_g)
        LEFT JOIN k b ON b._g = g._gp AND b.code = r.code)
    ORDER BY _g, rank, code"""


def rankings(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, values: str, scope: str, out: str) -> int:
    """``mart.rankings`` from ``values`` (``mart.indicator_values``: its reference rows of the
    analysed levels, and of level ``france`` for the benchmark) and ``scope`` into ``out``."""
    previous = _previous_periods(con, values, scope)
    return _create(con, out, rankings_query(catalogue, values, scope, previous))


def ranking_ends(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    """The rows of rank 1 and of the last rank of each set of a rankings table: all that
    :func:`barometre.cohesion.ranking_headlines` reads, without loading the whole table."""
    return con.execute(f"""SELECT * FROM {table} QUALIFY rank = 1 OR rank = max(rank) OVER (
                               PARTITION BY indicator_id, level, geography_vintage, period)""").df()


# ---------------------------------------------------------------------------------------------
# mart.convergence


def _pairs(con: duckdb.DuckDBPyConnection, values: str, scope: str) -> list[tuple]:
    """(series…, period_from, period_to, comparison, years, from_start, to_start, to_end) of every
    series, as :func:`barometre.cohesion.convergence` pairs them."""
    periods = _series_periods(con, values, scope, _SERIES)
    rows = []
    for key, series in periods.groupby(_SERIES, sort=False, dropna=False):
        pairs = [(a, b, "consecutive") for a, b in cohesion.period_pairs(series)]
        ends = cohesion.first_last(series)
        if ends and ends not in {(a, b) for a, b, _ in pairs}:
            pairs.append((*ends, "first_last"))
        years_of = series.drop_duplicates("period").set_index("period")[["period_start", "period_end"]]
        key = [None if pd.isna(k) else k for k in key]
        for p0, p1, comparison in pairs:
            years = cohesion._midpoint(*years_of.loc[p1]) - cohesion._midpoint(*years_of.loc[p0])
            rows.append((*key, p0, p1, comparison, float(years), int(years_of.loc[p0, "period_start"]),
                         int(years_of.loc[p1, "period_start"]), int(years_of.loc[p1, "period_end"])))
    return rows


def convergence_stats_query(catalogue: Catalogue, values: str, scope: str, pairs: list[tuple]) -> str:
    """One row per (series, scope, pair) with at least 2 common territories: every column of
    ``mart.convergence`` but ``beta_pvalue``, ``beta_convergence``, ``verdict``, ``is_headline``
    (and ``_r2``, the β fit's r²; ``_from_start``, ``_to_start``, ``_to_end``, the pair's years).
    Each pair gets a number (``_pair``): the territories of both periods are joined once, then
    aggregated per pair and scope (the deciles of the initial values first, for the decile growths)."""
    pairs_sql = _values({"_pair": "BIGINT", "indicator_id": "VARCHAR", "level": "VARCHAR",
                         "geography_vintage": "VARCHAR", "source_id": "VARCHAR", "period_from": "VARCHAR",
                         "period_to": "VARCHAR", "comparison": "VARCHAR", "years": "DOUBLE", "_from_start": "BIGINT",
                         "_to_start": "BIGINT", "_to_end": "BIGINT"},
                        [(n, *row) for n, row in enumerate(pairs)])
    return f"""
    WITH {_reference(values, scope)},
    p AS MATERIALIZED (
        SELECT p.*, c.change_kind, c.sigma_measure, c.change_kind = 'log_growth' AS _log
        FROM {pairs_sql} p JOIN {_catalogue(catalogue)} c ON c.indicator_id = p.indicator_id
    ), j AS MATERIALIZED (
        SELECT p._pair, a.scope, a.value AS x0, b.value AS x1
        FROM p
        JOIN scoped a ON a.indicator_id = p.indicator_id AND a.level = p.level
             AND a.geography_vintage IS NOT DISTINCT FROM p.geography_vintage
             AND a.source_id IS NOT DISTINCT FROM p.source_id AND a.period = p.period_from
        JOIN scoped b ON b.indicator_id = a.indicator_id AND b.level = a.level
             AND b.geography_vintage IS NOT DISTINCT FROM a.geography_vintage
             AND b.source_id IS NOT DISTINCT FROM a.source_id AND b.period = p.period_to
             AND b.scope = a.scope AND b.code = a.code
    ), g AS (
        SELECT _pair, scope, count(*) AS n_common, count(*) FILTER (WHERE x0 <= 0 OR x1 <= 0) AS _nonpos,
               quantile_cont(x0, [0.1, 0.9]) AS _q
        FROM j GROUP BY _pair, scope HAVING count(*) >= 2
    ), y AS (
        SELECT j._pair, j.scope, x0, x1, g._q[1] AS _d1, g._q[2] AS _d9,
               CASE WHEN NOT p.years > 0 THEN NULL
                    WHEN p._log AND g._nonpos = 0 THEN 100 * ln(x1 / x0) / p.years
                    WHEN NOT p._log THEN (x1 - x0) / p.years END AS _change,
               CASE WHEN NOT p.years > 0 THEN NULL
                    WHEN p._log AND g._nonpos = 0 THEN ln(x0)
                    WHEN NOT p._log THEN x0 END AS _initial
        FROM j JOIN g USING (_pair, scope) JOIN p USING (_pair)
    ), a AS (
        SELECT _pair, scope, avg(x0) AS mean_from, avg(x1) AS mean_to,
               stddev_pop(x0) AS std_from, stddev_pop(x1) AS std_to,
               avg(_change) AS _mean_change, regr_slope(_change, _initial) AS _slope,
               regr_r2(_change, _initial) AS _r2, var_pop(_change) AS _var_change,
               max(_initial) - min(_initial) AS _ptp,
               avg(x0) FILTER (WHERE x0 <= _d1) AS _b0, avg(x1) FILTER (WHERE x0 <= _d1) AS _b1,
               avg(x0) FILTER (WHERE x0 >= _d9) AS _t0, avg(x1) FILTER (WHERE x0 >= _d9) AS _t1
        FROM y GROUP BY _pair, scope
    ), b AS (
        SELECT p.*, g.scope, g.n_common, g._nonpos, a.* EXCLUDE (_pair, scope),
               CASE WHEN p.sigma_measure = 'cv' AND a.mean_from > 0 THEN a.std_from / a.mean_from END AS cv_from,
               CASE WHEN p.sigma_measure = 'cv' AND a.mean_to > 0 THEN a.std_to / a.mean_to END AS cv_to,
               CASE WHEN NOT p.years > 0 THEN 'periods do not follow each other'
                    WHEN p._log AND g._nonpos > 0 THEN 'values ≤ 0: no log growth'
                    WHEN g.n_common < 3 THEN 'fewer than 3 territories'
                    WHEN a._ptp = 0 THEN 'every territory has the same initial value' END AS beta_null_reason,
               p.years > 0 AND (NOT p._log OR g._nonpos = 0) AS _growth
        FROM g JOIN a USING (_pair, scope) JOIN p USING (_pair)
    )
    SELECT indicator_id, level, scope, geography_vintage, source_id, period_from, period_to, comparison, years,
           change_kind, n_common, mean_from, mean_to, std_from, std_to, cv_from, cv_to, sigma_measure,
           CASE WHEN sigma_measure = 'cv' THEN
                    CASE WHEN cv_from IS NOT NULL AND cv_to IS NOT NULL THEN cv_to < cv_from END
                ELSE std_to < std_from END AS sigma_convergence,
           CASE WHEN beta_null_reason IS NULL THEN _slope END AS beta,
           CASE WHEN _growth THEN _mean_change END AS mean_annual_change,
           CASE WHEN _growth AND _log THEN 100 * ln(_b1 / _b0) / years END AS bottom_decile_growth,
           CASE WHEN _growth AND _log THEN 100 * ln(_t1 / _t0) / years END AS top_decile_growth,
           beta_null_reason,
           CASE WHEN beta_null_reason IS NULL AND _var_change > 0 THEN _r2 END AS _r2,
           _from_start, _to_start, _to_end
    FROM b"""


def _beta_pvalue(beta: float, r2: float, n: int) -> float:
    """The two-sided p-value of the β slope, as :func:`scipy.stats.linregress` computes it from
    r (the sign of the slope, √r²) with n − 2 degrees of freedom."""
    if math.isnan(beta) or math.isnan(r2):
        return math.nan
    r = min(1.0, math.sqrt(max(r2, 0.0))) * (1.0 if beta >= 0 else -1.0)
    df = n - 2
    tiny = 1.0e-20
    t = r * math.sqrt(df / ((1.0 - r + tiny) * (1.0 + r + tiny)))
    return float(2 * stats.t.sf(abs(t), df))


def convergence_frame(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, values: str, scope: str) -> pd.DataFrame:
    """``mart.convergence`` as a frame: the per-pair statistics in SQL, then the p-value, the
    verdict and the headline in Python on the aggregated rows (one per pair)."""
    pairs = _pairs(con, values, scope)
    with _one_thread(con):  # the same bits at every run
        stats_ = con.execute(convergence_stats_query(catalogue, values, scope, pairs)).df()
    for c in ["beta", "_r2", "mean_from", "mean_to", "std_from", "std_to", "cv_from", "cv_to", "mean_annual_change",
              "bottom_decile_growth", "top_decile_growth", "years"]:
        stats_[c] = stats_[c].astype(float)
    stats_["beta_pvalue"] = [_beta_pvalue(b, r2, n)
                             for b, r2, n in zip(stats_["beta"], stats_["_r2"], stats_["n_common"])]
    stats_["beta_r2"] = stats_["_r2"]
    # scipy gives no r (NaN) when the change does not vary, hence no p-value, yet a slope of 0.
    conv = stats_["beta"].notna() & stats_["beta_pvalue"].notna()
    stats_["beta_convergence"] = pd.array(
        [bool(b < 0 and p < cohesion.BETA_SIGNIFICANCE) if ok else (False if pd.notna(b) else None)
         for b, p, ok in zip(stats_["beta"], stats_["beta_pvalue"], conv)], dtype="boolean")
    stats_["sigma_convergence"] = stats_["sigma_convergence"].astype("boolean")
    stats_["n_common"] = stats_["n_common"].astype("int64")
    stats_["verdict"] = [cohesion.verdict(s, b) for s, b in zip(stats_["sigma_convergence"], stats_["beta_convergence"])]
    stats_["is_headline"] = cohesion.headline_comparisons(stats_, catalogue)
    out = stats_[contract.columns("convergence")]
    return out.sort_values(["indicator_id", "level", "scope", "geography_vintage", "source_id", "comparison",
                            "period_from", "period_to"]).reset_index(drop=True)


def convergence(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, values: str, scope: str, out: str) -> int:
    """``mart.convergence`` from ``values`` and ``scope`` into ``out``; returns its row count."""
    return write_frame(con, "convergence", convergence_frame(con, catalogue, values, scope), out)


def write_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, out: str) -> int:
    """Write ``frame`` (the columns of mart ``table``) into ``out`` with the contract's types."""
    select = contract.select_list(table)
    con.register("_sql_frame", frame)
    try:
        return _create(con, out, f"SELECT {select} FROM _sql_frame")
    finally:
        con.unregister("_sql_frame")


# ---------------------------------------------------------------------------------------------
# Aggregations from counts (geography.sum_to_parents, indicators.aggregate_counts)


def sum_to_parents_query(counts: str, hierarchy: str, child_level: str, parent_level: str, vintage: str, *,
                         by: tuple[str, ...] = (), parents: tuple[str, ...] | None = None,
                         keys: tuple[str, ...] = ("period", "period_start", "period_end"),
                         columns: dict[str, str] | None = None) -> str:
    """Σ numerator and Σ denominator of the ``child_level`` rows of ``counts`` (``code``, ``by``,
    ``keys``, ``numerator``, ``denominator``) into each parent of ``parent_level`` in the hierarchy
    of ``vintage`` (``core.hierarchie_territoires``), only where every child of the parent has both
    counts (:func:`barometre.geography.sum_to_parents`, per value of ``by``, e.g. ``indicator_id``).
    ``parents`` restricts the parents (``("FRM", "FRMD")``); ``columns``: the summed columns and
    the type of their sums (default: numerator and denominator, their sums' own types)."""
    only = f" AND parent_code IN ({', '.join(_lit(p) for p in parents)})" if parents is not None else ""
    columns = columns or {"numerator": "", "denominator": ""}
    group = ", ".join([*(f"c.{b}" for b in by), *(f"c.{k}" for k in keys)])
    sums = ", ".join(f"CAST(sum(c.{c}) AS {t}) AS {c}" if t else f"sum(c.{c}) AS {c}" for c, t in columns.items())
    present = " AND ".join(f"c.{c} IS NOT NULL AND NOT isnan(c.{c})" for c in columns)
    return f"""
    WITH rel AS (
        SELECT DISTINCT child_code, parent_code FROM {hierarchy}
        WHERE child_level = {_lit(child_level)} AND parent_level = {_lit(parent_level)}
          AND geography_vintage = {_lit(vintage)}{only}
    ), n AS (SELECT parent_code, count(DISTINCT child_code) AS n_children FROM rel GROUP BY parent_code),
    agg AS (
        SELECT rel.parent_code AS code{", " + group if group else ""}, {sums}, count(DISTINCT c.code) AS _n
        FROM {counts} c JOIN rel ON rel.child_code = c.code
        WHERE {present}
        GROUP BY ALL
    )
    SELECT agg.* EXCLUDE (_n) FROM agg JOIN n ON n.parent_code = agg.code WHERE agg._n = n.n_children"""
