"""Cadences (barometre/cadences.yaml): every catalogue source maps to freshness windows and a check interval."""

from datetime import timedelta

import pytest

from barometre.cadences import CadenceError, cadence_kind, cadence_of, load_cadences


def test_every_catalogue_source_has_a_known_cadence(catalogue):
    kinds = {src.id: cadence_of(src).kind for src in catalogue.sources}
    assert kinds == {
        "cget_barometre_2018": "none",
        "insee_filosofi_departement": "yearly",
        "insee_chomage_localise": "quarterly",
        "insee_estimations_population": "yearly",
        "insee_naissances": "yearly",
        "insee_deces": "yearly",
        "drees_medecins": "yearly",
        "insee_diplomes_rp": "yearly",  # "yearly (census, rolling five-year surveys)"
        "interieur_presidentielle_t1": "per election",
        "etalab_decoupage_administratif": "yearly",
        "insee_filosofi_cc": "yearly",
        "insee_estimations_population_age": "yearly",
        "neet_observatoire_territoires": "yearly",  # "yearly (census)"
        "interieur_presidentielle_2017_communes": "per election",
        "insee_chomage_zone_emploi": "quarterly",
        "insee_zonage_zones_emploi_2020": "yearly",  # "yearly (composition on each COG)"
    }


def test_windows_of_each_cadence():
    cadences = load_cadences()
    assert (cadences["quarterly"].warn_after, cadences["quarterly"].fail_after) == (timedelta(days=100),
                                                                                    timedelta(days=130))
    assert (cadences["yearly"].warn_after, cadences["yearly"].fail_after) == (timedelta(days=380), timedelta(days=430))
    assert cadences["per election"].fail_after == timedelta(days=1920)
    assert cadences["none"].warn_after is None and cadences["none"].fail_after is None
    assert {k: c.check_every for k, c in cadences.items()} == {
        "quarterly": timedelta(hours=6), "yearly": timedelta(hours=24), "per election": timedelta(hours=24),
        "none": timedelta(hours=168)}


def test_cadence_read_up_to_the_parenthesis():
    assert cadence_kind("none (publication unique, juillet 2018)") == "none"
    assert cadence_kind("Per election") == "per election"


def test_an_unknown_cadence_is_refused_with_the_source_named(catalogue):
    from dataclasses import replace

    source = replace(catalogue.source("drees_medecins"), cadence="monthly")
    with pytest.raises(CadenceError, match=r"catalogue source drees_medecins: cadence 'monthly' \(read as 'monthly'\) "
                                           r"is not in cadences.yaml, which knows \['none', 'per election', "
                                           r"'quarterly', 'yearly'\]"):
        cadence_of(source)


def test_an_inconsistent_cadence_file_is_refused(tmp_path):
    path = tmp_path / "cadences.yaml"
    path.write_text("cadences:\n  yearly: {warn_after_days: 400, fail_after_days: 380, check_every_hours: 24}\n")
    with pytest.raises(CadenceError, match="cadence 'yearly': warn_after_days must be below fail_after_days"):
        load_cadences(path)
