"""One page per territory of today's geography ("how is mine doing?") and the search index.

The pages cover the régions, départements and EPCI of the latest COG release in
``mart.territories`` (which lists every EPCI of that release, with values or not: a page then
says what is missing and why) and the zones d'emploi 2020 (``ze_2020``, when the file holds them) at
``territoires/<level>/<code>.html``. Each level is read with **one query** on the published file
(:func:`load_level`: reference values joined with their ranks); dimension scores, quality notes
and territories come from a few more queries per level, never one per page. The pages are
generic over the file: a new series or mesh appears on them when it is published.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass

import duckdb
import pandas as pd

from barometre.cohesion import format_fr
from barometre.geography import LEVEL, FRANCE_TERRITORIES, vintage_label

# Levels with pages, largest first, and how their current geography vintage is chosen:
# ``cog`` = the latest ``cog_YYYY`` of the level in mart.territories; else an exact vintage.
PAGE_LEVELS = (("region", "cog"), ("departement", "cog"), ("epci", "cog"), ("zone_emploi", "ze_2020"))
FOLDER = "territoires"


@dataclass
class LevelData:
    level: str
    vintage: str
    territories: pd.DataFrame  # mart.territories rows of the level and vintage
    values: pd.DataFrame  # reference values joined with mart.rankings
    scores: pd.DataFrame  # mart.dimension_scores
    quality: pd.DataFrame  # mart.quality_report rows of the level (its vintage or none)
    # EPCI only (a SIREN names one EPCI whatever its vintage; a zone d'emploi code of ZE2010 is
    # another zone in ZE2020): latest reference value of each indicator × code in another
    # geography vintage (shown, with its vintage, where the page's vintage has none); the findings of
    # mart.quality_report about a whole indicator × vintage of the level (no code: e.g. a repeated COG).
    elsewhere: pd.DataFrame = None
    vintage_quality: pd.DataFrame = None


def current_vintages(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """level → geography vintage of its pages; a level absent from the file has none."""
    rows = con.execute("SELECT DISTINCT level, geography_vintage FROM mart.territories").fetchall()
    out = {}
    for level, rule in PAGE_LEVELS:
        vintages = [v for lv, v in rows if lv == level]
        if rule == "cog":
            cogs = sorted((v for v in vintages if v.startswith("cog_")), key=lambda v: int(v[4:]))
            if cogs:
                out[level] = cogs[-1]
        elif rule in vintages:
            out[level] = rule
    return out


def _df(con, sql: str, params: list) -> pd.DataFrame:
    return con.execute(sql, params).df()


def load_level(con: duckdb.DuckDBPyConnection, level: str, vintage: str) -> LevelData:
    """Everything the pages of one level show: one query for the values of all its territories."""
    p = [level, vintage]
    return LevelData(
        level=level, vintage=vintage,
        territories=_df(con, "SELECT * FROM mart.territories WHERE level = ? AND geography_vintage = ? ORDER BY code", p),
        values=_df(con, """
            SELECT v.indicator_id, v.code, v.period, v.period_start, v.period_end, v.value,
                   r.rank, r.rank_of, r.france_code, r.france_value, r.previous_period,
                   r.change_since_previous_period AS change
            FROM mart.indicator_values v
            LEFT JOIN mart.rankings r USING (indicator_id, level, code, geography_vintage, period)
            WHERE v.is_reference AND v.level = ? AND v.geography_vintage = ?
            ORDER BY v.indicator_id, v.code, v.period_end, v.period_start""", p),
        scores=_df(con, """
            SELECT *, rank() OVER (PARTITION BY dimension_id, period_group ORDER BY score DESC) AS rank,
                   count(*) OVER (PARTITION BY dimension_id, period_group) AS rank_of
            FROM mart.dimension_scores WHERE level = ? AND geography_vintage = ?""", p),
        quality=_df(con, """
            SELECT * FROM mart.quality_report
            WHERE level = ? AND code IS NOT NULL AND (geography_vintage = ? OR geography_vintage IS NULL)
            ORDER BY code, indicator_id, kind, period""", p),
        elsewhere=_df(con, """
            SELECT indicator_id, code, geography_vintage, period, value FROM mart.indicator_values
            WHERE is_reference AND level = ? AND geography_vintage <> ? AND level = 'epci'  -- a SIREN is one EPCI
            QUALIFY row_number() OVER (PARTITION BY indicator_id, code
                                       ORDER BY period_end DESC, period_start DESC,
                                                regexp_extract(geography_vintage, '[0-9]{4}') DESC) = 1""", p),
        vintage_quality=_df(con, """
            SELECT indicator_id, kind, detail FROM mart.quality_report
            WHERE code IS NULL AND indicator_id IS NOT NULL AND (level = ? OR level IS NULL) AND geography_vintage = ?
            ORDER BY indicator_id, kind, detail""", p),
    )


def fold(text: str) -> str:
    """Lower case, no accent, words separated by one space: "Corse-du-Sud" → "corse du sud"."""
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def page_path(level: str, code: str) -> str:
    """The page of a territory, relative to the report's root."""
    return f"{FOLDER}/{level}/{code}.html"


# ---------------------------------------------------------------------------------------------
# French text


def _ordinal(n: int) -> str:
    return "1er" if n == 1 else f"{n}e"


def decile(rank: int, rank_of: int) -> int:
    """1 = among the best-placed tenth of the level (by polarity; by value for polarity 0)."""
    return min(10, (rank - 1) * 10 // rank_of + 1)


def score_sentence(name: str, level: str, dimension: str, row: pd.Series, previous: pd.Series | None) -> str:
    """One French sentence of a dimension score, in the style of the France headlines."""
    lv = LEVEL[level]
    score = float(row["score"])
    where = ("au-dessus de la moyenne" if round(score, 2) > 0 else
             "en dessous de la moyenne" if round(score, 2) < 0 else "dans la moyenne")
    n = int(row["n_indicators"])
    text = (f"En {row['period_group']}, {name} se situe {where} des {lv.plural_in_text} pour la dimension "
            f"« {dimension} » (score {format_fr(score, 2, signed=True)}, moyenne de {n} indicateur"
            f"{'s' if n > 1 else ''}), au {_ordinal(int(row['rank']))} rang sur {int(row['rank_of'])}")
    if previous is not None:
        text += (f" ; en {previous['period_group']}, son score était de "
                 f"{format_fr(float(previous['score']), 2, signed=True)} "
                 f"({_ordinal(int(previous['rank']))} sur {int(previous['rank_of'])})")
    return text + "."


def search_index(levels: dict[str, LevelData]) -> list[dict]:
    """Names and codes of every territory with a page: [{n, c, l, u, k}] (k: folded name and code)."""
    out = []
    for level, data in levels.items():
        for t in data.territories.itertuples(index=False):
            name = t.name if isinstance(t.name, str) else t.code
            out.append({"n": name, "c": t.code, "l": LEVEL[level].singular, "u": page_path(level, t.code),
                        "k": f"{fold(name)} {t.code.lower()}"})
    return out


def search_script(index: list[dict]) -> str:
    body = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    return f"// Territories of the report, for the search box (assets/search.js).\nwindow.BAROMETRE_TERRITOIRES = {body};\n"


def _isnan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _records(frame: pd.DataFrame | None) -> list[dict]:
    """The rows as dicts (faster than ``to_dict("records")``: whole columns to Python at once)."""
    if frame is None or frame.empty:
        return []
    cols = list(frame.columns)
    return [dict(zip(cols, row)) for row in zip(*(frame[c].tolist() for c in cols))]


def territory_pages(pub, levels: dict[str, LevelData], number, change_text, trend) -> dict[str, dict]:
    """path → page model of every territory of ``levels``. ``pub``: the report's Published (régions'
    values and France values); ``number``, ``change_text``, ``trend``: the report's French text.
    Plain Python over records grouped once per level: no pandas work per page."""
    texts: dict = {}

    def fmt(value, unit: str) -> str:  # the same France and région figures recur on many pages
        key = (value, unit)
        if key not in texts:
            texts[key] = number(value, unit)
        return texts[key]

    labels: dict = {}

    def label(level: str, vintage: str) -> str:
        if (level, vintage) not in labels:
            labels[(level, vintage)] = vintage_label(level, vintage)
        return labels[(level, vintage)]
    dims = pub.dimensions.to_dict("records")
    region_values = {(r.indicator_id, r.code, r.period): r.value for r in pub.values[
        (pub.values["level"] == "region") & (pub.values["geography_vintage"] == levels["region"].vintage
                                             if "region" in levels else False)].itertuples(index=False)}
    france = {(r.indicator_id, r.period): (r.code, r.value) for r in pub.france.sort_values(
        "code", key=lambda s: s.map({"FR": 0, "FRM": 1, "FRMD": 2})).itertuples(index=False)}
    names = {(lv, t.code): (t.name if isinstance(t.name, str) else t.code)
             for lv, d in levels.items() for t in d.territories.itertuples(index=False)}
    # Members: territories of other page levels whose parent is this one.
    members: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for lv, d in levels.items():
        for t in d.territories.itertuples(index=False):
            for parent_level, col in (("region", "parent_region"), ("departement", "parent_departement")):
                code = getattr(t, col, None)
                if isinstance(code, str) and parent_level in levels and lv != parent_level:
                    members.setdefault((parent_level, code), []).append((lv, t.code))
    pages = {}
    inds = pub.indicators.to_dict("records")
    for level, data in levels.items():
        vlabel = vintage_label(level, data.vintage)
        by_code: dict[str, dict[str, list[dict]]] = {}
        for r in _records(data.values):  # sorted by indicator, code, period
            by_code.setdefault(r["code"], {}).setdefault(r["indicator_id"], []).append(r)
        # code → dimension → its scores, oldest period group first
        scores: dict[str, dict[str, list[dict]]] = {}
        for r in _records(data.scores):
            scores.setdefault(r["code"], {}).setdefault(r["dimension_id"], []).append(r)
        for per_dim in scores.values():
            for rows in per_dim.values():
                rows.sort(key=lambda r: int(r["period_group"][-4:]))
        quality: dict[str, list[dict]] = {}
        for r in _records(data.quality):
            quality.setdefault(r["code"], []).append(r)
        elsewhere = {(r["indicator_id"], r["code"]): r for r in _records(data.elsewhere)}
        why_level: dict[str, list[str]] = {}
        for r in _records(data.vintage_quality):
            why_level.setdefault(r["indicator_id"], []).append(r["detail"])
        present = set(data.values["indicator_id"])
        for t in data.territories.itertuples(index=False):
            name = names[(level, t.code)]
            region = t.parent_region if isinstance(t.parent_region, str) and level != "region" else None
            per_ind = by_code.get(t.code, {})
            own_quality = quality.get(t.code, [])
            cards, missing = [], []
            for ind in inds:
                iid, unit = ind["indicator_id"], ind["unit"]
                part = per_ind.get(iid)
                if part is None:
                    why = ("aucune valeur publiée pour " + LEVEL[level].plural_in_text + f" ({vlabel})"
                           if iid not in present else "pas de valeur pour ce territoire")
                    details = why_level.get(iid, []) + [q["detail"] for q in own_quality if q["indicator_id"] == iid]
                    other = elsewhere.get((iid, t.code))
                    missing.append({"id": iid, "name": ind["name"], "why": why, "details": details,
                                    "elsewhere": None if other is None else {
                                        "value": fmt(other["value"], unit), "raw": float(other["value"]),
                                        "period": other["period"],
                                        "vintage": label(level, other["geography_vintage"])}})
                    continue
                series = []
                for r in part:
                    fr = france.get((iid, r["period"]))
                    reg = region_values.get((iid, region, r["period"])) if region else None
                    series.append({"period": r["period"], "value": number(r["value"], unit), "raw": float(r["value"]),
                                   "region": fmt(reg, unit) if reg is not None else "–",
                                   "france": fmt(fr[1], unit) if fr else "–",
                                   "france_code": fr[0] if fr else None})
                last = part[-1]
                card = {"id": iid, "name": ind["name"], "dimension": ind["dimension_id"],
                        "latest": series[-1], "series": series, "rank": None, "change": None, "trend": "none"}
                if not _isnan(last["rank"]):
                    card["rank"] = {"rank": int(last["rank"]), "of": int(last["rank_of"]),
                                    "decile": decile(int(last["rank"]), int(last["rank_of"]))}
                if not _isnan(last["change"]):
                    card["change"] = change_text(float(last["change"]), unit, last["previous_period"])
                    card["trend"] = trend(float(last["change"]), unit, ind["polarity"])
                cards.append(card)
            sentences = []
            own = scores.get(t.code, {})
            for dim in dims:
                dim_id = dim["dimension_id"]
                part = own.get(dim_id)
                if not part:
                    sentences.append({"id": dim_id, "name": dim["name"], "score": None,
                                      "text": f"Pas de score « {dim['name']} » pour {name} : les indicateurs de la "
                                              "dimension ne sont pas tous observés à une même période à ce niveau."})
                    continue
                last = part[-1]
                end = int(last["period_group"][-4:])
                same = [r for r in part if r["indicator_ids"] == last["indicator_ids"] and int(r["period_group"][-4:]) < end]
                sentences.append({"id": dim_id, "name": dim["name"], "score": format_fr(float(last["score"]), 2, signed=True),
                                  "period": last["period_group"],
                                  "text": score_sentence(name, level, dim["name"], last, same[-1] if same else None)})
            parents = []
            for parent_level, col in (("region", "parent_region"), ("departement", "parent_departement")):
                code = getattr(t, col, None)
                if parent_level != level and isinstance(code, str) and (parent_level, code) in names:
                    parents.append({"level": LEVEL[parent_level].singular, "name": names[(parent_level, code)],
                                    "code": code, "href": f"../{parent_level}/{code}.html"})
            kids = []
            for lv in levels:
                codes = sorted(c for l2, c in members.get((level, t.code), []) if l2 == lv)
                if codes:
                    kids.append({"level": LEVEL[lv].plural, "items": [
                        {"name": names[(lv, c)], "code": c, "href": f"../{lv}/{c}.html"} for c in codes]})
            notes = [{"kind": r["kind"], "indicator": r["indicator_id"] if isinstance(r["indicator_id"], str) else "–",
                      "period": r["period"] if isinstance(r["period"], str) else "–", "detail": r["detail"]}
                     for r in own_quality]
            pages[page_path(level, t.code)] = {
                "level": level, "level_label": LEVEL[level].singular, "code": t.code, "name": name,
                "vintage_label": vlabel, "cards": cards, "missing": missing,
                "dimensions": sentences, "parents": parents, "members": kids, "notes": notes,
                "france_names": FRANCE_TERRITORIES}
    return pages
