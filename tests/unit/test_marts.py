import pandas as pd

from barometre import marts


def _rows(*rows):
    cols = ["indicator_id", "level", "code", "geography_vintage", "period", "period_start", "period_end", "value",
            "numerator", "denominator", "source_id", "derived"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows])


def test_published_value_is_the_reference_before_a_derived_one(catalogue):
    frame = _rows(
        ("participation_presidentielle_t1", "region", "11", "cog_2026", "2017", 2017, 2017, 79.89, 5751509, 7199231,
         "interieur_presidentielle_t1", True),
        ("participation_presidentielle_t1", "region", "11", "cog_2026", "2017", 2017, 2017, 79.9, None, None,
         "cget_barometre_2018", False),
        ("participation_presidentielle_t1", "region", "03", "cog_2026", "2017", 2017, 2017, None, None, None,
         "cget_barometre_2018", False),
    )
    values = marts.indicator_values(catalogue, [frame])
    assert len(values) == 2  # the empty cell is not a value
    ref = values[values["is_reference"]]
    assert ref["source_id"].tolist() == ["cget_barometre_2018"]
    assert marts.disagreements(catalogue, values).empty  # 79.89 vs 79.9: rounding
    missing = marts.missing_values([frame])
    assert missing[["code", "kind"]].values.tolist() == [["03", "missing_value"]]


def test_disagreement_beyond_rounding_is_reported(catalogue):
    frame = _rows(
        ("participation_presidentielle_t1", "region", "03", "cog_2026", "2017", 2017, 2017, 34.35, 1, 1,
         "interieur_presidentielle_t1", True),
        ("participation_presidentielle_t1", "region", "03", "cog_2026", "2017", 2017, 2017, 34.7, None, None,
         "cget_barometre_2018", False),
    )
    report = marts.disagreements(catalogue, marts.indicator_values(catalogue, [frame]))
    assert report["detail"].tolist() == [
        "derived interieur_presidentielle_t1 value 34.35 differs from the reference (published cget_barometre_2018) "
        "34.7 by 0.35"]


def test_the_quality_report_is_the_union_of_the_findings_of_every_source(catalogue):
    frame = _rows(
        ("participation_presidentielle_t1", "region", "03", "cog_2026", "2017", 2017, 2017, None, None, None,
         "cget_barometre_2018", False),
    )
    finding = pd.DataFrame([{  # as participation_presidentielle_t1 returns it on the 2022 file
        "kind": "not_computable", "indicator_id": "participation_presidentielle_t1",
        "source_id": "interieur_presidentielle_t1", "level": "france", "code": "FR", "geography_vintage": None,
        "period": "2022", "detail": "the file has no row for French voters abroad (provisional results): no France "
                                    "entière turnout"}])
    rejected = pd.DataFrame({"source_id": ["insee_filosofi_departement"] * 2, "rule": ["median_eur_integer"] * 2,
                             "code": ["02", "03"], "period": ["2012", "2012"], "column": ["q2_disp"] * 2,
                             "value": ["17765.5555555556", "18491.6666666667"]})  # the snapshot's 2012 medians
    report = marts.quality_report(catalogue, marts.indicator_values(catalogue, [frame]), [frame],
                                  [finding, finding.iloc[:0]], rejected)
    assert report[["kind", "source_id", "code", "period"]].values.tolist() == [
        ["missing_value", "cget_barometre_2018", "03", "2017"],
        ["not_computable", "interieur_presidentielle_t1", "FR", "2022"],
        ["rejected_rows", "insee_filosofi_departement", None, None]]
    assert report["detail"].iloc[-1] == "2 rows rejected by rule median_eur_integer (see mart.rejected_rows)"
    assert list(report.columns) == marts.QUALITY_COLUMNS
