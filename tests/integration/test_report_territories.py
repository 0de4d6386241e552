"""The territory pages of the report written by the shared full run (tests/integration/conftest.py):
one page per territory of today's geography, showing the published rows."""

import json
import re

import markupsafe
import pytest

from barometre.report import territory

pytestmark = pytest.mark.integration


def _q(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def _cards(page: str) -> dict[str, list[tuple[str, float]]]:
    """indicator → [(period, value)] of the series tables of a territory page."""
    out = {}
    for m in re.finditer(r'<div class="tcard" data-indicator="([^"]+)">(.*?)</table>', page, re.S):
        out[m.group(1)] = [(p, float(v)) for p, v in re.findall(
            r'<tr><td>([^<]+)</td><td class="num" data-value="([^"]+)">', m.group(2))]
    return out


def test_a_page_for_every_territory_of_todays_geography(published, report):
    con, result = published
    vintages = territory.current_vintages(con)
    # Today's geography: the latest COG release (2026) for régions, départements and EPCI, every
    # EPCI of it listed by mart.territories even without a value (COG 2026: 1 255 EPCI).
    assert vintages["region"] == vintages["departement"] == vintages["epci"] == "cog_2026"
    counts = dict(_q(con, "SELECT level, count(*) FROM mart.territories WHERE (level, geography_vintage) IN "
                          "(SELECT unnest(?), unnest(?)) GROUP BY level", [list(vintages), list(vintages.values())]))
    assert counts["region"] == 18 and counts["departement"] == 101 and counts["epci"] == 1255
    for level in ("region", "departement", "epci", "zone_emploi"):  # zone_emploi: ze_2020 once published
        folder = report / "territoires" / level
        pages = sorted(p.stem for p in folder.glob("*.html")) if folder.exists() else []
        codes = sorted(c for (c,) in _q(con, "SELECT code FROM mart.territories WHERE level = ? AND geography_vintage = ?",
                                        [level, vintages.get(level)]))
        assert pages == codes, level
    (event,) = result.asset_materializations_for_node("barometre_report")
    assert event.metadata["pages"].value == 17 + sum(counts.values())
    # The search index names every page.
    script = (report / "assets" / "territoires.js").read_text(encoding="utf-8")
    index = json.loads(script[script.index("= ") + 2:].rstrip().rstrip(";"))
    assert len(index) == sum(counts.values()) and all((report / t["u"]).is_file() for t in index)
    assert {"n": "Corse-du-Sud", "c": "2A", "l": "Département", "u": "territoires/departement/2A.html",
            "k": "corse du sud 2a"} in index


def test_departement_page_shows_the_published_rows(published, report):
    con, _ = published
    page = (report / "territoires" / "departement" / "2A.html").read_text(encoding="utf-8")
    cards = _cards(page)
    published_rows = _q(con, "SELECT indicator_id, period, value FROM mart.indicator_values WHERE is_reference "
                             "AND level = 'departement' AND code = '2A' AND geography_vintage = 'cog_2026' "
                             "ORDER BY indicator_id, period_end, period_start")
    assert sorted((i, p, v) for i, rows in cards.items() for p, v in rows) == sorted(published_rows)
    assert cards["taux_chomage"][-1] == ("2021", 6.5)
    # Rank and decile of the latest period (mart.rankings: 20th of 96 in 2021), the change coloured.
    (rank, rank_of, change) = _q(con, "SELECT rank, rank_of, change_since_previous_period FROM mart.rankings WHERE "
                                      "indicator_id = 'taux_chomage' AND level = 'departement' AND code = '2A' "
                                      "AND period = '2021'")[0]
    assert (rank, rank_of) == (20, 96) and round(change, 1) == -1.2
    card = page[page.index('data-indicator="taux_chomage"'):]
    card = card[:card.index("</table>")]
    assert "20e sur 96 — décile 2" in card
    assert '<p class="change better">−1,2\u00a0point depuis 2020</p>' in card
    # Parent région and member EPCI link to their pages; the indicator pages are linked.
    assert '<a href="../region/94.html" data-parent="94">Corse</a>' in page
    epci = [c for (c,) in _q(con, "SELECT code FROM mart.territories WHERE level = 'epci' AND geography_vintage = 'cog_2026' "
                                  "AND parent_departement = '2A' ORDER BY code")]
    assert len(epci) == 7 and all(f'href="../epci/{c}.html"' in page for c in epci)
    assert 'href="../../taux_chomage.html"' in page
    # One sentence per dimension.
    assert page.count("<li data-dimension=") == 6


def test_epci_page_shows_the_published_rows_and_what_is_missing(published, report):
    con, _ = published
    page = (report / "territoires" / "epci" / "242010056.html").read_text(encoding="utf-8")
    assert "CA du Pays Ajaccien" in page
    # Of COG 2026, only the turnout 2017 summed from its communes is published for the EPCI.
    rows = _q(con, "SELECT indicator_id, period, value FROM mart.indicator_values WHERE is_reference AND level = 'epci' "
                   "AND code = '242010056' AND geography_vintage = 'cog_2026'")
    assert sorted((i, p, v) for i, r in _cards(page).items() for p, v in r) == sorted(rows)
    assert rows == [("participation_presidentielle_t1", "2017", pytest.approx(68.7466501752216))]  # summed from its communes
    (rank, rank_of) = _q(con, "SELECT rank, rank_of FROM mart.rankings WHERE level = 'epci' AND code = '242010056' "
                              "AND geography_vintage = 'cog_2026'")[0]
    assert (rank, rank_of) == (1218, 1251) and "1218e sur 1251 — décile 10" in page  # a low turnout (Corse)
    # Its parents, and the 15 indicators without an EPCI value of this geography, said so with why.
    assert 'href="../departement/2A.html"' in page and 'href="../region/94.html"' in page
    missing = dict(re.findall(r'<li data-indicator="([a-z0-9_]+)"><a href="\.\./\.\./[a-z0-9_]+\.html">[^<]+</a> : ([^<.]+)\.',
                              page))
    assert len(missing) == 15 and set(missing.values()) == {"aucune valeur publiée pour EPCI (périmètres 2026)"}
    growth = page[page.index('<li data-indicator="croissance_population_annuelle">'):]
    growth = growth[:growth.index("</li>")]
    (why,) = _q(con, "SELECT detail FROM mart.quality_report WHERE kind = 'repeated_vintage' "
                     "AND indicator_id = 'croissance_population_annuelle' AND geography_vintage = 'cog_2026'")[0]
    assert str(markupsafe.escape(why)) in growth  # COG 2026 repeats the populations of COG 2025
    # The latest value published for this SIREN in another vintage, with its vintage: 2022-2023, COG 2025.
    (period, value) = _q(con, "SELECT period, value FROM mart.indicator_values WHERE is_reference AND level = 'epci' "
                              "AND code = '242010056' AND indicator_id = 'croissance_population_annuelle' "
                              "ORDER BY period_end DESC LIMIT 1")[0]
    assert period == "2022-2023" and value == pytest.approx(1.1523618567147453)
    assert re.search(rf'data-value="{re.escape(repr(value))}">[^<]+</span> en 2022-2023\s+\(périmètres 2025', growth)


def test_a_finding_of_mart_quality_report_is_on_its_territory_page(published, report):
    con, _ = published
    # (régions and départements; the EPCI of COG 2026 have no finding of their own)
    findings = _q(con, "SELECT level, code, detail FROM mart.quality_report JOIN mart.territories "
                       "USING (level, code, geography_vintage) WHERE geography_vintage = 'cog_2026' "
                       "AND level IN ('region', 'departement') ORDER BY level, code, detail")
    assert len(findings) >= 10
    for level, code, detail in findings:
        page = (report / "territoires" / level / f"{code}.html").read_text(encoding="utf-8")
        assert str(markupsafe.escape(detail)) in page


def test_maps_and_bars_link_to_the_territory_pages(report):
    page = (report / "participation_presidentielle_t1.html").read_text(encoding="utf-8")
    specs = {m.group(1): json.loads(m.group(2).replace("<\\/", "</")) for m in re.finditer(
        r'<script type="application/json" id="(chart-[^"]+)-spec">(.*?)</script>', page, re.S)}
    dep_map = next(s for k, s in specs.items() if k.endswith("-carte-departement"))
    assert {r["href"] for r in dep_map["datasets"]["values"] if r["code"] == "2A"} == {"territoires/departement/2A.html"}
    ranking = next(s for k, s in specs.items() if k.endswith("-classement"))
    assert {r["href"] for r in ranking["datasets"]["values"] if r["code"] == "94"} == {"territoires/region/94.html"}
