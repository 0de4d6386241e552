"""raw/cog_communes read with DuckDB's JSON reader: the same frame as Python's json record by
record on the six releases, and on bad input the same SourceFormatError (file, column, rule,
example records) — the record reader decides whenever DuckDB cannot vouch for the records."""

import gzip
import json

import pandas as pd
import pytest

from barometre.sources import cog
from barometre.sources._csv import SourceFormatError

FILE = "cog/2026/communes.json.gz"
VINTAGES = range(2021, 2027)


def _commune(code, nom="Commune", **extra):
    return {"code": code, "nom": nom, "type": "commune-actuelle", "departement": "01", "region": "84",
            "population": 100, **extra}


def _packed(doc) -> bytes:
    return gzip.compress(json.dumps(doc).encode("utf-8"))


def _outcome(parse, raw):
    try:
        return parse(raw)
    except Exception as exc:  # the type and the whole message
        return type(exc), str(exc)


def _both(raw):
    """What parse_communes gives, checked equal to the record-by-record reader's."""
    got = _outcome(lambda r: cog.parse_communes(r, 2026), raw)
    previous = _outcome(lambda r: cog._parse_communes_records(r, 2026, FILE), raw)
    if isinstance(got, pd.DataFrame):
        pd.testing.assert_frame_equal(got, previous, check_exact=True)
    else:
        assert got == previous
    return got


@pytest.mark.parametrize("vintage", VINTAGES)
def test_duckdb_reads_the_snapshot_release_as_the_record_reader_does(store, vintage):
    raw = store.read(cog.path(vintage, "communes"))
    fast = cog._communes_duckdb(raw, vintage)
    assert fast is not None  # DuckDB vouched for every record: no fallback on the real files
    previous = cog._parse_communes_records(raw, vintage, cog.path(vintage, "communes"))
    pd.testing.assert_frame_equal(fast, previous, check_exact=True)
    assert cog.parse_communes(raw, vintage).equals(previous)


def test_real_values_of_2026(store):
    com = cog.parse_communes(store.read(cog.path(2026, "communes")), 2026).set_index("code_commune")
    assert len(com) == 34969
    assert str(com["population"].dtype) == "Int64" and com["cog_vintage"].eq(2026).all()
    ain = com.loc["01001"]
    assert (ain["nom"], ain["code_departement"], ain["code_region"]) == ("L'Abergement-Clémenciat", "01", "84")
    assert com.loc["2A004", "code_departement"] == "2A"  # a code with a letter stays text
    # a commune nouvelle lists its former codes, space-separated; the others an empty text
    assert (com["anciens_codes"] != "").sum() > 0 and com.loc["01001", "anciens_codes"] == ""
    merged = com[com["anciens_codes"] != ""].iloc[0]
    assert all(len(c) == 5 for c in merged["anciens_codes"].split(" "))


def test_a_commune_without_a_departement_keeps_it_missing(store):
    com = cog.parse_communes(store.read(cog.path(2021, "communes")), 2021)
    previous = cog._parse_communes_records(store.read(cog.path(2021, "communes")), 2021, cog.path(2021, "communes"))
    assert com["code_departement"].isna().sum() == previous["code_departement"].isna().sum()
    pd.testing.assert_frame_equal(com, previous, check_exact=True)


def test_not_json():
    got = _both(gzip.compress(b"<html>maintenance</html>"))
    assert got[0] is SourceFormatError
    assert got[1].startswith(f"{FILE}: not a (gzipped) UTF-8 JSON document: Expecting value: line 1 column 1")


def test_a_damaged_gzip():
    got = _both(_packed([_commune("01001")])[:-10])
    assert got[0] is SourceFormatError and got[1].startswith(f"{FILE}: not a (gzipped) UTF-8 JSON document: ")


@pytest.mark.parametrize("doc", [{"code": "01001"}, []])
def test_not_a_non_empty_array(doc):
    assert _both(_packed(doc)) == (SourceFormatError, f"{FILE}: expected a non-empty JSON array of records")


def test_a_field_missing_names_the_records():
    no_name = {"code": "01002", "type": "commune-actuelle", "population": 5}
    got = _both(_packed([_commune("01001"), no_name]))
    assert got == (SourceFormatError, f"{FILE}: column 'nom': field missing from records; e.g. [{no_name!r}]")


def test_a_duplicated_code():
    got = _both(_packed([_commune("01001"), _commune("01001", "Autre"), _commune("01002")]))
    assert got == (SourceFormatError, f"{FILE}: column 'code': duplicated commune code; e.g. ['01001', '01001']")


def test_a_code_that_lost_its_zero_reaches_the_schema_check_as_it_did():
    # A number where the package writes text: the record reader's frame (the code check refuses it).
    got = _both(_packed([_commune(1001), _commune("01002")]))
    assert got["code_commune"].tolist() == [1001, "01002"]


def test_a_byte_order_mark_is_refused_as_before():
    got = _both(gzip.compress(b"\xef\xbb\xbf" + json.dumps([_commune("01001")]).encode()))
    assert got[0] is SourceFormatError and "not a (gzipped) UTF-8 JSON document: Unexpected UTF-8 BOM" in got[1]


@pytest.mark.parametrize("field,value", [("population", 1.5), ("population", "12"), ("anciensCodes", "01003"),
                                         ("nom", None), ("departement", 1)])
def test_other_json_types_give_what_the_record_reader_gives(field, value):
    _both(_packed([_commune("01001", **{field: value}), _commune("01002")]))


def test_plain_json_as_unpkg_serves_it(store):
    packed = store.read(cog.path(2026, "communes"))
    pd.testing.assert_frame_equal(cog.parse_communes(gzip.decompress(packed), 2026), cog.parse_communes(packed, 2026))


def test_other_record_types_are_left_out():
    arrondissement = {"code": "75101", "nom": "Paris 1er", "type": "arrondissement-municipal", "population": 16000}
    got = _both(_packed([_commune("75056", "Paris"), arrondissement]))
    assert got["code_commune"].tolist() == ["75056"]
    assert got["anciens_codes"].tolist() == [""]
    merged = _both(_packed([_commune("01001", anciensCodes=["01003", "01004"])]))
    assert merged["anciens_codes"].tolist() == ["01003 01004"]
