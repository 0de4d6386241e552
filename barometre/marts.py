"""Build the published tables of schema ``mart`` (the warehouse contract, docs/warehouse.md).

Pure functions from tidy frames to mart frames: which row is the reference when two sources
give the same value, what is reported in the quality report, the territory list, and the
catalogue tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from barometre import geography, units
from barometre.catalogue import Catalogue
from barometre.geography import FRANCE_TERRITORIES, GEOGRAPHY_VINTAGE_CURRENT, cog_vintage

INDICATOR_VALUE_COLUMNS = ["indicator_id", "level", "code", "geography_vintage", "period", "period_start",
                           "period_end", "value", "numerator", "denominator", "source_id", "derived", "is_reference"]
QUALITY_COLUMNS = ["kind", "indicator_id", "source_id", "level", "code", "geography_vintage", "period", "detail"]
REJECTED_COLUMNS = ["source_id", "rule", "code", "period", "column", "value"]
TERRITORY_COLUMNS = ["level", "code", "name", "parent_region", "parent_departement", "geography_vintage"]
_KEY = ["indicator_id", "level", "code", "geography_vintage", "period"]


def indicator_values(catalogue: Catalogue, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate the indicators' rows that have a value and mark one reference row per key.

    Within an (indicator, level, code, geography vintage, period), the reference is a published
    value before a derived one, then the source listed first in the catalogue.
    """
    values = pd.concat(frames, ignore_index=True)
    values = values[values["value"].notna()].copy()
    order = {(i.id, s): n for i in catalogue.indicators for n, s in enumerate(i.sources)}
    values["_source_rank"] = [order.get(k, 99) for k in zip(values["indicator_id"], values["source_id"])]
    values = values.sort_values([*_KEY, "derived", "_source_rank"], kind="stable")
    values["is_reference"] = ~values.duplicated(_KEY, keep="first")
    values = values.drop(columns="_source_rank")
    position = {i.id: n for n, i in enumerate(catalogue.indicators)}
    values["_pos"] = values["indicator_id"].map(position)
    values = values.sort_values(["_pos", "level", "geography_vintage", "code", "period_start", "period_end",
                                 "is_reference"], ascending=[True] * 6 + [False], kind="stable")
    return values.drop(columns="_pos")[INDICATOR_VALUE_COLUMNS].reset_index(drop=True)


def _tolerance(unit: str) -> float:
    """Half a unit of the coarser published rounding: CGET values have one decimal, € none."""
    return units.spec(unit).tolerance


def disagreements(catalogue: Catalogue, values: pd.DataFrame) -> pd.DataFrame:
    """Non-reference rows that differ from the reference row beyond rounding."""
    ref = values[values["is_reference"]].set_index(_KEY)[["value", "source_id", "derived"]]
    other = values[~values["is_reference"]].join(ref, on=_KEY, rsuffix="_ref")
    unit = other["indicator_id"].map({i.id: i.unit for i in catalogue.indicators})
    tol = unit.map(_tolerance)
    diff = (other["value"] - other["value_ref"]).abs()
    bad = other[diff > tol + 1e-9]

    def describe(r: pd.Series) -> str:
        kind = "derived" if r["derived"] else "published"
        ref_kind = "derived" if r["derived_ref"] else "published"
        return (f"{kind} {r['source_id']} value {r['value']:.4g} differs from the reference "
                f"({ref_kind} {r['source_id_ref']}) {r['value_ref']:.4g} by {abs(r['value'] - r['value_ref']):.3g}")

    return pd.DataFrame({
        "kind": "source_disagreement", "indicator_id": bad["indicator_id"], "source_id": bad["source_id"],
        "level": bad["level"], "code": bad["code"], "geography_vintage": bad["geography_vintage"],
        "period": bad["period"], "detail": [describe(r) for _, r in bad.iterrows()],
    }, columns=QUALITY_COLUMNS)


def missing_values(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Rows whose source cell was empty: reported, never filled."""
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows["value"].isna()]
    return pd.DataFrame({
        "kind": "missing_value", "indicator_id": rows["indicator_id"], "source_id": rows["source_id"],
        "level": rows["level"], "code": rows["code"], "geography_vintage": rows["geography_vintage"],
        "period": rows["period"], "detail": "empty cell in the source: no value published",
    }, columns=QUALITY_COLUMNS)


def quality_report(catalogue: Catalogue, values: pd.DataFrame, frames: list[pd.DataFrame],
                   findings: list[pd.DataFrame], rejected: pd.DataFrame) -> pd.DataFrame:
    """Everything a user should know about what is *not* in ``indicator_values`` and why: the
    generic findings (empty source cells, sources that disagree), the findings each indicator
    returned with its values (``findings``, rows of these columns), and a summary of the rows the
    sources' quarantine rules set aside (``rejected``, every source's)."""
    parts = [missing_values(frames), disagreements(catalogue, values), *findings]
    for source_id, rule in rejected[["source_id", "rule"]].drop_duplicates().itertuples(index=False):
        n = int(((rejected["source_id"] == source_id) & (rejected["rule"] == rule)).sum())
        parts.append(pd.DataFrame([{
            "kind": "rejected_rows", "indicator_id": None, "source_id": source_id, "level": None, "code": None,
            "geography_vintage": None, "period": None,
            "detail": f"{n} rows rejected by rule {rule} (see mart.rejected_rows)"}], columns=QUALITY_COLUMNS))
    parts = [p[QUALITY_COLUMNS] for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True)[QUALITY_COLUMNS]


def territories(cog_regions: pd.DataFrame, cog_departements: pd.DataFrame, hierarchy: pd.DataFrame,
                cog_epci_members: pd.DataFrame, cget_names: pd.DataFrame, values: pd.DataFrame,
                extra_names: pd.DataFrame | None = None, source_names: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (level, code, geography_vintage) appearing in ``values`` (and per France,
    région, département of today's geography and EPCI of the latest COG release), with its name and
    parents where they are known for that vintage (never borrowed from another vintage): the
    parents of ``hierarchy`` (``core.hierarchie_territoires``). ``extra_names``: more named
    territories with their parents (columns of :data:`TERRITORY_COLUMNS`; the zones d'emploi 2020,
    the 2017 communes). ``source_names`` (``level``, ``code``, ``name``, ``geography_vintage``: the
    names a source's sheets give, e.g. Filosofi's LIBGEO) name, last, the territories no other
    table names."""
    current = geography.GeographyVintage.parse(GEOGRAPHY_VINTAGE_CURRENT)  # today's régions and départements
    region_of = geography.parent_of(hierarchy, "departement", "region", current)
    deps = cog_departements[(cog_departements["cog_vintage"] == current.year)
                            & cog_departements["code_departement"].isin(list(region_of))]
    regs = cog_regions[(cog_regions["cog_vintage"] == current.year)
                       & cog_regions["code_region"].isin(set(region_of.values()))]
    parts = [
        pd.DataFrame({"level": "france", "code": list(FRANCE_TERRITORIES), "name": list(FRANCE_TERRITORIES.values()),
                      "geography_vintage": GEOGRAPHY_VINTAGE_CURRENT}),
        pd.DataFrame({"level": "region", "code": regs["code_region"], "name": regs["nom"],
                      "geography_vintage": str(current)}),
        pd.DataFrame({"level": "departement", "code": deps["code_departement"], "name": deps["nom"],
                      "parent_region": deps["code_departement"].map(region_of), "geography_vintage": str(current)}),
        cget_names[["level", "code", "name", "geography_vintage"]],
        *([extra_names.reindex(columns=TERRITORY_COLUMNS)] if extra_names is not None else []),
    ]
    # EPCI of each COG release, with parents when all member communes share one.
    com = hierarchy[hierarchy["child_level"] == "commune"]
    members = com[com["parent_level"] == "epci"][["geography_vintage", "child_code", "parent_code"]].rename(
        columns={"parent_code": "code_epci"})
    for parent in ("departement", "region"):
        members = members.merge(com[com["parent_level"] == parent][["geography_vintage", "child_code", "parent_code"]]
                                .rename(columns={"parent_code": parent}), on=["geography_vintage", "child_code"],
                                how="left")
    names = cog_epci_members.drop_duplicates(["cog_vintage", "code_epci"])
    names = dict(zip(zip(names["cog_vintage"].map(cog_vintage), names["code_epci"]), names["nom_epci"]))
    epci = members.groupby(["geography_vintage", "code_epci"], as_index=False).agg(
        n_dep=("departement", "nunique"), dep=("departement", "first"),
        n_reg=("region", "nunique"), reg=("region", "first"))
    parts.append(pd.DataFrame({
        "level": "epci", "code": epci["code_epci"],
        "name": [names.get(k) for k in zip(epci["geography_vintage"], epci["code_epci"])],
        "parent_region": np.where(epci["n_reg"] == 1, epci["reg"], None),
        "parent_departement": np.where(epci["n_dep"] == 1, epci["dep"], None),
        "geography_vintage": epci["geography_vintage"],
    }))
    if source_names is not None and not source_names.empty:  # last: the other tables' names come first
        parts.append(source_names[["level", "code", "name", "geography_vintage"]].drop_duplicates(
            ["level", "code", "geography_vintage"]))
    terr = pd.concat(parts, ignore_index=True).reindex(columns=TERRITORY_COLUMNS)
    named = terr["name"].notna()
    terr = terr[named | ~terr.duplicated(["level", "code", "geography_vintage"], keep=False)]
    terr = terr.drop_duplicates(["level", "code", "geography_vintage"])
    used = values[["level", "code", "geography_vintage"]].drop_duplicates()
    # Keep every territory that carries a value (named or not) and every France, région and
    # département of today's geography, and every EPCI of the latest COG release (the report's pages).
    terr = terr.merge(used.assign(_used=True), on=["level", "code", "geography_vintage"], how="outer")
    keep = terr["_used"].notna() | terr["level"].isin(["france", "region", "departement"])
    if not cog_epci_members.empty:
        keep |= (terr["level"] == "epci") & (terr["geography_vintage"] == cog_vintage(cog_epci_members["cog_vintage"].max()))
    terr = terr[keep].drop(columns="_used")
    terr = terr.assign(_l=terr["level"].map(geography.level_order)).sort_values(["_l", "geography_vintage", "code"]).drop(columns="_l")
    return terr[TERRITORY_COLUMNS].reset_index(drop=True)


def dimensions_table(catalogue: Catalogue) -> pd.DataFrame:
    return pd.DataFrame([{"dimension_id": d.id, "name": d.name, "description": d.description, "position": d.position}
                         for d in catalogue.dimensions])


def indicators_table(catalogue: Catalogue) -> pd.DataFrame:
    return pd.DataFrame([{
        "indicator_id": i.id, "name": i.name, "dimension_id": i.dimension, "unit": i.unit, "polarity": i.polarity,
        "definition": i.definition, "source_ids": ",".join(i.sources),
        "levels": ",".join(i.levels), "position": n,
    } for n, i in enumerate(catalogue.indicators, start=1)])


SOURCE_COLUMNS = ["source_id", "producer", "title", "url", "licence", "retrieved_at", "sha256", "path", "notes",
                  "origin", "http_status", "etag", "last_modified", "bytes", "fetched_url"]


def sources_table(catalogue: Catalogue, files: pd.DataFrame) -> pd.DataFrame:
    """One row per source file read, with its source's catalogue entry. ``files`` is the manifest
    (``raw.fichiers_sources``): ``source_id``, ``path``, ``url`` (of that file; the source's
    catalogue URL when missing), ``origin``, ``retrieved_at``, ``http_status``, ``etag``,
    ``last_modified``, ``bytes``, ``sha256``, ``fetched_url``."""
    meta = pd.DataFrame([{"source_id": s.id, "producer": s.producer, "title": s.title, "source_url": s.url,
                          "licence": s.licence, "notes": s.notes} for s in catalogue.sources])
    out = meta.merge(files, on="source_id", how="right")
    out["url"] = out["url"].fillna(out["source_url"]) if "url" in out else out["source_url"]
    types = {c: "string" for c in SOURCE_COLUMNS} | {"http_status": "Int64", "bytes": "Int64"}
    return out.reindex(columns=SOURCE_COLUMNS).astype(types)
