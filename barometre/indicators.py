"""The sixteen indicators: from tidy source tables to rows of ``mart.indicator_values``.

Each indicator has one function here, registered next to it by :func:`indicator` with the asset
keys of the tables it reads (``inputs={"medecins": "raw/drees_medecins_departement", …}``; any
``layer/table`` key). An indicator of the catalogue whose only source is the CGET's 2018 file
needs no code: :func:`formulas` gives it :func:`from_cget` on ``raw/cget_barometre_2018_valeurs``.
A function returns rows with the columns :data:`VALUE_COLUMNS` — rows whose source cell is empty
keep ``value`` missing (reported by :mod:`barometre.marts`, never filled) — or ``(values,
findings)``, the findings being rows of ``mart.quality_report`` (:data:`FINDING_COLUMNS`: what the
formula left out and why), published as ``findings/<indicator id>``.

Aggregations to région and France are always Σ numerator / Σ denominator over the children of
each parent in the hierarchy of territories (``core.hierarchie_territoires``, see
:func:`barometre.geography.sum_to_parents`), never a mean of rates, and are flagged ``derived``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from barometre import geography
from barometre.catalogue import Catalogue, Indicator
from barometre.geography import GEOGRAPHY_VINTAGE_CURRENT, cog_vintage
from barometre.periods import span_label
from barometre.sources import cog as cog_source
from barometre.sources import insee_filosofi_cc as filosofi_cc
from barometre.sources import insee_neet as neet
from barometre.sources import insee_population_age as population_age
from barometre.sources.cog import cog_pairs, static_population_departements

VALUE_COLUMNS = ["indicator_id", "level", "code", "geography_vintage", "period", "period_start", "period_end",
                 "value", "numerator", "denominator", "source_id", "derived"]

CGET = "cget_barometre_2018"
FILOSOFI = "insee_filosofi_departement"
POPULATION = "insee_estimations_population"
COG = cog_source.SOURCE_ID
ELECTIONS = "interieur_presidentielle_t1"
# The rows of mart.quality_report (barometre/marts.py QUALITY_COLUMNS) a formula may return.
FINDING_COLUMNS = ["kind", "indicator_id", "source_id", "level", "code", "geography_vintage", "period", "detail"]


class FormulaError(ValueError):
    """The formulas and the catalogue disagree."""


@dataclass(frozen=True)
class Formula:
    """An indicator's function and the tables it reads: input name → asset key (``layer/table``)."""

    indicator_id: str
    function: Callable
    inputs: Mapping[str, str]


# Registered by @indicator (indicator id → formula).
REGISTERED: dict[str, Formula] = {}
# The default formula's input: the CGET's 2018 values.
CGET_INPUTS = {"cget": "raw/cget_barometre_2018_valeurs"}


def indicator(indicator_id: str, inputs: Mapping[str, str]) -> Callable:
    """Register the decorated function as the formula of ``indicator_id``, reading ``inputs``
    (name the function sees → asset key ``layer/table``)."""
    def register(function: Callable) -> Callable:
        if indicator_id in REGISTERED:
            raise FormulaError(f"indicator {indicator_id!r}: two formulas ({REGISTERED[indicator_id].function.__name__},"
                               f" {function.__name__})")
        bad = [k for k in inputs.values() if len(k.split("/")) != 2]
        if bad:
            raise FormulaError(f"indicator {indicator_id!r}: input keys must be 'layer/table', got {bad}")
        REGISTERED[indicator_id] = Formula(indicator_id, function, dict(inputs))
        return function
    return register


def formulas(catalogue: Catalogue) -> dict[str, Formula]:
    """The formula of every catalogue indicator, in catalogue order: its registered function, else
    :func:`from_cget` when its only source is the CGET's file. Raises :class:`FormulaError` naming
    an indicator without formula, or a formula without catalogue entry."""
    ids = [i.id for i in catalogue.indicators]
    orphans = sorted(set(REGISTERED) - set(ids))
    if orphans:
        raise FormulaError(f"formulas without a catalogue indicator: {orphans} (add them to barometre/catalogue.yaml)")
    out = {}
    for ind in catalogue.indicators:
        if ind.id in REGISTERED:
            out[ind.id] = REGISTERED[ind.id]
        elif ind.sources == (CGET,) and ind.cget_id:
            out[ind.id] = Formula(ind.id, from_cget, CGET_INPUTS)
        else:
            raise FormulaError(f"indicator {ind.id!r} (sources {list(ind.sources)}) has no formula: register one "
                               f"with @indicator({ind.id!r}, inputs=...) in barometre/indicators.py")
    return out


def _findings(indicator_id: str, source_id: str, kind: str, **columns) -> pd.DataFrame:
    return pd.DataFrame({"kind": kind, "indicator_id": indicator_id, "source_id": source_id, **columns},
                        columns=FINDING_COLUMNS)


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


# INSEE Filosofi base cc 2014–2019 (barometre/sources/insee_filosofi_cc.py): one raw table per
# published level and the table of its secrecy markers.
FILOSOFI_CC_INPUTS = {**{f"filosofi_cc_{level}": f"raw/{filosofi_cc.TABLES[level]}"
                         for level in filosofi_cc.PUBLISHED_LEVELS},
                      "filosofi_cc_secret": f"raw/{filosofi_cc.SECRECY_TABLE}"}


def _filosofi_cc(indicator_id: str, inputs: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of one Filosofi base cc indicator at every published level (never re-aggregated) and its
    findings: the secrecy markers of its columns (per level, year, column and marker, counted, never
    0), the poverty rates shown as 5 (0–5 %, left missing) and the 2019 Budget de famille rows left out."""
    tables = {filosofi_cc.TABLES[level]: inputs[f"filosofi_cc_{level}"] for level in filosofi_cc.PUBLISHED_LEVELS}
    values = filosofi_cc.values(tables, (indicator_id,))
    columns = filosofi_cc.INDICATORS[indicator_id]
    level_of = {t: level for level, t in filosofi_cc.TABLES.items()}
    secret = inputs["filosofi_cc_secret"]
    secret = secret[secret["table"].isin(list(tables)) & secret["column"].isin(columns) & (secret["cells"] > 0)]
    levels = secret["table"].map(level_of)
    parts = [_findings(indicator_id, filosofi_cc.SOURCE_ID, "secrecy", level=levels, code=None,
                       geography_vintage=None, period=secret["year"].astype(str),
                       detail=[f"{n} cell(s) of {c.upper()} marked {m} in sheet {sh} of {f} (statistical secrecy): "
                               f"missing values, never 0 — {codes if len(codes) <= 200 else codes[:200] + ' …'}"
                               for n, c, m, sh, f, codes in zip(secret["cells"], secret["column"], secret["marker"],
                                                                secret["sheet"], secret["file"], secret["codes"])])]
    if indicator_id == "taux_pauvrete":
        cens = filosofi_cc.censored_rates(tables)
        parts.append(_findings(indicator_id, filosofi_cc.SOURCE_ID, "censored_value", level=cens["level"],
                               code=cens["code"], geography_vintage=[filosofi_cc.indicator_vintage(lv, v) for lv, v in
                                                                     zip(cens["level"], _vintages(tables, cens))],
                               period=cens["year"].astype(str),
                               detail=[f"poverty rate shown as {s:g}: the true rate lies within {m} (INSEE's rule), "
                                       f"not an exact value — left missing ({n})"
                                       for s, m, n in zip(cens["shown"], cens["meaning"], cens["name"])]))
    out = filosofi_cc.left_out(tables)
    parts.append(_findings(indicator_id, filosofi_cc.SOURCE_ID, "left_out", level=out["table"].map(level_of),
                           code=out["code"], geography_vintage=GEOGRAPHY_VINTAGE_CURRENT, period=out["year"].astype(str),
                           detail=[f"{n}: the 2019 {t} sheet's second block comes from the enquête Budget de famille "
                                   f"2017, not Filosofi ({', '.join(f'{c.upper()} {r[c]:g}' for c in columns if pd.notna(r[c]))}): "
                                   "not published"
                                   for n, t, (_, r) in zip(out["name"], out["table"].map(level_of), out.iterrows())]))
    findings = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(not p.empty for p in parts) \
        else pd.DataFrame(columns=FINDING_COLUMNS)
    return values, findings


def _vintages(tables: Mapping[str, pd.DataFrame], rows: pd.DataFrame) -> list[str]:
    """The raw geography vintage of each (level, code, year) of ``rows``."""
    vint = {}
    for level in filosofi_cc.PUBLISHED_LEVELS:
        t = tables[filosofi_cc.TABLES[level]]
        vint.update({(level, c, int(y)): v for c, y, v in zip(t["code"], t["year"], t["geography_vintage"])})
    return [vint[(lv, c, int(y))] for lv, c, y in zip(rows["level"], rows["code"], rows["year"])]


@indicator("revenu_median_uc", inputs={**CGET_INPUTS, "filosofi": "raw/insee_filosofi_departement",
                                       "filosofi_rejections": "core/insee_filosofi_departement_rejets",
                                       **FILOSOFI_CC_INPUTS})
def revenu_median_uc(ind, inputs):
    fil = inputs["filosofi"]
    rejected = inputs["filosofi_rejections"]
    out_keys = set(zip(rejected.loc[rejected["column"] == "q2_disp", "code"], rejected["period"]))
    keep = [(c, str(y)) not in out_keys for c, y in zip(fil["code_departement"], fil["year"])]
    cc, findings = _filosofi_cc(ind.id, inputs)
    return _concat([cc, from_cget(ind, inputs), _yearly(fil[keep], "q2_disp", ind.id, FILOSOFI)]), findings


@indicator("taux_pauvrete", inputs={"filosofi": "raw/insee_filosofi_departement", **FILOSOFI_CC_INPUTS})
def taux_pauvrete(ind, inputs):
    cc, findings = _filosofi_cc(ind.id, inputs)
    return _concat([cc, _yearly(inputs["filosofi"], "poverty_rate_disp", ind.id, FILOSOFI)]), findings


@indicator("part_revenus_sociaux", inputs={**CGET_INPUTS, **FILOSOFI_CC_INPUTS})
def part_revenus_sociaux(ind, inputs):
    """PPEN + PPSOC of Filosofi base cc (pensions and social benefits, % of disposable income) at
    every published level, and the CGET's 2012/2014 values."""
    cc, findings = _filosofi_cc(ind.id, inputs)
    return _concat([cc, from_cget(ind, inputs)]), findings


@indicator("part_65_ans_plus", inputs={**CGET_INPUTS, "population_age": f"raw/{population_age.TABLE}",
                                       "population_age_totals": f"raw/{population_age.TOTALS_TABLE}",
                                       "hierarchy": "core/hierarchie_territoires"})
def part_65_ans_plus(ind, inputs):
    """Σ 65+ ÷ Σ all ages × 100 (Hommes + Femmes) of INSEE's estimates: départements as counted,
    régions, FRM and FRMD from summed département counts (:func:`aggregate_counts`); the CGET's
    1999/2014 census values stay as a second source. Findings: the provisional years, the wrong
    Ensemble cell (Corrèze 2021) and any workbook total that differs from the sums."""
    tidy = inputs["population_age"]
    values = population_age.values(tidy, inputs["hierarchy"])
    src = population_age.SOURCE_ID
    years = population_age.provisional_years(tidy)
    bad = population_age.sex_inconsistencies(tidy)
    check = population_age.totals_check(tidy, inputs["population_age_totals"])
    check = check[check["difference"].fillna(0) != 0]
    findings = pd.concat([
        _findings(ind.id, src, "provisional", level=None, code=None, geography_vintage=None,
                  period=[str(y) for y in years],
                  detail="INSEE's estimate for this year is provisional (« résultats provisoires », workbook of "
                         "29 March 2021): published, to be revised"),
        _findings(ind.id, src, "source_error", level="departement", code=bad["code_departement"],
                  geography_vintage=GEOGRAPHY_VINTAGE_CURRENT, period=bad["year"].astype(str),
                  detail=[f"Ensemble {a} ans = {e:g} whereas Hommes + Femmes = {s:g} (the row's Total agrees with "
                          f"Hommes + Femmes): the share is computed from Hommes + Femmes"
                          for a, e, s in zip(bad["age_group"], bad["ensemble"], bad["hommes_plus_femmes"])]),
        _findings(ind.id, src, "totals_check", level=None, code=check["code"], geography_vintage=None,
                  period=check["year"].astype(str),
                  detail=[f"the workbook's total ({sx}, {ag}) {p:g} differs from the sum of its parts {s:g} by {d:g}"
                          for sx, ag, p, s, d in zip(check["sex"], check["age_group"], check["published"],
                                                     check["summed"], check["difference"])]),
    ], ignore_index=True)
    return _concat([values, from_cget(ind, inputs)]), findings


@indicator("part_neet_15_24", inputs={**CGET_INPUTS, **{f"neet_{level}": f"raw/{neet.TABLES[level]}"
                                                        for level in neet.PUBLISHED_LEVELS}})
def part_neet_15_24(ind, inputs):
    """The census rates of the Observatoire des territoires' export (producer inferred) at EPCI
    (2008, 2013, 2018), département and région (2007 … 2018), as published (no counts: no
    aggregation), and the CGET's 2009/2014 values."""
    rows = neet.values({neet.TABLES[level]: inputs[f"neet_{level}"] for level in neet.PUBLISHED_LEVELS})
    return _concat([rows, from_cget(ind, inputs)])


@indicator("taux_chomage", inputs={"chomage": "raw/insee_chomage_localise_departement",
                                   "chomage_ze": "raw/insee_chomage_zone_emploi",
                                   "zonage_ze": "raw/insee_zonage_zones_emploi_2020_communes"})
def taux_chomage(ind, inputs):
    """Départements as published (annual means of the compilation); zones d'emploi 2020: the mean
    of the four quarters of every complete year 2003–2022 (barometre/commune_indicators.py), with
    the zones and years INSEE does not publish as findings."""
    from barometre import commune_indicators
    from barometre.sources import insee_chomage_zone_emploi as ze

    zones = inputs["zonage_ze"].drop_duplicates("code_zone_emploi")[["code_zone_emploi", "libelle_zone_emploi"]]
    zones = zones.rename(columns={"libelle_zone_emploi": "libelle"}).sort_values("code_zone_emploi")
    findings = ze.coverage_findings(inputs["chomage_ze"], zones, ind.id)
    return _concat([_yearly(inputs["chomage"], "unemployment_rate", ind.id, "insee_chomage_localise"),
                    commune_indicators.unemployment_zone_emploi(inputs["chomage_ze"])]), findings


@indicator("part_diplomes_superieur", inputs={"diplomes": "raw/insee_diplomes_rp_departement"})
def part_diplomes_superieur(ind, inputs):
    return _yearly(inputs["diplomes"], "edu_share_sup", ind.id, "insee_diplomes_rp")


@indicator("medecins_pour_100k", inputs={"medecins": "raw/drees_medecins_departement",
                                         "population": "raw/insee_estimations_population_departement",
                                         "hierarchy": "core/hierarchie_territoires"})
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


@indicator("solde_migratoire_annuel", inputs={**CGET_INPUTS, "population": "raw/insee_estimations_population_departement",
                                              "naissances": "raw/insee_naissances_departement",
                                              "deces": "raw/insee_deces_departement",
                                              "hierarchy": "core/hierarchie_territoires"})
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


@indicator("croissance_population_annuelle", inputs={
    "population": "raw/insee_estimations_population_departement",
    "cog_communes": "raw/etalab_decoupage_administratif_communes",
    "cog_references": "core/etalab_decoupage_administratif_annees_reference",
    "epci_comparability": "core/etalab_decoupage_administratif_comparabilite_epci",
    "hierarchy": "core/hierarchie_territoires"})
def croissance_population_annuelle(ind, inputs):
    """Yearly growth from the population estimates (département, région, FRM), and annualised
    growth between the distinct reference years of the COG releases (EPCI, département, région,
    FRM, FRMD). numerator = population at the end, denominator = population at the start.

    Findings: the releases that repeat an earlier one's populations, the départements whose
    populations are not updated, the EPCI without a comparable perimeter (all left out)."""
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
    static = static_population_departements(inputs["catalogue"])
    parts.extend(cog_growth(ind.id, inputs["cog_communes"], inputs["hierarchy"], inputs["cog_references"],
                            inputs["epci_comparability"], tuple(static)))
    return _concat(parts), cog_growth_findings(ind.id, inputs["cog_references"], inputs["epci_comparability"], static)


def cog_growth_findings(indicator_id: str, references: pd.DataFrame, epci_comparability: pd.DataFrame,
                        static: Mapping[str, str]) -> pd.DataFrame:
    """What COG-based growth leaves out, as rows of mart.quality_report: repeated releases, static
    départements, EPCI without a comparable perimeter."""
    repeated = references[references["repeats_vintage"].notna()]
    out = epci_comparability[~epci_comparability["comparable"]]
    return pd.concat([
        _findings(indicator_id, COG, "repeated_vintage", level=None, code=None,
                  geography_vintage=[cog_vintage(v) for v in repeated["cog_vintage"]], period=None,
                  detail=[f"COG {v} repeats the populations of COG {r} (reference year {y}, witness population {w}): "
                          f"left out of the growth series, a 0 % growth would be false"
                          for v, r, y, w in zip(repeated["cog_vintage"], repeated["repeats_vintage"],
                                                repeated["reference_year"], repeated["witness_population"])]),
        _findings(indicator_id, COG, "static_population", level="departement", code=list(static),
                  geography_vintage=None, period=None,
                  detail=[f"{reason}: left out of COG-based growth (département, its région, its EPCI)"
                          for reason in static.values()]),
        _findings(indicator_id, COG, "incomplete_perimeter", level="epci", code=out["code_epci"],
                  geography_vintage=[cog_vintage(v) for v in out["cog_vintage_to"]], period=out["period"],
                  detail=out["detail"]),
    ], ignore_index=True)


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
    of_vintage = geography.per_vintage(hierarchy)  # each sum below reads one release's hierarchy
    sum_up = lambda frame, child, parent, vintage, **kw: geography.sum_to_parents(  # noqa: E731
        frame, of_vintage(vintage), child, parent, vintage, keys=(), columns=("population",),
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

        static_regions = {r for r, deps in geography.children_of(of_vintage(g1), "departement",
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
        epci = geography.sum_to_parents(pops, of_vintage(g1), "commune", "epci", g1, keys=(),
                                        parents=ok["code_epci"])
        parts.append(frame(epci, "epci", vintage=g1))
    return parts


@indicator("participation_presidentielle_t1", inputs={**CGET_INPUTS,
                                                      "elections": "raw/interieur_presidentielle_t1_departement",
                                                      "hierarchy": "core/hierarchie_territoires",
                                                      "communes": "core/interieur_presidentielle_2017_comptes_communes",
                                                      "mailles": "core/interieur_presidentielle_2017_mailles",
                                                      "passage": "core/interieur_presidentielle_2017_constats_communes"})
def participation_presidentielle_t1(ind, inputs):
    """Votants / inscrits × 100: départements from their own counts; régions, FRM and FRMD from
    summed département counts; FR (France entière) adds the COM and voters abroad, and exists
    only for elections whose file has the abroad row (not the provisional 2022 file: a finding).
    2017 from the commune counts too (source ``interieur_presidentielle_2017_communes``): communes,
    and every EPCI, zone d'emploi 2020, département, région and France summed in SQL
    (``core.interieur_presidentielle_2017_mailles``), derived, never the reference where the
    département file publishes a value."""
    from barometre import commune_indicators

    commune_values, commune_findings = commune_indicators.turnout_from_mesh(inputs["communes"], inputs["mailles"],
                                                                            inputs["passage"])
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
    no_abroad = sorted(set(el["year"]) - set(el.loc[el["kind"] == "etranger", "year"]))
    findings = _findings(ind.id, ELECTIONS, "not_computable", level="france", code="FR", geography_vintage=None,
                         period=[str(y) for y in no_abroad],
                         detail="the file has no row for French voters abroad (provisional results): no France "
                                "entière turnout")
    parts.append(commune_values)
    return _concat(parts), pd.concat([findings, commune_findings], ignore_index=True)


def inputs_of(indicator_id: str, catalogue: Catalogue | None = None) -> dict[str, str]:
    """The tables an indicator reads: input name → asset key (``layer/table``)."""
    if catalogue is None:
        from barometre.catalogue import load_catalogue

        catalogue = load_catalogue()
    return dict(formulas(catalogue)[indicator_id].inputs)


def evaluate(catalogue: Catalogue, indicator_id: str,
             inputs: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of one indicator, sorted, with the catalogue's id, and its findings (rows of
    mart.quality_report, possibly none)."""
    ind = catalogue.indicator(indicator_id)
    result = formulas(catalogue)[indicator_id].function(ind, {**inputs, "catalogue": catalogue})
    out, findings = result if isinstance(result, tuple) else (result, pd.DataFrame(columns=FINDING_COLUMNS))
    out = out.astype({"period_start": "int64", "period_end": "int64", "value": "float64",
                      "numerator": "float64", "denominator": "float64", "derived": "bool"})
    out = out.sort_values(["level", "geography_vintage", "code", "period_start", "period_end", "source_id"],
                          ignore_index=True)
    return out, findings[FINDING_COLUMNS].reset_index(drop=True)


def compute(catalogue: Catalogue, indicator_id: str, inputs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows of one indicator, sorted, with the catalogue's id (its findings: :func:`evaluate`)."""
    return evaluate(catalogue, indicator_id, inputs)[0]
