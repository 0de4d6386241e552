"""The report in a real browser: headless Chromium (Debian packages ``chromium`` and
``chromium-driver``, installed by ``make browser``) opens the pages from disk (``file://``), with
no server and no network, and draws every chart. Screenshots go to the test's temporary folder.

Skipped, with the reason, when Chromium, its driver or selenium is missing: ``make test-browser``
installs them and runs this module. Under CI (``CI=true``, set by ``.ci/run``, which installs
them first) a missing browser is a failure, never a skip.
"""

import os
import shutil
from pathlib import Path

import pytest

from barometre.report import geo
from tests.conftest import SNAPSHOT

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _q(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where .ci/run installs the browser first."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason} (.ci/run runs `make browser` before `make test`)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        _missing("Chromium or chromedriver not installed: `make test-browser` installs the Debian packages "
                 "chromium and chromium-driver, then runs the browser tests")
    try:
        from selenium import webdriver
    except ImportError:
        _missing("selenium not installed (make install)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report(published) -> Path:
    con, _ = published
    db = Path(_q(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")[0][0])
    return db.parent / "report"


def _open(driver, page: Path, shots: Path) -> list[dict]:
    """Load a page from disk, wait for its charts, take a full-page screenshot; the console log."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.as_uri())
    if driver.execute_script("return document.querySelectorAll('[data-spec]').length") > 0:
        WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.body.dataset.chartsReady"))
        assert driver.execute_script("return document.body.dataset.chartsFailed") == "0"
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, min(height, 8000))
    driver.save_screenshot(str(shots / f"{page.stem}.png"))
    driver.set_window_size(1280, 1400)
    return driver.get_log("browser")


def _errors(log: list[dict]) -> list[str]:
    return [e["message"] for e in log if e["level"] == "SEVERE"]


def _chart(driver, suffix: str) -> str:
    ids = driver.execute_script(f"return Array.from(document.querySelectorAll('[id$=\"{suffix}\"]')).map(e => e.id)")
    assert len(ids) == 1, ids
    return ids[0]


def _paths(driver, chart_id: str, mark: str) -> int:
    return driver.execute_script(f"return document.querySelectorAll('#{chart_id} g.{mark}_marks path').length")


def _marks(driver, chart_id: str, mark: str) -> list[dict]:
    return driver.execute_script(f"return window.barometreMarks('{chart_id}', '{mark}')")


def test_home_page(browser, report, tmp_path):
    log = _open(browser, report / "index.html", tmp_path)
    assert _errors(log) == []
    assert browser.execute_script("return document.querySelectorAll('section.dimension').length") == 6
    cards = browser.execute_script("return Array.from(document.querySelectorAll('a.card')).map(a => a.getAttribute('href'))")
    assert len(cards) == 16 and all((report / href).is_file() for href in cards)
    print(f"\nscreenshot: {tmp_path / 'index.png'}")


def test_turnout_page_map_of_departements_and_ranking_of_regions(browser, report, published, tmp_path):
    con, _ = published
    log = _open(browser, report / "participation_presidentielle_t1.html", tmp_path)
    assert _errors(log) == [], _errors(log)

    # Map: one shape per département of the bundled mesh (96, metropolitan), each coloured by its
    # 2022 quantile class; the 5 DROM have no shape and are listed beside the map.
    dep_map = _chart(browser, "-carte-departement")
    assert _paths(browser, dep_map, "fond") == len(geo.load_mesh(SNAPSHOT, "departement")) == 96
    assert _paths(browser, dep_map, "classes") == 96
    coloured = _marks(browser, dep_map, "classes")
    expected = dict(_q(con, "SELECT code, value FROM mart.indicator_values WHERE is_reference AND level = 'departement' "
                            "AND indicator_id = 'participation_presidentielle_t1' AND period = '2022' "
                            "AND code NOT IN ('971', '972', '973', '974', '976')"))
    assert {d["code"]: d["value"] for d in coloured} == expected
    assert browser.execute_script("return document.querySelectorAll('.outside tbody tr').length") == 5
    # Zones d'emploi 2010: the CGET's mesh, DROM insets included.
    assert _paths(browser, _chart(browser, "-carte-zone_emploi"), "fond") == 322

    # Ranking: one bar per région with a value, for the period shown (2022 by default, then 2007).
    ranking = _chart(browser, "-classement")
    for period in ("2022", "2007"):
        if period != "2022":
            browser.execute_async_script(  # the radio buttons' signal, as a click would set it
                f"var done = arguments[arguments.length - 1]; "
                f"window.barometreViews['{ranking}'].signal('periode', '{period}').runAsync().then(() => done(true));")
        regions = dict(_q(con, "SELECT code, value FROM mart.rankings WHERE indicator_id = 'participation_presidentielle_t1' "
                               "AND level = 'region' AND period = ?", [period]))
        bars = _marks(browser, ranking, "barres")
        assert _paths(browser, ranking, "barres") == len(bars) == len(regions) == 18
        assert {b["code"]: b["value"] for b in bars} == regions
    print(f"\nscreenshot: {tmp_path / 'participation_presidentielle_t1.png'}")


def test_doctors_page_thirteen_regions_and_ninety_six_departements(browser, report, published, tmp_path):
    con, _ = published
    log = _open(browser, report / "medecins_pour_100k.html", tmp_path)
    assert _errors(log) == [], _errors(log)
    ranking = _chart(browser, "-classement")
    bars = _marks(browser, ranking, "barres")
    assert len(bars) == _paths(browser, ranking, "barres") == 13  # doctors: metropolitan régions only
    regions = dict(_q(con, "SELECT code, value FROM mart.rankings WHERE indicator_id = 'medecins_pour_100k' "
                           "AND level = 'region' AND period = '2021'"))  # the latest period, shown first
    assert {b["code"]: b["value"] for b in bars} == regions
    assert max(bars, key=lambda b: b["value"])["name"] == "Provence-Alpes-Côte d'Azur"  # 401.6 in 2021
    dep_map = _chart(browser, "-carte-departement")
    assert _paths(browser, dep_map, "fond") == _paths(browser, dep_map, "classes") == 96
    # The France line and the disparity lines are drawn.
    assert browser.execute_script(f"return document.querySelectorAll('#{_chart(browser, '-france')} g.france_marks path').length") == 1
    # One line per level and statistic (d9/d1, cv) with values in mart.disparities.
    (lines,) = _q(con, "SELECT count(DISTINCT (level, geography_vintage)) FILTER (WHERE d9_d1 IS NOT NULL) "
                       "+ count(DISTINCT (level, geography_vintage)) FILTER (WHERE cv IS NOT NULL) FROM mart.disparities "
                       "WHERE indicator_id = 'medecins_pour_100k' AND scope = 'all'")[0]
    assert lines == 4  # départements and régions
    assert browser.execute_script(f"return document.querySelectorAll('#{_chart(browser, '-disparites')} g.disparites_marks path').length") == lines
    print(f"\nscreenshot: {tmp_path / 'medecins_pour_100k.png'}")


# ---------------------------------------------------------------------------------------------
# Territory pages (barometre/report/territory.py): search, clicks, phones


def _search(driver, text: str) -> list[tuple[str, str]]:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "territory-search")
    box.clear()
    box.send_keys(text)
    return [tuple(x) for x in driver.execute_script(
        "return Array.from(document.querySelectorAll('#territory-results a')).map(a => [a.textContent, a.getAttribute('href')])")]


def test_search_finds_a_territory_without_accents_nor_hyphens(browser, report, tmp_path):
    log = _open(browser, report / "index.html", tmp_path)
    assert _errors(log) == []
    found = _search(browser, "corse sud")  # Corse-du-Sud first, then "CC du Sud Corse" (words in another order)
    assert found == [("Corse-du-Sud", "territoires/departement/2A.html"),
                     ("CC du Sud Corse", "territoires/epci/200040764.html")]
    assert _search(browser, "ile de france")[0] == ("Île-de-France", "territoires/region/11.html")
    assert _search(browser, "2A")[0] == ("Corse-du-Sud", "territoires/departement/2A.html")
    (first, *_) = _search(browser, "CORSE-DU-SUD")
    assert first == ("Corse-du-Sud", "territoires/departement/2A.html")
    browser.find_element("css selector", "#territory-results a").click()
    assert browser.current_url == (report / "territoires" / "departement" / "2A.html").as_uri()
    assert browser.find_element("css selector", "h1").text.startswith("Corse-du-Sud")
    assert _errors(browser.get_log("browser")) == []


def test_a_click_on_a_departement_of_a_map_opens_its_page(browser, report, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    log = _open(browser, report / "participation_presidentielle_t1.html", tmp_path)
    assert _errors(log) == []
    dep_map = _chart(browser, "-carte-departement")
    # The centre of the shape of the Rhône (69), in the page, from the Vega scenegraph.
    x, y = browser.execute_script("""
        var view = window.barometreViews[arguments[0]], found = null;
        (function walk(n) { if (!n || found) { return; }
          if (n.marktype && n.name === 'classes_marks') { n.items.forEach(function (it) { if (it.datum.code === '69') { found = it; } }); }
          (n.items || []).forEach(walk); })(view.scenegraph().root);
        var b = found.bounds, o = view.origin(), r = view.container().querySelector('svg').getBoundingClientRect();
        return [o[0] + (b.x1 + b.x2) / 2 - r.width / 2, o[1] + (b.y1 + b.y2) / 2 - r.height / 2];""", dep_map)
    svg = browser.find_element(By.CSS_SELECTOR, f"#{dep_map} svg")
    ActionChains(browser).move_to_element_with_offset(svg, int(x), int(y)).click().perform()
    WebDriverWait = __import__("selenium.webdriver.support.ui", fromlist=["WebDriverWait"]).WebDriverWait
    WebDriverWait(browser, 20).until(lambda d: d.current_url.endswith("/territoires/departement/69.html"))
    assert browser.find_element(By.CSS_SELECTOR, "h1").text.startswith("Rhône")
    assert _errors(browser.get_log("browser")) == []


@pytest.fixture(scope="module")
def phone():
    """Chromium emulating a phone 390 px wide."""
    if not (CHROMIUM and CHROMEDRIVER):
        _missing("Chromium or chromedriver not installed (make test-browser)")
    try:
        from selenium import webdriver
    except ImportError:
        _missing("selenium not installed (make install)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2}})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_every_kind_of_page_fits_a_phone_screen(phone, report, published):
    from selenium.webdriver.support.ui import WebDriverWait

    con, _ = published
    indicators = [r[0] for r in _q(con, "SELECT indicator_id FROM mart.indicators ORDER BY position")]
    pages = ["index.html", *(f"{i}.html" for i in indicators), "territoires/region/94.html",
             "territoires/departement/2A.html", "territoires/epci/242010056.html"]
    too_wide, errors = {}, {}
    for name in pages:
        phone.get((report / name).as_uri())
        if phone.execute_script("return document.querySelectorAll('[data-spec]').length") > 0:
            WebDriverWait(phone, 60).until(lambda d: d.execute_script("return document.body.dataset.chartsReady"))
            assert phone.execute_script("return document.body.dataset.chartsFailed") == "0", name
        scroll, client = phone.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert client == 390
        if scroll > client:
            too_wide[name] = scroll
        if _errors(phone.get_log("browser")):
            errors[name] = _errors(phone.get_log("browser"))
    assert too_wide == {} and errors == {}


def test_period_switch_of_the_ranking_and_of_the_levels_without_a_map(browser, report, published, tmp_path):
    """Issue 14: every published period of the ranked bars, the maps and the tables of the levels
    without a mesh can be chosen on the page (the controls themselves, as a user clicks them)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    con, _ = published
    log = _open(browser, report / "revenu_median_uc.html", tmp_path)
    assert _errors(log) == [], _errors(log)
    # The ranking of the régions: one radio button per period of mart.rankings; the earliest one clicked.
    ranking = _chart(browser, "-classement")
    periods = [p for (p,) in _q(con, "SELECT DISTINCT period FROM mart.rankings WHERE indicator_id = 'revenu_median_uc' "
                                     "AND level = 'region' ORDER BY period")]
    radios = browser.find_elements(By.CSS_SELECTOR, f"#{ranking} .vega-bindings input[type=radio]")
    assert sorted(r.get_attribute("value") for r in radios) == periods and len(periods) >= 6
    first = next(r for r in radios if r.get_attribute("value") == periods[0])
    first.click()
    WebDriverWait(browser, 20).until(lambda d: {b["period"] for b in _marks(d, ranking, "barres")} == {periods[0]})
    regions = dict(_q(con, "SELECT code, value FROM mart.rankings WHERE indicator_id = 'revenu_median_uc' "
                           "AND level = 'region' AND period = ?", [periods[0]]))
    bars = _marks(browser, ranking, "barres")
    assert {b["code"]: b["value"] for b in bars} == regions and len(bars) == _paths(browser, ranking, "barres")
    # The map of the départements: its own radio buttons, the earliest period.
    dep_map = _chart(browser, "-carte-departement")
    dep_periods = [p for (p,) in _q(con, "SELECT DISTINCT period FROM mart.indicator_values WHERE is_reference "
                                         "AND indicator_id = 'revenu_median_uc' AND level = 'departement' ORDER BY period")]
    browser.find_element(By.CSS_SELECTOR, f"#{dep_map} .vega-bindings input[value='{dep_periods[0]}']").click()
    WebDriverWait(browser, 20).until(lambda d: {m["period"] for m in _marks(d, dep_map, "classes")} == {dep_periods[0]})
    expected = dict(_q(con, "SELECT code, value FROM mart.indicator_values WHERE is_reference AND level = 'departement' "
                            "AND indicator_id = 'revenu_median_uc' AND period = ? "
                            "AND code NOT IN ('971', '972', '973', '974', '976')", [dep_periods[0]]))
    assert {m["code"]: m["value"] for m in _marks(browser, dep_map, "classes")} == expected
    # The EPCI (no mesh for their COG vintages): one <select> over every period of every vintage.
    epci = "[data-period-table][id$='-epci']"
    section = browser.find_element(By.CSS_SELECTOR, f"{epci} select.period-switch")
    options = [(o.get_attribute("value"), o.text) for o in Select(section).options]
    published_keys = [f"{v}|{p}" for v, p in _q(con, "SELECT DISTINCT geography_vintage, period FROM mart.indicator_values "
                                                     "WHERE is_reference AND indicator_id = 'revenu_median_uc' AND level = 'epci' "
                                                     "AND geography_vintage NOT IN ('epci_2018') ORDER BY period, geography_vintage")]
    assert sorted(k for k, _ in options) == sorted(published_keys) and len(options) >= 6
    vintage, period = options[0][0].split("|")
    Select(section).select_by_value(options[0][0])
    top = browser.execute_script(
        f"return Array.from(document.querySelectorAll(\"{epci} tbody.top tr\")).map(tr => "
        "[tr.querySelector('.code').textContent, Number(tr.querySelector('td.num').dataset.value)])")
    best = _q(con, "SELECT code, value FROM mart.indicator_values WHERE is_reference AND indicator_id = 'revenu_median_uc' "
                   "AND level = 'epci' AND geography_vintage = ? AND period = ? ORDER BY value DESC, code LIMIT 10",
              [vintage, period])
    assert [tuple(t) for t in top] == best
    assert browser.find_element(By.CSS_SELECTOR, f"{epci} .period").text == period == "2014"
    assert len(best) == 10 and best[0] == ("249200049", pytest.approx(35503.33, abs=0.01))  # CA Coeur de Seine, 2014
    assert "CA Coeur de Seine" in browser.find_element(By.CSS_SELECTOR, f"{epci} tbody.top tr").text
    assert _errors(browser.get_log("browser")) == []
