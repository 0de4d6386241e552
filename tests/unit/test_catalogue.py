from pathlib import Path

import pytest
import yaml

from barometre.catalogue import CATALOGUE_PATH, DIMENSION_IDS, CatalogueError, parse_catalogue


def test_sixteen_indicators_in_six_dimensions(catalogue):
    assert [d.id for d in catalogue.dimensions] == list(DIMENSION_IDS)
    assert [d.name for d in catalogue.dimensions] == [
        "Qualité de vie",
        "Solidarité",
        "Transition socio-environnementale (développement soutenable)",
        "Empowerment des territoires (capacité de développement)",
        "Capital social des territoires",
        "Coopération entre les territoires",
    ]
    assert len(catalogue.indicators) == 16
    assert {i.dimension for i in catalogue.indicators} == set(DIMENSION_IDS)


def test_every_indicator_is_fully_described(catalogue):
    source_ids = {s.id for s in catalogue.sources}
    for ind in catalogue.indicators:
        assert ind.unit and ind.polarity in {"+", "-", "0"} and ind.definition, ind.id
        assert ind.sources and set(ind.sources) <= source_ids, ind.id
        assert ind.periods, ind.id


def test_polarities_and_units_from_the_issue(catalogue):
    assert catalogue.indicator("part_neet_15_24").polarity == "-"
    assert catalogue.indicator("part_65_ans_plus").polarity == "0"
    assert catalogue.indicator("medecins_pour_100k").unit == "/100k"
    assert catalogue.indicator("solde_migratoire_annuel").unit == "%/an"


def test_period_shorthands_expand(catalogue):
    assert catalogue.indicator("taux_chomage").periods["departement"] == tuple(str(y) for y in range(2012, 2022))
    spans = catalogue.indicator("solde_migratoire_annuel").periods["departement"]
    assert spans[0] == "2012-2013" and spans[-1] == "2020-2021" and len(spans) == 9


def test_inconsistent_catalogue_is_refused_with_the_entry_named():
    doc = yaml.safe_load(Path(CATALOGUE_PATH).read_text(encoding="utf-8"))
    doc["indicators"][0]["dimension"] = "bien_etre"
    with pytest.raises(CatalogueError, match=r"indicator 'revenu_median_uc': unknown dimension 'bien_etre'"):
        parse_catalogue(doc)
    doc = yaml.safe_load(Path(CATALOGUE_PATH).read_text(encoding="utf-8"))
    doc["indicators"][3]["sources"] = ["nowhere"]
    with pytest.raises(CatalogueError, match=r"indicator 'part_65_ans_plus': unknown source 'nowhere'"):
        parse_catalogue(doc)


def test_indicator_docs_are_generated_from_the_catalogue(catalogue):
    from barometre.catalogue import to_markdown

    page = Path(__file__).resolve().parents[2] / "docs" / "indicators.md"
    assert page.read_text(encoding="utf-8") == to_markdown(catalogue), \
        "docs/indicators.md is stale: run `python -m barometre.catalogue > docs/indicators.md`"
