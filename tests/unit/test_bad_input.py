"""Broken copies of real snapshot files: each parser refuses them with the file, the column, the
rule and an example row, never a bare pandas traceback."""

import pytest

from barometre.sources import cget_2018, elections, filosofi, population
from barometre.sources._csv import SourceFormatError

POP = population.FILE


def _broken(store, path, old: bytes, new: bytes, count: int = 1) -> bytes:
    raw = store.read(path)
    assert old in raw
    return raw.replace(old, new, count)


def _error(parse, raw, *args) -> str:
    with pytest.raises(SourceFormatError) as exc:
        parse(raw, *args)
    return str(exc.value)


def test_leading_zero_lost(store):
    raw = _broken(store, POP, b'"01";2012;', b'"1";2012;')
    assert _error(population.parse, raw) == (
        f"{POP}: column 'dep_code': invalid département code (lost leading zero? '20' for Corsica?); "
        "e.g. [['1', '2012']]")


def test_corsica_written_20(store):
    raw = _broken(store, POP, b'"2A";2012;', b'"20";2012;')
    assert "column 'dep_code': invalid département code" in _error(population.parse, raw)
    assert "[['20', '2012']]" in _error(population.parse, raw)


def test_decimal_comma_in_a_point_file(store):
    raw = _broken(store, filosofi.FILE, b";10.3;;65.6;", b";10,3;;65,6;")
    assert _error(filosofi.parse, raw) == (
        f"{filosofi.FILE}: column 'poverty_rate_disp': decimal separator must be '.'; e.g. [['01', '2012', '10,3']]")


def test_latin1_file_declared_utf8(store):
    raw = store.read("barometre_2018/histo_1_1.csv").decode("utf-8").encode("latin-1")
    message = _error(cget_2018.parse_histo, raw, "histo_1_1.csv", "1_1")
    assert message.startswith("histo_1_1.csv: not valid utf-8 (byte 0xf4 at offset")
    assert "Provence-Alpes-C" in message


def test_wrong_separator(store):
    raw = store.read(POP).replace(b";", b",")
    assert _error(population.parse, raw) == (
        f"{POP}: expected ';'-separated columns ['dep_code', 'year', 'pop_jan1'] (the header contains ',': wrong separator?); "
        "e.g. ['\"dep_code\",year,pop_jan1']")


def test_duplicated_code_period(store):
    raw = store.read(POP)
    first = raw.split(b"\n")[1]
    raw = raw + first + b"\n"
    assert _error(population.parse, raw) == f"{POP}: column 'dep_code': duplicated (code, year); e.g. [['01', 2012], ['01', 2012]]"


def test_renamed_and_extra_columns(store):
    raw = _broken(store, POP, b"pop_jan1", b"population")
    assert _error(population.parse, raw) == (
        f"{POP}: column 'pop_jan1': header does not match: missing ['pop_jan1']; unexpected ['population']")


def test_empty_and_truncated_files(store):
    assert _error(population.parse, b"") == f"{POP}: file is empty"
    raw = store.read(POP)
    truncated = raw[: raw.index(b"\n", 200) + 6]  # cut in the middle of a row
    message = _error(population.parse, truncated)
    assert "row has 2 fields, expected 3 (truncated file?)" in message


def test_non_integer_count(store):
    raw = _broken(store, POP, b'"01";2012;612191', b'"01";2012;612191.5')
    assert _error(population.parse, raw) == f"{POP}: column 'pop_jan1': count must be an integer; e.g. [['01', '2012', '612191.5']]"


def test_unknown_ministry_code(store):
    raw = _broken(store, elections.FILES[2012], b"\nZA;", b"\nZQ;")
    assert _error(elections.parse, raw, 2012) == f"{elections.FILES[2012]}: column 'Code du département': unknown territory code; e.g. ['ZQ']"


def test_period_with_en_dash(store):
    raw = _broken(store, "barometre_2018/carte_3_1.csv", b'"1999-2009"', "\"1999–2009\"".encode())
    assert "column 'year0': period '1999–2009' is neither a year 'YYYY' nor a span 'YYYY-YYYY' (ASCII hyphen)" in \
        _error(cget_2018.parse_carte, raw, "carte_3_1.csv", "3_1", "zone_emploi", "ze_2010")
