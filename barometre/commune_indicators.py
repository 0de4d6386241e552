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

from barometre.communes import FINDING_COLUMNS, passage, releases
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


def _mapped_counts(counts: pd.DataFrame, cog_communes: pd.DataFrame, vintage: int,
                   by_release: dict | None = None) -> tuple[pd.DataFrame, set, pd.DataFrame]:
    """2017 commune counts summed onto the communes of COG ``vintage`` (complete ones only);
    ``by_release``: :func:`barometre.communes.releases` of ``cog_communes``, built once by the caller."""
    p = passage(cog_communes, counts["code_commune"], communes_source.GEOGRAPHY_VINTAGE, YEAR, vintage,
                source_id=communes_source.SOURCE_ID, by_release=by_release)
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
    by_release = releases(cog_communes)  # once for every target
    for v in sorted(set(epci_vintages)):
        mapped, complete, f = _mapped_counts(counts, cog_communes, v, by_release)
        findings.append(f)
        membership = membership_cog(cog_communes, epci_members, cog_departements, v)
        sums, left = sum_to_parents(mapped, membership, "commune", "epci", f"cog_{v}", complete)
        parts.append(_rows(sums, "epci", f"cog_{v}", communes_source.SOURCE_ID, True))
        findings.append(_left_out(left, "epci", f"cog_{v}"))
    mapped, complete, f = _mapped_counts(counts, cog_communes, ze_source.COMPOSITION_COG, by_release)
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


# ---------------------------------------------------------------------------------------------
# Wiring (issue 15): the ZE2020 mesh in the hierarchy, the passage table, the SQL sums

PASSAGE_COLUMNS = ["geography_vintage", "code_commune", "code_commune_2017", "how"]
MESH_COLUMNS = ["level", "code", "geography_vintage", "numerator", "denominator", "n_members", "n_missing",
                "missing"]


def hierarchy_ze2020(composition: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``core.hierarchie_territoires`` for the zones d'emploi 2020 (``ze_2020``):
    commune (COG 2023) → zone_emploi for the 306 zones; zone_emploi → region only for the zones
    inside one région (INSEE's ``REG`` of all their communes; the 14 straddling zones ``00XX`` have
    none); zone_emploi → france (``FRMD`` all, ``FRM`` the metropolitan ones, by the level's
    ``ze_2020`` rule). The 28 régional parts of the straddling zones are not a level of the
    barometer (docs/geography.md)."""
    from barometre import geography

    vintage = ze_source.GEOGRAPHY_VINTAGE
    zones = composition.groupby("code_zone_emploi")["code_region"].agg(lambda s: sorted(set(s)))
    one = zones[zones.map(len) == 1].map(lambda r: r[0])
    one = one[~one.index.str.startswith("00")]
    codes = pd.Series(sorted(zones.index), dtype=object)
    metro = geography.metropolitan_scope("zone_emploi", vintage, codes)[0].fillna(False).to_numpy(dtype=bool)
    parts = [
        pd.DataFrame({"child_level": "commune", "child_code": composition["code_commune"].to_numpy(),
                      "parent_level": "zone_emploi", "parent_code": composition["code_zone_emploi"].to_numpy()}),
        pd.DataFrame({"child_level": "zone_emploi", "child_code": one.index.to_numpy(), "parent_level": "region",
                      "parent_code": one.to_numpy()}),
        pd.DataFrame({"child_level": "zone_emploi", "child_code": codes.to_numpy(), "parent_level": "france",
                      "parent_code": "FRMD"}),
        pd.DataFrame({"child_level": "zone_emploi", "child_code": codes[metro].to_numpy(), "parent_level": "france",
                      "parent_code": "FRM"}),
    ]
    return pd.concat(parts, ignore_index=True).assign(geography_vintage=vintage)[MEMBERSHIP_COLUMNS]


def passage_table(counts: pd.DataFrame, cog_communes: pd.DataFrame,
                  vintages: Iterable[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 2017 commune codes mapped to the communes of each COG release of ``vintages``
    (:func:`barometre.communes.passage`): one row per complete target commune and 2017 commune
    it receives (``code_commune_2017`` missing for a complete commune without inhabitants, counted
    as zero), and the findings (split communes, communes without a 2017 count…)."""
    rows, findings = [], []
    by_release = releases(cog_communes)  # once for every target
    for v in sorted(set(vintages)):
        p = passage(cog_communes, counts["code_commune"], communes_source.GEOGRAPHY_VINTAGE, YEAR, v,
                    source_id=communes_source.SOURCE_ID, by_release=by_release)
        m = p.mapping
        rows.append(pd.DataFrame({"geography_vintage": f"cog_{v}", "code_commune": m["code_target"].to_numpy(),
                                  "code_commune_2017": m["code_source"].to_numpy(), "how": m["how"].to_numpy()}))
        empty = sorted(p.complete - set(m["code_target"]))
        rows.append(pd.DataFrame({"geography_vintage": f"cog_{v}", "code_commune": empty, "code_commune_2017": None,
                                  "how": "without_inhabitants"}))
        findings.append(p.findings.assign(indicator_id=TURNOUT, period=str(YEAR)))
    out = pd.concat(rows, ignore_index=True).astype({"code_commune_2017": object})[PASSAGE_COLUMNS]
    return out, pd.concat(findings, ignore_index=True)[FINDING_COLUMNS].drop_duplicates(ignore_index=True)


def mesh_sums_sql(counts: str = "core.interieur_presidentielle_2017_comptes_communes",
                  passage_: str = "core.interieur_presidentielle_2017_passage_communes",
                  hierarchy: str = "core.hierarchie_territoires",
                  current: str = GEOGRAPHY_VINTAGE_CURRENT) -> str:
    """The SQL (DuckDB) of the commune → mesh sums of the 2017 first-round counts, one row per
    territory (:data:`MESH_COLUMNS`): EPCI of each COG release and zones d'emploi 2020 from the
    2017 communes mapped to their communes (the passage table; zones on COG
    ``ze_source.COMPOSITION_COG``), départements from their 2017 communes, régions and France from
    the départements of ``current``. A territory with a member without count (``n_missing`` > 0,
    ``missing`` its codes) has no numerator nor denominator: a partial sum is never a total.
    :func:`sum_to_parents` is the executable specification (tests/unit/test_commune_sql.py)."""
    ze_cog = f"cog_{ze_source.COMPOSITION_COG}"
    return f"""
with counts as (
    select code_commune, code_departement, votants::bigint as v, inscrits::bigint as i from {counts}),
mapped as (  -- the 2017 counts on the complete communes of each COG release
    select p.geography_vintage, p.code_commune as code, sum(coalesce(c.v, 0)) as v, sum(coalesce(c.i, 0)) as i
    from {passage_} p left join counts c on c.code_commune = p.code_commune_2017
    group by p.geography_vintage, p.code_commune),
commune_members as (
    select h.parent_level as level, h.parent_code as code, h.geography_vintage, h.child_code, m.v, m.i
    from {hierarchy} h
    left join mapped m on m.code = h.child_code
     and m.geography_vintage = case when starts_with(h.geography_vintage, 'ze_') then '{ze_cog}'
                                    else h.geography_vintage end
    where h.child_level = 'commune' and h.parent_level in ('epci', 'zone_emploi')
      and (starts_with(h.geography_vintage, 'ze_')
           or h.geography_vintage in (select distinct geography_vintage from {passage_}))),
departements as (
    select code_departement as code, sum(v) as v, sum(i) as i from counts group by code_departement),
departement_members as (
    select h.parent_level as level, h.parent_code as code, h.geography_vintage, h.child_code, d.v, d.i
    from {hierarchy} h left join departements d on d.code = h.child_code
    where h.child_level = 'departement' and h.parent_level in ('region', 'france')
      and h.geography_vintage = '{current}'),
members as (select * from commune_members union all select * from departement_members)
select level, code, geography_vintage,
       case when count(v) = count(*) then sum(v) end::double as numerator,
       case when count(v) = count(*) then sum(i) end::double as denominator,
       count(*)::bigint as n_members, (count(*) - count(v))::bigint as n_missing,
       string_agg(child_code, ' ' order by child_code) filter (where v is null) as missing
from members group by level, code, geography_vintage
union all
select 'departement', code, '{current}', v::double, i::double, 1, 0, null from departements
order by level, geography_vintage, code
"""


def mesh_sums_pandas(counts: pd.DataFrame, passage_: pd.DataFrame, hierarchy: pd.DataFrame,
                     current: str = GEOGRAPHY_VINTAGE_CURRENT) -> pd.DataFrame:
    """The same sums as :func:`mesh_sums_sql` with :func:`sum_to_parents` (the pandas
    specification), complete territories only (``n_missing`` 0)."""
    c = counts.astype({"votants": "int64", "inscrits": "int64"})
    parts = []
    for gv, p in passage_.groupby("geography_vintage"):
        m = p.merge(c[["code_commune", "votants", "inscrits"]], left_on="code_commune_2017",
                    right_on="code_commune", how="left", suffixes=("", "_2017"))
        m = m.groupby("code_commune", as_index=False).agg(numerator=("votants", "sum"), denominator=("inscrits", "sum"))
        mapped = m.rename(columns={"code_commune": "code"})
        targets = [(gv, "epci")] + ([(ze_source.GEOGRAPHY_VINTAGE, "zone_emploi")]
                                     if gv == f"cog_{ze_source.COMPOSITION_COG}" else [])
        for vintage, level in targets:
            if not ((hierarchy["geography_vintage"] == vintage) & (hierarchy["parent_level"] == level)).any():
                continue
            sums, _ = sum_to_parents(mapped, hierarchy, "commune", level, vintage)
            parts.append(sums.assign(level=level, geography_vintage=vintage))
    dep = c.groupby("code_departement", as_index=False)[["votants", "inscrits"]].sum()
    dep = pd.DataFrame({"code": dep["code_departement"], "numerator": dep["votants"].astype(float),
                        "denominator": dep["inscrits"].astype(float), "n_members": 1})
    parts.append(dep.assign(level="departement", geography_vintage=current))
    for level in ("region", "france"):
        sums, _ = sum_to_parents(dep, hierarchy, "departement", level, current)
        parts.append(sums.assign(level=level, geography_vintage=current))
    out = pd.concat(parts, ignore_index=True).assign(n_missing=0, missing=None)
    out = out.astype({"numerator": float, "denominator": float, "n_members": "int64"})
    return out[MESH_COLUMNS].sort_values(["level", "geography_vintage", "code"], ignore_index=True)


def turnout_from_mesh(counts: pd.DataFrame, mesh: pd.DataFrame, passage_findings: pd.DataFrame,
                      code_findings: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of ``participation_presidentielle_t1`` 2017 from the commune counts (commune rows, not
    derived) and the SQL sums (every other row, derived), and the findings: the passage's, the
    wrong source codes, and each territory left out with its members without count."""
    base = pd.DataFrame({"code": counts["code_commune"], "numerator": counts["votants"].astype(float),
                         "denominator": counts["inscrits"].astype(float)})
    from_dep_file = counts["source_id"].eq(DEPARTEMENT_FILE_SOURCE).to_numpy()
    parts = [_rows(base[~from_dep_file], "commune", communes_source.GEOGRAPHY_VINTAGE, communes_source.SOURCE_ID, False),
             _rows(base[from_dep_file], "commune", communes_source.GEOGRAPHY_VINTAGE, DEPARTEMENT_FILE_SOURCE, False)]
    findings = [passage_findings, code_findings if code_findings is not None else pd.DataFrame(columns=FINDING_COLUMNS)]
    for (level, vintage), group in mesh.groupby(["level", "geography_vintage"], sort=True):
        ok = group[group["n_missing"] == 0]
        parts.append(_rows(ok, level, vintage, communes_source.SOURCE_ID, True))
        left = group[group["n_missing"] > 0]
        findings.append(_left_out(pd.DataFrame({"code": left["code"].to_numpy(),
                                                "missing": [str(m).split() for m in left["missing"]]}), level, vintage))
    values = [p for p in parts if not p.empty]
    values = pd.concat(values, ignore_index=True) if values else pd.DataFrame(columns=VALUE_COLUMNS)
    findings = [f for f in findings if not f.empty]
    findings = (pd.concat(findings, ignore_index=True)[FINDING_COLUMNS] if findings
                else pd.DataFrame(columns=FINDING_COLUMNS))
    return values, findings.drop_duplicates(ignore_index=True)


def empty_commune_inputs() -> dict[str, pd.DataFrame]:
    """The commune inputs of ``participation_presidentielle_t1`` without any row (tests of the
    département part of the formula, which do not build the passage)."""
    return {"communes": pd.DataFrame(columns=["code_commune", "code_departement", *COUNT_COLUMNS, "source_id"]),
            "mailles": pd.DataFrame(columns=MESH_COLUMNS), "passage": pd.DataFrame(columns=FINDING_COLUMNS)}


def territory_names(results: pd.DataFrame, composition: pd.DataFrame) -> pd.DataFrame:
    """Names (and parents known in the same vintage) of the zones d'emploi 2020 (the composition:
    région of the zones inside one région) and of the 2017 communes (the Ministry's names; Lyon,
    Marseille and Paris, which the file has as arrondissements or not at all, by their own
    names), in the columns of ``mart.territories``."""
    zones = composition.groupby("code_zone_emploi").agg(name=("libelle_zone_emploi", "first"),
                                                        regions=("code_region", lambda s: sorted(set(s))))
    parent = [r[0] if len(r) == 1 and not c.startswith("00") else None for c, r in zip(zones.index, zones["regions"])]
    ze = pd.DataFrame({"level": "zone_emploi", "code": zones.index, "name": zones["name"].to_numpy(),
                       "parent_region": parent, "geography_vintage": ze_source.GEOGRAPHY_VINTAGE})
    r1 = results[(results["round"] == 1) & (results["kind"] == "commune")]
    names = {"69123": "Lyon", "13055": "Marseille", "75056": "Paris"}
    com = pd.concat([pd.DataFrame({"code": r1["code_commune"], "name": r1["libelle"],
                                   "parent_departement": r1["code_departement"]}),
                     pd.DataFrame({"code": list(names), "name": list(names.values()),
                                   "parent_departement": ["69", "13", "75"]})], ignore_index=True)
    com = com.assign(level="commune", geography_vintage=communes_source.GEOGRAPHY_VINTAGE)
    return pd.concat([ze, com], ignore_index=True)
