"""Population weights per level, declared in the catalogue (``weights``) and read by
``cohesion.territory_population``, on INSEE's estimates of the snapshot."""

import pytest
import yaml

from barometre import cohesion
from barometre.catalogue import CATALOGUE_PATH, CatalogueError, parse_catalogue
from barometre.sources import population
from tests.conftest import SNAPSHOT

ESTIMATES = "insee_estimations_population"
CORSE = {"2A": "94", "2B": "94"}


def _estimates():
    return population.parse((SNAPSHOT / population.FILE).read_bytes())


def test_the_catalogue_declares_the_weights_of_each_level(catalogue):
    assert catalogue.weights == {"departement": (ESTIMATES, "etalab_decoupage_administratif"),
                                 "region": (ESTIMATES, "etalab_decoupage_administratif")}


def test_only_the_declared_levels_and_sources_weigh():
    raw = _estimates()
    by_source = {ESTIMATES: cohesion.estimated_population(raw[raw["code_departement"].isin(CORSE)], CORSE)}
    both = cohesion.territory_population(by_source, {"departement": (ESTIMATES,), "region": (ESTIMATES,)})
    pop = both.set_index(["level", "code", "year"])["population"]
    a, b = (int(raw.loc[(raw["code_departement"] == c) & (raw["year"] == 2014), "pop_jan1"].iloc[0]) for c in ("2A", "2B"))
    assert (pop[("departement", "2A", 2014)], pop[("region", "94", 2014)]) == (a, a + b)
    assert set(both["source_id"]) == {ESTIMATES}
    # a level the catalogue does not name has no weights
    deps = cohesion.territory_population(by_source, {"departement": (ESTIMATES,)})
    assert set(deps["level"]) == {"departement"} and len(deps) == 2 * 10  # 2A, 2B × 2012–2021
    with pytest.raises(ValueError, match="catalogue weights: level 'epci' names source 'insee_deces', which gives "
                                         r"no population in the pipeline \(sources with one: \['insee_estimations_population'\]\)"):
        cohesion.territory_population(by_source, {"epci": ("insee_deces",)})


def test_the_first_declared_source_wins():
    raw = _estimates()
    est = cohesion.estimated_population(raw[raw["code_departement"].isin(CORSE)], CORSE)
    other = est.assign(population=est["population"] + 1)  # a second source for the same years
    first = cohesion.territory_population({ESTIMATES: est, "other": other}, {"region": (ESTIMATES, "other")})
    second = cohesion.territory_population({ESTIMATES: est, "other": other}, {"region": ("other", ESTIMATES)})
    assert (first["population"] + 1).tolist() == second["population"].tolist()
    assert set(first["source_id"]) == {ESTIMATES} and set(second["source_id"]) == {"other"}


def test_weights_naming_an_unknown_level_or_source_are_refused():
    doc = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    with pytest.raises(CatalogueError, match="weights of level 'region': unknown source 'insee_pop'"):
        parse_catalogue({**doc, "weights": {"region": ["insee_pop"]}})
    with pytest.raises(CatalogueError, match="weights: unknown level 'canton'"):
        parse_catalogue({**doc, "weights": {"canton": [ESTIMATES]}})
