"""The report written by the shared full run (tests/integration/conftest.py), read as HTML:
what the pages say must be what the published file holds."""

import json
import os
import re
import shutil

import pytest

from barometre import contract, duckdb_config, warehouse
from barometre.cohesion import format_fr
from barometre.report import build
from tests.conftest import SNAPSHOT
from tests.support.processes import age, dead_pid, fail_staging_renames

pytestmark = pytest.mark.integration


def _q(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def _specs(html: str) -> dict[str, dict]:
    return {m.group(1): json.loads(m.group(2).replace("<\\/", "</")) for m in re.finditer(
        r'<script type="application/json" id="(chart-[^"]+)-spec">(.*?)</script>', html, re.S)}


def test_one_page_per_indicator_and_the_assets(published, report):
    con, result = published
    ids = [r[0] for r in _q(con, "SELECT indicator_id FROM mart.indicators ORDER BY position")]
    assert sorted(p.name for p in report.glob("*.html")) == sorted(["index.html", *(f"{i}.html" for i in ids)])
    assert {p.name for p in (report / "assets" / "vendor").iterdir()} >= {
        "vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "LICENSE-vega.txt"}
    assert {"territoires.js", "search.js"} <= {p.name for p in (report / "assets").iterdir()}
    assert {p.name for p in (report / "assets" / "shapes").iterdir()} == {
        "departement.js", "region.js", "zone_emploi_2010.js", "epci_2018.js"}
    assert not list(report.parent.glob(".report.*"))  # no staging folder left
    (event,) = result.asset_materializations_for_node("barometre_report")
    n_territories = sum(1 for _ in report.glob("territoires/*/*.html"))  # tests/integration/test_report_territories.py
    assert n_territories > 0 and event.metadata["pages"].value == 17 + n_territories


def test_home_lists_six_dimensions_and_sixteen_indicators_with_their_france_value(published, report):
    con, result = published
    html = (report / "index.html").read_text(encoding="utf-8")
    assert html.count('class="dimension"') == 6 and html.count('class="card"') == 16
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://cdn" not in html
    # The France figure and change of the income card, as in mart.france_summary (FRM 2019, METRO
    # sheet of Filosofi base cc 2019: 21 930 €; 2018: 21 730 €).
    card = html[html.index('data-indicator="revenu_median_uc"'):html.index('data-indicator="part_neet_15_24"')]
    assert "21\u00a0930" in card and "+200\u00a0€ depuis 2018" in card and "France métropolitaine" in card
    assert "les territoires se rapprochent" in card  # départements 2014 → 2019: σ and β convergence
    card = html[html.index('data-indicator="taux_chomage"'):html.index('data-indicator="part_diplomes_superieur"')]
    assert "Pas de valeur nationale" in card
    assert result.run_id in html  # the footer names the publication


def test_home_and_indicator_page_render_the_headline_verdict(published, report):
    con, _ = published
    html = (report / "index.html").read_text(encoding="utf-8")
    # mart.convergence.is_headline of population growth by département: INSEE's 2012-2013 → 2020-2021
    (row,) = _q(con, """SELECT period_from, period_to, verdict FROM mart.convergence
                        WHERE indicator_id = 'croissance_population_annuelle' AND level = 'departement'
                          AND scope = 'all' AND is_headline""")
    assert row == ("2012-2013", "2020-2021", "converging")
    card = html[html.index('data-indicator="croissance_population_annuelle"'):]
    card = card[:card.index("</a>")]
    assert '<span class="badge converge">les territoires se rapprochent</span>' in card
    assert "départements, 2012-2013 → 2020-2021" in card
    page = (report / "croissance_population_annuelle.html").read_text(encoding="utf-8")
    verdicts = page[page.index('<ul class="verdicts">'):page.index("</section>", page.index('<ul class="verdicts">'))]
    # one verdict per level and scope, the headline rows only: départements and régions × all, metro
    assert re.findall(r'<strong>([^<]+)</strong>, ([^,]+),\s+(\S+ → \S+) \((\d+) territoires\)', verdicts) == [
        ("Départements (géographie 2026)", "tous les territoires", "2012-2013 → 2020-2021", "96"),
        ("Départements (géographie 2026)", "métropole seulement", "2012-2013 → 2020-2021", "96"),
        ("Régions (géographie 2026)", "tous les territoires", "2012-2013 → 2020-2021", "13"),
        ("Régions (géographie 2026)", "métropole seulement", "2012-2013 → 2020-2021", "13")]


def test_indicator_page_shows_the_published_figures(published, report):
    con, _ = published
    html = (report / "participation_presidentielle_t1.html").read_text(encoding="utf-8")
    (headline,) = _q(con, "SELECT headline FROM mart.france_summary WHERE indicator_id = 'participation_presidentielle_t1' "
                          "AND code = 'FRMD' AND is_latest")[0]
    assert headline.replace("'", "&#39;") in html
    specs = _specs(html)
    ranking = next(s for k, s in specs.items() if k.endswith("-classement"))
    regions_2022 = _q(con, "SELECT code, value FROM mart.rankings WHERE indicator_id = 'participation_presidentielle_t1' "
                           "AND level = 'region' AND period = '2022' ORDER BY code")
    assert sorted((r["code"], r["value"]) for r in ranking["datasets"]["values"] if r["period"] == "2022") == regions_2022
    assert ranking["params"][0]["value"] == "2022" and ranking["params"][0]["bind"]["options"] == ["2007", "2012", "2017", "2022"]
    dep_map = next(s for k, s in specs.items() if k.endswith("-carte-departement"))
    mapped = [r for r in dep_map["datasets"]["values"] if r["period"] == "2022"]
    assert len(mapped) == 96 and {r["classe"] for r in mapped} == {1, 2, 3, 4, 5}
    sizes = [len([r for r in mapped if r["classe"] == c]) for c in range(1, 6)]
    assert sum(sizes) == 96 and all(19 <= n <= 20 for n in sizes), sizes  # a fifth of the départements each
    # The DROM, without shapes, are listed beside the map with their values.
    assert "Outre-mer (hors carte)" in html and "Mayotte (976)" in html


def test_epci_of_a_mesh_without_shapes_get_a_table_not_a_map(report):
    html = (report / "part_locaux_thd.html").read_text(encoding="utf-8")
    assert "EPCI (périmètres 2017) : pas de carte" in html
    assert "-carte-region" in html  # the régions are mapped instead


def test_a_failed_build_leaves_the_previous_report_whole(baseline, tmp_path, monkeypatch):
    """The new site is written beside the report (the staging folder of a killed build is removed,
    not that of a running one); if it cannot be moved in place, the previous report is moved back
    and a ``.report.old-*`` folder is never left."""
    db, out = baseline.published_db, tmp_path / "report"
    killed = tmp_path / f".report.staging-{dead_pid()}"  # a build killed mid-way
    running = tmp_path / f".report.staging-{os.getppid()}"  # a build still running
    for folder in (killed, running):
        (folder / "assets").mkdir(parents=True)
        age(folder, 7200)
    assert build.build_report(db, out, SNAPSHOT).pages == 17 + sum(1 for _ in (baseline.published_db.parent / "report").glob(
        "territoires/*/*.html"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name, "report"]
    shutil.rmtree(running)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    fail_staging_renames(monkeypatch)
    with pytest.raises(OSError, match="No space left on device"):
        build.build_report(db, out, SNAPSHOT)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_beta_is_read_per_unit_of_what_it_was_regressed_on(published, report):
    """Log growth (revenu_median_uc, €) is regressed on ln(initial value), a change in points
    (taux_chomage, %) on the initial value: the sentence under β says which (docs/methodology.md)."""
    con, _ = published
    for indicator_id, beta, unit in [("revenu_median_uc", -1.6718, "% par an par unité de ln(valeur de départ)"),
                                     ("taux_chomage", -0.0249, "point par an par unité de départ")]:
        (published_beta,) = _q(con, "SELECT beta FROM mart.convergence WHERE indicator_id = ? AND level = 'departement' "
                                    "AND scope = 'all' AND comparison = 'first_last'", [indicator_id])[0]
        assert round(published_beta, 4) == beta
        html = (report / f"{indicator_id}.html").read_text(encoding="utf-8")
        assert f"β\u00a0=\u00a0{format_fr(published_beta, 4)} ({unit}, " in html
    assert "% par an par unité de départ" not in (report / "revenu_median_uc.html").read_text(encoding="utf-8")


def test_map_note_says_what_the_classes_and_the_drom_are(report):
    """Quintile breaks with ties: taux_chomage 2021 (96 départements) has classes of 26, 17, 17, 19
    and 17, so the note does not promise equal counts; the DROM are said to be listed beside the
    map only where they are (participation, not médecins: no DROM value at département level)."""
    html = (report / "taux_chomage.html").read_text(encoding="utf-8")
    dep_map = next(s for k, s in _specs(html).items() if k.endswith("-carte-departement"))
    mapped = [r for r in dep_map["datasets"]["values"] if r["period"] == "2021"]
    assert [len([r for r in mapped if r["classe"] == c]) for c in range(1, 6)] == [26, 17, 17, 19, 17]
    assert "même effectif" not in html
    assert ("cinq classes bornées par les quintiles de la période affichée (les ex æquo restent dans la même classe, "
            "dont l'effectif peut alors dépasser un cinquième)") in " ".join(html.split()).replace("&#39;", "'")
    medecins = " ".join((report / "medecins_pour_100k.html").read_text(encoding="utf-8").split())
    assert "Outre-mer (hors carte)" not in medecins and "DROM sont listés" not in medecins
    assert "ne couvre que la métropole (96 départements)." in medecins
    participation = " ".join((report / "participation_presidentielle_t1.html").read_text(encoding="utf-8").split())
    assert "Outre-mer (hors carte)" in participation
    assert "ne couvre que la métropole (96 départements) : les DROM sont listés à côté." in participation


def test_incremental_build_rewrites_only_the_pages_whose_rows_changed(baseline, tmp_path):
    """Issue 18, item 6: a second build from a file where one indicator's rows changed renders that
    indicator's page, the territory pages showing those rows and the front page, and keeps every
    other page as it was (same bytes, same modification time); the indicators' digests come from
    mart.publication (the publication computes them) and are kept in manifest.json."""
    db, out = tmp_path / "barometre.duckdb", tmp_path / "report"
    shutil.copy(baseline.published_db, db)
    first = build.build_report(db, out, SNAPSHOT)
    assert len(first.rebuilt) == first.pages  # no previous report: every page rendered
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["indicators"]) == {f.stem for f in out.glob("*.html")} - {"index"}
    assert len(manifest["territories"]) == first.pages - 17
    again = build.build_report(db, out, SNAPSHOT)  # nothing changed: the front page only
    assert again.rebuilt == ["index.html"] and again.pages == first.pages
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")}

    # One indicator's rows change in a new publication: Corse-du-Sud's doctors, 2021, in a working
    # database holding the published tables, published again (its digests computed by the publication).
    con = duckdb_config.connect(tmp_path / "work.duckdb")
    con.execute(f"ATTACH '{db}' AS published (READ_ONLY)").fetchall()
    con.execute("CREATE SCHEMA mart").fetchall()
    names = [t for t in contract.TYPES if t != warehouse.PUBLICATION_TABLE]
    for name in names:
        con.execute(f"CREATE TABLE mart.{name} AS SELECT * FROM published.mart.{name}").fetchall()
    con.execute("DETACH published").fetchall()
    (before,) = con.execute("SELECT value FROM mart.indicator_values WHERE is_reference AND indicator_id = "
                            "'medecins_pour_100k' AND level = 'departement' AND code = '2A' AND period = '2021'").fetchall()[0]
    con.execute("UPDATE mart.indicator_values SET value = value + 1 WHERE is_reference AND indicator_id = "
                "'medecins_pour_100k' AND level = 'departement' AND code = '2A' AND period = '2021'").fetchall()
    warehouse.publish_from(con, names, db)
    con.close()
    third = build.build_report(db, out, SNAPSHOT)
    assert third.rebuilt == ["index.html", "medecins_pour_100k.html", "territoires/departement/2A.html"]
    changed = {p.relative_to(out).as_posix() for p, m in mtimes.items() if p.stat().st_mtime_ns != m}
    assert changed == set(third.rebuilt)
    page = (out / "territoires" / "departement" / "2A.html").read_text(encoding="utf-8")
    assert f'data-value="{before + 1}"' in page and f'data-value="{before}"' not in page
    # Without the manifest's code digest (another version of the report), everything is rebuilt.
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (out / "manifest.json").write_text(json.dumps({**manifest, "code": "other"}), encoding="utf-8")
    assert len(build.build_report(db, out, SNAPSHOT).rebuilt) == first.pages
