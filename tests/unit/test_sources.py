"""One test per source parser on its real snapshot file: row counts, known values, string codes."""

import pandas as pd
import pytest

from barometre.sources import cget_2018, chomage, cog, diplomes, drees_medecins, elections, etat_civil, filosofi, population


def _value(frame, **where):
    rows = frame
    for col, val in where.items():
        rows = rows[rows[col] == val]
    assert len(rows) == 1, where
    return rows.iloc[0]


def test_cget_carte_zone_emploi(store):
    frame = cget_2018.parse_carte(store.read("barometre_2018/carte_1_1.csv"), "carte_1_1.csv", "1_1", "zone_emploi", "ze_2010")
    assert len(frame) == 644  # 322 ZE × 2 years
    assert frame["code"].str.len().eq(4).all()
    assert _value(frame, code="0050", period="2012")["value"] == 19162
    assert frame["value"].isna().sum() == 26  # 18 empty 2012 + 8 empty 2014 cells stay missing


def test_cget_carte_periods_and_single_year(store):
    frame = cget_2018.parse_carte(store.read("barometre_2018/carte_3_1.csv"), "carte_3_1.csv", "3_1", "zone_emploi", "ze_2010")
    row = _value(frame, code="0050", period="1999-2009")
    assert (row["period_start"], row["period_end"], row["value"]) == (1999, 2009, 0.80)
    frame = cget_2018.parse_carte(store.read("barometre_2018/carte_5_1.csv"), "carte_5_1.csv", "5_1", "departement", "cog_2026")
    assert len(frame) == 101 and set(frame["period"]) == {"2015"}
    assert _value(frame, code="01")["value"] == 7.99
    assert {"2A", "2B", "971", "976"} <= set(frame["code"])


def test_cget_histo_and_baro(store):
    histo = cget_2018.parse_histo(store.read("barometre_2018/histo_1_1.csv"), "histo_1_1.csv", "1_1")
    assert _value(histo, code="11", period="2012")["value"] == 22180
    assert _value(histo, code="93", period="2012")["name"] == "Provence-Alpes-Côte d'Azur"
    assert pd.isna(_value(histo, code="06", period="2014")["value"])
    baro = cget_2018.parse_baro(store.read("barometre_2018/baro.csv"), "baro.csv",
                                {f"{a}_{b}": "FRMD" for a, b in ["11", "15", "21", "24", "31", "44", "46", "51", "53", "61", "65"]})
    assert len(baro) == 21  # 11 indicators × 2 periods, 5_1 has only 2015
    assert _value(baro, cget_id="5_3", period="2017")["value"] == 79.0


def test_filosofi(store):
    frame = filosofi.parse(store.read(filosofi.FILE))
    assert len(frame) == 960 and frame["year"].between(2012, 2021).all()
    assert frame["code_departement"].iloc[0] == "01"
    assert "2A" in set(frame["code_departement"]) and "20" not in set(frame["code_departement"])
    assert _value(frame, code_departement="01", year=2017)["q2_disp"] == 22640
    assert _value(frame, code_departement="02", year=2017)["poverty_rate_disp"] == 18.5


def test_filosofi_median_rejections(store):
    frame = filosofi.parse(store.read(filosofi.FILE))
    rejected = filosofi.median_rejections(frame, "insee_filosofi_departement")
    counts = rejected["rule"].value_counts().to_dict()
    assert counts == {"median_eur_integer": 335, "median_vintage_averaged": 145}
    assert set(rejected["period"]) == {"2012", "2013", "2014", "2015", "2016"}
    row = _value(rejected, code="02", period="2012")
    assert (row["rule"], row["column"], row["value"]) == ("median_eur_integer", "q2_disp", "17765.5555555556")


@pytest.mark.parametrize("module,file,column,code,year,expected", [
    (chomage, chomage.FILE, "unemployment_rate", "01", 2012, 6.8),
    (population, population.FILE, "pop_jan1", "01", 2012, 612191),
    (drees_medecins, drees_medecins.FILE, "n_doctors", "01", 2012, 1190),
    (drees_medecins, drees_medecins.FILE, "doctor_density_per_100k", "01", 2012, 194.38),
])
def test_departement_panels(store, module, file, column, code, year, expected):
    frame = module.parse(store.read(file))
    assert len(frame) == 960
    assert frame["code_departement"].nunique() == 96
    assert _value(frame, code_departement=code, year=year)[column] == expected


def test_births_and_deaths_unquoted_codes(store):
    births = etat_civil.parse_births(store.read(etat_civil.BIRTHS_FILE))
    deaths = etat_civil.parse_deaths(store.read(etat_civil.DEATHS_FILE))
    assert _value(births, code_departement="01", year=2012)["live_births"] == 7242
    assert _value(deaths, code_departement="2A", year=2012)["deaths"] == 1363
    assert str(births["live_births"].dtype) == "Int64"


def test_diplomes_observed_years_only(store):
    frame = diplomes.parse(store.read(diplomes.FILE))
    assert len(frame) == 288 and sorted(frame["year"].unique()) == [2011, 2016, 2022]
    assert _value(frame, code_departement="01", year=2011)["edu_share_sup"] == 24.7


def test_elections_each_year_format(store):
    by_year = {y: elections.parse(store.read(f), y) for y, f in elections.FILES.items()}
    assert {y: len(f) for y, f in by_year.items()} == {2007: 106, 2012: 107, 2017: 107, 2022: 106}
    e07 = by_year[2007]
    ain = _value(e07, code_ministere="1")
    assert (ain["code_departement"], ain["inscrits"], ain["votants"], ain["pct_votants_inscrits"]) == ("01", 372899, 320859, 86.04)
    assert _value(e07, code_ministere="ZA")["code_departement"] == "971"
    assert _value(e07, code_ministere="ZZ")["kind"] == "etranger"
    assert _value(by_year[2017], code_ministere="2A")["inscrits"] == 108781  # title line skipped
    e22 = by_year[2022]
    assert "etranger" not in set(e22["kind"]) and e22["provisional"].all()
    assert _value(e22, code_ministere="01")["pct_votants_inscrits"] == 77.74  # decimal comma
    assert (e22.loc[e22["kind"] == "departement", "code_departement"].nunique()) == 101


def test_cog_communes_and_reference_years(store, catalogue):
    communes = pd.concat([cog.parse_communes(store.read(cog.path(v, "communes")), v) for v in range(2021, 2027)])
    assert (communes["cog_vintage"] == 2021).sum() == 35059
    assert (communes["cog_vintage"] == 2025).sum() == 34969
    witness = catalogue.source("etalab_decoupage_administratif").extra["population_witness"]
    refs = cog.reference_years(communes, witness["commune"], witness["populations_legales"])
    assert dict(zip(refs["cog_vintage"], refs["reference_year"])) == {
        2021: 2019, 2022: 2020, 2023: 2020, 2024: 2022, 2025: 2023, 2026: 2023}
    assert refs.set_index("cog_vintage")["repeats_vintage"].dropna().to_dict() == {2023: 2022, 2026: 2025}
    assert cog.cog_pairs(refs) == [(2021, 2022, 2019, 2020), (2022, 2024, 2020, 2022), (2024, 2025, 2022, 2023)]


def test_cog_unknown_witness_population_is_an_error(store):
    communes = cog.parse_communes(store.read(cog.path(2021, "communes")), 2021)
    with pytest.raises(ValueError, match=r"COG 2021: population 2165423 of witness commune 75056 matches no populations légales year"):
        cog.reference_years(communes, "75056", {2018: 2175601})


def test_cog_epci_members_are_siren(store):
    members = cog.parse_epci_members(store.read(cog.path(2025, "epci")), 2025)
    assert members["code_epci"].nunique() == 1255
    assert members["code_epci"].str.fullmatch(r"\d{9}").all()


@pytest.mark.parametrize("decimal", [".", ","])
def test_to_number_text_cells_read_as_any_cells(decimal):
    # a column of Python str (the text readers') takes to_number's list path; with one None cell the
    # same column takes the pandas "string" path: same values, same dtype, same error
    from barometre.sources._csv import SourceFormatError, to_number

    good = [" 12 ", "", "  ", "7", "1e3", "-4" if decimal == "." else "4,25"]
    text = pd.DataFrame({"k": list("abcdef"), "v": good}, dtype="object")
    other = pd.DataFrame({"k": list("abcdefg"), "v": good + [None]}, dtype="object")
    fast, slow = to_number(text, "v", "f.csv", decimal=decimal), to_number(other, "v", "f.csv", decimal=decimal)
    pd.testing.assert_series_equal(fast, slow.iloc[:6], check_exact=True)
    assert fast.tolist()[:1] == [12.0] and fast.isna().tolist() == [False, True, True, False, False, False]
    assert to_number(text.iloc[[0, 3]], "v", "f.csv", decimal=decimal, integer=True).tolist() == [12, 7]
    wrong = "1,5" if decimal == "." else "1.5"
    for frame in (text, other):
        bad = pd.concat([frame, pd.DataFrame({"k": ["x", "y"], "v": ["n/a", wrong]})], ignore_index=True)
        with pytest.raises(SourceFormatError) as err:
            to_number(bad, "v", "f.csv", decimal=decimal, key=["k"])
        assert str(err.value) == (f"f.csv: column 'v': decimal separator must be {decimal!r}; "
                                  f"e.g. [['x', 'n/a'], ['y', '{wrong}']]")
