"""The checks of the derived values of ``mart.indicator_values`` (no Dagster)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from barometre import geography
from barometre.catalogue import Catalogue
from barometre.validation.runtime import CheckOutcome, _at_least, _for_gx, _outcomes, _Rule, _run

DERIVED_CHECKS: dict[str, str] = {
    "derived_region_values": "a derived région value is Σ numerators / Σ denominators of its départements",
    "france_within_regions": "a France value (FRM, FRMD) lies between the min and max of its régions",
    "plausible_bounds": "every value lies within its indicator's plausible bounds (catalogue)",
}

# ---------------------------------------------------------------------------------------------
# Derived values of mart.indicator_values.

# Value of a derived row from its numerator and denominator, as the catalogue defines it
# (restated here so that the check does not reuse the code it checks). ``years`` is the span of
# the period. A derived indicator missing here fails the check: declare its formula.
DERIVED_FORMULAS: dict[str, Callable[[pd.Series, pd.Series, pd.Series], pd.Series]] = {
    "medecins_pour_100k": lambda num, den, years: num / den * 100_000,
    "participation_presidentielle_t1": lambda num, den, years: num / den * 100,
    "part_65_ans_plus": lambda num, den, years: num / den * 100,
    # derived only for one-year spans: the yearly rate is the rate of the span
    "solde_migratoire_annuel": lambda num, den, years: num / den * 100,
    "croissance_population_annuelle": lambda num, den, years: ((num / den) ** (1.0 / years) - 1.0) * 100,
}
_TOLERANCE = 1e-9  # relative: sums of counts are exact, formulas agree to rounding errors


def _gap(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a - b).abs() / b.abs().clip(lower=1.0)


def derived_region_frame(values: pd.DataFrame, hierarchy: pd.DataFrame) -> pd.DataFrame:
    """One row per derived région value, next to the sums of its départements' numerators and
    denominators (same indicator, source and period) and the value the formula gives them.

    ``missing_departements`` names the région's départements (département → région rows of
    today's geography in ``hierarchy``, ``core.hierarchie_territoires``) whose counts are not all
    there: no row, no numerator, or no denominator where others carry one. A région with no
    département in the hierarchy is reported there too.
    ``denominator_sum`` is missing when the départements' rows carry no denominator (the DREES
    densities are published values): the région's own denominator is then used in the formula.
    """
    region_of = geography.parent_of(hierarchy, "departement", "region")
    n_members = pd.Series(region_of).value_counts()
    keys = ["indicator_id", "source_id", "period"]
    dep = values[values["level"] == "departement"].assign(region=lambda d: d["code"].map(region_of))
    dep = dep[dep["region"].notna()]
    sums = dep.groupby([*keys, "region"]).agg(
        departements_with_numerator=("numerator", "count"), departements_with_denominator=("denominator", "count"),
        numerator_sum=("numerator", "sum"), denominator_sum=("denominator", "sum")).reset_index()
    # A département's counts are there when its row has a numerator, and a denominator too
    # where any of its région's départements carries one.
    any_den = dep.groupby([*keys, "region"])["denominator"].transform("count") > 0
    counted = dep[dep["numerator"].notna() & (dep["denominator"].notna() | ~any_den)]
    have = counted.groupby([*keys, "region"])["code"].agg(set).rename("member_codes").reset_index()
    reg = values[(values["level"] == "region") & values["derived"]]
    out = reg[[*keys, "code", "period_start", "period_end", "value", "numerator", "denominator"]].merge(
        sums.rename(columns={"region": "code"}), on=[*keys, "code"], how="left").merge(
        have.rename(columns={"region": "code"}), on=[*keys, "code"], how="left")
    out["departements"] = out["code"].map(n_members).astype("Int64")
    members: dict[str, set[str]] = {}
    for d, r in region_of.items():
        members.setdefault(r, set()).add(d)
    out["missing_departements"] = [
        (", ".join(sorted(members[code] - (have if isinstance(have, set) else set()))) or None) if code in members
        else "(no département of this région in core.hierarchie_territoires)"
        for code, have in zip(out["code"], out["member_codes"])]
    full_den = out["departements_with_denominator"].fillna(0) == out["departements"].astype("float")
    out["denominator_sum"] = out["denominator_sum"].where(full_den)
    out["numerator_gap"] = _gap(out["numerator"], out["numerator_sum"])
    out["denominator_gap"] = _gap(out["denominator"], out["denominator_sum"])
    out["formula"] = out["indicator_id"].where(out["indicator_id"].isin(list(DERIVED_FORMULAS)))
    expected = pd.Series(np.nan, index=out.index)
    den = out["denominator_sum"].fillna(out["denominator"])
    years = (out["period_end"] - out["period_start"]).clip(lower=1)
    for ind, formula in DERIVED_FORMULAS.items():
        mask = out["indicator_id"] == ind
        if mask.any():
            expected[mask] = formula(out.loc[mask, "numerator_sum"], den[mask], years[mask])
    out["expected_value"] = expected
    out["value_gap"] = _gap(out["value"], out["expected_value"])
    return out.drop(columns=["member_codes", "period_start", "period_end"]).reset_index(drop=True)


def france_frame(values: pd.DataFrame, hierarchy: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """France values (FRM, FRMD) next to the min and max of their régions' values (région →
    France rows of today's geography in ``hierarchy``) of the same indicator, source and period.
    Returns (checked rows, rows without any région of the same source). ``FR`` is not compared:
    it has no children in the hierarchy, as it also counts what lies in no région (collectivités
    d'outre-mer, voters abroad)."""
    keys = ["indicator_id", "source_id", "period"]
    columns = ["indicator_id", "source_id", "code", "period", "value", "regions_with_value", "region_min", "region_max"]
    regions_of_france = geography.children_of(hierarchy, "region", "france")
    france = values[(values["level"] == "france") & values["code"].isin(list(regions_of_france))]
    # one row per France value, in the order of its (indicator, source, period, code) group, rows
    # with a missing key left out (as a groupby leaves them)
    france = france[[*keys, "code", "value"]].dropna(subset=[*keys, "code"])
    france = france.sort_values([*keys, "code"], kind="stable")
    # the régions' values of each France code: a région row per France code that contains it
    member = pd.DataFrame([(code, region) for code, members in regions_of_france.items() for region in members],
                          columns=["code", "region"])
    regions = values.loc[values["level"] == "region", [*keys, "code", "value"]].dropna(subset=keys)
    regions = regions.rename(columns={"code": "region"}).merge(member, on="region")
    stats = regions.groupby([*keys, "code"], sort=False, dropna=True)["value"].agg(
        regions_with_value="size", region_min="min", region_max="max").reset_index()
    frame = france.merge(stats, on=[*keys, "code"], how="left")
    frame["regions_with_value"] = frame["regions_with_value"].fillna(0).astype("int64")
    frame = frame[columns].reset_index(drop=True) if len(frame) else pd.DataFrame(columns=columns)
    checked = frame[frame["regions_with_value"] > 0].reset_index(drop=True)
    return checked, frame[frame["regions_with_value"] == 0].reset_index(drop=True)


def plausible_frame(values: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    bounds = pd.DataFrame([{"indicator_id": i.id, "plausible_min": i.plausible[0], "plausible_max": i.plausible[1]}
                           for i in catalogue.indicators])
    cols = ["indicator_id", "level", "code", "geography_vintage", "period", "source_id", "value"]
    return values[cols].merge(bounds, on="indicator_id", how="left").reset_index(drop=True)


def validate_indicator_values(values: pd.DataFrame, hierarchy: pd.DataFrame,
                              catalogue: Catalogue) -> list[CheckOutcome]:
    """The checks of the derived values of ``mart.indicator_values`` (:data:`DERIVED_CHECKS`)."""
    start = time.perf_counter()
    table = "mart.indicator_values"
    # the two relations read (département → région, région → France): the hierarchy's other
    # rows (the communes', EPCI's, ZE's: most of its rows) filtered out once
    hierarchy = hierarchy[hierarchy["child_level"].isin(["departement", "region"])]
    derived = derived_region_frame(values, hierarchy)
    checked, unchecked = france_frame(values, hierarchy)
    frames = {"derived_regions": _for_gx(derived), "france": _for_gx(checked),
              "plausible": _for_gx(plausible_frame(values, catalogue))}
    rules: list[_Rule] = []

    def add(check, rule, column, build, batch, index):
        rules.append(_Rule(check, rule, column, build, batch=batch, index=index))

    reg_index = ("indicator_id", "source_id", "code", "period")
    for column, rule, build in (
        ("missing_departements", "a derived région has the counts of all its départements",
         lambda E: E.ExpectColumnValuesToBeNull(column="missing_departements")),
        ("numerator_gap", "région numerator = Σ numerators of its départements",
         lambda E: E.ExpectColumnValuesToBeBetween(column="numerator_gap", max_value=_TOLERANCE)),
        ("denominator_gap", "région denominator = Σ denominators of its départements (where their rows carry one)",
         lambda E: E.ExpectColumnValuesToBeBetween(column="denominator_gap", max_value=_TOLERANCE)),
        ("formula", "the indicator's aggregation formula is declared (validation.DERIVED_FORMULAS)",
         lambda E: E.ExpectColumnValuesToNotBeNull(column="formula")),
        ("value_gap", "région value = formula(Σ numerators, Σ denominators) of its départements",
         lambda E: E.ExpectColumnValuesToBeBetween(column="value_gap", max_value=_TOLERANCE)),
    ):
        add("derived_region_values", rule, column, build, "derived_regions", reg_index)
    add("france_within_regions", "a France value is ≥ the smallest value of its régions", "value",
        lambda E: _at_least(E, "value", "region_min"),
        "france", reg_index)
    add("france_within_regions", "a France value is ≤ the largest value of its régions", "value",
        lambda E: _at_least(E, "region_max", "value"),
        "france", reg_index)
    plaus_index = ("indicator_id", "level", "code", "geography_vintage", "period", "source_id")
    add("plausible_bounds", "a value is ≥ its indicator's plausible minimum (catalogue)", "value",
        lambda E: _at_least(E, "value", "plausible_min"),
        "plausible", plaus_index)
    add("plausible_bounds", "a value is ≤ its indicator's plausible maximum (catalogue)", "value",
        lambda E: _at_least(E, "plausible_max", "value"),
        "plausible", plaus_index)
    results = _run(table, rules, frames)
    outcomes = _outcomes(table, DERIVED_CHECKS, rules, results, lambda row: table, (*reg_index, "level"), {},
                         time.perf_counter() - start)
    for outcome in outcomes:
        if outcome.name == "derived_region_values":
            outcome.notes["rows_checked"] = len(derived)
        elif outcome.name == "france_within_regions":
            outcome.notes["rows_checked"] = len(checked)
            outcome.notes["not_checked"] = [f"{r.indicator_id} {r.code} {r.period} ({r.source_id}): no région of that "
                                            f"source" for r in unchecked.itertuples()]
        else:
            outcome.notes["rows_checked"] = len(frames["plausible"])
    return outcomes
