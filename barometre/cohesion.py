"""Cohesion analytics: do French territories converge or drift apart?

Pure functions (pandas, numpy, scipy) from the reference rows of ``mart.indicator_values`` to
five published tables: ``disparities`` (dispersion between the territories of a level),
``convergence`` (σ and β convergence between consecutive periods, the verdict of each comparison
and the headline one per indicator × level × scope, which the report and the UI only render),
``rankings``,
``dimension_scores`` (z-scores averaged per cohesion dimension) and ``france_summary`` (France
values, changes and a French headline sentence). Every method, and when a statistic is left
null, is written in docs/methodology.md; the columns in docs/warehouse.md.

Conventions used throughout:

- the territories of a level are compared, never France with itself: level ``france`` is the
  benchmark (``gap_to_france``, ``france_summary``), not a set of territories;
- a set of territories is one (indicator, level, geography vintage, period) and a ``scope``:
  ``all`` (every territory with a value, DROM included) or ``metro`` (metropolitan territories
  only, by the metropolitan rule of each level's geography vintage, :data:`barometre.geography.LEVELS`);
- ratios are null when their denominator is ≤ 0 or missing, never ±inf;
- nothing is filled: a territory without a value is not in the set.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from barometre.catalogue import Catalogue
from barometre.geography import FRANCE_TERRITORIES, EpciLocation, metropolitan_scope
from barometre.units import change_kind, change_unit, is_rate_of_change, spec

ANALYSED_LEVELS = ("region", "departement", "epci", "zone_emploi")
# Units (decimals, wording, kind of change, rates of change): barometre/units.py. Rates of change:
# values can be negative by nature and their zero is not "nothing", so Gini, Theil and every ratio
# to a level (cv, d9/d1, max/min) are meaningless; σ convergence reads the standard deviation.
RATE_OF_CHANGE_REASON = "rate of change (%/an): not a positive quantity"
# France perimeter used as the benchmark of a territory, in order of preference (FR includes
# the collectivités d'outre-mer and voters abroad: never a benchmark for territories).
FRANCE_BENCHMARK = ("FRMD", "FRM")
BETA_SIGNIFICANCE = 0.05

SET_KEY = ["indicator_id", "level", "geography_vintage", "period"]
REFERENCE_COLUMNS = ["indicator_id", "level", "code", "geography_vintage", "period", "period_start", "period_end",
                     "value", "source_id"]
# A convergence series: the periods of one source only (a 10-year census average and a one-year
# estimate are not two dates of the same measure).
SERIES_KEY = ["indicator_id", "level", "geography_vintage", "source_id"]

DISPARITY_COLUMNS = [
    "indicator_id", "level", "scope", "geography_vintage", "period", "period_start", "period_end",
    "n", "min", "max", "max_min_ratio", "range", "d1", "d9", "d9_d1", "q1", "median", "q3", "mean",
    "weighted_mean", "std", "cv", "gini", "theil",
    "weight_source", "weighted_mean_null_reason", "gini_theil_null_reason", "ratio_null_reason",
]
CONVERGENCE_COLUMNS = [
    "indicator_id", "level", "scope", "geography_vintage", "source_id", "period_from", "period_to", "comparison", "years",
    "change_kind", "n_common", "mean_from", "mean_to", "std_from", "std_to", "cv_from", "cv_to", "sigma_measure",
    "sigma_convergence",
    "beta", "beta_pvalue", "beta_r2", "beta_convergence", "mean_annual_change",
    "bottom_decile_growth", "top_decile_growth", "beta_null_reason", "verdict", "is_headline",
]
# The verdict of a comparison (``mart.convergence.verdict``), from σ and β: what each value means.
# The UI and the report render it (the report in French); it is never recomputed elsewhere.
VERDICTS = {
    "converging": "σ and β convergence: dispersion falls and the territories that started low progressed more",
    "sigma_converging": "σ convergence only: dispersion falls, no significant catch-up (β)",
    "catching_up": "β convergence only: territories that started low progressed more, dispersion does not fall",
    "diverging": "dispersion rises and no significant catch-up",
    "no_convergence": "σ not measurable (a cv is null) and no significant catch-up",
    "not_measurable": "neither σ nor β is measurable",
}
RANKING_COLUMNS = [
    "indicator_id", "level", "geography_vintage", "period", "code", "value", "rank", "rank_of", "percentile",
    "rank_metro", "rank_of_metro", "rank_order", "france_code", "france_value", "gap_to_france",
    "previous_period", "change_since_previous_period",
]
DIMENSION_SCORE_COLUMNS = ["level", "geography_vintage", "code", "period_group", "dimension_id", "score",
                           "n_indicators", "indicator_ids"]
FRANCE_SUMMARY_COLUMNS = [
    "indicator_id", "code", "france_name", "period", "period_start", "period_end", "value", "unit",
    "previous_period", "previous_value", "change", "change_unit", "change_pct", "is_latest", "headline",
]


def relative_change(v0: float, v1: float, unit: str) -> float:
    """``100 × (v1 / v0 − 1)``, the change in % of an amount or density (``change_kind``
    ``log_growth``); NaN for other units or when ``v0 ≤ 0``."""
    return 100 * (v1 / v0 - 1) if change_kind(unit) == "log_growth" and v0 > 0 else math.nan


def _text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Type text columns as strings, so that a column that happens to be all null is still
    VARCHAR in DuckDB."""
    return frame.astype({c: "string" for c in columns})


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den, null when den is ≤ 0 or missing (never ±inf)."""
    den = den.where(den > 0)
    return (num / den).astype(float)


# ---------------------------------------------------------------------------------------------
# Inputs: reference values, scope, population weights


def territory_scope(territories: pd.DataFrame, epci_members: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """One row per (level, code, geography_vintage) of the analysed levels with
    ``is_metropolitan`` (True / False / missing when the code does not tell) and ``basis``.

    ``epci_members`` (cog_vintage, code_epci, code_commune) and ``communes`` (cog_vintage,
    code_commune, code_departement) of the bundled COG releases tell where an EPCI SIREN is: its
    location does not change, so this holds for the CGET's 2017 and 2018 meshes too.
    """
    where = EpciLocation.from_members(epci_members, communes)
    terr = territories[territories["level"].isin(ANALYSED_LEVELS)][["level", "code", "geography_vintage"]]
    terr = terr.drop_duplicates().reset_index(drop=True)
    parts = []
    for (level, vintage), group in terr.groupby(["level", "geography_vintage"], sort=False):
        # The rule and its basis text belong to the level's geography vintage (geography.LEVELS).
        flag, basis = metropolitan_scope(level, vintage, group["code"], where)
        parts.append(group.assign(is_metropolitan=flag.to_numpy(), basis=basis.to_numpy()))
    out = pd.concat(parts, ignore_index=True) if parts else terr.assign(is_metropolitan=pd.NA, basis=None)
    out["is_metropolitan"] = out["is_metropolitan"].astype("boolean")
    return out.sort_values(["level", "geography_vintage", "code"]).reset_index(drop=True)


def estimated_population(estimates: pd.DataFrame, region_of: dict[str, str]) -> pd.DataFrame:
    """Population at 1 January by (level, code, year) from population estimates by département
    (``estimates``: code_departement, year, pop_jan1); a région only when all its départements
    have one."""
    est = estimates.dropna(subset=["pop_jan1"])
    est = pd.DataFrame({"code": est["code_departement"], "year": est["year"].astype(int),
                        "population": est["pop_jan1"].astype(float)})
    n_deps = pd.Series(region_of).value_counts()
    est_reg = est.assign(code=est["code"].map(region_of)).groupby(["code", "year"], as_index=False).agg(
        population=("population", "sum"), n=("population", "size"))
    est_reg = est_reg[est_reg["n"] == est_reg["code"].map(n_deps)].drop(columns="n")
    return pd.concat([est.assign(level="departement"), est_reg.assign(level="region")], ignore_index=True)


def legal_population(communes: pd.DataFrame, cog_reference_years: pd.DataFrame, region_of: dict[str, str],
                     static_departements: dict[str, str]) -> pd.DataFrame:
    """Population by (level, code, year) of départements and régions from the populations légales
    of the COG releases (``communes`` summed, dated by ``cog_reference_years``; releases repeating
    the previous one and départements with static populations — Mayotte — left out, as for
    growth)."""
    refs = cog_reference_years[cog_reference_years["repeats_vintage"].isna()]
    year_of = dict(zip(refs["cog_vintage"].astype(int), refs["reference_year"].astype(int)))
    com = communes[communes["cog_vintage"].isin(year_of) & communes["code_departement"].isin(region_of)]
    com = com.assign(year=com["cog_vintage"].map(year_of), code_region=com["code_departement"].map(region_of))
    static_regions = {region_of[d] for d in static_departements if d in region_of}
    dep = com.groupby(["code_departement", "year"], as_index=False)["population"].sum(min_count=1)
    dep = dep[~dep["code_departement"].isin(static_departements)].rename(columns={"code_departement": "code"})
    reg = com.groupby(["code_region", "year"], as_index=False)["population"].sum(min_count=1)
    reg = reg[~reg["code_region"].isin(static_regions)].rename(columns={"code_region": "code"})
    return pd.concat([dep.assign(level="departement"), reg.assign(level="region")], ignore_index=True)


def territory_population(by_source: dict[str, pd.DataFrame], weights: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Population at 1 January by (level, code, year), the weights of ``weighted_mean``: for each
    level of ``weights`` (the catalogue's ``weights``: level → source ids in order of preference),
    the populations of its sources (``by_source``: source id → level, code, year, population, as
    :func:`estimated_population` and :func:`legal_population` return), the first source that has
    a territory's year winning. A level the catalogue does not name has no weights."""
    parts = []
    for level, source_ids in weights.items():
        for source_id in source_ids:
            if source_id not in by_source:
                raise ValueError(f"catalogue weights: level {level!r} names source {source_id!r}, which gives "
                                 f"no population in the pipeline (sources with one: {sorted(by_source)})")
            frame = by_source[source_id]
            parts.append(frame[frame["level"] == level].assign(source_id=source_id))
    columns = ["level", "code", "year", "population", "source_id"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True).dropna(subset=["population"])
    out["population"] = out["population"].astype(float)
    # Sources in the catalogue's order (listed first in parts): one population per (level, code, year).
    out = out.drop_duplicates(["level", "code", "year"], keep="first")
    return out[columns].sort_values(["level", "code", "year"]).reset_index(drop=True)


def reference_values(values: pd.DataFrame, scope: pd.DataFrame) -> pd.DataFrame:
    """Reference rows of the analysed levels with a value, and whether each territory is
    metropolitan (from :func:`territory_scope`)."""
    ref = values[values["is_reference"] & values["level"].isin(ANALYSED_LEVELS) & values["value"].notna()]
    ref = ref[REFERENCE_COLUMNS].merge(scope[["level", "code", "geography_vintage", "is_metropolitan"]],
                                       on=["level", "code", "geography_vintage"], how="left")
    ref["value"] = ref["value"].astype(float)
    ref["is_metropolitan"] = ref["is_metropolitan"].astype("boolean")
    return ref.reset_index(drop=True)


def with_scopes(ref: pd.DataFrame) -> pd.DataFrame:
    """The rows once per scope: ``all``, and ``metro`` for the metropolitan territories."""
    metro = ref[ref["is_metropolitan"].fillna(False).astype(bool)]
    return pd.concat([ref.assign(scope="all"), metro.assign(scope="metro")], ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Disparities


def disparities(ref: pd.DataFrame, catalogue: Catalogue, population: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (indicator, level, scope, geography vintage, period): the dispersion of the
    territories' values. See docs/methodology.md for every definition."""
    frame = with_scopes(ref)
    key = ["indicator_id", "level", "scope", "geography_vintage", "period"]
    frame = frame.sort_values([*key, "value"], kind="stable").reset_index(drop=True)
    g = frame.groupby(key, sort=False)["value"]
    out = g.agg(n="size", min="min", max="max", mean="mean")
    out["std"] = g.std(ddof=0)
    quant = g.quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack()  # linear interpolation, as numpy
    out = out.join(quant.rename(columns={0.1: "d1", 0.25: "q1", 0.5: "median", 0.75: "q3", 0.9: "d9"}))
    years = frame.groupby(key, sort=False)[["period_start", "period_end"]].first()
    out = out.join(years)
    out["range"] = out["max"] - out["min"]
    out["max_min_ratio"] = _ratio(out["max"], out["min"])
    out["d9_d1"] = _ratio(out["d9"], out["d1"])
    out["cv"] = _ratio(out["std"], out["mean"])

    # Gini (sorted-rank form of the mean absolute difference) and Theil T, on positive values.
    x = frame["value"]
    rank = g.cumcount() + 1
    mean = g.transform("mean")
    share = x / mean
    parts = pd.DataFrame({"ix": rank * x, "theil": share * np.log(share.where(share > 0))})
    sums = parts.groupby([frame[k] for k in key], sort=False).sum(min_count=1)
    n, total = out["n"], out["mean"] * out["n"]
    out["gini"] = 2 * sums["ix"] / (n * total) - (n + 1) / n
    out["theil"] = sums["theil"] / n
    n_nonpos = (x <= 0).groupby([frame[k] for k in key], sort=False).sum()
    unit = out.index.get_level_values("indicator_id").map({i.id: i.unit for i in catalogue.indicators})
    reason = pd.Series(None, index=out.index, dtype=object)
    reason[n_nonpos > 0] = [f"{k} of {m} values ≤ 0: defined for strictly positive quantities only"
                            for k, m in zip(n_nonpos[n_nonpos > 0], out["n"][n_nonpos > 0])]
    rate = np.asarray(unit.map(is_rate_of_change), dtype=bool)
    reason[rate] = RATE_OF_CHANGE_REASON
    reason[out["n"] < 2] = "fewer than 2 territories"
    out.loc[reason.notna(), ["gini", "theil"]] = np.nan
    out["gini_theil_null_reason"] = reason
    one = out["n"] < 2
    out.loc[one, ["std", "cv"]] = np.nan
    out["ratio_null_reason"] = _ratio_null_reason(out, rate)
    out.loc[rate, ["cv", "d9_d1", "max_min_ratio"]] = np.nan

    out = out.reset_index()
    out = _weighted_mean(frame, out, key, population)
    out = _text(out[DISPARITY_COLUMNS], ["weight_source", "weighted_mean_null_reason", "gini_theil_null_reason",
                                         "ratio_null_reason"])
    return out.sort_values(["indicator_id", "level", "scope", "geography_vintage", "period_end",
                            "period_start"]).reset_index(drop=True)


def _ratio_null_reason(out: pd.DataFrame, rate: np.ndarray) -> pd.Series:
    """Why ``cv``, ``d9_d1`` or ``max_min_ratio`` is null: a rate of change (all three), else the
    denominator of each that is ≤ 0, or a single territory (no cv)."""
    parts = [(out["n"] < 2, "cv: fewer than 2 territories"),
             ((out["n"] >= 2) & ~(out["mean"] > 0), "cv: mean ≤ 0"),
             (~(out["d1"] > 0), "d9_d1: d1 ≤ 0"),
             (~(out["min"] > 0), "max_min_ratio: min ≤ 0")]
    reason = pd.Series(None, index=out.index, dtype=object)
    for mask, text in parts:
        mask = np.asarray(mask)
        reason[mask] = [text if pd.isna(r) else f"{r}; {text}" for r in reason[mask]]
    reason[rate] = RATE_OF_CHANGE_REASON + ": no cv, d9_d1 or max_min_ratio"
    return reason


def _weighted_mean(frame: pd.DataFrame, out: pd.DataFrame, key: list[str],
                   population: pd.DataFrame | None) -> pd.DataFrame:
    """Σ population × value / Σ population, population at 1 January of the period's first year,
    only when every territory of the set has one (a partial weighting would be biased)."""
    if population is None or population.empty:
        return out.assign(weighted_mean=np.nan, weight_source=None,
                          weighted_mean_null_reason="no population table")
    w = frame.merge(population.rename(columns={"year": "period_start", "source_id": "population_source"}),
                    on=["level", "code", "period_start"], how="left")
    w["wx"] = w["population"] * w["value"]
    agg = w.groupby(key, sort=False).agg(n_w=("population", "count"), sw=("population", "sum"),
                                         swx=("wx", "sum"),
                                         sources=("population_source", lambda s: ",".join(sorted(set(s.dropna())))))
    out = out.merge(agg.reset_index(), on=key, how="left")
    complete = (out["n_w"] == out["n"]) & (out["sw"] > 0)
    out["weighted_mean"] = (out["swx"] / out["sw"].where(complete)).astype(float)
    out["weight_source"] = np.where(complete, "population at 1 January " + out["period_start"].astype(str) + ": "
                                    + out["sources"].fillna(""), None)
    missing = out["n"] - out["n_w"]
    no_level = ~out["level"].isin(population["level"].unique())
    out["weighted_mean_null_reason"] = np.where(
        complete, None,
        np.where(no_level, "no population on this mesh in the pipeline",
                 missing.astype(str) + " of " + out["n"].astype(str)
                 + " territories without a population at 1 January " + out["period_start"].astype(str)))
    return out


# ---------------------------------------------------------------------------------------------
# Periods: which period follows which


def period_pairs(periods: pd.DataFrame) -> list[tuple[str, str]]:
    """Consecutive (period_from, period_to) pairs among the distinct periods of one series
    (columns period, period_start, period_end).

    Period b follows period a when b starts at the first start year on or after the end of a
    (no overlap, nothing observed in between): 2012 → 2013, 1999-2009 → 2009-2014, 2009-2014 →
    2014-2015 (not 1999-2009 → 2012-2013, since 2009-2014 starts earlier). A period can have two
    successors (2019-2020 → 2020-2021 and 2020-2022).
    """
    p = periods[["period", "period_start", "period_end"]].drop_duplicates("period")
    rows = list(p.itertuples(index=False))
    pairs = []
    for a in rows:
        later = [b for b in rows if b.period != a.period and b.period_start >= a.period_end
                 and b.period_end > a.period_end]
        if not later:
            continue
        first = min(b.period_start for b in later)
        pairs += [(a.period, b.period) for b in sorted(later, key=lambda b: b.period_end) if b.period_start == first]
    return pairs


def first_last(periods: pd.DataFrame) -> tuple[str, str] | None:
    """(first, last) period of a series of at least three periods, ordered by end then start
    year: the long-run comparison next to the consecutive ones."""
    p = periods[["period", "period_start", "period_end"]].drop_duplicates("period")
    if len(p) < 3:
        return None
    p = p.sort_values(["period_end", "period_start"])
    return p["period"].iloc[0], p["period"].iloc[-1]


def previous_periods(periods: pd.DataFrame) -> dict[str, str]:
    """period → the period before it: among the periods it follows (:func:`period_pairs`), the
    one ending last (then starting last)."""
    p = periods[["period", "period_start", "period_end"]].drop_duplicates("period").set_index("period")
    best: dict[str, str] = {}
    for a, b in period_pairs(periods):
        if b not in best or (p.loc[a, "period_end"], p.loc[a, "period_start"]) > (
                p.loc[best[b], "period_end"], p.loc[best[b], "period_start"]):
            best[b] = a
    return best


def _midpoint(start: float, end: float) -> float:
    return (start + end) / 2


# ---------------------------------------------------------------------------------------------
# Convergence


def convergence(ref: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """One row per (indicator, level, scope, geography vintage, source, pair of periods), over
    the territories observed at both periods: σ convergence (the dispersion of
    :func:`sigma_measure` falls) and β convergence (annualised change regressed on the initial
    level). A series is the reference values of one source (``SERIES_KEY``): periods of
    different sources are never paired. Pairs are the consecutive periods of the series
    (:func:`period_pairs`) and, for series of three periods or more, the first and the last."""
    units = {i.id: i.unit for i in catalogue.indicators}
    frame = with_scopes(ref)
    rows = []
    for (ind, level, vintage, source), series in frame.groupby(SERIES_KEY, sort=False, dropna=False):
        pairs = [(a, b, "consecutive") for a, b in period_pairs(series)]
        ends = first_last(series)
        if ends and ends not in {(a, b) for a, b, _ in pairs}:
            pairs.append((*ends, "first_last"))
        if not pairs:
            continue
        years_of = series.drop_duplicates("period").set_index("period")[["period_start", "period_end"]]
        for scope, sub in series.groupby("scope", sort=False):
            by_period = {p: g.set_index("code")["value"] for p, g in sub.groupby("period", sort=False)}
            for p0, p1, comparison in pairs:
                if p0 not in by_period or p1 not in by_period:
                    continue
                both = pd.concat([by_period[p0].rename("x0"), by_period[p1].rename("x1")], axis=1, join="inner")
                if len(both) < 2:
                    continue
                years = (_midpoint(*years_of.loc[p1]) - _midpoint(*years_of.loc[p0]))
                rows.append({"indicator_id": ind, "level": level, "scope": scope, "geography_vintage": vintage,
                             "source_id": source, "period_from": p0, "period_to": p1, "comparison": comparison, "years": float(years),
                             **convergence_stats(both["x0"].to_numpy(), both["x1"].to_numpy(), years, units[ind]),
                             "_from_start": years_of.loc[p0, "period_start"],
                             "_to_start": years_of.loc[p1, "period_start"], "_to_end": years_of.loc[p1, "period_end"]})
    out = pd.DataFrame(rows, columns=[*CONVERGENCE_COLUMNS, "_from_start", "_to_start", "_to_end"])
    out = out.astype({"sigma_convergence": "boolean", "beta_convergence": "boolean", "n_common": "int64"})
    out["verdict"] = [verdict(s, b) for s, b in zip(out["sigma_convergence"], out["beta_convergence"])]
    out["is_headline"] = headline_comparisons(out, catalogue)
    out = _text(out[CONVERGENCE_COLUMNS], ["source_id", "sigma_measure", "beta_null_reason", "verdict"])
    return out.sort_values(["indicator_id", "level", "scope", "geography_vintage", "source_id", "comparison",
                            "period_from", "period_to"]).reset_index(drop=True)


def verdict(sigma_convergence: bool | None, beta_convergence: bool | None) -> str:
    """The verdict of one comparison (a key of :data:`VERDICTS`): σ and β together, σ alone, β
    alone (catch-up while dispersion does not fall), diverging (dispersion rises, no catch-up)."""
    sigma = None if pd.isna(sigma_convergence) else bool(sigma_convergence)
    beta = None if pd.isna(beta_convergence) else bool(beta_convergence)
    if sigma is None and beta is None:
        return "not_measurable"
    if sigma and beta:
        return "converging"
    if sigma:
        return "sigma_converging"
    if beta:
        return "catching_up"
    return "diverging" if sigma is False else "no_convergence"


def headline_comparisons(conv: pd.DataFrame, catalogue: Catalogue) -> pd.Series:
    """``is_headline``: the one comparison per indicator × level × scope read as the answer
    (docs/methodology.md, Headline comparison). Each series (geography vintage × source) offers
    its long run — first → last period when it has three periods or more, else its latest
    consecutive pair; among them the one over the most territories (``n_common``) wins, then the
    longest (``years``), then the most recent, then the source listed first in the catalogue.
    ``conv`` carries the period years ``_from_start``, ``_to_start``, ``_to_end``."""
    flag = pd.Series(False, index=conv.index)
    if conv.empty:
        return flag
    rank = {(i.id, s): n for i in catalogue.indicators for n, s in enumerate(i.sources)}
    c = conv.assign(_long=(conv["comparison"] == "first_last").astype(int),
                    _source_rank=[rank.get(k, len(rank)) for k in zip(conv["indicator_id"], conv["source_id"])])
    group, series = ["indicator_id", "level", "scope"], ["geography_vintage", "source_id"]
    c = c.sort_values([*group, *series, "_long", "_to_end", "_to_start", "_from_start"], kind="stable")
    long_runs = c.drop_duplicates([*group, *series], keep="last")
    best = long_runs.sort_values([*group, "n_common", "years", "_to_end", "_to_start", "_source_rank",
                                  "geography_vintage"],
                                 ascending=[True] * len(group) + [False, False, False, False, True, True],
                                 kind="stable").drop_duplicates(group, keep="first")
    flag[best.index] = True
    return flag


def _cv(x: np.ndarray) -> float:
    mean = float(np.mean(x))
    return float(np.std(x) / mean) if len(x) >= 2 and mean > 0 else math.nan


def sigma_measure(unit: str) -> str:
    """The dispersion σ convergence reads: ``std`` (absolute) for rates of change, whose mean can
    approach 0 and make the cv explode, else ``cv`` (relative)."""
    return "std" if is_rate_of_change(unit) else "cv"


def convergence_stats(x0: np.ndarray, x1: np.ndarray, years: float, unit: str) -> dict:
    """σ and β convergence of the same territories observed at two periods ``years`` apart.

    σ convergence: the dispersion of :func:`sigma_measure` falls (cv, or the standard deviation
    for rates of change, which have no cv). Annualised change: log growth
    ``100 × ln(x1 / x0) / years`` (% per year) for amounts and densities (``change_kind``),
    regressed on ``ln x0``; ``(x1 − x0) / years`` (points per year) for shares and rates,
    regressed on ``x0``.
    """
    x0, x1 = np.asarray(x0, dtype=float), np.asarray(x1, dtype=float)
    kind, measure = change_kind(unit), sigma_measure(unit)
    std0, std1 = float(np.std(x0)), float(np.std(x1))
    cv0, cv1 = (_cv(x0), _cv(x1)) if measure == "cv" else (math.nan, math.nan)
    d0, d1 = (cv0, cv1) if measure == "cv" else (std0, std1)
    out = {"change_kind": kind, "n_common": len(x0), "mean_from": float(np.mean(x0)), "mean_to": float(np.mean(x1)),
           "std_from": std0, "std_to": std1, "cv_from": cv0, "cv_to": cv1, "sigma_measure": measure,
           "sigma_convergence": (d1 < d0) if not (math.isnan(d0) or math.isnan(d1)) else None,
           "beta": math.nan, "beta_pvalue": math.nan, "beta_r2": math.nan, "beta_convergence": None,
           "mean_annual_change": math.nan, "bottom_decile_growth": math.nan, "top_decile_growth": math.nan,
           "beta_null_reason": None}
    if not years > 0:
        out["beta_null_reason"] = "periods do not follow each other"
        return out
    if kind == "log_growth":
        if (x0 <= 0).any() or (x1 <= 0).any():
            out["beta_null_reason"] = "values ≤ 0: no log growth"
            return out
        change, initial = 100 * np.log(x1 / x0) / years, np.log(x0)
        d1, d9 = np.quantile(x0, [0.1, 0.9])
        bottom, top = x0 <= d1, x0 >= d9
        out["bottom_decile_growth"] = float(100 * np.log(x1[bottom].mean() / x0[bottom].mean()) / years)
        out["top_decile_growth"] = float(100 * np.log(x1[top].mean() / x0[top].mean()) / years)
    else:
        change, initial = (x1 - x0) / years, x0
    out["mean_annual_change"] = float(np.mean(change))
    if len(x0) < 3:
        out["beta_null_reason"] = "fewer than 3 territories"
    elif np.ptp(initial) == 0:
        out["beta_null_reason"] = "every territory has the same initial value"
    else:
        fit = stats.linregress(initial, change)
        out.update(beta=float(fit.slope), beta_pvalue=float(fit.pvalue), beta_r2=float(fit.rvalue ** 2),
                   beta_convergence=bool(fit.slope < 0 and fit.pvalue < BETA_SIGNIFICANCE))
    return out


# ---------------------------------------------------------------------------------------------
# Rankings


def _sort_key(values: pd.Series, polarity: pd.Series) -> pd.Series:
    """Smaller is better: −value for polarity + and 0 (descending), value for polarity −."""
    return values.where(polarity == "-", -values)


def rankings(ref: pd.DataFrame, catalogue: Catalogue, france: pd.DataFrame) -> pd.DataFrame:
    """One row per territory value: its rank among the territories of its level (rank 1 = best
    by polarity; polarity 0 is ranked by value descending), also among metropolitan territories,
    its gap to France and its change since the previous period.

    ``france``: reference rows of level ``france`` (indicator_id, code, period, value).
    """
    polarity = {i.id: i.polarity for i in catalogue.indicators}
    out = ref.reset_index(drop=True)
    pol = out["indicator_id"].map(polarity)
    out["_key"] = _sort_key(out["value"], pol)
    grp = out.groupby(SET_KEY, sort=False)["_key"]
    out["rank"] = grp.rank(method="min").astype("Int64")
    out["rank_of"] = grp.transform("size").astype("Int64")
    worse = out["rank_of"] - grp.rank(method="max")  # territories strictly worse
    out["percentile"] = (100 * worse / (out["rank_of"] - 1).where(out["rank_of"] > 1)).astype(float)
    metro = out["is_metropolitan"].fillna(False).astype(bool)
    mgrp = out[metro].groupby(SET_KEY, sort=False)["_key"]
    out["rank_metro"] = mgrp.rank(method="min").astype("Int64")
    out["rank_of_metro"] = mgrp.transform("size").astype("Int64")
    out["rank_order"] = pol.map({"+": "higher is better", "-": "lower is better",
                                 "0": "value descending (polarity 0: no better direction)"})

    bench = france[france["code"].isin(FRANCE_BENCHMARK)].copy()
    bench["_pref"] = bench["code"].map({c: n for n, c in enumerate(FRANCE_BENCHMARK)})
    bench = bench.sort_values("_pref").drop_duplicates(["indicator_id", "period"])
    bench = bench.rename(columns={"code": "france_code", "value": "france_value"})
    out = out.merge(bench[["indicator_id", "period", "france_code", "france_value"]],
                    on=["indicator_id", "period"], how="left")
    out["gap_to_france"] = out["value"] - out["france_value"]

    prev = []
    for (ind, level, vintage), series in out.groupby(["indicator_id", "level", "geography_vintage"], sort=False):
        for period, before in previous_periods(series).items():
            prev.append((ind, level, vintage, period, before))
    prev = pd.DataFrame(prev, columns=[*SET_KEY, "previous_period"])
    out = out.merge(prev, on=SET_KEY, how="left")
    before = out[[*SET_KEY, "code", "value"]].rename(columns={"period": "previous_period", "value": "_prev_value"})
    out = out.merge(before, on=["indicator_id", "level", "geography_vintage", "previous_period", "code"], how="left")
    out["change_since_previous_period"] = out["value"] - out["_prev_value"]
    out.loc[out["_prev_value"].isna(), "previous_period"] = None
    out = _text(out[RANKING_COLUMNS], ["france_code", "previous_period"])
    return out.sort_values(["indicator_id", "level", "geography_vintage", "period", "rank",
                                             "code"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Dimension scores


def dimension_scores(ref: pd.DataFrame, catalogue: Catalogue) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per level and dimension, the mean of the signed z-scores of the dimension's indicators
    (polarity 0 excluded), at each period where *all* of them are observed at that level.

    Returns the scores and one row per (level, dimension) saying which indicators and periods
    were combined, or why the dimension is not scored there.
    """
    meta = {i.id: i for i in catalogue.indicators}
    signed = ref[ref["indicator_id"].map(lambda i: meta[i].polarity != "0")].copy()
    signed["dimension_id"] = signed["indicator_id"].map(lambda i: meta[i].dimension)
    signed["sign"] = signed["indicator_id"].map(lambda i: 1.0 if meta[i].polarity == "+" else -1.0)
    parts, coverage = [], []
    for (level, dim), rows in signed.groupby(["level", "dimension_id"], sort=False):
        periods = rows.groupby("indicator_id")["period"].agg(set)
        indicators = sorted(periods.index, key=list(meta).index)
        # A period is common when every indicator is observed at it on the same mesh (geography
        # vintage): two meshes' territories are never combined into one score.
        pairs = rows.groupby("indicator_id")[["geography_vintage", "period"]].apply(
            lambda d: set(zip(d["geography_vintage"], d["period"])))
        common_pairs = set.intersection(*[pairs[i] for i in indicators])
        common = {period for _, period in common_pairs}
        coverage.append({"level": level, "dimension_id": dim, "indicator_ids": ",".join(indicators),
                         "period_groups": ",".join(sorted(common)),
                         "note": None if common else "; ".join(f"{i}: {', '.join(sorted(periods[i]))}"
                                                               for i in indicators) + " (no common period)"})
        if common:
            keep = pd.Series(list(zip(rows["geography_vintage"], rows["period"])), index=rows.index).isin(common_pairs)
            parts.append(rows[keep].assign(indicator_ids=",".join(indicators), n_ind=len(indicators)))
    coverage = pd.DataFrame(coverage, columns=["level", "dimension_id", "indicator_ids", "period_groups", "note"])
    if not parts:
        return pd.DataFrame(columns=DIMENSION_SCORE_COLUMNS), coverage
    long = pd.concat(parts, ignore_index=True)
    unit = ["level", "dimension_id", "period", "geography_vintage", "code"]
    long = long[long.groupby(unit)["indicator_id"].transform("size") == long["n_ind"]]  # complete territories
    # Standardised within one geography vintage: the territories of two meshes are never mixed.
    per_ind = long.groupby(["level", "geography_vintage", "dimension_id", "period", "indicator_id"])["value"]
    std = per_ind.transform("std", ddof=0)
    long = long.assign(z=long["sign"] * (long["value"] - per_ind.transform("mean")) / std.where(std > 0))
    scores = long.groupby(unit, as_index=False).agg(score=("z", "mean"), n_z=("z", "count"),
                                                    n_indicators=("n_ind", "first"),
                                                    indicator_ids=("indicator_ids", "first"))
    # A constant indicator (std 0) has no z-score: no score rather than a partial one.
    scores = scores[scores["n_z"] == scores["n_indicators"]]
    scores = scores.rename(columns={"period": "period_group"})
    scores["n_indicators"] = scores["n_indicators"].astype(int)
    order = {d.id: d.position for d in catalogue.dimensions}
    scores = scores.assign(_d=scores["dimension_id"].map(order)).sort_values(
        ["level", "_d", "period_group", "geography_vintage", "code"])
    return scores[DIMENSION_SCORE_COLUMNS].reset_index(drop=True), coverage


# ---------------------------------------------------------------------------------------------
# France summary and headline sentences

_NBSP = "\u00a0"
# Article and gender of an indicator name, from its first word.
_SUBJECT = {"Part": ("la", "f"), "Taux": ("le", "m"), "Revenu": ("le", "m"), "Coefficient": ("le", "m"),
            "Médecins": ("le nombre de", "m"), "Bénévoles": ("le nombre de", "m")}
_WHERE = {"FR": "En France entière", "FRMD": "En France (métropole et DROM)", "FRM": "En France métropolitaine"}


def format_fr(x: float, decimals: int, signed: bool = False) -> str:
    """A number the French way: decimal comma, no-break space between thousands, minus sign.

    >>> format_fr(20369, 0), format_fr(-2.44, 1), format_fr(0.5, 1, signed=True)
    ('20\xa0369', '−2,4', '+0,5')
    """
    text = f"{abs(x):,.{decimals}f}".replace(",", _NBSP).replace(".", ",")
    if round(x, decimals) < 0:
        return "−" + text
    return ("+" + text) if signed and round(x, decimals) > 0 else text


def _with_unit(x: float, unit: str, name: str = "") -> str:
    """The number and its unit, unless the unit is a "pour N habitants" that the indicator's name
    already says ("Médecins en activité pour 100 000 habitants": "de 332,9 à 333,7"). A "%" in a
    name ("seuil 60 % du niveau de vie médian") never drops the unit of the value."""
    u = spec(unit)
    text = format_fr(x, u.decimals)
    return text if u.text_in_name and u.text in name else f"{text}{_NBSP}{u.text}"


def subject(name: str) -> tuple[str, str]:
    """The subject of a headline sentence and its gender, from an indicator name:
    "Part des …" → "la part des …"."""
    first = name.split(" ", 1)[0]
    if first not in _SUBJECT:  # a new indicator: a neutral subject rather than a wrong article
        return f"l'indicateur «{_NBSP}{name}{_NBSP}»", "m"
    article, gender = _SUBJECT[first]
    return f"{article} {name[0].lower()}{name[1:]}", gender


def headline(name: str, unit: str, code: str, p0: str, v0: float, p1: str, v1: float, spans: bool) -> str:
    """The French sentence of a change, as the 2018 barometer printed it: "En France (métropole
    et DROM), la part des … a augmenté de 2,4 points entre 2009 et 2014, de 15,0 % à 17,4 %."."""
    subj, gender = subject(name)
    dec = spec(unit).decimals
    # The sentence prints both values at the unit's precision: its change (and "stable") is the
    # difference of those printed values, so that a reader can check it (85,3 % → 81,4 %: 3,9
    # points, not the 4,0 of the unrounded 85.334 → 81.373).
    v0, v1 = round(v0, dec), round(v1, dec)
    change = round(v1 - v0, dec)
    between = f"entre la période {p0} et la période {p1}" if spans else f"entre {p0} et {p1}"
    if change == 0:
        verb = "est restée stable" if gender == "f" else "est resté stable"
        return f"{_WHERE.get(code, code)}, {subj} {verb} {between}, à {_with_unit(v1, unit, name)}."
    verb = "a augmenté de" if change > 0 else "a diminué de"
    if change_unit(unit) == "points":
        word = "point" if abs(change) < 2 else "points"
        amount = f"{format_fr(abs(change), dec)}{_NBSP}{word}"
    else:
        amount = _with_unit(abs(change), unit, name)
        pct = relative_change(v0, v1, unit)
        if not math.isnan(pct):
            amount += f" ({format_fr(pct, 1, signed=True)}{_NBSP}%)"
    where = _WHERE.get(code, code)
    return f"{where}, {subj} {verb} {amount} {between}, de {_with_unit(v0, unit, name)} à {_with_unit(v1, unit, name)}."


def france_summary(france: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Per indicator and France perimeter: the value at each period, the change since the
    previous period and its headline sentence. ``france``: reference rows of level ``france``."""
    meta = {i.id: i for i in catalogue.indicators}
    rows = []
    for (ind, code), series in france.groupby(["indicator_id", "code"], sort=False):
        series = series.sort_values(["period_end", "period_start"])
        prev = previous_periods(series)
        value = series.set_index("period")["value"]
        latest = series["period"].iloc[-1]
        unit, name = meta[ind].unit, meta[ind].name
        for r in series.itertuples(index=False):
            before = prev.get(r.period)
            row = {"indicator_id": ind, "code": code, "france_name": FRANCE_TERRITORIES.get(code),
                   "period": r.period, "period_start": r.period_start, "period_end": r.period_end,
                   "value": float(r.value), "unit": unit, "previous_period": before, "previous_value": math.nan,
                   "change": math.nan, "change_unit": change_unit(unit),
                   "change_pct": math.nan, "is_latest": r.period == latest, "headline": None}
            if before is not None:
                v0 = float(value[before])
                row.update(previous_value=v0, change=float(r.value) - v0,
                           change_pct=relative_change(v0, float(r.value), unit))
                row["headline"] = headline(name, unit, code, before, v0, r.period, float(r.value),
                                           spans=r.period_end > r.period_start)
            rows.append(row)
    out = _text(pd.DataFrame(rows, columns=FRANCE_SUMMARY_COLUMNS), ["france_name", "previous_period", "headline"])
    order = {i.id: n for n, i in enumerate(catalogue.indicators)}
    out = out.assign(_i=out["indicator_id"].map(order)).sort_values(["_i", "code", "period_end", "period_start"])
    return out.drop(columns="_i").reset_index(drop=True)


def france_values(values: pd.DataFrame) -> pd.DataFrame:
    """Reference rows of level ``france`` with a value."""
    fr = values[values["is_reference"] & (values["level"] == "france") & values["value"].notna()]
    return fr[["indicator_id", "code", "period", "period_start", "period_end", "value"]].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Headline tables (shown in the Dagster UI as markdown, so an analyst reads the answer without SQL)


def _latest(frame: pd.DataFrame, by: list[str], end: str = "period_end", start: str = "period_start") -> pd.DataFrame:
    return frame.sort_values([*by, end, start]).drop_duplicates(by, keep="last")


def disparity_headlines(disp: pd.DataFrame) -> pd.DataFrame:
    """Per indicator and level, the latest period: n, d9/d1, cv and Gini, all territories and
    metropolitan ones."""
    latest = _latest(disp, ["indicator_id", "level", "scope", "geography_vintage"])
    latest = _latest(latest, ["indicator_id", "level", "scope"])
    wide = latest.pivot(index=["indicator_id", "level"], columns="scope",
                        values=["period", "n", "d9_d1", "cv", "gini"])
    out = pd.DataFrame({
        "period": wide[("period", "all")],
        "n": wide[("n", "all")].astype("Int64"),
        "d9_d1": wide[("d9_d1", "all")].astype(float).round(2),
        "cv": wide[("cv", "all")].astype(float).round(3),
        "gini": wide[("gini", "all")].astype(float).round(3),
        "n metro": wide[("n", "metro")].astype("Int64") if ("n", "metro") in wide else pd.NA,
        "cv metro": wide[("cv", "metro")].astype(float).round(3) if ("cv", "metro") in wide else np.nan,
    }).reset_index()
    return out


# The verdicts as the Dagster UI's table says them (``measure``: the σ dispersion, cv or std).
_VERDICT_UI = {"converging": "yes (σ and β)", "sigma_converging": "yes (σ: {measure} down)",
               "catching_up": "β only (catch-up, {measure} up)", "diverging": "no ({measure} up)",
               "no_convergence": "no", "not_measurable": "n/a"}


def verdict_label(verdict_: str, measure: str) -> str:
    """The English label of a ``verdict`` in the Dagster UI: "β only (catch-up, cv up)"."""
    return _VERDICT_UI[verdict_].format(measure=measure)


def convergence_headlines(conv: pd.DataFrame) -> pd.DataFrame:
    """Per indicator and level, the headline comparison (``is_headline``) of all territories:
    its series, the dispersion σ reads (cv, or std for rates of change) from → to, β and its
    p-value, and its ``verdict``; then the verdict of the metropolitan territories' headline."""
    key = ["indicator_id", "level"]
    columns = [*key, "source_id", "periods", "n", "σ", "beta (p)", "converging", "converging metro"]
    head = conv[conv["is_headline"].fillna(False).astype(bool)]
    if head.empty:
        return pd.DataFrame(columns=columns)
    label = pd.Series([verdict_label(v, m) for v, m in zip(head["verdict"], head["sigma_measure"])], index=head.index)
    head = head.assign(converging=label)
    alls = head[head["scope"] == "all"].set_index(key)
    # The metropolitan verdict, with its periods when its headline is another comparison.
    m = head[head["scope"] == "metro"].set_index(key).join(
        alls[["source_id", "period_from", "period_to"]], rsuffix="_all")
    other = ((m["source_id"] != m["source_id_all"]) | (m["period_from"] != m["period_from_all"])
             | (m["period_to"] != m["period_to_all"])).fillna(True).astype(bool)
    metro = m["converging"].where(~other, m["converging"] + " (" + m["period_from"] + " → " + m["period_to"] + ")")
    std = alls["sigma_measure"] == "std"
    out = pd.DataFrame({
        "source_id": alls["source_id"],
        "periods": alls["period_from"] + " → " + alls["period_to"],
        "n": alls["n_common"],
        "σ": [f"{measure} {round(a, 3)} → {round(b, 3)}" for measure, a, b in zip(
            alls["sigma_measure"], alls["std_from"].where(std, alls["cv_from"]),
            alls["std_to"].where(std, alls["cv_to"]))],
        "beta (p)": [f"{b:.4g} ({'<0.001' if p < 0.001 else f'{p:.3f}'})" if pd.notna(b) else "–"
                     for b, p in zip(alls["beta"], alls["beta_pvalue"])],
        "converging": alls["converging"],
        "converging metro": metro.reindex(alls.index),
    }).reset_index()
    return out[columns]


def ranking_headlines(ranks: pd.DataFrame, territories: pd.DataFrame) -> pd.DataFrame:
    """Per indicator and level, the latest period: the best and the worst territory."""
    names = territories[["level", "code", "geography_vintage", "name"]]
    r = ranks.merge(names, on=["level", "code", "geography_vintage"], how="left")
    r["label"] = r["name"].fillna(r["code"]) + " (" + r["value"].round(1).astype(str) + ")"
    periods = r[["indicator_id", "level", "period"]].drop_duplicates()
    years = periods["period"].str[-4:].astype(int) * 10000 + periods["period"].str[:4].astype(int)
    latest = periods.assign(_y=years).sort_values("_y").drop_duplicates(["indicator_id", "level"], keep="last")
    r = r.merge(latest[["indicator_id", "level", "period"]], on=["indicator_id", "level", "period"])
    best = r[r["rank"] == 1].groupby(["indicator_id", "level", "period"])["label"].agg(", ".join)
    last = r.groupby(["indicator_id", "level", "period"])["rank"].transform("max")  # ties share the last rank
    worst = r[r["rank"] == last].groupby(["indicator_id", "level", "period"])["label"].agg(", ".join)
    order = r.groupby(["indicator_id", "level", "period"])["rank_order"].first()
    return pd.DataFrame({"rank 1": best, "last": worst, "order": order}).reset_index()


def france_headlines(summary: pd.DataFrame) -> pd.DataFrame:
    """The latest headline sentence of every indicator and France perimeter."""
    latest = summary[summary["is_latest"] & summary["headline"].notna()]
    return latest[["indicator_id", "code", "headline"]].reset_index(drop=True)
