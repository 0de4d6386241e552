"""Vega-Lite specifications of the report's charts, built with altair.

Each function returns a plain dict (``chart.to_dict()``) that a page inlines and vega-embed
renders with the SVG renderer, so that every mark is an element a test can count. Data are
named data sets (``values``, added after altair's validation); map shapes are referenced by name (``shapes_<mesh>``) and supplied by the
page from ``assets/shapes/<mesh>.js``, shared by every page.

Marks that tests look for are named (``.properties(name=…)``): Vega gives their SVG group the
class ``<name>_marks``.
"""

from __future__ import annotations

import functools
import math

import altair as alt
from altair.utils.schemapi import debug_mode

from barometre.units import spec

# Quantile classes, light to dark (ColorBrewer PuBu): darker = higher value, whatever the polarity.
QUANTILE_COLOURS = ["#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"]
NO_VALUE_COLOUR = "#d9d9d9"
RANKING_WIDTH = 760  # px: a fixed width (a "container" width and a height per bar make Vega-Lite warn)
SITUATION_COLOURS = {"mieux que la France": "#2a9d8f", "moins bien que la France": "#e76f51",
                     "au-dessus de la France": "#6c8ebf", "en dessous de la France": "#b8b8b8",
                     "égal à la France": "#8d99ae", "pas de valeur France": "#8d99ae"}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
CONFIG = {"font": FONT, "view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 11},
          "legend": {"labelFontSize": 11, "titleFontSize": 11}}


def records(rows: list[dict]) -> list[dict]:
    """JSON-safe records: NaN → null."""
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]


VALUES = alt.Data(name="values")
# Validate every specification against the Vega-Lite schema (slow: ~0.05 s a chart). The tests
# switch it on; a report build relies on them. Off, altair's validation of every object at its
# creation (its "debug mode", on by default: about half of the build time of the charts) is off
# too while the charts are built (:func:`_built`).
VALIDATE = False


def _built(chart_function):
    """Build the chart with altair's validation at creation as :data:`VALIDATE` says."""
    @functools.wraps(chart_function)
    def build(*args, **kwargs):
        with debug_mode(VALIDATE):
            return chart_function(*args, **kwargs)
    return build


def _finish(chart: alt.TopLevelMixin, rows: list[dict]) -> dict:
    """The validated specification, then its data: validating thousands of inline records with
    altair's JSON schema would take seconds, so the chart reads the named data set ``values``,
    added once the structure is validated."""
    spec = chart.to_dict(validate=VALIDATE)
    spec["config"] = {**CONFIG, **spec.get("config", {})}
    spec.setdefault("datasets", {})["values"] = records(rows)
    return spec


def _href(rows: list[dict]) -> dict:
    """The ``href`` encoding (a click opens the territory's page) when the rows have an ``href``."""
    return {"href": alt.Href("href:N")} if any(r.get("href") for r in rows) else {}


def _period_switch(periods: list[str]) -> alt.Parameter:
    """The period shown (latest by default), with radio buttons when there is a choice (a
    drop-down list beyond 8 periods: 47 years of population estimates)."""
    if len(periods) > 8:
        return alt.param(name="periode", value=periods[-1], bind=alt.binding_select(options=periods, name="Période : "))
    if len(periods) > 1:
        return alt.param(name="periode", value=periods[-1], bind=alt.binding_radio(options=periods, name="Période : "))
    return alt.param(name="periode", value=periods[-1])


@_built
def france_series(rows: list[dict], unit: str) -> dict:
    """France value over time, one line per France perimeter. ``rows``: perimetre, period,
    mid (middle of the period, in years), value."""
    fmt = spec(unit).d3_format
    spans = any("-" in r["period"] for r in rows)
    base = alt.Chart(VALUES)
    chart = base.mark_line(point={"size": 60}, strokeWidth=2.5).encode(
        x=alt.X("mid:Q", title="milieu de la période" if spans else None,
                axis=alt.Axis(format="d", tickMinStep=1, labelOverlap=True),
                scale=alt.Scale(zero=False, nice=False, padding=20)),
        y=alt.Y("value:Q", title=spec(unit).axis_title, scale=alt.Scale(zero=False), axis=alt.Axis(format=fmt)),
        color=alt.Color("perimetre:N", title="Périmètre", legend=alt.Legend(orient="bottom", direction="vertical"),
                        scale=alt.Scale(range=["#264653", "#e76f51", "#2a9d8f"])),
        tooltip=[alt.Tooltip("perimetre:N", title="Périmètre"), alt.Tooltip("period:N", title="Période"),
                 alt.Tooltip("value:Q", title="Valeur", format=fmt)],
    ).properties(name="france", width="container", height=240)
    return _finish(chart, rows)


@_built
def ranking(rows: list[dict], unit: str, periods: list[str], level_label: str) -> dict:
    """Territories ranked, one horizontal bar each, for the period chosen with the radio
    buttons (latest by default). ``rows``: code, name, period, value, rank, france_value,
    situation, description."""
    fmt = spec(unit).d3_format
    situations = [s for s in SITUATION_COLOURS if any(r["situation"] == s for r in rows)]
    year = _period_switch(periods)
    base = alt.Chart(VALUES).transform_filter(alt.datum.period == year)
    y = alt.Y("name:N", title=None, sort=alt.EncodingSortField("rank", op="min", order="ascending"),
              axis=alt.Axis(labelLimit=220))
    bars = base.mark_bar(height={"band": 0.8}).encode(
        y=y, x=alt.X("value:Q", title=spec(unit).axis_title, axis=alt.Axis(format=fmt, tickCount=6, labelOverlap=True)),
        color=alt.Color("situation:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=300),
                        scale=alt.Scale(domain=situations, range=[SITUATION_COLOURS[s] for s in situations])),
        description=alt.Description("description:N"), **_href(rows),
        tooltip=[alt.Tooltip("name:N", title=level_label), alt.Tooltip("code:N", title="Code"),
                 alt.Tooltip("period:N", title="Période"), alt.Tooltip("value:Q", title="Valeur", format=fmt),
                 alt.Tooltip("rank:Q", title="Rang")],
    ).properties(name="barres")
    labels = base.mark_text(align="left", dx=4, fontSize=10, color="#333").encode(
        y=y, x="value:Q", text=alt.Text("value:Q", format=fmt))
    france = base.mark_rule(color="#264653", strokeDash=[5, 3], strokeWidth=1.5).encode(
        x=alt.X("min(france_value):Q"),
        tooltip=[alt.Tooltip("min(france_value):Q", title="France", format=fmt)])
    layers = [bars, labels] + ([france] if any(r["france_value"] is not None for r in rows) else [])
    chart = alt.LayerChart(layer=layers, width=RANKING_WIDTH, height=alt.Step(17)).add_params(year)
    return _finish(chart, rows)


@_built
def choropleth(rows: list[dict], unit: str, periods: list[str], mesh_id: str, level_label: str,
               class_labels: dict[str, list[str]]) -> dict:
    """Territories coloured by quantile class over the shapes of ``mesh_id``; shapes without a
    value stay grey. ``rows``: code, name, period, value, classe (1 … 5, computed per period by
    :func:`barometre.report.build.quantile_classes`); ``class_labels``: period → the French label
    of each class, shown by the legend for the period on screen."""
    fmt = spec(unit).d3_format
    shapes = alt.Data(name=f"shapes_{mesh_id}")
    thin = mesh_id in ("epci_2018", "zone_emploi_2010")
    n_classes = max(len(v) for v in class_labels.values())
    year = _period_switch(periods)
    labels = alt.param(name="bornes", value=class_labels)
    background = alt.Chart(shapes).mark_geoshape(fill=NO_VALUE_COLOUR, stroke="white",
                                                 strokeWidth=0.15 if thin else 0.6).encode(
        tooltip=[alt.Tooltip("properties.name:N", title=level_label), alt.Tooltip("properties.code:N", title="Code")],
    ).properties(name="fond")
    coloured = alt.Chart(VALUES).transform_filter(alt.datum.period == year).transform_lookup(
        lookup="code", from_=alt.LookupData(data=shapes, key="properties.code"), as_="geo",
    ).transform_filter("isValid(datum.geo)").mark_geoshape(stroke="white", strokeWidth=0.15 if thin else 0.6).encode(
        shape="geo:G",
        color=alt.Color("classe:O", scale=alt.Scale(domain=list(range(1, n_classes + 1)),
                                                    range=QUANTILE_COLOURS[-n_classes:] if n_classes < 5
                                                    else QUANTILE_COLOURS),
                        legend=alt.Legend(orient="bottom-left", title=["Classes (quintiles)", spec(unit).axis_title],
                                          titleLimit=260, labelLimit=260, symbolType="square", symbolSize=200,
                                          symbolStrokeWidth=0,
                                          labelExpr="bornes[periode] ? bornes[periode][datum.value - 1] : ''")),
        description=alt.Description("description:N"), **_href(rows),
        tooltip=[alt.Tooltip("name:N", title=level_label), alt.Tooltip("code:N", title="Code"),
                 alt.Tooltip("period:N", title="Période"), alt.Tooltip("value:Q", title="Valeur", format=fmt)],
    ).properties(name="classes")
    # The top-level properties given to the layer at once: each altair method on a layer chart
    # (project, properties) copies it whole, its layers included.
    chart = alt.LayerChart(layer=[background, coloured], width="container", height=520,
                           projection=alt.Projection(type="conicConformal", parallels=[44, 49], rotate=[-3, 0]),
                           ).add_params(year, labels)
    return _finish(chart, rows)


@_built
def disparity_series(rows: list[dict], period_order: list[str]) -> dict:
    """d9/d1 and coefficient of variation over time, one line per level. ``rows``: niveau,
    period, statistic, value."""
    chart = alt.Chart(VALUES).mark_line(point={"size": 50}).encode(
        x=alt.X("period:O", sort=period_order, title=None, axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(format=",.2f")),
        color=alt.Color("niveau:N", title="Niveau", legend=alt.Legend(orient="bottom", labelLimit=400),
                        scale=alt.Scale(range=["#264653", "#2a9d8f", "#e9c46a", "#e76f51"])),
        tooltip=[alt.Tooltip("niveau:N", title="Niveau"), alt.Tooltip("period:N", title="Période"),
                 alt.Tooltip("statistic:N", title="Indicateur"), alt.Tooltip("value:Q", title="Valeur", format=",.3f"),
                 alt.Tooltip("n:Q", title="Territoires")],
    ).properties(width=300, height=200, name="disparites").facet(
        column=alt.Column("statistic:N", title=None, sort=["rapport interdécile d9/d1", "coefficient de variation"],
                          header=alt.Header(labelFontSize=12, labelFontWeight="bold")),
    ).resolve_scale(y="independent")
    return _finish(chart, rows)
