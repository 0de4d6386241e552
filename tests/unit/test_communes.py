"""From the commune up: 2017 commune results, the passage of commune codes across vintages,
turnout summed to every mesh, unemployment by zone d'emploi 2020 — on the real snapshot files."""

import gzip
import io

import pandas as pd
import pytest

from barometre import commune_indicators as ci
from barometre import communes
from barometre.sources import cog, elections
from barometre.sources import insee_chomage_zone_emploi as ze
from barometre.sources import interieur_presidentielle_2017_communes as pres
from barometre.sources._csv import SourceFormatError

VINTAGES = range(2021, 2027)


@pytest.fixture(scope="module")
def results(store):
    return pres.parse(store.read(pres.FILE))


@pytest.fixture(scope="module")
def departements_2017(store):
    return elections.parse(store.read(elections.FILES[2017]), 2017)


@pytest.fixture(scope="module")
def counts(results, departements_2017):
    return ci.commune_turnout_counts(results, departements_2017)


@pytest.fixture(scope="module")
def cog_communes(store):
    return pd.concat([cog.parse_communes(store.read(cog.path(v, "communes")), v) for v in VINTAGES], ignore_index=True)


@pytest.fixture(scope="module")
def cog_epci(store):
    return pd.concat([cog.parse_epci_members(store.read(cog.path(v, "epci")), v) for v in VINTAGES], ignore_index=True)


@pytest.fixture(scope="module")
def cog_departements(store):
    return pd.concat([cog.parse_departements(store.read(cog.path(v, "departements")), v) for v in VINTAGES],
                     ignore_index=True)


@pytest.fixture(scope="module")
def composition(store):
    return ze.parse_composition(store.read(ze.FILE_COMPOSITION))


@pytest.fixture(scope="module")
def passage_2026(cog_communes, counts):
    return communes.passage(cog_communes, counts["code_commune"], "cog_2017", 2017, 2026)


@pytest.fixture(scope="module")
def turnout(counts, cog_communes, cog_epci, cog_departements, composition):
    return ci.turnout_2017(counts, cog_communes, cog_epci, cog_departements, composition, epci_vintages=(2026,))


def _one(frame, **where):
    rows = frame
    for col, val in where.items():
        rows = rows[rows[col] == val]
    assert len(rows) == 1, where
    return rows.iloc[0]


# --- the 2017 commune file ------------------------------------------------------------------

def test_commune_results_rows_and_codes(results):
    assert len(results) == 71_034  # 35,517 communes and arrondissements × 2 rounds
    assert results.groupby("kind").size().to_dict() == {"arrondissement": 50, "com": 170, "commune": 70_814}
    r1 = results[results["round"] == 1]
    assert _one(r1, code_ministere="001006")["code_commune"] == "01006"
    assert _one(r1, code_ministere="02A001")["code_commune"] == "2A001"
    assert _one(r1, code_ministere="02A001")["code_departement"] == "2A"
    assert _one(r1, code_ministere="971102")["code_commune"] == "97102"
    assert _one(r1, code_ministere="977801")["code_commune"] == "97801"  # Saint-Martin
    assert r1["round"].eq(1).all() and results["provisional"].eq(results["round"] == 2).all()
    assert (r1["kind"] == "com").sum() == 85 and r1.loc[r1["kind"] == "com", "code_departement"].isna().all()


def test_saint_lucien_and_mayotte_codes_rebuilt_from_ministry_code(results):
    r1 = results[results["round"] == 1]
    lucien = _one(r1, code_ministere="076601")
    assert (lucien["code_commune"], lucien["code_insee_ministere"], lucien["inscrits"]) == ("76601", "76676", 181)
    assert _one(r1, code_commune="76676")["libelle"] == "Sigy-en-Bray"
    acoua = _one(r1, code_ministere="976501")
    assert (acoua["code_commune"], acoua["code_insee_ministere"]) == ("97601", "97501")
    wrong = pres.insee_code_disagreements(results)
    assert len(wrong) == 18 and set(wrong["code"]) == {"76601", *(f"976{n:02d}" for n in range(1, 18))}
    assert wrong["detail"].iloc[0] == ("Saint-Lucien (Ministry 076601): CommuneCodeINSEE 76676 is not its INSEE "
                                       "code; 76601 rebuilt from the Ministry code is used")


def test_lyon_marseille_arrondissements_summed_once(results, counts):
    r1 = results[results["round"] == 1]
    lyon = r1[r1["code_commune"] == "69123"]
    assert len(lyon) == 9 and lyon["kind"].eq("arrondissement").all()
    assert sorted(lyon["code_arrondissement"]) == [f"6938{n}" for n in range(1, 10)]
    row = _one(counts, code_commune="69123")
    assert row["inscrits"] == lyon["inscrits"].sum() == 296_496
    assert _one(counts, code_commune="13055")["inscrits"] == 500_296
    assert counts["code_commune"].is_unique and len(counts) == 35_410  # 35,409 + Paris


def test_paris_from_the_departement_file(counts, departements_2017):
    paris = _one(counts, code_commune="75056")
    dep = _one(departements_2017, code_departement="75")
    assert paris["source_id"] == ci.DEPARTEMENT_FILE_SOURCE
    assert (paris["inscrits"], paris["votants"]) == (dep["inscrits"], dep["votants"])


def test_commune_sums_equal_ministry_departement_totals(counts, departements_2017):
    assert ci.check_departements(counts, departements_2017).empty  # every département, every count
    summed = counts[counts["source_id"] == pres.SOURCE_ID].groupby("code_departement")[["inscrits", "abstentions"]].sum()
    assert summed.loc["01"].tolist() == [415_886, 81_507]  # Ain, PROVENANCE.md of the commune file
    assert summed.loc["13"].tolist() == [1_372_394, 300_146]
    assert len(summed) == 100  # the 101 départements but Paris
    dep = departements_2017[departements_2017["kind"] == "departement"].set_index("code_departement")
    for code in summed.index:
        assert summed.loc[code, "inscrits"] == dep.loc[code, "inscrits"], code


def test_check_departements_names_the_difference(counts, departements_2017):
    wrong = counts.copy()
    wrong.loc[wrong["code_commune"] == "01006", "inscrits"] += 2
    diff = ci.check_departements(wrong, departements_2017)
    assert diff.to_dict("records") == [{"code_departement": "01", "count": "inscrits", "communes": 415_888,
                                        "ministere": 415_886}]


def test_commune_file_format_errors(store):
    text = gzip.decompress(store.read(pres.FILE)).decode("utf-8")
    lost_zero = text.replace("\n084;AUVERGNE-RHONE-ALPES;001;AIN;001006;", "\n084;AUVERGNE-RHONE-ALPES;1;AIN;001006;", 1)
    with pytest.raises(SourceFormatError, match=r"column 'Departement': not a 3-character Ministry département code"):
        pres.parse(lost_zero.encode())
    lines = text.splitlines()
    fields = lines[1].split(";")
    fields[10] = str(int(fields[10]) + 1)  # Abstentions
    broken = "\n".join([lines[0], ";".join(fields), *lines[2:]]) + "\n"
    with pytest.raises(SourceFormatError, match=r"Inscrits must equal Abstentions \+ Votants; e.g. \[\['001006', 2, 99"):
        pres.parse(broken.encode())
    fields = lines[1].split(";")
    fields[9] = "9x"  # Inscrits
    not_a_number = "\n".join([lines[0], ";".join(fields), *lines[2:]]) + "\n"
    with pytest.raises(SourceFormatError, match=r"column 'Inscrits': not a number; e.g. \[\['001006', '2', '9x'\]\]"):
        pres.parse(not_a_number.encode())


# --- commune codes across vintages ----------------------------------------------------------

def test_commune_merged_after_2017_maps_to_todays_code(passage_2026):
    # Valserhône (01033) absorbed Châtillon-en-Michaille (01091), Lancrans (01205)… on 1 January 2019.
    for old in ("01091", "01205", "01033"):
        assert passage_2026.target_of(old) == "01033"
    row = _one(passage_2026.mapping, code_source="01091")
    assert row["how"] == "former_code" and row["target_vintage"] == 2026
    # Conques-en-Rouergue: 12076 in 2017–2024, recoded 12218 in COG 2025.
    assert passage_2026.target_of("12076") == "12218"
    assert passage_2026.target_of("76601") == "76601" and passage_2026.target_of("76676") == "76676"


def test_passage_counts_and_findings(passage_2026):
    assert communes.summary(passage_2026) == {
        "mapped_unchanged": 34_854, "mapped_former_code": 552, "mapped": 35_406, "incomplete_commune": 10,
        "commune_without_inhabitants": 6, "split_commune": 3, "commune_without_source": 1,
        "target_incomplete": 1, "target_complete": 34_864}
    f = passage_2026.findings.set_index(["kind", "code"])
    # Essarts en Bocage (2016) lost L'Oie and Sainte-Florence again in 2024: its 2017 count cannot be divided.
    assert f.loc[("split_commune", "85084"), "detail"].startswith(
        "COG 2021 commune 85084 (parts 85084, 85030, 85165, 85212) lies in COG 2026 in 85084, 85165, 85212")
    assert ("commune_without_source", "14666") in f.index  # Sannerville, restored in 2020
    assert passage_2026.target_of("85084") is None


def test_passage_to_2021(cog_communes, counts):
    p = communes.passage(cog_communes, counts["code_commune"], "cog_2017", 2017, 2021)
    assert len(p.mapping) == 35_410 and p.mapping["how"].value_counts().to_dict() == {"unchanged": 34_957,
                                                                                       "former_code": 453}
    assert p.target_of("85084") == "85084"  # not split yet


# --- turnout summed to every mesh -----------------------------------------------------------

def test_turnout_levels(turnout):
    values, findings = turnout
    n = values.groupby(["level", "geography_vintage"]).size().to_dict()
    assert n == {("commune", "cog_2017"): 35_410, ("departement", "cog_2026"): 101, ("epci", "cog_2026"): 1_251,
                 ("france", "cog_2026"): 2, ("region", "cog_2026"): 18, ("zone_emploi", "ze_2020"): 305}
    frmd = _one(values, level="france", code="FRMD")
    assert (frmd["numerator"], frmd["denominator"]) == (36_257_037, 45_885_832)
    assert round(frmd["value"], 2) == 79.02  # the CGET's 79.0
    assert values.loc[values["level"] != "commune", "derived"].all()
    left = findings[findings["kind"] == "incomplete_perimeter"]
    assert sorted(left.loc[left["level"] == "epci", "code"]) == ["200034874", "200065597", "200066637", "200071918"]
    assert _one(left, level="zone_emploi")["code"] == "2804"  # Caen: Sannerville has no 2017 count


def test_small_epci_recomputed_from_its_communes(turnout, results, cog_epci):
    values, _ = turnout
    members = cog_epci[(cog_epci["cog_vintage"] == 2026) & (cog_epci["code_epci"] == "243000650")]
    assert sorted(members["code_commune"]) == ["30003", "30133", "30276"]  # CC Terre de Camargue
    r1 = results[(results["round"] == 1) & results["code_commune"].isin(members["code_commune"])]
    row = _one(values, level="epci", geography_vintage="cog_2026", code="243000650")
    assert (row["numerator"], row["denominator"]) == (r1["votants"].sum(), r1["inscrits"].sum()) == (14_560, 18_065)
    assert row["value"] == pytest.approx(14_560 / 18_065 * 100)


def test_zone_emploi_sum_uses_mapped_communes(turnout, composition, passage_2026, counts):
    values, _ = turnout
    assert len(composition) == 34_945 and composition["code_zone_emploi"].nunique() == 306
    assert composition["code_partie_regionale"].nunique() == 28
    alencon = composition[composition["code_zone_emploi"] == "0051"]
    assert set(alencon["code_partie_regionale"]) == {"2851", "5251"}
    row = _one(values, level="zone_emploi", code="0051")
    assert row["denominator"] > 0 and row["source_id"] == pres.SOURCE_ID


# --- unemployment by zone d'emploi 2020 -----------------------------------------------------

@pytest.fixture(scope="module")
def quarterly(store):
    return ze.parse_quarterly(store.read(ze.FILE_TAUX))


def test_zone_emploi_annual_mean_recomputed_from_the_workbook(store, quarterly):
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_filelike(io.BytesIO(store.read(ze.FILE_TAUX))).get_sheet_by_name("txcho_ze").to_python()
    header = rows[5]
    alencon = next(r for r in rows[6:] if r[0] == "0051")
    q2019 = [alencon[header.index(f"2019-T{q}")] for q in range(1, 5)]
    values = ci.unemployment_zone_emploi(quarterly)
    row = _one(values, code="0051", period="2019")
    assert q2019 == [8.3, 8.1, 7.8, 8.0]
    assert row["value"] == 8.1  # 32.2 / 4 = 8.05, rounded half up (exact tenths, not a float sum)
    assert ze.annual_means(quarterly).set_index(["code", "year"]).loc[("0051", 2019), "unemployment_rate_raw"] == 8.05
    assert (row["level"], row["geography_vintage"], row["indicator_id"]) == ("zone_emploi", "ze_2020", "taux_chomage")


def test_zone_emploi_coverage(store, quarterly):
    assert len(quarterly) == 302 * 83 and quarterly["value"].isna().sum() == 15 * 44  # DROM before 2014
    values = ci.unemployment_zone_emploi(quarterly)
    assert sorted(values["period"].unique()) == [str(y) for y in range(2003, 2023)]  # 2023 has 3 quarters only
    per_year = values.groupby("period").size()
    assert per_year["2013"] == 287 and per_year["2014"] == 302
    zones = ze.parse_zones(store.read(ze.FILE_COMPOSITION))
    findings = ze.coverage_findings(quarterly, zones)
    absent = findings[(findings["kind"] == "not_published") & findings["period"].isna()]
    assert sorted(absent["code"]) == ["0301", "0302", "0303", "0601"]  # Guyane and Mayotte
    late = findings[(findings["kind"] == "not_published") & findings["period"].eq("2003-2013")]
    assert len(late) == 15
    assert _one(findings, kind="incomplete_year")["period"] == "2023"


def test_straddling_zone_parts(store, quarterly):
    parts = ze.parse_quarterly_parts(store.read(ze.FILE_TAUX))
    assert parts["code_partie_regionale"].nunique() == 28 and parts["code_zone_emploi"].nunique() == 14
    assert set(quarterly.loc[quarterly["code_region"] == "00", "code_zone_emploi"]) == set(parts["code_zone_emploi"])
    row = _one(parts, code_partie_regionale="2851", period="2003-T1")
    assert (row["code_zone_emploi"], row["code_region"]) == ("0051", "28")


def test_zone_code_stored_as_a_number_is_rejected():
    with pytest.raises(SourceFormatError, match=r"zone d'emploi code must be a text code"):
        ze._codes(["0051", 51.0], "f.xlsx [txcho_ze]", "ZE2020", r"[0-9]{4}", "zone d'emploi code")


def test_zone_emploi_declarations_pass_their_gx_suites(store, catalogue, quarterly):
    from barometre.validation import validate_raw

    frames = [(ze.QUARTERLY_SCHEMA, quarterly), (ze.PARTS_SCHEMA, ze.parse_quarterly_parts(store.read(ze.FILE_TAUX))),
              (ze.COMPOSITION_SCHEMA, ze.parse_composition(store.read(ze.FILE_COMPOSITION)))]
    for schema, frame in frames:
        [outcome] = validate_raw(schema, frame, catalogue)
        assert outcome.passed, outcome.description
    broken = quarterly.copy()
    broken.loc[0, "code_zone_emploi"] = "51"
    [outcome] = validate_raw(ze.QUARTERLY_SCHEMA, broken, catalogue)
    assert not outcome.passed and "code_zone_emploi" in outcome.description
