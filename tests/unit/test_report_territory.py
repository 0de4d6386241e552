"""Building blocks of the territory pages (barometre/report/territory.py) and the one declaration
of the published columns (barometre/warehouse_columns.py)."""

import pandas as pd

from barometre.report import territory
from barometre.warehouse_columns import column_descriptions


def test_fold_drops_accents_case_and_hyphens():
    assert territory.fold("Corse-du-Sud") == "corse du sud"
    assert territory.fold("Île-de-France") == "ile de france"
    assert territory.fold("CA du Pays Ajaccien") == "ca du pays ajaccien"
    assert territory.fold("Provence-Alpes-Côte d'Azur") == "provence alpes cote d azur"


def test_decile_of_a_rank():
    assert territory.decile(1, 96) == 1 and territory.decile(10, 96) == 1 and territory.decile(11, 96) == 2
    assert territory.decile(20, 96) == 2 and territory.decile(96, 96) == 10 and territory.decile(1, 1) == 1
    assert territory.decile(144, 1202) == 2


def test_score_sentence_in_french():
    row = pd.Series({"period_group": "2021", "score": 0.3912, "n_indicators": 2, "rank": 27, "rank_of": 96})
    before = pd.Series({"period_group": "2020", "score": 0.27, "n_indicators": 2, "rank": 1, "rank_of": 96})
    assert territory.score_sentence("Corse-du-Sud", "departement", "Qualité de vie", row, before) == (
        "En 2021, Corse-du-Sud se situe au-dessus de la moyenne des départements pour la dimension "
        "« Qualité de vie » (score +0,39, moyenne de 2 indicateurs), au 27e rang sur 96 ; en 2020, son score "
        "était de +0,27 (1er sur 96).")
    low = row.copy()
    low["score"], low["n_indicators"] = -1.0, 1
    assert "en dessous de la moyenne des départements" in territory.score_sentence("X", "departement", "D", low, None)
    assert "moyenne de 1 indicateur)" in territory.score_sentence("X", "departement", "D", low, None)


def test_search_index_and_page_paths():
    data = territory.LevelData("departement", "cog_2026", pd.DataFrame(
        {"code": ["2A", "69"], "name": ["Corse-du-Sud", "Rhône"]}), *(pd.DataFrame(),) * 3)
    assert territory.search_index({"departement": data}) == [
        {"n": "Corse-du-Sud", "c": "2A", "l": "Département", "u": "territoires/departement/2A.html", "k": "corse du sud 2a"},
        {"n": "Rhône", "c": "69", "l": "Département", "u": "territoires/departement/69.html", "k": "rhone 69"}]
    assert territory.search_script([{"n": "Île-de-France"}]) == (
        '// Territories of the report, for the search box (assets/search.js).\n'
        'window.BAROMETRE_TERRITOIRES = [{"n":"Île-de-France"}];\n')


def test_column_descriptions_come_from_the_warehouse_docs():
    docs = column_descriptions()
    assert set(docs) >= {"territories", "indicator_values", "quality_report", "rankings", "dimension_scores",
                         "france_summary", "publication"}
    # Several columns in one row of the docs share its meaning; links keep their text only.
    assert docs["rankings"]["rank_metro"] == docs["rankings"]["rank_of_metro"]
    assert docs["territories"]["code"] == "Territory code, a string (see codes)"
