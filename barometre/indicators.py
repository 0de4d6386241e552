"""The sixteen indicators: from tidy source tables to rows of ``mart.indicator_values``.

Each indicator has one function here, registered in :data:`COMPUTE` with the names of the
input tables it reads (see :data:`INPUTS`). A function returns rows with the columns
:data:`VALUE_COLUMNS`; rows whose source cell is empty keep ``value`` missing (they are
reported by :mod:`barometre.marts`, never filled).

Aggregations to région and France are always Σ numerator / Σ denominator over the children of
each parent in the hierarchy of territories (``core.hierarchie_territoires``, see
:func:`barometre.geography.sum_to_parents`), never a mean of rates, and are flagged ``derived``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from barometre import geography
from barometre.catalogue import Catalogue, Indicator
from barometre.geography import GEOGRAPHY_VINTAGE_CURRENT, cog_vintage
from barometre.periods import span_label
from barometre.sources import cog as cog_source
from barometre.sources.cog import cog_pairs, static_population_departements

VALUE_COLUMNS = ["indicator_id", "level", "code", "geography_vintage", "period", "period_start", "period_end",
                 "value", "numerator", "denominator", "source_id", "derived"]

CGET = "cget_barometre_2018"
FILOSOFI = "insee_filosofi_departement"
POPULATION = "insee_estimations_population"
COG = cog_source.SOURCE_ID
ELECTIONS = "interieur_presidentielle_t1"


def _frame(indicator_id: str, rows: pd.DataFrame, *, level: str, source_id: str, derived: bool,
           vintage: str = GEOGRAPHY_VINTAGE_CURRENT) -> pd.DataFrame:
    """Complete ``rows`` (code, period, period_start, period_end, value[, numerator, denominator])."""
    out = rows.copy()
    out["indicator_id"] = indicator_id
    out["level"] = level
    out["geography_vintage"] = vintage
    out["source_id"] = source_id
    out["derived"] = derived
    for col in ("numerator", "denominator"):
        if col not in out:
            out[col] = np.nan
    return out[VALUE_COLUMNS]


def _yearly(panel: pd.DataFrame, value: str, indicator_id: str, source_id: str,
            numerator: str | None = None) -> pd.DataFrame:
    """Département rows of a yearly panel column, as published."""
    rows = pd.DataFrame({
        "code": panel["code_departement"], "period": panel["year"].astype(str),
        "period_start": panel["year"], "period_end": panel["year"], "value": panel[value],
        "numerator": panel[numerator] if numerator else np.nan,
    })
    return _frame(indicator_id, rows, level="departement", source_id=source_id, derived=False)


def aggregate_counts(counts: pd.DataFrame, hierarchy: pd.DataFrame, value: Callable[[pd.Series, pd.Series], pd.Series],
                     indicator_id: str, source_id: str, france: tuple[str, ...] = ("FRM",), *,
                     child_level: str = "departement", parent_levels: tuple[str, ...] = ("region", "france"),
                     vintage: str = GEOGRAPHY_VINTAGE_CURRENT) -> pd.DataFrame:
    """Sum ``numerator`` and ``denominator`` of the territories of ``child_level`` into each
    parent of ``parent_levels`` in the hierarchy of ``vintage`` (``core.hierarchie_territoires``);
    of level ``france``, only the perimeters ``france``.

    ``counts`` has ``code`` (of ``child_level``), ``period``, ``period_start``, ``period_end``,
    ``numerator``, ``denominator``. A parent is published only when all its children in the
    hierarchy have a count for the period (a partial sum would be a false total).
    """
    parts = []
    for parent_level in parent_levels:
        sums = geography.sum_to_parents(counts, hierarchy, child_level, parent_level, vintage,
                                        parents=france if parent_level == "france" else None)
        parts.append(_frame(indicator_id, sums.assign(value=value(sums["numerator"], sums["denominator"])),
                            level=parent_level, source_id=source_id, derived=True, vintage=vintage))
    return _concat(parts)


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate value frames, skipping empty ones (an indicator may have no row at a level)."""
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=VALUE_COLUMNS)


def _rate(scale: float) -> Callable[[pd.Series, pd.Series], pd.Series]:
    return lambda num, den: num / den * scale


# ---------------------------------------------------------------------------------------------
# Indicator functions. Signature: (indicator, inputs) -> frame of VALUE_COLUMNS.


def from_cget(ind: Indicator, inputs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Values published by the CGET in 2018 (map level, régions, France) for ``ind.cget_id``."""
    rows = inputs["cget"]
    rows = rows[rows["cget_id"] == ind.cget_id]
    parts = [
        _frame(ind.id, group[["code", "period", "period_start", "period_end", "value"]], level=level,
               source_id=CGET, derived=False, vintage=vintage)
        for (level, vintage), group in rows.groupby(["level", "geography_vintage"], sort=False)
    ]
    return _concat(parts)


def revenu_median_uc(ind, inputs):
    fil = inputs["filosofi"]
    rejected = inputs["filosofi_rejections"]
    out_keys = set(zip(rejected.loc[rejected["column"] == "q2_disp", "code"], rejected["period"]))
    keep = [(c, str(y)) not in out_keys for c, y in zip(fil["code_departement"], fil["year"])]
    return _concat([from_cget(ind, inputs), _yearly(fil[keep], "q2_disp", ind.id, FILOSOFI)])


def taux_pauvrete(ind, inputs):
    return _yearly(inputs["filosofi"], "poverty_rate_disp", ind.id, FILOSOFI)


def taux_chomage(ind, inputs):
    return _yearly(inputs["chomage"], "unemployment_rate", ind.id, "insee_chomage_localise")


def part_diplomes_superieur(ind, inputs):
    return _yearly(inputs["diplomes"], "edu_share_sup", ind.id, "insee_diplomes_rp")


def medecins_pour_100k(ind, inputs):
    """Published département densities; région and France métropolitaine from Σ doctors / Σ
    population at 1 January × 100 000."""
    med = inputs["medecins"]
    published = _yearly(med, "doctor_density_per_100k", ind.id, "drees_medecins", numerator="n_doctors")
    counts = med.merge(inputs["population"], on=["code_departement", "year"], how="inner")
    counts = pd.DataFrame({
        "code": counts["code_departement"], "period": counts["year"].astype(str), "period_start": counts["year"],
        "period_end": counts["year"], "numerator": counts["n_doctors"].astype(float),
        "denominator": counts["pop_jan1"].astype(float)})
    derived = aggregate_counts(counts, inputs["hierarchy"], _rate(100_000), ind.id, "drees_medecins")
    return _concat([published, derived])


def _population_pairs(population: pd.DataFrame) -> pd.DataFrame:
    """Per département and year t with a next year: P(t) (``pop_jan1``) and P(t+1) (``pop_next``)."""
    pop = population[["code_departement", "year", "pop_jan1"]]
    nxt = pop.assign(year=pop["year"] - 1).rename(columns={"pop_jan1": "pop_next"})
    df = pop.merge(nxt, on=["code_departement", "year"], how="inner")
    df["period"] = [span_label(y, y + 1) for y in df["year"]]
    df["period_start"] = df["year"]
    df["period_end"] = df["year"] + 1
    return df.rename(columns={"code_departement": "code"})


def solde_migratoire_annuel(ind, inputs):
    """((P(t+1) − P(t)) − (births(t) − deaths(t))) / P(t) × 100, counts summed before the ratio."""
    df = _population_pairs(inputs["population"]).merge(
        inputs["naissances"].rename(columns={"code_departement": "code"}), on=["code", "year"], how="left").merge(
        inputs["deces"].rename(columns={"code_departement": "code"}), on=["code", "year"], how="left")
    num = (df["pop_next"] - df["pop_jan1"]) - (df["live_births"] - df["deaths"])
    counts = df.assign(numerator=num.astype(float), denominator=df["pop_jan1"].astype(float))
    keys = ["code", "period", "period_start", "period_end"]
    dep = _frame(ind.id, counts[keys + ["numerator", "denominator"]].assign(
        value=counts["numerator"] / counts["denominator"] * 100), level="departement", source_id=POPULATION, derived=True)
    agg = aggregate_counts(counts[keys + ["numerator", "denominator"]], inputs["hierarchy"], _rate(100), ind.id, POPULATION)
    return _concat([from_cget(ind, inputs), dep, agg])


def _annual_growth(end: pd.Series, start: pd.Series, years: pd.Series | int) -> pd.Series:
    return ((end / start) ** (1.0 / years) - 1.0) * 100.0


def croissance_population_annuelle(ind, inputs):
    """Yearly growth from the population estimates (département, région, FRM), and annualised
    growth between the distinct reference years of the COG releases (EPCI, département, région,
    FRM, FRMD). numerator = population at the end, denominator = population at the start."""
    df = _population_pairs(inputs["population"])
    keys = ["code", "period", "period_start", "period_end"]
    counts = df.assign(numerator=df["pop_next"].astype(float), denominator=df["pop_jan1"].astype(float))[
        keys + ["numerator", "denominator"]]
    growth = lambda num, den: _annual_growth(num, den, 1)  # noqa: E731
    parts = [
        _frame(ind.id, counts.assign(value=growth(counts["numerator"], counts["denominator"])),
               level="departement", source_id=POPULATION, derived=True),
        aggregate_counts(counts, inputs["hierarchy"], growth, ind.id, POPULATION),
    ]
    parts.extend(cog_growth(ind.id, inputs["cog_communes"], inputs["hierarchy"], inputs["cog_references"],
                            inputs["epci_comparability"], tuple(static_population_departements(inputs["catalogue"]))))
    return _concat(parts)


def cog_growth(indicator_id: str, communes: pd.DataFrame, hierarchy: pd.DataFrame,
               references: pd.DataFrame, epci_comparability: pd.DataFrame,
               static_departements: tuple[str, ...] = ()) -> list[pd.DataFrame]:
    """Annualised growth between the distinct reference years of the COG releases.

    Départements, régions, FRM and FRMD sum their communes of each release (the hierarchy of
    that release: communes → départements and régions, départements → France). EPCI growth is
    computed on the later release's perimeter from its member communes, for the EPCI that
    :func:`barometre.geography.epci_comparability` found comparable. Départements whose
    populations are not updated (``static_departements``, e.g. Mayotte) and régions made only of
    them are left out; France perimeters keep them, as INSEE's totals do.
    """
    parts = []
    # The hierarchy of each release, split once (each sum below reads one release's rows).
    by_vintage = {str(v): rows for v, rows in hierarchy.groupby("geography_vintage", sort=False)}
    sum_up = lambda frame, child, parent, vintage, **kw: geography.sum_to_parents(  # noqa: E731
        frame, by_vintage.get(vintage, hierarchy.iloc[:0]), child, parent, vintage, keys=(), columns=("population",),
        **kw).set_index("code")["population"]
    for v0, v1, y0, y1 in cog_pairs(references):
        g0, g1 = cog_vintage(v0), cog_vintage(v1)
        c0 = communes[communes["cog_vintage"] == v0].rename(columns={"code_commune": "code"})
        c1 = communes[communes["cog_vintage"] == v1].rename(columns={"code_commune": "code"})
        period = dict(period=span_label(y0, y1), period_start=y0, period_end=y1)
        gap = y1 - y0

        def frame(rows: pd.DataFrame, level: str, vintage: str = GEOGRAPHY_VINTAGE_CURRENT) -> pd.DataFrame:
            rows = rows.assign(**period)
            rows["value"] = _annual_growth(rows["numerator"], rows["denominator"], gap)
            return _frame(indicator_id, rows, level=level, source_id=COG, derived=True, vintage=vintage)

        static_regions = {r for r, deps in geography.children_of(by_vintage.get(g1, hierarchy.iloc[:0]), "departement",
                                                                 "region", g1).items()
                          if set(deps) <= set(static_departements)}
        left_out = {"departement": set(static_departements), "region": static_regions}
        for level in ("departement", "region"):
            p0, p1 = sum_up(c0, "commune", level, g0), sum_up(c1, "commune", level, g1)
            both = p0.index.intersection(p1.index).difference(sorted(left_out[level]))
            parts.append(frame(pd.DataFrame({"code": both, "numerator": p1[both].astype(float).values,
                                             "denominator": p0[both].astype(float).values}), level))
            if level == "departement":  # France perimeters sum all their départements, static ones included
                f0 = sum_up(p0.reset_index(), "departement", "france", g0, parents=("FRM", "FRMD"))
                f1 = sum_up(p1.reset_index(), "departement", "france", g1, parents=("FRM", "FRMD"))
                fr = f0.index.intersection(f1.index)
                parts.append(frame(pd.DataFrame({"code": fr, "numerator": f1[fr].astype(float).values,
                                                 "denominator": f0[fr].astype(float).values}), "france"))
        ok = epci_comparability[(epci_comparability["cog_vintage_to"] == v1) & epci_comparability["comparable"]]
        pops = c1[["code", "population"]].merge(c0[["code", "population"]], on="code", suffixes=("_1", "_0"))
        pops = pops.assign(numerator=pops["population_1"].astype(float), denominator=pops["population_0"].astype(float))
        epci = geography.sum_to_parents(pops, by_vintage.get(g1, hierarchy.iloc[:0]), "commune", "epci", g1, keys=(),
                                        parents=ok["code_epci"])
        parts.append(frame(epci, "epci", vintage=g1))
    return parts


def participation_presidentielle_t1(ind, inputs):
    """Votants / inscrits × 100: départements from their own counts; régions, FRM and FRMD from
    summed département counts; FR (France entière) adds the COM and voters abroad, and exists
    only for elections whose file has the abroad row (not the provisional 2022 file)."""
    el = inputs["elections"]
    el = el.assign(period=el["year"].astype(str), period_start=el["year"], period_end=el["year"],
                   numerator=el["votants"].astype(float), denominator=el["inscrits"].astype(float))
    keys = ["period", "period_start", "period_end"]
    dep = el[el["kind"] == "departement"].rename(columns={"code_departement": "code"})
    dep = dep.assign(value=dep["numerator"] / dep["denominator"] * 100)
    parts = [
        from_cget(ind, inputs),
        _frame(ind.id, dep[["code", *keys, "numerator", "denominator", "value"]], level="departement",
               source_id=ELECTIONS, derived=False),
        aggregate_counts(dep[["code", *keys, "numerator", "denominator"]], inputs["hierarchy"], _rate(100), ind.id,
                         ELECTIONS, france=("FRM", "FRMD")),
    ]
    with_abroad = el.groupby("year")["kind"].transform(lambda k: (k == "etranger").any())
    fr = el[with_abroad].groupby(keys, as_index=False)[["numerator", "denominator"]].sum()
    fr = fr.assign(code="FR", value=fr["numerator"] / fr["denominator"] * 100)
    parts.append(_frame(ind.id, fr, level="france", source_id=ELECTIONS, derived=True))
    return _concat(parts)


COMPUTE: dict[str, Callable[[Indicator, dict], pd.DataFrame]] = {
    "revenu_median_uc": revenu_median_uc,
    "part_neet_15_24": from_cget,
    "medecins_pour_100k": medecins_pour_100k,
    "part_65_ans_plus": from_cget,
    "part_chomage_longue_duree": from_cget,
    "taux_pauvrete": taux_pauvrete,
    "solde_migratoire_annuel": solde_migratoire_annuel,
    "croissance_population_annuelle": croissance_population_annuelle,
    "part_fonctions_productives": from_cget,
    "part_locaux_thd": from_cget,
    "taux_chomage": taux_chomage,
    "part_diplomes_superieur": part_diplomes_superieur,
    "benevoles_pour_100_hab": from_cget,
    "participation_presidentielle_t1": participation_presidentielle_t1,
    "coefficient_integration_fiscale": from_cget,
    "part_revenus_sociaux": from_cget,
}

# Input tables each indicator reads (names of the core/raw assets, see assets/indicators.py).
_DEP = ["hierarchy"]
INPUTS: dict[str, list[str]] = {
    "revenu_median_uc": ["cget", "filosofi", "filosofi_rejections"],
    "medecins_pour_100k": ["medecins", "population", *_DEP],
    "taux_pauvrete": ["filosofi"],
    "solde_migratoire_annuel": ["cget", "population", "naissances", "deces", *_DEP],
    "croissance_population_annuelle": ["population", "cog_communes", "cog_references", "epci_comparability", *_DEP],
    "taux_chomage": ["chomage"],
    "part_diplomes_superieur": ["diplomes"],
    "participation_presidentielle_t1": ["cget", "elections", *_DEP],
}


def inputs_of(indicator_id: str) -> list[str]:
    return INPUTS.get(indicator_id, ["cget"])


def compute(catalogue: Catalogue, indicator_id: str, inputs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows of one indicator, sorted, with the catalogue's id."""
    ind = catalogue.indicator(indicator_id)
    out = COMPUTE[indicator_id](ind, {**inputs, "catalogue": catalogue})
    out = out.astype({"period_start": "int64", "period_end": "int64", "value": "float64",
                      "numerator": "float64", "denominator": "float64", "derived": "bool"})
    return out.sort_values(["level", "geography_vintage", "code", "period_start", "period_end", "source_id"],
                           ignore_index=True)
