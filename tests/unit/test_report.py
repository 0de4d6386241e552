"""The report's building blocks: map meshes, quantile classes, French verdicts, and chart
specifications valid for the vendored Vega-Lite."""

import os
import re

import altair as alt
import pandas as pd
import pytest

from barometre import cohesion
from barometre.report import build, charts, geo
from barometre.report.build import STATIC_DIR
from barometre.report.data import headlines, main_france
from tests.conftest import SNAPSHOT
from tests.support.processes import age, dead_pid, fail_staging_renames


def test_topojson_arcs_are_decoded_stitched_and_wound_clockwise():
    # A unit square from two quantized arcs, the second used reversed (~1 = arc 1 backwards).
    topology = {"type": "Topology", "transform": {"scale": [0.5, 0.5], "translate": [10, 40]},
                "arcs": [[[0, 0], [2, 0], [0, 2]], [[0, 0], [0, 2], [2, 0]]],
                "objects": {"o": {"type": "GeometryCollection",
                                  "geometries": [{"type": "Polygon", "arcs": [[0, ~1]], "properties": {"codgeo": "01"}}]}}}
    (feature,) = geo.topojson_to_geojson(topology, "o")
    assert feature["geometry"]["coordinates"] == [[[10, 40], [11, 40], [11, 41], [10, 41], [10, 40]]]
    wound = geo._geometry("Polygon", feature["geometry"]["coordinates"])["coordinates"][0]
    assert geo._signed_area(wound) < 0  # d3-geo: exterior ring clockwise
    assert wound == [[10, 40], [10, 41], [11, 41], [11, 40], [10, 40]]


@pytest.mark.parametrize("mesh_id, n, some_codes", [
    ("departement", 96, {"01", "2A", "2B", "95"}),
    ("region", 13, {"11", "94"}),
    ("zone_emploi_2010", 322, {"0050", "0101"}),
    ("epci_2018", 1264, {"200029999"}),
])
def test_bundled_meshes(mesh_id, n, some_codes):
    features = geo.load_mesh(SNAPSHOT, mesh_id)
    codes = [f["properties"]["code"] for f in features]
    assert len(codes) == len(set(codes)) == n
    assert some_codes <= set(codes)
    for f in features:
        polygons = [f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon" else f["geometry"]["coordinates"]
        assert all(geo._signed_area(p[0]) < 0 for p in polygons)
    if mesh_id == "departement":  # metropolitan only: the DROM have no shape in france-geojson
        assert not {"971", "972", "973", "974", "976"} & set(codes)


def test_quantile_classes_of_ten_values():
    classes, labels = build.quantile_classes(pd.Series([float(v) for v in range(1, 11)]), "%")
    # Breaks at the 0, 20, 40, 60, 80 and 100 % quantiles (linear): 1, 2.8, 4.6, 6.4, 8.2, 10.
    assert labels == ["1,0 – 2,8\u00a0%", "2,8 – 4,6\u00a0%", "4,6 – 6,4\u00a0%", "6,4 – 8,2\u00a0%", "8,2 – 10,0\u00a0%"]
    assert classes.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    same, one = build.quantile_classes(pd.Series([5.0, 5.0]), "%")
    assert same.tolist() == [1, 1] and one == ["5,0\u00a0%"]


def _folder(path, text):
    path.mkdir()
    (path / "index.html").write_text(text, encoding="utf-8")
    return path


def test_replace_folder_puts_the_new_report_in_place(tmp_path):
    target, staging = _folder(tmp_path / "report", "v1"), _folder(tmp_path / ".report.staging-1", "v2")
    build.replace_folder(staging, target)
    assert (target / "index.html").read_text(encoding="utf-8") == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    build.replace_folder(_folder(tmp_path / ".report.staging-2", "v3"), tmp_path / "first")  # no previous one
    assert (tmp_path / "first" / "index.html").read_text(encoding="utf-8") == "v3"


def test_replace_folder_keeps_the_previous_report_when_the_move_fails(tmp_path, monkeypatch):
    target, staging = _folder(tmp_path / "report", "v1"), _folder(tmp_path / ".report.staging-1", "v2")
    fail_staging_renames(monkeypatch)
    with pytest.raises(OSError, match="No space left on device"):
        build.replace_folder(staging, target)
    assert (target / "index.html").read_text(encoding="utf-8") == "v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".report.staging-1", "report"]  # no .report.old-* left


def test_replace_folder_removes_what_killed_builds_moved_aside_once_the_new_report_is_in_place(tmp_path, monkeypatch):
    dead = dead_pid()
    killed = age(_folder(tmp_path / f".report.old-{dead}", "v0"), 7200)
    running = age(_folder(tmp_path / f".report.old-{os.getppid()}", "v0"), 7200)
    fail_staging_renames(monkeypatch)
    with pytest.raises(OSError):
        build.replace_folder(_folder(tmp_path / ".report.staging-1", "v2"), tmp_path / "report")
    assert killed.exists()  # perhaps the last whole report: kept until a new one is in place
    monkeypatch.undo()  # the disk has room again
    build.replace_folder(tmp_path / ".report.staging-1", tmp_path / "report")
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name, "report"]


def test_french_numbers_changes_and_trends():
    assert build.number(20369.0, "€") == "20\u00a0369\u00a0€"
    assert build.number(338.78, "/100k") == "338,8\u00a0pour 100\u00a0000\u00a0hab."
    assert build.change_text(-0.5, "%", "2009") == "−0,5\u00a0point depuis 2009"
    assert build.change_text(583.0, "€", "2012") == "+583\u00a0€ depuis 2012"
    assert build.trend(2.4, "%", "-") == "worse" and build.trend(583, "€", "+") == "better"
    assert build.trend(0.04, "%", "+") == "stable" and build.trend(1.0, "%", "0") == "neutral"


def test_verdicts_render_the_published_column():
    # The label comes from ``verdict`` alone: σ and β flags that disagree with it are not read.
    row = pd.Series({"verdict": "converging", "sigma_convergence": False, "beta_convergence": False,
                     "sigma_measure": "cv"})
    assert build.verdict(row) == ("converge", "les territoires se rapprochent")
    assert build.verdict(row.replace({"converging": "catching_up"})) == ("mixed", "rattrapage, mais écarts relatifs en hausse")
    assert build.verdict(row.replace({"converging": "diverging"})) == ("diverge", "les écarts relatifs se creusent")
    assert build.verdict(row.replace({"converging": "no_convergence"})) == ("na", "pas de convergence établie")
    assert build.verdict(row.replace({"converging": "not_measurable"})) == ("na", "non mesurable")
    # a rate of change: σ reads the standard deviation, not a relative gap
    assert build.verdict(pd.Series({"verdict": "sigma_converging", "sigma_measure": "std"})) == (
        "converge", "les écarts se réduisent")
    assert set(build.VERDICT_TEXT) == set(cohesion.VERDICTS)


def test_sigma_sentence_of_a_rate_of_change_reads_the_std():
    # solde_migratoire_annuel, régions, 1999-2009 → 2009-2014: the std narrows while the cv would
    # jump from 1.80 to 14.10 as the mean nears 0
    row = pd.Series({"n_common": 13, "period_from": "1999-2009", "period_to": "2009-2014", "sigma_measure": "std",
                     "std_from": 0.567, "std_to": 0.548, "cv_from": None, "cv_to": None, "beta": None,
                     "beta_null_reason": None})
    assert build.verdict_sentences(row, "%/an")[0] == (
        "Dispersion (σ) : l'écart-type des 13 territoires observés aux deux dates diminue entre 1999-2009 et "
        "2009-2014, de 0,57 à 0,55 (un coefficient de variation n'a pas de sens pour un taux d'évolution).")


def test_main_france_value_is_the_most_recent_perimeter():
    fr = pd.DataFrame({"code": ["FRMD", "FRM", "FRMD", "FRM"], "period": ["2009-2014", "2020-2021", "2022", "2022"],
                       "period_start": [2009, 2020, 2022, 2022], "period_end": [2014, 2021, 2022, 2022],
                       "is_latest": [True, True, True, True]})
    assert main_france(fr.iloc[:2])["code"] == "FRM"  # 2020-2021 is more recent than 2009-2014
    assert main_france(fr.iloc[2:])["code"] == "FRMD"  # a tie: FRMD first


def test_report_headlines_are_the_rows_flagged_by_the_pipeline():
    conv = pd.DataFrame({"level": ["d"] * 3, "comparison": ["consecutive", "consecutive", "first_last"],
                         "n_common": [100, 96, 96], "is_headline": pd.array([False, True, None], dtype="boolean")})
    # the flag is read, not recomputed: neither the most territories nor first → last wins here
    assert headlines(conv).index.tolist() == [1]


def test_chart_specifications_are_valid_vega_lite(monkeypatch):
    """Built with altair's validation on: the specifications follow the Vega-Lite schema the
    vendored vega-lite.min.js implements."""
    monkeypatch.setattr(charts, "VALIDATE", True)
    rank_rows = [{"code": "11", "name": "Île-de-France", "period": "2014", "value": 1.5, "rank": 1,
                  "france_value": None, "situation": "pas de valeur France", "description": "x"}]
    specs = [
        charts.france_series([{"perimetre": "France", "period": "2014", "mid": 2014.0, "value": 1.0}], "%"),
        charts.ranking(rank_rows, "%", ["2009", "2014"], "Région"),
        charts.choropleth([{"code": "01", "name": "Ain", "period": "2014", "value": 2.0, "classe": 1,
                            "description": "x"}], "€", ["2014"], "departement", "Département", {"2014": ["a"]}),
        charts.disparity_series([{"niveau": "Régions", "period": "2014", "statistic": "cv", "value": 0.1, "n": 13}],
                                ["2014"]),
    ]
    for spec in specs:
        assert spec["$schema"].endswith(f"/v{alt.VEGALITE_VERSION}.json")
        assert spec["datasets"]["values"]


def test_vendored_libraries_match_altair():
    vendor = STATIC_DIR / "vendor"
    assert f'"{alt.VEGALITE_VERSION}"' in (vendor / "vega-lite.min.js").read_text(encoding="utf-8")
    vega = re.search(r'version="(\d+)\.', (vendor / "vega.min.js").read_text(encoding="utf-8")).group(1)
    assert vega == alt.VEGA_VERSION
    assert '"7.' in (vendor / "vega-embed.min.js").read_text(encoding="utf-8") and alt.VEGAEMBED_VERSION == "7"
