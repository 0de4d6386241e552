"""From the commune up (issue 15): the 2017 commune counts, their passage to every COG release,
the commune → mesh sums in DuckDB SQL, and the blocking check against the Ministry's
département file.

- ``core/interieur_presidentielle_2017_comptes_communes``: first-round counts of every commune on
  its 2017 code (Lyon and Marseille as one commune each; Paris from the département file);
- ``core/interieur_presidentielle_2017_passage_communes`` and ``…_constats_communes``: the 2017
  codes mapped to the communes of each COG release (:func:`barometre.commune_indicators.passage_table`)
  and what cannot be mapped (rows of ``mart.quality_report``, with the wrong INSEE codes of the file);
- ``core/interieur_presidentielle_2017_mailles``: Σ votants and Σ inscrits of every EPCI (each
  COG release), zone d'emploi 2020, département, région and France, computed by DuckDB on the
  working database (``GROUP BY`` in SQL, :func:`barometre.commune_indicators.mesh_sums_sql`)
  through dagster-duckdb's ``DuckDBResource``. It reads the tables the I/O manager wrote
  (declared with ``deps``) and writes its own with ``CREATE OR REPLACE TABLE``; the formula of
  ``participation_presidentielle_t1`` loads it through the I/O manager. Both use the run's one
  connection, which the resource ``duckdb`` owns (assets/resources.py); the in-process executor
  and the ``duckdb`` pool keep one writer process.
"""

import time

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from assets._metadata import frame_metadata
from assets.resources import DUCKDB_POOL
from barometre import commune_indicators as ci
from barometre.sources import interieur_presidentielle_2017_communes as communes_source

GROUP = "core"
COUNTS = "interieur_presidentielle_2017_comptes_communes"
PASSAGE = "interieur_presidentielle_2017_passage_communes"
FINDINGS = "interieur_presidentielle_2017_constats_communes"
MESH = "interieur_presidentielle_2017_mailles"
RAW_COMMUNES = ["raw", communes_source.SOURCE_ID]
RAW_DEPARTEMENTS = ["raw", "interieur_presidentielle_t1_departement"]


@dg.asset(name=COUNTS, key_prefix="core", group_name=GROUP, kinds={"pandas", "duckdb"}, pool=DUCKDB_POOL,
          ins={"results": dg.AssetIn(key=RAW_COMMUNES), "departements": dg.AssetIn(key=RAW_DEPARTEMENTS)})
def comptes_communes(context: dg.AssetExecutionContext, results: pd.DataFrame,
                     departements: pd.DataFrame) -> pd.DataFrame:
    """First-round 2017 counts (inscrits, abstentions, votants, exprimés) of every commune of the
    101 départements on its 2017 code: Lyon's and Marseille's arrondissements summed into their
    commune; Paris (75056, one commune and one département, absent from the commune file) from
    the Ministry's département file (``source_id`` of that row). One row per commune."""
    frame = ci.commune_turnout_counts(results, departements)
    context.add_output_metadata(frame_metadata(frame, from_departement_file=int(
        (frame["source_id"] == ci.DEPARTEMENT_FILE_SOURCE).sum())))
    return frame


@dg.multi_asset(
    name="core__" + PASSAGE, pool=DUCKDB_POOL, can_subset=False,
    ins={"counts": dg.AssetIn(key=["core", COUNTS]), "results": dg.AssetIn(key=RAW_COMMUNES),
         "cog_communes": dg.AssetIn(key=["raw", "etalab_decoupage_administratif_communes"])},
    outs={"passage": dg.AssetOut(key=["core", PASSAGE], group_name=GROUP, kinds={"pandas", "duckdb"},
                                 description="The 2017 commune codes mapped to the communes of each COG release: one "
                                             "row per complete commune of the release and 2017 commune it receives "
                                             "(see docs/communes.md)."),
          "findings": dg.AssetOut(key=["core", FINDINGS], group_name=GROUP, kinds={"pandas", "duckdb"},
                                  description="What the passage of the 2017 commune codes cannot map (split communes, "
                                              "communes without a 2017 count…) and the wrong INSEE codes of the "
                                              "Ministry file: rows of mart.quality_report.")})
def passage_communes(context: dg.AssetExecutionContext, counts: pd.DataFrame, results: pd.DataFrame,
                     cog_communes: pd.DataFrame):
    vintages = sorted(int(v) for v in cog_communes["cog_vintage"].unique())
    passage, findings = ci.passage_table(counts, cog_communes, vintages)
    findings = pd.concat([findings, communes_source.insee_code_disagreements(results)], ignore_index=True)
    yield dg.Output(passage, output_name="passage", metadata=frame_metadata(passage, by_how=dg.MetadataValue.json(
        passage.groupby("geography_vintage")["how"].value_counts().unstack(fill_value=0).to_dict("index"))))
    yield dg.Output(findings, output_name="findings", metadata=frame_metadata(
        findings, by_kind=dg.MetadataValue.json(findings["kind"].value_counts().to_dict())))


@dg.asset(name=MESH, key_prefix="core", group_name=GROUP, kinds={"duckdb"}, pool=DUCKDB_POOL,
          deps=[dg.AssetKey(["core", COUNTS]), dg.AssetKey(["core", PASSAGE]),
                dg.AssetKey(["core", "hierarchie_territoires"])])
def mailles(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Σ votants and Σ inscrits of the 2017 first round in every EPCI (the perimeters of each COG
    release), zone d'emploi 2020, département, région and France, summed from the commune counts
    by DuckDB on the working database (SQL ``GROUP BY``). A territory with a member commune (or
    département) without a count has ``n_missing`` > 0, its ``missing`` members, and no sums."""
    start = time.perf_counter()
    with duckdb.get_connection() as conn:
        conn.execute(f"create or replace table core.{MESH} as {ci.mesh_sums_sql()}").fetchall()
        seconds = time.perf_counter() - start
        by_level = conn.execute(f"select level, geography_vintage, count(*) filter (where n_missing = 0), "
                                f"count(*) filter (where n_missing > 0) from core.{MESH} group by all "
                                f"order by all").fetchall()
    table = pd.DataFrame(by_level, columns=["level", "geography_vintage", "complete", "left_out"])
    return dg.MaterializeResult(metadata={
        "dagster/row_count": int(table["complete"].sum() + table["left_out"].sum()),
        "sql_seconds": round(seconds, 3),
        "by_level": dg.MetadataValue.md(table.to_markdown(index=False)),
    })


@dg.asset_check(asset=dg.AssetKey(["core", COUNTS]), name="communes_sum_to_ministry_departements", blocking=True,
                pool=DUCKDB_POOL, additional_ins={"departements": dg.AssetIn(key=RAW_DEPARTEMENTS)},
                description="Every département summed from its 2017 communes equals the Ministry's département file "
                            "(inscrits, abstentions, votants, exprimés): any difference fails, naming the département "
                            "and both counts.")
def check_communes_sum_to_departements(context: dg.AssetCheckExecutionContext, comptes: pd.DataFrame,
                                       departements: pd.DataFrame) -> dg.AssetCheckResult:
    diff = ci.check_departements(comptes, departements)
    compared = comptes.loc[comptes["source_id"] == communes_source.SOURCE_ID, "code_departement"].nunique()
    text = "; ".join(f"département {r.code_departement} {r.count}: communes {r.communes}, Ministry {r.ministere}"
                     for r in diff.head(20).itertuples())
    return dg.AssetCheckResult(
        passed=diff.empty, severity=dg.AssetCheckSeverity.ERROR,
        description=("every département equals the Ministry's counts" if diff.empty else f"differences: {text}"),
        metadata={"departements_compared": int(compared), "differences": len(diff),
                  **({"examples": dg.MetadataValue.md(diff.head(20).to_markdown(index=False))} if len(diff) else {})})


ASSETS = [comptes_communes, passage_communes, mailles]
CHECKS = [check_communes_sum_to_departements]
