"""Build the static report: ``index.html`` and one page per indicator, from the published file.

:func:`build_report` reads the published DuckDB file read-only (:func:`barometre.report.data.load`),
the map shapes from the snapshot (:mod:`barometre.report.geo`), renders the Jinja templates of
``templates/`` and writes the site to a staging folder that then replaces the previous report, so a
failed build leaves the previous report whole; the folders a killed build left are removed by the
next one. The site works offline from ``file://``: charts are inlined Vega-Lite specifications
drawn by the vendored Vega libraries; shapes are scripts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
import pandas as pd

from barometre import duckdb_config
from barometre.cohesion import format_fr
from barometre.geography import FRANCE_TERRITORIES, LEVEL, LEVELS, level_order, vintage_label
from barometre.report import charts, geo, territory
from barometre.report.data import VERDICT_LEVELS, Published, by_indicator, digests, headlines, load, main_france
from barometre.staging import stale
from barometre.units import spec

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"

# Labels of levels and vintages: the level registry (barometre.geography.LEVELS).
LEVEL_PLURAL = {lv.id: lv.plural for lv in LEVELS}
# The source of the turnout summed from communes (docs/communes.md): noted on the département map.
COMMUNE_SUMS = "interieur_presidentielle_2017_communes"
LEVEL_SINGULAR = {lv.id: lv.singular for lv in LEVELS}
POLARITY_TEXT = {"+": "Plus la valeur est élevée, plus la situation est favorable.",
                 "-": "Plus la valeur est basse, plus la situation est favorable.",
                 "0": "Indicateur de contexte : ni une hausse ni une baisse n'est favorable en soi."}
DIMENSION_COLOURS = {"qualite_de_vie": "#e76f51", "solidarite": "#f4a261", "transition": "#2a9d8f",
                     "empowerment": "#264653", "capital_social": "#8e6c8a", "cooperation": "#e9c46a"}
QUALITY_LABEL = {
    "missing_value": "valeurs absentes de la source (cellules vides)",
    "source_disagreement": "sources en désaccord au-delà de l'arrondi",
    "incomplete_perimeter": "EPCI sans périmètre comparable d'un millésime à l'autre",
    "not_computable": "valeurs qui ne peuvent pas être calculées",
    "repeated_vintage": "millésimes du COG répétés, écartés de la série",
    "static_population": "populations légales figées (Mayotte), écartées",
    "rejected_rows": "lignes de la source écartées par une règle",
    "secrecy": "cellules sous secret statistique (s, ns, vides), laissées absentes",
    "censored_value": "taux affichés 5 % (vrai taux entre 0 et 5 %), laissés absents",
    "left_out": "lignes d'une autre source que Filosofi (Budget de famille 2017), non publiées",
    "provisional": "années provisoires de la source",
    "source_error": "cellule erronée de la source, valeur recalculée depuis ses composantes",
    "totals_check": "totaux du classeur différents de la somme de leurs parties",
}
# Meshes whose shapes open a territory page when clicked (the level of the page): meshes of today's
# geography only (barometre/report/territory.py).
PAGE_LEVEL_OF_MESH = {"departement": "departement", "region": "region"}
DROM_DEPARTEMENTS = ("971", "972", "973", "974", "976")
REGION_DROM = ("01", "02", "03", "04", "06")


def default_report_dir(published_db: str | os.PathLike) -> Path:
    """``report/`` beside the published file: ``data/report`` for ``data/barometre.duckdb``, and a
    test's temporary folder for a test's database."""
    return Path(published_db).parent / "report"


@dataclass(frozen=True)
class ReportResult:
    path: Path  # index.html
    pages: int
    seconds: float
    # Seconds per part of the build: load, indicators, territories (models and rendering), write.
    parts: dict[str, float] = field(default_factory=dict)
    # Pages rendered by this build (relative paths); the others were kept from the previous report.
    rebuilt: list[str] = field(default_factory=list)


MANIFEST = "manifest.json"  # in the report folder: the digests each page was built from
CODE_FILES = ("barometre/report", "barometre/units.py", "barometre/geography.py", "barometre/cohesion.py")


def code_digest(snapshot_dir: Path) -> str:
    """What the pages are made with, besides the published rows: the report's code, templates and
    static files, the modules of its French texts, and the map shapes of the snapshot."""
    h = hashlib.sha256()
    root = PACKAGE_DIR.parent.parent
    for name in CODE_FILES:
        path = root / name
        for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if f.is_file() and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(root)).encode())
                h.update(f.read_bytes())
    for mesh in geo.MESHES.values():
        f = Path(snapshot_dir) / mesh.path
        h.update(f"{mesh.path}:{f.stat().st_size if f.exists() else -1}".encode())
    return h.hexdigest()[:20]


def _model_digest(page: dict) -> str:
    return hashlib.sha256(json.dumps(page, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:20]


def _previous_manifest(out_dir: Path, code: str, shared: str) -> dict:
    """The manifest of the report in ``out_dir`` if it was built by the same code from the same shared
    tables, else an empty one (everything is rebuilt)."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if manifest.get("code") != code or manifest.get("shared") != shared:
        return {}
    return manifest


# ---------------------------------------------------------------------------------------------
# French text


def number(value: float | None, unit: str) -> str:
    """A value with its unit, the French way ("20 369 €", "17,4 %", "338,8 pour 100 000 hab.")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{format_fr(value, spec(unit).decimals)}\u00a0{spec(unit).short_text}"


def number_parts(value: float, unit: str) -> tuple[str, str]:
    """The figure and its unit apart, for a large figure with a small unit."""
    return format_fr(value, spec(unit).decimals), spec(unit).figure_text


def change_text(change: float, unit: str, previous_period: str) -> str:
    """"+583 € depuis 2012", "−0,5 point depuis 2009"."""
    u = spec(unit)
    dec = u.decimals
    if u.change_text == "points":
        word = "point" if round(abs(change), dec) < 2 else "points"
        amount = f"{format_fr(change, dec, signed=True)}\u00a0{word}"
    elif u.change_text:
        amount = f"{format_fr(change, dec, signed=True)}\u00a0{u.change_text}"
    else:
        amount = format_fr(change, dec, signed=True)
    return f"{amount} depuis {previous_period}"


def trend(change: float, unit: str, polarity: str) -> str:
    """CSS class of a change: ``better``, ``worse``, ``neutral`` (polarity 0) or ``stable``."""
    if round(change, spec(unit).decimals) == 0:
        return "stable"
    if polarity == "0":
        return "neutral"
    return "better" if (change > 0) == (polarity == "+") else "worse"


def _fr(x: float, decimals: int = 3) -> str:
    return format_fr(x, decimals) if x is not None and not pd.isna(x) else "–"


def _p(p: float) -> str:
    return "p\u00a0<\u00a00,001" if p < 0.001 else f"p\u00a0=\u00a0{_fr(p, 3)}"


# CSS class and French label of each ``mart.convergence.verdict`` ({gaps}: what σ reads).
VERDICT_TEXT = {"converging": ("converge", "les territoires se rapprochent"),
                "sigma_converging": ("converge", "les {gaps} se réduisent"),
                "catching_up": ("mixed", "rattrapage, mais {gaps} en hausse"),
                "diverging": ("diverge", "les {gaps} se creusent"),
                "no_convergence": ("na", "pas de convergence établie"),
                "not_measurable": ("na", "non mesurable")}


def verdict(row: pd.Series) -> tuple[str, str]:
    """(CSS class, French label) of a convergence row's ``verdict``: do the territories get closer?"""
    # σ reads the coefficient of variation, or the standard deviation for a rate of change
    # (``sigma_measure``, docs/methodology.md): only the former is a relative gap.
    gaps = "écarts" if row.get("sigma_measure") == "std" else "écarts relatifs"
    css, label = VERDICT_TEXT[row["verdict"]]
    return css, label.format(gaps=gaps)


def verdict_sentences(row: pd.Series, unit: str) -> list[str]:
    """σ and β convergence of one row of ``mart.convergence``, explained in French."""
    out = []
    n = int(row["n_common"])
    between = f"entre {row['period_from']} et {row['period_to']}"
    if row.get("sigma_measure") == "std" and pd.notna(row["std_from"]) and pd.notna(row["std_to"]):
        moved = "diminue" if row["std_to"] < row["std_from"] else "augmente"
        out.append(f"Dispersion (σ) : l'écart-type des {n} territoires observés aux deux dates {moved} {between}, "
                   f"de {_fr(row['std_from'], 2)} à {_fr(row['std_to'], 2)} (un coefficient de variation n'a pas "
                   "de sens pour un taux d'évolution).")
    elif pd.notna(row["cv_from"]) and pd.notna(row["cv_to"]):
        moved = "diminue" if row["cv_to"] < row["cv_from"] else "augmente"
        out.append(f"Dispersion relative (σ) : le coefficient de variation des {n} territoires observés aux deux "
                   f"dates {moved} {between}, de {_fr(row['cv_from'])} à {_fr(row['cv_to'])}"
                   f" (écart-type de {_fr(row['std_from'], 2)} à {_fr(row['std_to'], 2)}).")
    else:
        out.append("Dispersion relative (σ) : non définie (moyenne nulle ou négative, par exemple pour un taux "
                   "d'évolution).")
    if pd.notna(row["beta"]):
        # Log growth is regressed on ln(initial value), a change in points on the value itself
        # (docs/methodology.md, Convergence).
        per_unit = ("% par an par unité de ln(valeur de départ)" if row["change_kind"] == "log_growth"
                    else "point par an par unité de départ")
        if row["beta_convergence"]:
            what = ("rattrapage (β) : plus la valeur de départ est élevée, moins elle a augmenté ou plus elle a "
                    "baissé")
        elif row["beta"] > 0 and row["beta_pvalue"] < 0.05:
            what = "divergence (β) : plus la valeur de départ est élevée, plus elle a augmenté"
        else:
            what = "pas de lien significatif entre la valeur de départ et son évolution (β)"
        out.append(f"{what[0].upper()}{what[1:]} — pente β\u00a0=\u00a0{format_fr(row['beta'], 4)} "
                   f"({per_unit}, {_p(row['beta_pvalue'])}).")
    elif pd.notna(row.get("beta_null_reason")):
        out.append(f"β non calculé : {row['beta_null_reason']}.")
    if spec(unit).rate_of_change:
        out.append("Pour un taux d'évolution, β dit si les territoires à forte croissance ralentissent, "
                   "pas un rattrapage de niveau.")
    return out


def quantile_classes(values: pd.Series, unit: str, n: int = 5) -> tuple[pd.Series, list[str]]:
    """Quantile classes of one period's values: breaks at the quantiles 0, 1/n … 1 (linear
    interpolation, as ``mart.disparities``), repeated breaks merged; class 1 = lowest values.
    Returns the class of each value and the French label of each class."""
    breaks = sorted(set(values.quantile([i / n for i in range(n + 1)], interpolation="linear").tolist()))
    if len(breaks) == 1:
        return pd.Series(1, index=values.index), [f"{number(breaks[0], unit)}"]
    classes = pd.cut(values, bins=breaks, labels=False, include_lowest=True).astype(int) + 1
    labels = [f"{format_fr(lo, spec(unit).decimals)} – {number(hi, unit)}" for lo, hi in zip(breaks, breaks[1:])]
    return classes, labels


# ---------------------------------------------------------------------------------------------
# Page models


def _period_order(frame: pd.DataFrame, period: str = "period", start: str = "period_start",
                  end: str = "period_end") -> list[str]:
    return list(frame.sort_values([end, start])[period].drop_duplicates())


def _mid(start: int, end: int) -> float:
    return (start + end) / 2 if end > start else float(start)


def _situation(value: float, france: float | None, polarity: str) -> str:
    if france is None or pd.isna(france):
        return "pas de valeur France"
    if round(value - france, 6) == 0:
        return "égal à la France"
    above = value > france
    if polarity == "0":
        return "au-dessus de la France" if above else "en dessous de la France"
    return "mieux que la France" if above == (polarity == "+") else "moins bien que la France"


def _json(spec: dict) -> str:
    """JSON for a <script type="application/json"> element: no "</" can close the element."""
    return json.dumps(spec, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


class _Charts:
    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, spec: dict, kind: str, shapes: str | None = None) -> str:
        chart_id = f"chart-{len(self.items) + 1}-{kind}"
        self.items.append({"id": chart_id, "spec": _json(spec), "shapes": shapes, "kind": kind})
        return chart_id


def _ranking_section(pub: Published, ind: pd.Series, charts_: _Charts) -> dict:
    ranks = pub.rankings[pub.rankings["indicator_id"] == ind["indicator_id"]]
    level = "region" if (ranks["level"] == "region").any() else "departement"
    ranks = ranks[ranks["level"] == level]
    if ranks.empty:
        return {"level": None}
    periods = [p for p in _period_order(pub.values[(pub.values["indicator_id"] == ind["indicator_id"])
                                                   & (pub.values["level"] == level)])
               if p in set(ranks["period"])]
    rows = []
    for r in ranks.itertuples(index=False):
        name = r.name if isinstance(r.name, str) else r.code
        rows.append({"code": r.code, "name": name, "period": r.period, "value": float(r.value), "rank": int(r.rank),
                     "france_value": None if pd.isna(r.france_value) else float(r.france_value),
                     "situation": _situation(r.value, r.france_value, ind["polarity"]),
                     "href": territory.page_path(level, r.code),
                     "description": f"{name} ({r.code}) : {number(float(r.value), ind['unit'])}"})
    chart_id = charts_.add(charts.ranking(rows, ind["unit"], periods, LEVEL_SINGULAR[level]), "classement")
    latest = ranks[ranks["period"] == periods[-1]]
    france_code = latest["france_code"].dropna()
    return {"level": level, "title": f"{LEVEL_PLURAL[level]} classées" if level == "region"
            else "Départements classés", "chart": chart_id, "periods": periods,
            "n_latest": len(latest), "latest": periods[-1],
            "order": "du plus élevé au moins élevé (indicateur de contexte)" if ind["polarity"] == "0"
            else "de la situation la plus favorable à la moins favorable",
            "france": FRANCE_TERRITORIES.get(france_code.iloc[0]) if len(france_code) else None,
            "no_region": level != "region"}


def _map_sections(pub: Published, ind: pd.Series, charts_: _Charts, meshes_used: set[str],
                  snapshot_dir: Path) -> tuple[list, list]:
    values = pub.values[pub.values["indicator_id"] == ind["indicator_id"]]
    maps, unmapped = [], []
    levels = [lv for lv in ("departement", "zone_emploi", "epci") if (values["level"] == lv).any()]
    for level in levels:
        without_mesh = []
        for vintage, frame in values[values["level"] == level].groupby("geography_vintage", sort=True):
            mesh_id = geo.MESH_OF.get((level, vintage))
            periods = _period_order(frame)
            if mesh_id is None:
                without_mesh.append(frame)
                continue
            meshes_used.add(mesh_id)
            chart_id = charts_.add(_choropleth(frame, ind, periods, mesh_id, LEVEL_SINGULAR[level], snapshot_dir),
                                   f"carte-{level}", shapes=mesh_id)
            latest = set(frame[frame["period"] == periods[-1]]["code"])
            mapped = latest & set(geo.mesh_codes(mesh_id, snapshot_dir))
            section = {"level": level, "title": f"{LEVEL_PLURAL[level]} ({vintage_label(level, vintage)})",
                       "chart": chart_id, "mesh": geo.MESHES[mesh_id], "periods": periods,
                       "n": len(mapped), "n_outside": len(latest - mapped), "latest": periods[-1],
                       "outside": None, "fallback": False, "from_communes": None}
            if mesh_id == "departement" and COMMUNE_SUMS in str(ind.get("source_ids", "")).split(","):
                section["from_communes"] = (
                    "2017 : chaque valeur départementale est aussi la somme de ses communes (Σ votants ÷ Σ inscrits "
                    "des communes du fichier communal du Ministère, Paris du fichier départemental), identique au "
                    "fichier départemental : le pipeline s'arrête à la moindre différence. Les EPCI et zones d'emploi "
                    "2020 ci-dessous sont sommés des mêmes communes.")
            if mesh_id == "departement":
                drom = frame[frame["code"].isin(DROM_DEPARTEMENTS)]
                if not drom.empty:
                    table = drom.pivot_table(index=["code", "name"], columns="period", values="value", aggfunc="first")
                    cols = [p for p in periods if p in table.columns]
                    section["outside"] = {
                        "periods": cols,
                        "rows": [{"code": code, "name": name,
                                  "values": [number(table.loc[(code, name), p], ind["unit"]) for p in cols]}
                                 for code, name in table.index]}
            maps.append(section)
        if without_mesh:  # one section per level, its vintages without a mesh together, a period switch
            unmapped.append(_unmapped(pd.concat(without_mesh), ind, level, f"{len(unmapped) + 1}-{level}"))
    if not maps:  # no shape at the indicator's own levels: the régions, with a note
        frame = values[values["level"] == "region"]
        if not frame.empty:
            periods = _period_order(frame)
            metro = frame[~frame["code"].isin(REGION_DROM)]
            meshes_used.add("region")
            chart_id = charts_.add(_choropleth(metro, ind, periods, "region", "Région", snapshot_dir), "carte-region",
                                   shapes="region")
            maps.append({"level": "region", "title": "Régions métropolitaines", "chart": chart_id,
                         "mesh": geo.MESHES["region"], "periods": periods, "latest": periods[-1],
                         "n": metro[metro["period"] == periods[-1]]["code"].nunique(), "n_outside": 0, "outside": None,
                         "fallback": True, "from_communes": None})
    return maps, unmapped


def _choropleth(frame: pd.DataFrame, ind: pd.Series, periods: list[str], mesh_id: str, level_label: str,
                snapshot_dir: Path) -> dict:
    """The map of one level: quantile classes computed per period over the territories shown
    (those of the mesh: the DROM are not in the départements' mesh)."""
    codes = set(geo.mesh_codes(mesh_id, snapshot_dir))
    frame = frame[frame["code"].isin(codes)]
    rows, labels = [], {}
    for period, part in frame.groupby("period", sort=False):
        classes, labels[period] = quantile_classes(part["value"], ind["unit"])
        for code, name, value, c in zip(part["code"], part["name"], part["value"], classes):
            name = name if isinstance(name, str) else code
            rows.append({"code": code, "name": name, "period": period, "value": float(value), "classe": int(c),
                         **({"href": territory.page_path(PAGE_LEVEL_OF_MESH[mesh_id], code)}
                            if mesh_id in PAGE_LEVEL_OF_MESH else {}),
                         "description": f"{name} ({code}) : {number(float(value), ind['unit'])}"})
    return charts.choropleth(rows, ind["unit"], [p for p in periods if p in labels], mesh_id, level_label, labels)


def _unmapped(frame: pd.DataFrame, ind: pd.Series, level: str, section_id: str) -> dict:
    """The territories of a level whose geography vintages have no bundled mesh: for every period
    published (each in its vintage), the ten best-placed and the ten at the other end, switched
    client-side (assets/report.js, ``data-period-table``); the latest period is rendered in the page."""
    vintages = sorted(set(frame["geography_vintage"]))
    def rows(part):
        return [{"code": code, "name": name if isinstance(name, str) else "(nom non publié pour ce millésime)",
                 "value": number(float(value), ind["unit"]), "raw": float(value)}
                for code, name, value in zip(part["code"], part["name"], part["value"])]
    options = []
    keys = frame.drop_duplicates(["geography_vintage", "period"]).sort_values(
        ["period_end", "period_start", "geography_vintage"])
    parts = dict(list(frame.groupby(["geography_vintage", "period"], sort=False)))
    for k in keys.itertuples(index=False):
        part = parts[(k.geography_vintage, k.period)]
        part = part.sort_values(["value", "code"], ascending=[ind["polarity"] == "-", True])
        label = k.period if len(vintages) == 1 else f"{k.period} ({vintage_label(level, k.geography_vintage)})"
        options.append({"key": f"{k.geography_vintage}|{k.period}", "label": label, "period": k.period,
                        "vintage_label": vintage_label(level, k.geography_vintage), "n": len(part),
                        "top": rows(part.head(10)), "bottom": rows(part.tail(10).iloc[::-1])})
    latest = options[-1]
    return {"id": f"periodes-{section_id}", "level": level, "title": LEVEL_PLURAL[level],
            "vintages": ", ".join(vintage_label(level, v) for v in vintages), "options": options,
            "latest": latest, "data": _json({o["key"]: {k: o[k] for k in ("period", "vintage_label", "n", "top", "bottom")}
                                             for o in options}),
            "order": "valeurs les plus élevées" if ind["polarity"] != "-" else "valeurs les plus basses"}


def _disparity_section(pub: Published, ind: pd.Series, charts_: _Charts) -> dict:
    disp = pub.disparities[(pub.disparities["indicator_id"] == ind["indicator_id"]) & (pub.disparities["scope"] == "all")]
    conv = headlines(pub.convergence[pub.convergence["indicator_id"] == ind["indicator_id"]])
    rows = []
    rate = spec(ind["unit"]).rate_of_change  # no ratio of a rate of change: its spread is the std
    for r in disp.itertuples(index=False):
        label = f"{LEVEL_PLURAL[r.level]} ({vintage_label(r.level, r.geography_vintage)})"
        stats = ((f"écart-type ({ind['unit']})", r.std),) if rate else (
            ("rapport interdécile d9/d1", r.d9_d1), ("coefficient de variation", r.cv))
        for stat, value in stats:
            if not pd.isna(value):
                rows.append({"niveau": label, "period": r.period, "statistic": stat, "value": float(value),
                             "n": int(r.n)})
    chart_id = charts_.add(charts.disparity_series(rows, _period_order(disp)), "disparites") if rows else None
    null_reasons = sorted({r for col in ("ratio_null_reason", "gini_theil_null_reason")
                           for r in disp[col].dropna()}) if not rows else []
    latest = disp.sort_values(["period_end", "period_start"]).drop_duplicates(["level", "geography_vintage"], keep="last")
    table = [{"level": f"{LEVEL_PLURAL[r.level]} ({vintage_label(r.level, r.geography_vintage)})",
              "period": r.period, "n": int(r.n), "d1": number(r.d1, ind["unit"]), "d9": number(r.d9, ind["unit"]),
              "d9_d1": _fr(r.d9_d1, 2), "cv": _fr(r.cv), "gini": _fr(r.gini)}
             for r in latest.sort_values(["level", "geography_vintage"]).itertuples(index=False)]
    verdicts = []
    for level in VERDICT_LEVELS:
        for r in conv[(conv["level"] == level)].sort_values("scope").itertuples(index=False):
            row = pd.Series(r._asdict())
            css, label = verdict(row)
            verdicts.append({"level": f"{LEVEL_PLURAL[level]} ({vintage_label(r.level, r.geography_vintage)})",
                             "scope": "tous les territoires" if r.scope == "all" else "métropole seulement",
                             "periods": f"{r.period_from} → {r.period_to}", "n": int(r.n_common),
                             "css": css, "label": label, "sentences": verdict_sentences(row, ind["unit"])})
    return {"chart": chart_id, "rate": rate, "table": table, "verdicts": verdicts, "null_reasons": null_reasons}


def home_verdict(pub: Published, indicator_id: str) -> dict | None:
    conv = headlines(pub.convergence[(pub.convergence["indicator_id"] == indicator_id)
                                     & (pub.convergence["scope"] == "all")])
    for level in VERDICT_LEVELS:
        rows = conv[conv["level"] == level]
        if not rows.empty:
            ((_, r),) = rows.iterrows()  # one headline per indicator × level × scope
            css, label = verdict(r)
            return {"css": css, "label": label, "where": f"{LEVEL[level].plural_in_text}, "
                                                         f"{r['period_from']} → {r['period_to']}"}
    return None


def _france_section(pub: Published, ind: pd.Series, charts_: _Charts) -> dict:
    fr = pub.france[pub.france["indicator_id"] == ind["indicator_id"]]
    if fr.empty:
        return {"chart": None, "rows": [], "main": None, "headline": None}
    rows = [{"perimetre": FRANCE_TERRITORIES.get(r.code, r.code), "period": r.period,
             "mid": _mid(r.period_start, r.period_end), "value": float(r.value)} for r in fr.itertuples(index=False)]
    chart_id = charts_.add(charts.france_series(rows, ind["unit"]), "france")
    main = main_france(fr)
    table = [{"perimetre": FRANCE_TERRITORIES.get(r.code, r.code), "period": r.period,
              "value": number(r.value, ind["unit"]),
              "change": change_text(r.change, ind["unit"], r.previous_period) if not pd.isna(r.change) else "–"}
             for r in fr.sort_values(["code", "period_end", "period_start"]).itertuples(index=False)]
    return {"chart": chart_id, "rows": table, "main": _main_figure(main, ind), "headline": main["headline"]}


def _level_series(pub: Published, ind: pd.Series, charts_: _Charts) -> dict:
    """The series at each level below France: per level, geography vintage and period, the median
    of the territories' reference values and their number (a summary of the published values,
    not a national value), one line per level × vintage."""
    values = pub.values[pub.values["indicator_id"] == ind["indicator_id"]]
    if values.empty:
        return {"chart": None, "rows": []}
    grouped = values.groupby(["level", "geography_vintage", "period", "period_start", "period_end"], sort=False)
    stats = grouped["value"].agg(["median", "size"]).reset_index()
    stats = stats.assign(_l=stats["level"].map(level_order)).sort_values(["_l", "geography_vintage", "period_end",
                                                                          "period_start"])
    label = {k: f"{LEVEL_PLURAL[k[0]]} ({vintage_label(k[0], k[1])})"
             for k in stats[["level", "geography_vintage"]].drop_duplicates().itertuples(index=False, name=None)}
    rows = [{"perimetre": f"médiane des {LEVEL[r.level].plural_in_text} ({vintage_label(r.level, r.geography_vintage)})",
             "period": r.period,
             "mid": _mid(r.period_start, r.period_end), "value": float(r.median)} for r in stats.itertuples(index=False)]
    chart_id = charts_.add(charts.france_series(rows, ind["unit"]), "niveaux")
    table = [{"level": label[k], "periods": ", ".join(part["period"]), "n_periods": len(part),
              "n": int(part["size"].iloc[-1]), "latest": part["period"].iloc[-1]}
             for k, part in stats.groupby(["level", "geography_vintage"], sort=False)]
    return {"chart": chart_id, "rows": table}


def _main_figure(main: pd.Series | None, ind: pd.Series) -> dict | None:
    if main is None:
        return None
    figure, unit_text = number_parts(main["value"], ind["unit"])
    out = {"value": number(main["value"], ind["unit"]), "figure": figure, "unit_text": unit_text,
           "period": main["period"],
           "perimetre": FRANCE_TERRITORIES.get(main["code"], main["code"]), "change": None, "trend": "none"}
    if not pd.isna(main["change"]):
        out["change"] = change_text(main["change"], ind["unit"], main["previous_period"])
        out["trend"] = trend(main["change"], ind["unit"], ind["polarity"])
    return out


def _quality(pub: Published, indicator_id: str) -> dict:
    q = pub.quality[pub.quality["indicator_id"] == indicator_id]
    kinds = [{"kind": k, "label": QUALITY_LABEL.get(k, k), "n": int(n)} for k, n in q["kind"].value_counts().sort_index().items()]
    sample = [{"kind": r.kind, "where": " ".join(str(x) for x in (r.level, r.code, r.period) if isinstance(x, str)),
               "detail": r.detail} for r in q.head(12).itertuples(index=False)]
    return {"kinds": kinds, "sample": sample, "n": len(q)}


def _sources(pub: Published, ind: pd.Series) -> list[dict]:
    ids = [s for s in str(ind["source_ids"]).split(",") if s]
    src = pub.sources.set_index("source_id")
    return [{"id": s, **{k: (None if pd.isna(v) else v) for k, v in src.loc[s].items()}} for s in ids if s in src.index]


def indicator_page(pub: Published, ind: pd.Series, meshes_used: set[str], snapshot_dir: Path) -> dict:
    charts_ = _Charts()
    dim = pub.dimensions.set_index("dimension_id").loc[ind["dimension_id"]]
    france = _france_section(pub, ind, charts_)
    levels = _level_series(pub, ind, charts_)
    ranking = _ranking_section(pub, ind, charts_)
    maps, unmapped = _map_sections(pub, ind, charts_, meshes_used, snapshot_dir)
    disparity = _disparity_section(pub, ind, charts_)
    return {"ind": ind.to_dict(), "dimension": {"id": ind["dimension_id"], "name": dim["name"],
                                                  "colour": DIMENSION_COLOURS.get(ind["dimension_id"], "#555")},
            "unit_title": spec(ind["unit"]).axis_title, "polarity_text": POLARITY_TEXT[ind["polarity"]],
            "france": france, "levels": levels, "ranking": ranking, "maps": maps, "unmapped": unmapped, "disparity": disparity,
            "quality": _quality(pub, ind["indicator_id"]), "sources": _sources(pub, ind),
            "charts": charts_.items, "shapes": sorted({c["shapes"] for c in charts_.items if c["shapes"]})}


def _published_at(pub: Published) -> str:
    when = pub.publication["published_at"]
    try:
        when = when.astimezone(ZoneInfo("Europe/Paris"))
        return when.strftime("%d/%m/%Y à %H:%M (heure de Paris)")
    except ZoneInfoNotFoundError:
        return when.astimezone(dt.timezone.utc).strftime("%d/%m/%Y à %H:%M UTC")


def home(pub: Published, split: dict[str, Published]) -> dict:
    """The home page: ``split`` is ``by_indicator(pub)``."""
    dims = []
    for d in pub.dimensions.itertuples(index=False):
        cards = []
        for ind in pub.indicators[pub.indicators["dimension_id"] == d.dimension_id].itertuples(index=False):
            ind_s = pd.Series(ind._asdict())
            part = split[ind.indicator_id]
            levels = sorted(set(part.values["level"]), key=level_order)
            cards.append({"id": ind.indicator_id, "name": ind.name, "unit": ind.unit,
                          "main": _main_figure(main_france(part.france), ind_s),
                          "verdict": home_verdict(part, ind.indicator_id),
                          "levels": ", ".join(LEVEL[lv].plural_in_text for lv in levels)})
        dims.append({"id": d.dimension_id, "name": d.name, "description": d.description,
                     "colour": DIMENSION_COLOURS.get(d.dimension_id, "#555"), "cards": cards})
    verdicts = [c["verdict"]["css"] for d in dims for c in d["cards"] if c["verdict"]]
    return {"dimensions": dims, "counts": {k: verdicts.count(k) for k in ("converge", "mixed", "diverge", "na")},
            "n_verdicts": len(verdicts)}


# ---------------------------------------------------------------------------------------------
# Writing the site


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
                             autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    return env


def _write_shapes(folder: Path, snapshot_dir: Path, meshes: set[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for mesh_id in sorted(meshes):
        features = geo.load_mesh(Path(snapshot_dir), mesh_id)
        body = json.dumps(features, ensure_ascii=False, separators=(",", ":"))
        (folder / f"{mesh_id}.js").write_text(
            f"// {geo.MESHES[mesh_id].credit}. Generated by barometre/report from data/snapshot/{geo.MESHES[mesh_id].path}.\n"
            f"(window.BAROMETRE_SHAPES = window.BAROMETRE_SHAPES || {{}})[{json.dumps(mesh_id)}] = {body};\n",
            encoding="utf-8")


def replace_folder(staging: Path, target: Path) -> None:
    """Put the folder ``staging`` in place of ``target``: the previous ``target`` is moved aside,
    then deleted only once ``staging`` is in place; if that move fails it is moved back, so the
    previous report stays whole."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    had_previous = target.exists()
    if had_previous:
        target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        if had_previous and not target.exists():
            old.rename(target)
        raise
    # The previous report, and those a killed build had moved aside (one may be the last whole
    # report if the build was killed between the two renames), once the new one is in place.
    for previous in [old, *stale(target, "old")]:
        shutil.rmtree(previous, ignore_errors=True)


def _keep(previous: Path, target: Path) -> None:
    """A page of the previous report into the new one, unchanged (a hard link keeps its bytes and
    modification time; a copy where links are not possible)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(previous, target)
    except OSError:
        shutil.copy2(previous, target)


def build_report(published_db: str | os.PathLike, out_dir: str | os.PathLike,
                 snapshot_dir: str | os.PathLike, territories: bool = True, incremental: bool = True) -> ReportResult:
    """Write the report of ``published_db`` to ``out_dir`` (replaced as a whole); map shapes come
    from ``snapshot_dir``. ``territories=False`` leaves out the territory pages and the search
    index (the benchmark's reference: the indicator pages only).

    ``incremental``: the pages whose digests (``manifest.json`` of the previous report in
    ``out_dir``) are unchanged are kept as they are: an indicator page when the indicator's
    published rows (:func:`barometre.report.data.digests`) are, a territory page when its page
    model is; the front page and the search index are always rebuilt; everything is when the
    report's code or the shared tables (territories, dimensions, indicators, sources) changed."""
    start = time.perf_counter()
    parts: dict[str, float] = {}
    out_dir = Path(out_dir)
    pub = load(published_db)
    env = _environment()
    meta = {"published_at": _published_at(pub), "publication": pub.publication,
            "generated_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "n_sources": len(pub.publication["source_files"])}
    indicators = [row for _, row in pub.indicators.iterrows()]
    meshes_used: set[str] = set()
    pages: dict[str, str] = {}  # rendered by this build
    kept: list[str] = []  # kept from the previous report
    split = by_indicator(pub)
    digest = digests(published_db)
    code = code_digest(Path(snapshot_dir))
    previous = _previous_manifest(out_dir, code, digest["shared"]) if incremental else {}
    manifest = {"code": code, "shared": digest["shared"], "indicators": {}, "meshes": {}, "territories": {}}
    parts["load"] = time.perf_counter() - start
    t = time.perf_counter()
    template = env.get_template("indicator.html")
    for i, ind in enumerate(indicators):
        iid, name = ind["indicator_id"], f"{ind['indicator_id']}.html"
        manifest["indicators"][iid] = digest["indicators"].get(iid, "")
        if previous.get("indicators", {}).get(iid) == manifest["indicators"][iid] and (out_dir / name).is_file():
            manifest["meshes"][iid] = previous["meshes"].get(iid, [])
            meshes_used.update(manifest["meshes"][iid])
            kept.append(name)
            continue
        used: set[str] = set()
        page = indicator_page(split[iid], ind, used, Path(snapshot_dir))
        meshes_used |= used
        manifest["meshes"][iid] = sorted(used)
        page["previous"] = indicators[i - 1] if i > 0 else None
        page["next"] = indicators[i + 1] if i + 1 < len(indicators) else None
        pages[name] = template.render(**page, meta=meta)
    pages["index.html"] = env.get_template("index.html").render(**home(pub, split), meta=meta, indicators=indicators)
    parts["indicators"] = time.perf_counter() - t
    search = None
    if territories:
        # One page per territory of today's geography (barometre/report/territory.py): a few queries per level.
        t = time.perf_counter()
        con = duckdb_config.connect(published_db, read_only=True)
        try:
            levels = {lv: territory.load_level(con, lv, v) for lv, v in territory.current_vintages(con).items()}
        finally:
            con.close()
        template = env.get_template("territory.html")
        before = previous.get("territories", {})
        for path, page in territory.territory_pages(pub, levels, number, change_text, trend).items():
            manifest["territories"][path] = _model_digest(page)
            if before.get(path) == manifest["territories"][path] and (out_dir / path).is_file():
                kept.append(path)
                continue
            pages[path] = template.render(**page, meta=meta, root="../../")
        search = territory.search_script(territory.search_index(levels))
        parts["territories"] = time.perf_counter() - t

    t = time.perf_counter()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    for leftover in [staging, *stale(out_dir, "staging")]:  # the latter: of killed builds
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        shutil.copytree(STATIC_DIR, staging / "assets")
        _write_shapes(staging / "assets" / "shapes", Path(snapshot_dir), meshes_used)
        if search is not None:
            (staging / "assets" / "territoires.js").write_text(search, encoding="utf-8")
        for name in kept:
            _keep(out_dir / name, staging / name)
        for name, html in pages.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_text(html, encoding="utf-8")
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=0, sort_keys=True), encoding="utf-8")
        replace_folder(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    parts["write"] = time.perf_counter() - t
    return ReportResult(path=out_dir / "index.html", pages=len(pages) + len(kept), seconds=time.perf_counter() - start,
                        parts=parts, rebuilt=sorted(pages))
