"""barometre/units.py: one declaration per unit of the catalogue, read by the cohesion marts, the
quality report's tolerance and the report."""

import pandas as pd
import pytest

from barometre import catalogue as catalogue_module
from barometre import cohesion, marts, units
from barometre.report import build, charts

NBSP = "\u00a0"


def test_every_catalogue_unit_is_declared_once(catalogue):
    assert units.UNITS == ("€", "%", "/100k", "/100", "%/an") == catalogue_module.UNITS
    assert {i.unit for i in catalogue.indicators} <= set(units.UNITS)
    with pytest.raises(KeyError, match=r"unknown unit 'km': not in \('€', '%', '/100k', '/100', '%/an'\)"):
        units.spec("km")


@pytest.mark.parametrize("unit, decimals, text, change_kind, change_unit, rate, tolerance", [
    ("€", 0, "€", "log_growth", "€", False, 0.5),
    ("%", 1, "%", "points", "points", False, 0.05),
    ("/100k", 1, "pour 100 000 habitants", "log_growth", "/100k", False, 0.05),
    ("/100", 1, "pour 100 habitants", "points", "/100", False, 0.05),
    ("%/an", 2, "% par an", "points", "points", True, 0.05),
])
def test_declaration_of_each_unit(unit, decimals, text, change_kind, change_unit, rate, tolerance):
    u = units.spec(unit)
    assert (u.decimals, u.text, u.change_kind, u.change_unit, u.rate_of_change, u.tolerance) == (
        decimals, text, change_kind, change_unit, rate, tolerance)
    # the layers read it
    assert (cohesion.change_kind(unit), cohesion.change_unit(unit)) == (change_kind, change_unit)
    assert cohesion.sigma_measure(unit) == ("std" if rate else "cv")
    assert marts._tolerance(unit) == tolerance


def test_french_wording_of_each_unit_in_the_report_and_the_headlines():
    assert [build.number(1234.5678, u) for u in units.UNITS] == [
        f"1{NBSP}235{NBSP}€", f"1{NBSP}234,6{NBSP}%", f"1{NBSP}234,6{NBSP}pour 100{NBSP}000{NBSP}hab.",
        f"1{NBSP}234,6{NBSP}pour 100 habitants", f"1{NBSP}234,57{NBSP}% par an"]
    assert [build.number_parts(338.78, u)[1] for u in ("/100k", "/100")] == [
        f"pour 100{NBSP}000 habitants", "pour 100 habitants"]
    assert [build.change_text(1.5, u, "2012") for u in units.UNITS] == [
        f"+2{NBSP}€ depuis 2012", f"+1,5{NBSP}point depuis 2012", "+1,5 depuis 2012", "+1,5 depuis 2012",
        f"+1,50{NBSP}point depuis 2012"]
    # a name that says its unit: the number goes without it
    assert cohesion._with_unit(338.78, "/100", "Bénévoles pour 100 habitants") == "338,8"
    assert cohesion._with_unit(338.78, "/100", "Bénévoles") == f"338,8{NBSP}pour 100 habitants"


def test_chart_formats_and_titles_come_from_the_units():
    rows = [{"perimetre": "France", "period": "2021", "mid": 2021.0, "value": 1.0}]
    spec = charts.france_series(rows, "%/an")
    assert (spec["encoding"]["y"]["title"], spec["encoding"]["y"]["axis"]["format"]) == ("% par an", ",.2f")
    assert units.spec("€").axis_title == "€ par unité de consommation et par an"


def test_rate_of_change_reason_of_the_disparities(catalogue):
    ref = pd.DataFrame({"indicator_id": "solde_migratoire_annuel", "level": "departement", "code": ["01", "02"],
                        "geography_vintage": "cog_2026", "period": "2020-2021", "period_start": 2020,
                        "period_end": 2021, "value": [0.5, -0.2], "source_id": "s",
                        "is_metropolitan": pd.array([True, True], dtype="boolean")})
    row = cohesion.disparities(ref, catalogue).iloc[0]
    assert row["gini_theil_null_reason"] == "rate of change (%/an): not a positive quantity"
    assert pd.isna(row["cv"])
