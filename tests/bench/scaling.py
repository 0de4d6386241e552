"""Scaling to the commune level on SYNTHETIC inputs: our code against a one-shot pandas script.

The territories are real: the communes of the COG 2026 release in the snapshot (with their
département and région). Every value is SYNTHETIC, drawn with a fixed seed
(:data:`SYNTHETIC_SEED`), labelled ``source_id = synthetic_benchmark`` and geography vintage
``cog_2026_synthetic``; nothing of it is written anywhere. For each of the 16 catalogue
indicators and each period, every commune gets a synthetic numerator and denominator.

*Ours* (:func:`ours`) is the pipeline's SQL path on those inputs, as its SQL assets run on the
working database (barometre/sql.py; results stay in DuckDB):

1. indicators: commune rows, then :func:`barometre.sql.sum_to_parents_query` from communes to
   départements, and from départements to régions and France (Σ numerator / Σ denominator,
   complete parents only), then :func:`barometre.sql.indicator_values` (reference rows);
2. disparities: :func:`barometre.sql.disparities` (with population weights);
3. rankings: :func:`barometre.sql.rankings` (with the France benchmark).

:func:`ours_pandas` is the same computation with the pandas functions that specify the SQL
(:func:`barometre.indicators.aggregate_counts`, :func:`barometre.marts.indicator_values`,
:mod:`barometre.cohesion`).

The pipeline's cohesion marts analyse no commune: ``commune`` is added to
``cohesion.ANALYSED_LEVELS`` only while :func:`ours` selects its reference rows. *Script* is the same computation written as the one-shot pandas script an
analyst would write over the same frames; :func:`check` verifies that both give the same
numbers.

``python -m tests.bench.scaling run --periods P --impl ours|script --reps 3 --out r.json``
measures each repetition's wall time and peak resident memory (reset before each repetition),
with ``--deadline`` (epoch seconds) to stop repeating when the next repetition would end later.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import time

import numpy as np
import pandas as pd

from barometre import cohesion, duckdb_config, geography, indicators, marts, sql
from barometre.catalogue import Catalogue, load_catalogue
from barometre.geography import DEPARTEMENTS, METRO_DEPARTEMENTS, metropolitan
from barometre.landing import SnapshotStore
from barometre.sources import cog
from tests.bench.measure import peak_rss_mb, reset_peak_rss, rss_mb, write_result

SYNTHETIC_SEED = 20180701  # fixed: every run draws the same synthetic values
SYNTHETIC_SOURCE = "synthetic_benchmark"
SYNTHETIC_VINTAGE = "cog_2026_synthetic"
COMMUNE_VINTAGE = 2026
FIRST_YEAR = 2012
SCALE = {"€": 1.0, "%": 100.0, "/100k": 100_000.0, "/100": 100.0, "%/an": 100.0}
# DuckDB's memory limit in the children that run :func:`ours` (``BAROMETRE_DUCKDB_MEMORY_LIMIT``
# unless set): beyond it DuckDB spills to its temp directory, so that the peak resident memory of
# the commune sizes (the synthetic inputs in pandas included) stays bounded. 768 MB: at 10 periods
# the peak was 1,540 MiB with 1 GB (goal 1.5 GiB) and 1,307 MiB with 768 MB; 30 periods complete
# with 768 MB (measured on 2 December: 1,966 MiB, disparities one indicator at a time).
BENCH_DUCKDB_MEMORY = "768MB"

# The pipeline's cohesion marts do not analyse communes; the benchmark does, only while its own
# computation runs (:func:`ours`): set at import, it leaked into every run of a pytest session that
# collected this module, once the pipeline published commune rows (turnout 2017, issue 15).
BENCH_LEVELS = (*cohesion.ANALYSED_LEVELS, "commune")


@contextlib.contextmanager
def _commune_level():
    saved = cohesion.ANALYSED_LEVELS
    cohesion.ANALYSED_LEVELS = BENCH_LEVELS
    try:
        yield
    finally:
        cohesion.ANALYSED_LEVELS = saved


# ---------------------------------------------------------------------------------------------
# Synthetic inputs


def real_communes() -> pd.DataFrame:
    """The communes of COG 2026 in the 101 départements: code_commune, code_departement,
    code_region (real codes from the snapshot)."""
    raw = SnapshotStore().read(cog.path(COMMUNE_VINTAGE, "communes"))
    com = cog.parse_communes(raw, COMMUNE_VINTAGE)
    com = com[com["code_departement"].isin(DEPARTEMENTS)]
    return com[["code_commune", "code_departement", "code_region"]].reset_index(drop=True)


def synthetic_inputs(periods: int, catalogue: Catalogue | None = None, seed: int = SYNTHETIC_SEED,
                     communes: pd.DataFrame | None = None) -> dict:
    """SYNTHETIC commune-level counts for every indicator and ``periods`` yearly periods.

    Returns ``counts`` (indicator id → code, period, period_start, period_end, numerator,
    denominator), ``commune_departement`` and ``region_of`` (real keys), ``population``
    (synthetic weights per level, code and year) and ``scope`` (is_metropolitan per territory).
    """
    catalogue = catalogue or load_catalogue()
    com = real_communes() if communes is None else communes
    rng = np.random.default_rng(seed)
    n = len(com)
    years = np.arange(FIRST_YEAR, FIRST_YEAR + periods)
    code = np.tile(com["code_commune"].to_numpy(dtype=object), periods)
    year = np.repeat(years, n)
    period = np.repeat(np.array([str(y) for y in years], dtype=object), n)
    # Synthetic population: heavy-tailed like French communes (median ~ 450), drifting by year.
    pop0 = np.maximum(np.round(rng.lognormal(6.1, 1.3, n)), 1.0)
    drift = np.cumprod(1 + rng.normal(0.004, 0.01, (periods, n)), axis=0) / (1 + 0.004)
    pop = np.maximum(np.round(pop0 * drift), 1.0).reshape(-1)
    counts = {}
    for ind in catalogue.indicators:
        den = pop.copy()
        if ind.unit == "€":
            rate = 21_000 * rng.lognormal(0, 0.15, pop.size)
            den = np.round(pop * 0.66, 1) + 0.5
        elif ind.unit == "%":
            rate = rng.beta(2.0, 2.0 + 18 * rng.random(), pop.size)
        elif ind.unit == "/100k":
            rate = 3e-3 * rng.lognormal(0, 0.6, pop.size)
        elif ind.unit == "/100":
            rate = 0.2 * rng.lognormal(0, 0.4, pop.size)
        else:  # %/an: a rate of change, negative in many communes
            rate = rng.normal(0.004, 0.012, pop.size)
        counts[ind.id] = pd.DataFrame({"code": code, "period": period, "period_start": year, "period_end": year,
                                       "numerator": rate * den, "denominator": den})
    commune_departement = dict(zip(com["code_commune"], com["code_departement"]))
    hierarchy = synthetic_hierarchy(com)
    region_of = dict(com[["code_departement", "code_region"]].drop_duplicates().itertuples(index=False))
    regions = pd.Series(sorted(set(region_of.values())))
    population = _population(com, code, year, pop)
    scope = pd.concat([
        pd.DataFrame({"level": "commune", "code": com["code_commune"],
                      "is_metropolitan": com["code_departement"].isin(METRO_DEPARTEMENTS).to_numpy()}),
        pd.DataFrame({"level": "departement", "code": list(DEPARTEMENTS),
                      "is_metropolitan": metropolitan("departement", pd.Series(DEPARTEMENTS)).to_numpy()}),
        pd.DataFrame({"level": "region", "code": regions,
                      "is_metropolitan": metropolitan("region", regions).to_numpy()}),
    ], ignore_index=True).assign(geography_vintage=SYNTHETIC_VINTAGE)
    scope["is_metropolitan"] = scope["is_metropolitan"].astype("boolean")
    return {"counts": counts, "commune_departement": commune_departement, "region_of": region_of,
            "hierarchy": hierarchy, "population": population, "scope": scope, "n_communes": n, "periods": periods}


def synthetic_hierarchy(com: pd.DataFrame) -> pd.DataFrame:
    """The hierarchy of ``com`` (commune → département → région → France) as the pipeline builds
    it (:func:`barometre.geography.hierarchy`), with the real départements of the COG release,
    under the vintage :data:`SYNTHETIC_VINTAGE`."""
    deps = cog.parse_departements(SnapshotStore().read(cog.path(COMMUNE_VINTAGE, "departements")), COMMUNE_VINTAGE)
    no_epci = pd.DataFrame({"cog_vintage": pd.Series(dtype="int64"), "code_epci": pd.Series(dtype=object),
                            "code_commune": pd.Series(dtype=object)})
    h = geography.hierarchy(com.assign(cog_vintage=COMMUNE_VINTAGE), no_epci, deps)
    return h.assign(geography_vintage=SYNTHETIC_VINTAGE)


def _population(com: pd.DataFrame, code: np.ndarray, year: np.ndarray, pop: np.ndarray) -> pd.DataFrame:
    """Synthetic population at 1 January per level, code and year (the weights of the
    weighted mean), communes summed into départements and régions."""
    c = pd.DataFrame({"code": code, "year": year, "population": pop})
    dep_of = dict(zip(com["code_commune"], com["code_departement"]))
    reg_of = dict(zip(com["code_commune"], com["code_region"]))
    dep = c.assign(code=c["code"].map(dep_of)).groupby(["code", "year"], as_index=False)["population"].sum()
    reg = c.assign(code=c["code"].map(reg_of)).groupby(["code", "year"], as_index=False)["population"].sum()
    return pd.concat([c.assign(level="commune"), dep.assign(level="departement"), reg.assign(level="region")],
                     ignore_index=True).assign(source_id=SYNTHETIC_SOURCE)[
        ["level", "code", "year", "population", "source_id"]]


def n_rows(inputs: dict) -> int:
    """The size of a run: commune-level input rows (communes × indicators × periods)."""
    return sum(len(c) for c in inputs["counts"].values())


# ---------------------------------------------------------------------------------------------
# Ours: the pipeline's functions


def _rate(scale: float):
    return lambda num, den: num / den * scale


def ours(inputs: dict, catalogue: Catalogue, timings: dict | None = None, *,
         fetch: bool = False) -> dict[str, pd.DataFrame | int]:
    """The pipeline's SQL path on the synthetic inputs, as its SQL assets run on the working
    database: the commune counts loaded into DuckDB once (a connection of
    :mod:`barometre.duckdb_config`: memory limit, threads, a temp directory to spill to), the
    sums from communes to départements and from départements to régions and France by
    :func:`barometre.sql.sum_to_parents_query`, then :func:`barometre.sql.indicator_values`,
    :func:`~barometre.sql.disparities` and :func:`~barometre.sql.rankings`. The results stay in
    DuckDB (row counts returned) unless ``fetch``: the pipeline never brings them to pandas."""
    timings = timings if timings is not None else {}
    t = time.perf_counter()
    con = duckdb_config.connect()
    try:
        for n, ind in enumerate(catalogue.indicators):
            con.register(f"_c{n}", inputs["counts"][ind.id])
        union = " UNION ALL ".join(f"SELECT '{ind.id}' AS indicator_id, {SCALE[ind.unit]!r} AS scale, * FROM _c{n}"
                                   for n, ind in enumerate(catalogue.indicators))
        con.execute(f"CREATE TABLE counts AS {union}").fetchall()
        for n in range(len(catalogue.indicators)):
            con.unregister(f"_c{n}")
        for name in ("hierarchy", "scope", "population"):
            con.register("_f", inputs[name])
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _f").fetchall()
            con.unregister("_f")
        v, src = f"'{SYNTHETIC_VINTAGE}'", f"'{SYNTHETIC_SOURCE}'"
        by = ("indicator_id", "scale")
        con.execute("CREATE TABLE dep AS " + sql.sum_to_parents_query(
            "counts", "hierarchy", "commune", "departement", SYNTHETIC_VINTAGE, by=by)).fetchall()
        up = " UNION ALL ".join(
            f"SELECT '{level}' AS level, * FROM ({sql.sum_to_parents_query('dep', 'hierarchy', 'departement', level, SYNTHETIC_VINTAGE, by=by, parents=parents)})"
            for level, parents in (("region", None), ("france", ("FRM", "FRMD"))))
        rows = (f"SELECT indicator_id, {{level}} AS level, code, {v} AS geography_vintage, period, period_start, "
                f"period_end, numerator / denominator * scale AS value, numerator, denominator, {src} AS source_id, "
                f"{{derived}} AS derived FROM {{table}}")
        con.execute("CREATE TABLE frames AS " + " UNION ALL ".join([
            rows.format(level="'commune'", derived="false", table="counts"),
            rows.format(level="'departement'", derived="true", table="dep"),
            rows.format(level="level", derived="true", table=f"({up})")])).fetchall()
        out = {"values": sql.indicator_values(con, catalogue, ["frames"], "iv")}
        timings["indicators"] = time.perf_counter() - t

        t = time.perf_counter()
        with _commune_level():
            out["disparities"] = sql.disparities(con, catalogue, "iv", "scope", "population", "disp")
        timings["disparities"] = time.perf_counter() - t

        t = time.perf_counter()
        with _commune_level():
            out["rankings"] = sql.rankings(con, catalogue, "iv", "scope", "ranks")
        timings["rankings"] = time.perf_counter() - t
        if fetch:
            out = {name: con.execute(f"SELECT * FROM {table}").df()
                   for name, table in (("values", "iv"), ("disparities", "disp"), ("rankings", "ranks"))}
        return out
    finally:
        con.close()


def ours_pandas(inputs: dict, catalogue: Catalogue, timings: dict | None = None) -> dict[str, pd.DataFrame]:
    """The pandas specification of the indicator, disparity and ranking code (the pipeline's
    pandas functions, which :func:`ours` replaces by SQL) on the synthetic inputs."""
    timings = timings if timings is not None else {}
    t = time.perf_counter()
    frames = []
    keys = ["code", "period", "period_start", "period_end", "numerator", "denominator"]
    for ind in catalogue.indicators:
        counts = inputs["counts"][ind.id]
        rate = _rate(SCALE[ind.unit])
        commune = counts.assign(value=rate(counts["numerator"], counts["denominator"]))
        frames.append(indicators._frame(ind.id, commune, level="commune", source_id=SYNTHETIC_SOURCE,
                                        derived=False, vintage=SYNTHETIC_VINTAGE))
        # aggregate_counts sums the children of each parent in the hierarchy: communes into
        # départements, then départements into régions and France.
        dep = indicators.aggregate_counts(counts, inputs["hierarchy"], rate, ind.id, SYNTHETIC_SOURCE,
                                          child_level="commune", parent_levels=("departement",),
                                          vintage=SYNTHETIC_VINTAGE)
        up = indicators.aggregate_counts(dep[keys], inputs["hierarchy"], rate, ind.id, SYNTHETIC_SOURCE,
                                         france=("FRM", "FRMD"), vintage=SYNTHETIC_VINTAGE)
        frames += [dep, up]
    values = marts.indicator_values(catalogue, frames)
    timings["indicators"] = time.perf_counter() - t

    t = time.perf_counter()
    with _commune_level():
        ref = cohesion.reference_values(values, inputs["scope"])
    disp = cohesion.disparities(ref, catalogue, inputs["population"])
    timings["disparities"] = time.perf_counter() - t

    t = time.perf_counter()
    ranks = cohesion.rankings(ref, catalogue, cohesion.france_values(values))
    timings["rankings"] = time.perf_counter() - t
    return {"values": values, "disparities": disp, "rankings": ranks}


# ---------------------------------------------------------------------------------------------
# Script: the same computation as one pandas script


def script(inputs: dict, catalogue: Catalogue, timings: dict | None = None) -> dict[str, pd.DataFrame]:
    """What an analyst would write in one go over the same frames (no catalogue machinery,
    no null reasons): the same numbers as :func:`ours`."""
    timings = timings if timings is not None else {}
    meta = {i.id: i for i in catalogue.indicators}
    t = time.perf_counter()
    long = pd.concat([c.assign(indicator_id=i) for i, c in inputs["counts"].items()], ignore_index=True)
    long["departement"] = long["code"].map(inputs["commune_departement"])
    scale = long["indicator_id"].map({i: SCALE[m.unit] for i, m in meta.items()})
    per = ["indicator_id", "period", "period_start", "period_end"]
    com = long.assign(level="commune", value=long["numerator"] / long["denominator"] * scale)
    dep = long.groupby([*per, "departement"], as_index=False).agg(
        numerator=("numerator", "sum"), denominator=("denominator", "sum"), n=("code", "size"))
    n_com = pd.Series(inputs["commune_departement"]).value_counts()
    dep = dep[dep["n"] == dep["departement"].map(n_com)].rename(columns={"departement": "code"})
    dep["region"] = dep["code"].map(inputs["region_of"])
    reg = dep.groupby([*per, "region"], as_index=False).agg(
        numerator=("numerator", "sum"), denominator=("denominator", "sum"), n=("code", "size"))
    n_dep = pd.Series(inputs["region_of"]).value_counts()
    reg = reg[reg["n"] == reg["region"].map(n_dep)].rename(columns={"region": "code"})
    fr = []
    for code, members in (("FRM", METRO_DEPARTEMENTS), ("FRMD", DEPARTEMENTS)):
        sub = dep[dep["code"].isin(members)].groupby(per, as_index=False).agg(
            numerator=("numerator", "sum"), denominator=("denominator", "sum"), n=("code", "size"))
        fr.append(sub[sub["n"] == len(members)].assign(code=code))
    up = pd.concat([dep.assign(level="departement"), reg.assign(level="region"),
                    pd.concat(fr).assign(level="france")], ignore_index=True)
    up["value"] = up["numerator"] / up["denominator"] * up["indicator_id"].map(
        {i: SCALE[m.unit] for i, m in meta.items()})
    cols = [*per, "level", "code", "value", "numerator", "denominator"]
    values = pd.concat([com[cols], up[cols]], ignore_index=True)
    values = values[values["value"].notna()].drop_duplicates(["indicator_id", "level", "code", "period"])
    timings["indicators"] = time.perf_counter() - t

    t = time.perf_counter()
    metro = inputs["scope"].set_index(["level", "code"])["is_metropolitan"]
    ref = values[values["level"] != "france"].copy()
    ref["is_metropolitan"] = metro.reindex(pd.MultiIndex.from_frame(ref[["level", "code"]])).to_numpy()
    both = pd.concat([ref.assign(scope="all"), ref[ref["is_metropolitan"].fillna(False).astype(bool)].assign(
        scope="metro")], ignore_index=True)
    key = ["indicator_id", "level", "scope", "period"]
    both = both.sort_values([*key, "value"]).reset_index(drop=True)
    g = both.groupby(key)["value"]
    disp = g.agg(["size", "min", "max", "mean", "sum"]).rename(columns={"size": "n"})
    disp["std"] = g.std(ddof=0)
    q = g.quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack()
    disp[["d1", "q1", "median", "q3", "d9"]] = q.to_numpy()
    disp["d9_d1"] = disp["d9"] / disp["d1"].where(disp["d1"] > 0)  # no ratio to a value ≤ 0
    disp["cv"] = disp["std"] / disp["mean"].where(disp["mean"] > 0)
    both["ix"] = (g.cumcount() + 1) * both["value"]
    share = both["value"] / g.transform("mean")
    both["tl"] = share * np.log(share.where(share > 0))
    sums = both.groupby(key)[["ix", "tl"]].sum()
    disp["gini"] = 2 * sums["ix"] / (disp["n"] * disp["sum"]) - (disp["n"] + 1) / disp["n"]
    disp["theil"] = sums["tl"] / disp["n"]
    positive = both.assign(nonpos=both["value"] <= 0).groupby(key)["nonpos"].sum() == 0
    rate_of_change = disp.index.get_level_values("indicator_id").map(lambda i: meta[i].unit == "%/an")
    disp.loc[~positive | rate_of_change, ["gini", "theil"]] = np.nan
    disp.loc[rate_of_change, ["d9_d1", "cv"]] = np.nan  # no ratio of a rate of change
    disp.loc[disp["n"] < 2, ["std", "cv", "gini", "theil"]] = np.nan  # no dispersion of one territory
    pop = inputs["population"].rename(columns={"year": "period_start"})
    w = both.merge(pop[["level", "code", "period_start", "population"]], on=["level", "code", "period_start"],
                   how="left")
    w["wx"] = w["population"] * w["value"]
    wsum = w.groupby(key)[["wx", "population"]].sum()
    disp["weighted_mean"] = wsum["wx"] / wsum["population"]
    disp = disp.reset_index()
    timings["disparities"] = time.perf_counter() - t

    t = time.perf_counter()
    sign = ref["indicator_id"].map({i: -1.0 if m.polarity == "-" else 1.0 for i, m in meta.items()})
    ranks = ref.assign(_k=-sign * ref["value"])
    rk = ["indicator_id", "level", "period"]
    grp = ranks.groupby(rk)["_k"]
    ranks["rank"] = grp.rank(method="min")
    ranks["rank_of"] = grp.transform("size")
    ranks["percentile"] = 100 * (ranks["rank_of"] - grp.rank(method="max")) / (ranks["rank_of"] - 1)
    m = ranks["is_metropolitan"].fillna(False).astype(bool)
    ranks.loc[m, "rank_metro"] = ranks[m].groupby(rk)["_k"].rank(method="min")
    france = values[(values["level"] == "france") & (values["code"] == "FRMD")][["indicator_id", "period", "value"]]
    ranks = ranks.merge(france.rename(columns={"value": "france_value"}), on=["indicator_id", "period"], how="left")
    ranks["gap_to_france"] = ranks["value"] - ranks["france_value"]
    ranks = ranks.sort_values(["indicator_id", "level", "code", "period_start"])
    ranks["change_since_previous_period"] = ranks.groupby(["indicator_id", "level", "code"])["value"].diff()
    timings["rankings"] = time.perf_counter() - t
    return {"values": values, "disparities": disp, "rankings": ranks}


# ---------------------------------------------------------------------------------------------
# Both give the same numbers


def check(periods: int = 2, communes: pd.DataFrame | None = None) -> dict:
    """Run both on the same synthetic inputs (all communes, or ``communes``) and compare their
    numbers; raises if they differ."""
    catalogue = load_catalogue()
    inputs = synthetic_inputs(periods, catalogue, communes=communes)
    a, b = ours(inputs, catalogue, fetch=True), script(inputs, catalogue)
    ref_a = a["values"][a["values"]["is_reference"]]
    if len(ref_a) != len(b["values"]):
        raise AssertionError(f"values: ours {len(ref_a)} reference rows, script {len(b['values'])}")
    da = a["disparities"].set_index(["indicator_id", "level", "scope", "period"]).sort_index()
    db = b["disparities"].set_index(["indicator_id", "level", "scope", "period"]).sort_index()
    if not da.index.equals(db.index):
        raise AssertionError("disparities: not the same sets of territories")
    for col in ("n", "min", "max", "mean", "std", "d1", "q1", "median", "q3", "d9", "d9_d1", "cv", "gini", "theil",
                "weighted_mean"):
        _close(da[col], db[col], f"disparities.{col}")
    key = ["indicator_id", "level", "period", "code"]
    ra = a["rankings"].set_index(key).sort_index()
    rb = b["rankings"].set_index(key).sort_index()
    if not ra.index.equals(rb.index):
        raise AssertionError("rankings: not the same rows")
    for col in ("rank", "rank_of", "percentile", "rank_metro", "gap_to_france", "change_since_previous_period"):
        _close(ra[col], rb[col], f"rankings.{col}")
    return {"periods": periods, "value_rows": len(ref_a), "disparity_rows": len(da), "ranking_rows": len(ra)}


def _close(a: pd.Series, b: pd.Series, what: str) -> None:
    a, b = a.astype(float).to_numpy(), b.astype(float).to_numpy()
    same = np.isclose(a, b, rtol=1e-9, atol=1e-9) | (np.isnan(a) & np.isnan(b))
    if not same.all():
        i = int(np.argmin(same))
        raise AssertionError(f"{what}: {int((~same).sum())} values differ, e.g. ours {a[i]!r} vs script {b[i]!r}")


# ---------------------------------------------------------------------------------------------
# A measured child


def run(periods: int, impl: str, reps: int, deadline: float | None = None) -> dict:
    """``reps`` repetitions on the same inputs, fewer if the next one would end after
    ``deadline`` (epoch seconds), never fewer than one."""
    if impl == "ours":
        os.environ.setdefault(duckdb_config.ENV_MEMORY_LIMIT, BENCH_DUCKDB_MEMORY)
    catalogue = load_catalogue()
    gc.collect()
    rss_start = rss_mb()
    start = time.perf_counter()
    inputs = synthetic_inputs(periods, catalogue)
    generation = time.perf_counter() - start
    gc.collect()
    inputs_mib = rss_mb() - rss_start
    fn = {"ours": ours, "ours_pandas": ours_pandas, "script": script}[impl]
    runs = []
    for _ in range(reps):
        if runs and deadline is not None and time.time() + runs[-1]["seconds"] * 1.1 > deadline:
            break
        gc.collect()
        rss_before = rss_mb()
        reset_peak_rss()
        timings: dict[str, float] = {}
        start = time.perf_counter()
        out = fn(inputs, catalogue, timings)
        wall = time.perf_counter() - start
        runs.append({"seconds": wall, "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before, **timings})
        del out
    return {"periods": periods, "impl": impl, "n_communes": inputs["n_communes"], "n_rows": n_rows(inputs),
            "n_indicators": len(inputs["counts"]), "generation_seconds": generation, "runs": runs,
            "rss_start_mb": rss_start, "inputs_mib": inputs_mib,
            "reps_asked": reps, "duckdb_memory_limit": duckdb_config.duckdb_config()["memory_limit"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="scaling on synthetic commune-level inputs")
    parser.add_argument("what", choices=["run", "check"])
    parser.add_argument("--periods", type=int, default=1)
    parser.add_argument("--impl", choices=["ours", "ours_pandas", "script"], default="ours")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--deadline", type=float, help="epoch seconds: no repetition starts that would end later")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.what == "check":
        write_result(args.out, check(args.periods))
    else:
        write_result(args.out, run(args.periods, args.impl, args.reps, args.deadline))


if __name__ == "__main__":
    main()
