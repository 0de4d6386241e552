"""From the commune up: 2017 turnout summed from commune counts; unemployment by zone d'emploi 2020.

Pure pandas functions (the pipeline will move the sums to DuckDB SQL). Memberships are frames
of :data:`MEMBERSHIP_COLUMNS` ``(child_level, child_code, parent_level, parent_code,
geography_vintage)``, the shape of the geography hierarchy table.

Turnout 2017, first round (``participation_presidentielle_t1``) = Σ votants ÷ Σ inscrits × 100:

- ``commune``: the communes of the Ministry's file, on their 2017 codes (``cog_2017``); Lyon and
  Marseille as one commune each (their arrondissements summed once); Paris (75056, one commune
  and one département, absent from the commune file) from the Ministry's département file;
- ``epci`` on the perimeters of a COG release (``cog_<v>``): 2017 communes mapped to that
  release (:func:`barometre.communes.passage`), an EPCI only when every member commune has a
  complete count (the rule of :func:`barometre.geography.epci_comparability`);
- ``zone_emploi`` (``ze_2020``): the INSEE composition (COG 2023), same completeness rule;
- ``departement``, ``region``, ``france`` (``FRM``, ``FRMD``): summed départements, a région only
  with all its départements.

Every row but the communes' is ``derived`` with its numerator and denominator.
:func:`check_departements` compares each commune-derived département with the Ministry's
département file: the pipeline's blocking check fails on any difference.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from barometre.communes import FINDING_COLUMNS, passage
from barometre.geography import DEPARTEMENTS, GEOGRAPHY_VINTAGE_CURRENT, METRO_DEPARTEMENTS
from barometre.sources import insee_chomage_zone_emploi as ze_source
from barometre.sources import interieur_presidentielle_2017_communes as communes_source

VALUE_COLUMNS = ["indicator_id", "level", "code", "geography_vintage", "period", "period_start", "period_end",
                 "value", "numerator", "denominator", "source_id", "derived"]  # = barometre.indicators.VALUE_COLUMNS
MEMBERSHIP_COLUMNS = ["child_level", "child_code", "parent_level", "parent_code", "geography_vintage"]
TURNOUT = "participation_presidentielle_t1"
UNEMPLOYMENT = "taux_chomage"
DEPARTEMENT_FILE_SOURCE = "interieur_presidentielle_t1"
COUNT_COLUMNS = ["inscrits", "abstentions", "votants", "exprimes"]
YEAR = communes_source.YEAR


def commune_turnout_counts(communes: pd.DataFrame, departements: pd.DataFrame, round_: int = 1) -> pd.DataFrame:
    """Round-1 counts of every commune of the 101 départements on its 2017 code: the commune file
    (:func:`communes_source.commune_counts`) plus Paris (75056) from the département file
    (``barometre.sources.elections.parse`` of 2017; Paris is one commune and one département).
    Columns ``code_commune``, ``code_departement``, the counts, ``source_id``."""
    out = communes_source.commune_counts(communes, round_)
    out = out.assign(source_id=communes_source.SOURCE_ID)
    if "75056" not in set(out["code_commune"]):
        paris = departements[(departements["year"] == YEAR) & (departements["code_departement"] == "75")]
        if len(paris) != 1:
            raise ValueError("the 2017 département file has no row for Paris (75)")
        out = pd.concat([out, pd.DataFrame({"code_commune": ["75056"], "code_departement": ["75"],
                                            **{c: paris[c].astype("Int64").values for c in COUNT_COLUMNS},
                                            "source_id": [DEPARTEMENT_FILE_SOURCE]})], ignore_index=True)
    return out[["code_commune", "code_departement", *COUNT_COLUMNS, "source_id"]]


def check_departements(commune_counts: pd.DataFrame, departements: pd.DataFrame) -> pd.DataFrame:
    """Differences between the départements summed from the commune file and the Ministry's
    département file (2017): one row per département and count that differ, or that exist on one
    side only (Paris, absent from the commune file, is compared only if present). Empty when all
    agree. Columns ``code_departement``, ``count``, ``communes``, ``ministere``."""
    dep = departements[(departements["year"] == YEAR) & (departements["kind"] == "departement")]
    rows = commune_counts
    if "source_id" in rows:  # Paris, taken from the département file, is not compared with itself
        rows = rows[rows["source_id"] == communes_source.SOURCE_ID]
    summed = rows.groupby("code_departement")[COUNT_COLUMNS].sum()
    ministry = dep.set_index("code_departement")[COUNT_COLUMNS]
    codes = sorted(set(summed.index) | (set(ministry.index) - {"75"}))
    out = []
    for code in codes:
        for col in COUNT_COLUMNS:
            a = summed[col].get(code, pd.NA)
            b = ministry[col].get(code, pd.NA)
            if pd.isna(a) or pd.isna(b) or int(a) != int(b):
                out.append({"code_departement": code, "count": col,
                            "communes": None if pd.isna(a) else int(a), "ministere": None if pd.isna(b) else int(b)})
    return pd.DataFrame(out, columns=["code_departement", "count", "communes", "ministere"]).astype(
        {"communes": "Int64", "ministere": "Int64"})


def membership_cog(communes: pd.DataFrame, epci_members: pd.DataFrame, departements: pd.DataFrame,
                   vintage: int) -> pd.DataFrame:
    """Membership rows of one COG release: commune → epci, commune → departement, departement →
    region, departement → france (FRM for the 96, FRMD for the 101), geography_vintage ``cog_<v>``."""
    gv = f"cog_{vintage}"
    c = communes[(communes["cog_vintage"] == vintage) & communes["code_departement"].isin(DEPARTEMENTS)]
    m = epci_members[epci_members["cog_vintage"] == vintage]
    d = departements[(departements["cog_vintage"] == vintage) & departements["code_departement"].isin(DEPARTEMENTS)]
    parts = [
        pd.DataFrame({"child_level": "commune", "child_code": m["code_commune"], "parent_level": "epci",
                      "parent_code": m["code_epci"]}),
        pd.DataFrame({"child_level": "commune", "child_code": c["code_commune"], "parent_level": "departement",
                      "parent_code": c["code_departement"]}),
        pd.DataFrame({"child_level": "departement", "child_code": d["code_departement"], "parent_level": "region",
                      "parent_code": d["code_region"]}),
        pd.DataFrame({"child_level": "departement", "child_code": list(METRO_DEPARTEMENTS), "parent_level": "france",
                      "parent_code": "FRM"}),
        pd.DataFrame({"child_level": "departement", "child_code": list(DEPARTEMENTS), "parent_level": "france",
                      "parent_code": "FRMD"}),
    ]
    return pd.concat(parts, ignore_index=True).assign(geography_vintage=gv)[MEMBERSHIP_COLUMNS]


def membership_zone_emploi(composition: pd.DataFrame) -> pd.DataFrame:
    """commune (COG 2023) → zone_emploi (``ze_2020``), and → its régional part
    (``zone_emploi_partie_regionale``) for the communes of the 14 straddling zones."""
    parts = [pd.DataFrame({"child_level": "commune", "child_code": composition["code_commune"],
                           "parent_level": "zone_emploi", "parent_code": composition["code_zone_emploi"]})]
    p = composition.dropna(subset=["code_partie_regionale"])
    parts.append(pd.DataFrame({"child_level": "commune", "child_code": p["code_commune"],
                               "parent_level": "zone_emploi_partie_regionale",
                               "parent_code": p["code_partie_regionale"]}))
    return pd.concat(parts, ignore_index=True).assign(geography_vintage=ze_source.GEOGRAPHY_VINTAGE)[
        MEMBERSHIP_COLUMNS]


def sum_to_parents(counts: pd.DataFrame, membership: pd.DataFrame, child_level: str, parent_level: str,
                   geography_vintage: str, present: Iterable[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Σ ``numerator`` and Σ ``denominator`` of the children (``counts``: ``code``, ``numerator``,
    ``denominator``) into each parent whose member children all have a count (``present``: the
    children whose count is complete; by default those of ``counts``). Returns (sums with
    ``code``, ``numerator``, ``denominator``, ``n_members``; the parents left out with the
    children missing)."""
    m = membership[(membership["child_level"] == child_level) & (membership["parent_level"] == parent_level)
                   & (membership["geography_vintage"] == geography_vintage)]
    if m.empty:
        raise ValueError(f"no membership {child_level} → {parent_level} in {geography_vintage}")
    present = set(counts["code"]) if present is None else set(present)
    num = dict(zip(counts["code"], counts["numerator"]))
    den = dict(zip(counts["code"], counts["denominator"]))
    m = m.assign(ok=m["child_code"].isin(present))
    ok = m.groupby("parent_code")["ok"].all()
    missing = m[~m["ok"]].groupby("parent_code")["child_code"].agg(lambda s: sorted(s))
    kept = m[m["parent_code"].isin(ok[ok].index)]
    sums = kept.assign(numerator=kept["child_code"].map(num).fillna(0.0).astype(float),
                       denominator=kept["child_code"].map(den).fillna(0.0).astype(float)).groupby(
        "parent_code", as_index=False).agg(numerator=("numerator", "sum"), denominator=("denominator", "sum"),
                                           n_members=("child_code", "size"))
    left = pd.DataFrame({"code": missing.index, "missing": missing.values})
    return sums.rename(columns={"parent_code": "code"}), left


def _rows(frame: pd.DataFrame, level: str, vintage: str, source_id: str, derived: bool) -> pd.DataFrame:
    out = frame[["code", "numerator", "denominator"]].copy()
    out["value"] = out["numerator"] / out["denominator"] * 100
    out["indicator_id"], out["level"], out["geography_vintage"] = TURNOUT, level, vintage
    out["period"], out["period_start"], out["period_end"] = str(YEAR), YEAR, YEAR
    out["source_id"], out["derived"] = source_id, derived
    return out[VALUE_COLUMNS]


def _left_out(left: pd.DataFrame, level: str, vintage: str) -> pd.DataFrame:
    return pd.DataFrame({
        "kind": "incomplete_perimeter", "indicator_id": TURNOUT, "source_id": communes_source.SOURCE_ID,
        "level": level, "code": left["code"].values, "geography_vintage": vintage, "period": str(YEAR),
        "detail": [f"member communes without a complete {YEAR} count: {', '.join(c[:10])}"
                   f"{' …' if len(c) > 10 else ''} ({len(c)})" for c in left["missing"]],
    }, columns=FINDING_COLUMNS)


def _mapped_counts(counts: pd.DataFrame, cog_communes: pd.DataFrame, vintage: int) -> tuple[pd.DataFrame, set, pd.DataFrame]:
    """2017 commune counts summed onto the communes of COG ``vintage`` (complete ones only)."""
    p = passage(cog_communes, counts["code_commune"], communes_source.GEOGRAPHY_VINTAGE, YEAR, vintage,
                source_id=communes_source.SOURCE_ID)
    mapped = counts.merge(p.mapping[["code_source", "code_target"]], left_on="code_commune", right_on="code_source")
    summed = mapped.groupby("code_target", as_index=False).agg(numerator=("votants", "sum"),
                                                               denominator=("inscrits", "sum"))
    summed = summed.rename(columns={"code_target": "code"}).astype({"numerator": float, "denominator": float})
    return summed, set(p.complete), p.findings.assign(indicator_id=TURNOUT)


def turnout_2017(counts: pd.DataFrame, cog_communes: pd.DataFrame, epci_members: pd.DataFrame,
                 cog_departements: pd.DataFrame, composition: pd.DataFrame,
                 epci_vintages: Iterable[int] = (2026,)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of ``participation_presidentielle_t1`` for 2017 from commune counts
    (:func:`commune_turnout_counts`) at every level, and the findings (communes not mapped,
    perimeters left out)."""
    counts = counts.astype({c: "int64" for c in COUNT_COLUMNS})
    base = pd.DataFrame({"code": counts["code_commune"], "numerator": counts["votants"].astype(float),
                         "denominator": counts["inscrits"].astype(float)})
    from_dep_file = counts["source_id"].eq(DEPARTEMENT_FILE_SOURCE).to_numpy()
    parts = [_rows(base[~from_dep_file], "commune", communes_source.GEOGRAPHY_VINTAGE, communes_source.SOURCE_ID, False),
             _rows(base[from_dep_file], "commune", communes_source.GEOGRAPHY_VINTAGE, DEPARTEMENT_FILE_SOURCE, False)]
    findings = []
    for v in sorted(set(epci_vintages)):
        mapped, complete, f = _mapped_counts(counts, cog_communes, v)
        findings.append(f)
        membership = membership_cog(cog_communes, epci_members, cog_departements, v)
        sums, left = sum_to_parents(mapped, membership, "commune", "epci", f"cog_{v}", complete)
        parts.append(_rows(sums, "epci", f"cog_{v}", communes_source.SOURCE_ID, True))
        findings.append(_left_out(left, "epci", f"cog_{v}"))
    mapped, complete, f = _mapped_counts(counts, cog_communes, ze_source.COMPOSITION_COG)
    findings.append(f)
    zm = membership_zone_emploi(composition)
    sums, left = sum_to_parents(mapped, zm, "commune", "zone_emploi", ze_source.GEOGRAPHY_VINTAGE, complete)
    parts.append(_rows(sums, "zone_emploi", ze_source.GEOGRAPHY_VINTAGE, communes_source.SOURCE_ID, True))
    findings.append(_left_out(left, "zone_emploi", ze_source.GEOGRAPHY_VINTAGE))
    # Départements from their 2017 communes (Paris from the département file), then régions and France.
    dep = counts.groupby("code_departement", as_index=False)[["votants", "inscrits"]].sum()
    dep = pd.DataFrame({"code": dep["code_departement"], "numerator": dep["votants"].astype(float),
                        "denominator": dep["inscrits"].astype(float)})
    parts.append(_rows(dep, "departement", GEOGRAPHY_VINTAGE_CURRENT, communes_source.SOURCE_ID, True))
    current = int(GEOGRAPHY_VINTAGE_CURRENT.removeprefix("cog_"))
    dm = membership_cog(cog_communes, epci_members, cog_departements, current)
    for level in ("region", "france"):
        sums, left = sum_to_parents(dep, dm, "departement", level, GEOGRAPHY_VINTAGE_CURRENT)
        parts.append(_rows(sums, level, GEOGRAPHY_VINTAGE_CURRENT, communes_source.SOURCE_ID, True))
        findings.append(_left_out(left, level, GEOGRAPHY_VINTAGE_CURRENT))
    values = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    findings = pd.concat([f for f in findings if not f.empty], ignore_index=True)[FINDING_COLUMNS]
    # COG 2023 is mapped twice when it is also an EPCI vintage (EPCI and zones d'emploi).
    return values, findings.drop_duplicates(ignore_index=True)


def unemployment_zone_emploi(quarterly: pd.DataFrame, years: range = range(2003, 2023)) -> pd.DataFrame:
    """``taux_chomage`` at level ``zone_emploi`` (``ze_2020``): the mean of the four quarters of
    every complete year in ``years``, rounded to 0.1 like the département panel (not derived: a
    mean of published rates, as the département rows)."""
    annual = ze_source.annual_means(quarterly, years=years)
    out = pd.DataFrame({"indicator_id": UNEMPLOYMENT, "level": "zone_emploi", "code": annual["code"],
                        "geography_vintage": ze_source.GEOGRAPHY_VINTAGE, "period": annual["year"].astype(str),
                        "period_start": annual["year"], "period_end": annual["year"],
                        "value": annual["unemployment_rate"], "numerator": np.nan, "denominator": np.nan,
                        "source_id": ze_source.SOURCE_ID, "derived": False})
    return out[VALUE_COLUMNS]
