"""Broken copies of real snapshot files: each parser refuses them with the file, the column, the
rule and an example row, never a bare pandas traceback. The parsers are called as the ingest
assets call them (assets/ingest.py: the file's path in the snapshot as ``file``); what a run
does with the error (the ingest asset fails, nothing downstream is built, the published file is
left as it was) is tested once, end to end, in tests/integration/test_bad_input_contract.py."""

from collections.abc import Callable

import pytest

from barometre.catalogue import load_catalogue
from barometre.sources import (
    cget_2018,
    chomage,
    diplomes,
    drees_medecins,
    elections,
    etat_civil,
    filosofi,
    population,
)
from barometre.sources._csv import SourceFormatError

POP = population.FILE
CHOMAGE = chomage.FILE
BIRTHS = etat_civil.BIRTHS_FILE
DEATHS = etat_civil.DEATHS_FILE
DOCTORS = drees_medecins.FILE
DIPLOMAS = diplomes.FILE
FILOSOFI = filosofi.FILE
E2007, E2012, E2022 = elections.FILES[2007], elections.FILES[2012], elections.FILES[2022]
HISTO_1_1 = "barometre_2018/histo_1_1.csv"
CARTE_3_1 = "barometre_2018/carte_3_1.csv"


def _carte(cget_id: str) -> Callable[[bytes, str], object]:
    spec = load_catalogue().source("cget_barometre_2018").extra["carte"][cget_id]
    return lambda raw, path: cget_2018.parse_carte(raw, path, cget_id, spec["level"], spec["geography_vintage"])


# The parser of each file, called as its ingest asset calls it: parse(raw bytes, path).
PARSERS: dict[str, Callable[[bytes, str], object]] = {
    POP: population.parse, CHOMAGE: chomage.parse, BIRTHS: etat_civil.parse_births, DEATHS: etat_civil.parse_deaths,
    DOCTORS: drees_medecins.parse, DIPLOMAS: diplomes.parse, FILOSOFI: filosofi.parse,
    **{f: (lambda raw, path, year=year: elections.parse(raw, year, path)) for year, f in elections.FILES.items()},
    HISTO_1_1: lambda raw, path: cget_2018.parse_histo(raw, path, "1_1"),
    CARTE_3_1: _carte("3_1"),
}


def replace(old: bytes | str, new: bytes | str, count: int = 1) -> Callable[[bytes], bytes]:
    old, new = (s.encode() if isinstance(s, str) else s for s in (old, new))

    def _break(raw: bytes) -> bytes:
        assert old in raw
        return raw.replace(old, new, count)

    return _break


def add_column(raw: bytes) -> bytes:
    lines = raw.rstrip(b"\n").split(b"\n")
    return b"\n".join([lines[0] + b";source"] + [line + b";DREES" for line in lines[1:]]) + b"\n"


def truncate_mid_row(after: int, keep: int) -> Callable[[bytes], bytes]:
    """Cut the file ``keep`` bytes into the first row that starts after byte ``after``."""
    return lambda raw: raw[: raw.index(b"\n", after) + keep]


def append_first_row(raw: bytes) -> bytes:
    return raw + raw.split(b"\n")[1] + b"\n"


def _latin1_message(path: str, raw: bytes) -> str:
    return (f"{path}: not valid utf-8 (byte 0xf4 at offset {raw.index('ô'.encode('latin-1'))}); "
            """e.g. ['"93","Provence-Alpes-C\ufffdte d\\'\\'Azur",2012,19406,2014,19893']""")


# (case, file, how it is broken, the exact SourceFormatError message — or a function of the broken bytes)
CASES = [
    ("leading_zero_lost", POP, replace(b'"01";2012;', b'"1";2012;'),
     f"{POP}: column 'dep_code': invalid département code (lost leading zero? '20' for Corsica?); "
     "e.g. [['1', '2012']]"),
    ("leading_zero_lost_unquoted", BIRTHS, replace(b"\n01;2012;", b"\n1;2012;"),
     f"{BIRTHS}: column 'dep_code': invalid département code (lost leading zero? '20' for Corsica?); "
     "e.g. [['1', '2012']]"),
    ("corsica_written_20", POP, replace(b'"2A";2012;', b'"20";2012;'),
     f"{POP}: column 'dep_code': invalid département code (lost leading zero? '20' for Corsica?); "
     "e.g. [['20', '2012']]"),
    ("corsica_written_20_in_rates", CHOMAGE, replace(b'"2A";2012;', b'"20";2012;'),
     f"{CHOMAGE}: column 'dep_code': invalid département code (lost leading zero? '20' for Corsica?); "
     "e.g. [['20', '2012']]"),
    ("decimal_comma", FILOSOFI, replace(b";10.3;;65.6;", b";10,3;;65,6;"),
     f"{FILOSOFI}: column 'poverty_rate_disp': decimal separator must be '.'; e.g. [['01', '2012', '10,3']]"),
    ("decimal_comma_in_a_density", DOCTORS, replace(b'"01";2012;194.38;', b'"01";2012;194,38;'),
     f"{DOCTORS}: column 'doctor_density_per_100k': decimal separator must be '.'; e.g. [['01', '2012', '194,38']]"),
    ("latin1_read_as_utf8", HISTO_1_1, lambda raw: raw.decode("utf-8").encode("latin-1"), _latin1_message),
    ("comma_instead_of_semicolon", POP, replace(b";", b",", -1),
     f"{POP}: expected ';'-separated columns ['dep_code', 'year', 'pop_jan1'] (the header contains ',': wrong "
     "separator?); e.g. ['\"dep_code\",year,pop_jan1']"),
    ("comma_instead_of_semicolon_unquoted", DEATHS, replace(b";", b",", -1),
     f"{DEATHS}: expected ';'-separated columns ['dep_code', 'year', 'deaths'] (the header contains ',': wrong "
     "separator?); e.g. ['dep_code,year,deaths']"),
    ("duplicated_code_period", POP, append_first_row,
     f"{POP}: column 'dep_code': duplicated (code, year); e.g. [['01', 2012], ['01', 2012]]"),
    ("duplicated_code_census_year", DIPLOMAS, lambda raw: raw + b'"01";2016;27.82\n',
     f"{DIPLOMAS}: column 'dep_code': duplicated (code, year); e.g. [['01', 2016], ['01', 2016]]"),
    ("renamed_column", POP, replace(b"pop_jan1", b"population"),
     f"{POP}: column 'pop_jan1': header does not match: missing ['pop_jan1']; unexpected ['population']"),
    ("renamed_column_among_many", FILOSOFI, replace(b";poverty_rate_disp;", b";poverty_rate;"),
     f"{FILOSOFI}: column 'poverty_rate_disp': header does not match: missing ['poverty_rate_disp']; "
     "unexpected ['poverty_rate']"),
    ("extra_column", DOCTORS, add_column,
     f"{DOCTORS}: column 'source': header does not match: unexpected ['source']"),
    ("empty_file", POP, lambda raw: b"", f"{POP}: file is empty"),
    ("empty_election_file", E2007, lambda raw: b"", f"{E2007}: file is empty"),
    ("file_truncated_mid_row", POP, truncate_mid_row(200, 6),
     f"{POP}: column 'year': row has 2 fields, expected 3 (truncated file?); e.g. ['line 13: 12;']"),
    ("election_file_truncated_mid_row", E2022, truncate_mid_row(2000, 40),
     f"{E2022}: column '% Abs/Ins': row has 6 fields, expected 17 (truncated file?); "
     "e.g. ['line 6: 05;Hautes-Alpes;Complet;113519;25357;22']"),
    ("non_integer_count", POP, replace(b'"01";2012;612191', b'"01";2012;612191.5'),
     f"{POP}: column 'pop_jan1': count must be an integer; e.g. [['01', '2012', '612191.5']]"),
    ("unknown_ministry_code", E2012, replace(b"\nZA;", b"\nZQ;"),
     f"{E2012}: column 'Code du département': unknown territory code; e.g. ['ZQ']"),
    ("period_with_en_dash", CARTE_3_1, replace('"0303","1999-2009"', '"0303","1999–2009"'),
     f"{CARTE_3_1}: column 'year0': period '1999–2009' is neither a year 'YYYY' nor a span 'YYYY-YYYY' "
     "(ASCII hyphen); e.g. [['0303', '1999–2009']]"),
]


@pytest.mark.parametrize("case, path, break_file, message", CASES, ids=[c[0] for c in CASES])
def test_the_parser_refuses_a_broken_file_with_an_exact_message(store, case, path, break_file, message):
    raw = break_file(store.read(path))
    with pytest.raises(SourceFormatError) as exc:
        PARSERS[path](raw, path)
    if callable(message):
        message = message(path, raw)
    assert str(exc.value) == message
    assert exc.value.file == path

