"""The units of the catalogue, declared once: precision, French wording, chart titles, how a
change is measured, and what "differs beyond rounding" means.

Every layer that prints, charts or compares a value reads its unit here: the cohesion marts
(``change_kind``, ``change_unit``, σ on the std of a rate of change, the France headline
sentences), the quality report's source disagreements (:attr:`UnitSpec.tolerance`) and the
static report (numbers, axis titles, d3 formats). ``barometre.catalogue`` accepts exactly the
units listed here. A unit's *domain* (the bounds a raw value must lie in) is a parser rule and
stays in ``barometre/sources/_schema.py``.

Adding a unit = one entry of :data:`UNIT_SPECS` (and its row in docs/methodology.md).
"""

from __future__ import annotations

from dataclasses import dataclass

NBSP = "\u00a0"


@dataclass(frozen=True)
class UnitSpec:
    """What the pipeline and the report need to know about one unit of the catalogue."""

    symbol: str  # as written in catalogue.yaml
    description: str  # English, for the docs and error messages
    decimals: int  # published precision: every French number of this unit is printed with it
    text: str  # after a number in a French sentence ("20 369 €", "338,8 pour 100 000 habitants")
    short_text: str  # after a number in a report table or tooltip (may abbreviate)
    figure_text: str  # beside the large figure of a report card
    axis_title: str  # chart axis and legend title
    d3_format: str  # Vega-Lite number format (the report's locale writes a decimal comma)
    # How a change between two values is measured: ``log_growth`` (amounts and densities, no upper
    # bound: % per year) or ``points`` (a difference: shares, rates and the other units).
    change_kind: str
    change_unit: str  # the unit of a difference of two values: "points" or the unit itself
    change_text: str  # after a signed difference in the report ("point" words, "€" or nothing)
    # A rate of change (values negative by nature, zero is not "nothing"): no Gini, Theil, cv,
    # d9/d1 nor max/min; σ convergence reads the standard deviation.
    rate_of_change: bool
    # The wording is left out of a number when the indicator's name already says it
    # ("Médecins en activité pour 100 000 habitants").
    text_in_name: bool
    # Half a unit of the coarser published rounding: two sources differ "beyond rounding" above it.
    tolerance: float


UNIT_SPECS: dict[str, UnitSpec] = {s.symbol: s for s in (
    UnitSpec("€", "amount in euros", 0, "€", "€", "€", "€ par unité de consommation et par an", ",.0f",
             "log_growth", "€", "€", rate_of_change=False, text_in_name=False, tolerance=0.5),
    UnitSpec("%", "share in %", 1, "%", "%", "%", "%", ",.1f",
             "points", "points", "points", rate_of_change=False, text_in_name=False, tolerance=0.05),
    UnitSpec("/100k", "rate per 100 000 inhabitants", 1, "pour 100 000 habitants",
             f"pour 100{NBSP}000{NBSP}hab.", f"pour 100{NBSP}000 habitants", "pour 100 000 habitants", ",.1f",
             "log_growth", "/100k", "", rate_of_change=False, text_in_name=True, tolerance=0.05),
    UnitSpec("/100", "rate per 100 inhabitants", 1, "pour 100 habitants", "pour 100 habitants",
             "pour 100 habitants", "pour 100 habitants", ",.1f",
             "points", "/100", "", rate_of_change=False, text_in_name=True, tolerance=0.05),
    UnitSpec("%/an", "yearly rate of change in %", 2, "% par an", "% par an", "% par an", "% par an", ",.2f",
             "points", "points", "points", rate_of_change=True, text_in_name=False, tolerance=0.05),
)}
UNITS = tuple(UNIT_SPECS)


def spec(unit: str) -> UnitSpec:
    """The declaration of ``unit``; a KeyError naming the known units otherwise."""
    try:
        return UNIT_SPECS[unit]
    except KeyError:
        raise KeyError(f"unknown unit {unit!r}: not in {UNITS} (barometre/units.py)") from None


def change_kind(unit: str) -> str:
    """How a change of an indicator in ``unit`` is measured: ``log_growth`` (% per year, for
    amounts and densities) or ``points`` (difference, for shares and rates)."""
    return spec(unit).change_kind


def change_unit(unit: str) -> str:
    """The unit of the difference of two values: ``points`` for shares and rates, else the
    indicator's unit."""
    return spec(unit).change_unit


def is_rate_of_change(unit: str) -> bool:
    """Whether values in ``unit`` are rates of change (no ratio to a level makes sense)."""
    return spec(unit).rate_of_change


def rate_of_change_units() -> frozenset[str]:
    return frozenset(u for u, s in UNIT_SPECS.items() if s.rate_of_change)
