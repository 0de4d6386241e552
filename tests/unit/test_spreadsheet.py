"""The spreadsheet reader on a real INSEE workbook (tests/fixtures/spreadsheets/README.md)."""

from pathlib import Path

import pytest

from barometre.sources._csv import SourceFormatError, to_number
from barometre.sources._spreadsheet import SpreadsheetFormatError, read_sheet, sheet_names, workbook_format

FILE = "chomage-zone-t1-2003-t3-2023.xlsx"
RAW = (Path(__file__).parents[1] / "fixtures" / "spreadsheets" / FILE).read_bytes()
HEAD = ["ZE2020", "LIBZE2020", "REG", "LIBREG", "2003-T1"]


def test_reads_the_sheets_of_an_xlsx_workbook():
    assert workbook_format(RAW, FILE) == "xlsx"
    assert sheet_names(RAW, FILE) == ["Documentation", "txcho_ze", "txcho_parties reg"]


def test_reads_a_sheet_below_its_title_rows_codes_as_text():
    frame = read_sheet(RAW, FILE, "txcho_ze", columns=HEAD, header_row=5, header_prefix_only=True)
    assert len(frame) == 302  # the zones d'emploi 2020 of the sheet
    assert frame.iloc[0].tolist() == ["0051", "Alençon", "00", "INTERRÉGIONAL ", "7"]  # as written, trailing space
    assert frame.iloc[-1].tolist() == ["9407", "Propriano", "94", "CORSE", "10.4"]
    rates = to_number(frame, "2003-T1", FILE, key=["ZE2020"])
    assert rates.iloc[1] == 10.9  # Arles, 2003-T1
    assert frame["ZE2020"].str.fullmatch(r"\d{4}").all()


def test_a_missing_sheet_is_named():
    with pytest.raises(SpreadsheetFormatError) as err:
        read_sheet(RAW, FILE, "txcho_dep", columns=HEAD, header_row=5)
    assert str(err.value) == (f"{FILE}, sheet 'txcho_dep': no such sheet (sheets: ['Documentation', 'txcho_ze', "
                              f"'txcho_parties reg'])")
    assert err.value.sheet == "txcho_dep" and err.value.workbook == FILE


def test_a_header_that_differs_names_the_sheet_and_column():
    with pytest.raises(SourceFormatError) as err:
        read_sheet(RAW, FILE, "txcho_ze", columns=["ZE2010", *HEAD[1:]], header_row=5, header_prefix_only=True)
    assert str(err.value) == (f"{FILE}, sheet 'txcho_ze': column 'ZE2010': header on row 6 does not match: "
                              f"missing ['ZE2010']")
    assert err.value.column == "ZE2010" and err.value.sheet == "txcho_ze"


def test_an_exact_header_refuses_the_extra_columns():
    with pytest.raises(SpreadsheetFormatError) as err:
        read_sheet(RAW, FILE, "txcho_ze", columns=HEAD, header_row=5)
    assert err.value.column == "2003-T2"
    assert "unexpected ['2003-T2'," in err.value.rule


def test_bytes_that_are_not_a_workbook():
    csv = b"ZE2020;LIBZE2020\n0051;Alencon\n"
    with pytest.raises(SpreadsheetFormatError) as err:
        sheet_names(csv, "chomage.xlsx")
    assert str(err.value) == "chomage.xlsx: not an XLS or XLSX workbook (starts b'ZE2020;L')"


def test_a_truncated_workbook():
    with pytest.raises(SpreadsheetFormatError) as err:
        read_sheet(RAW[:20_000], FILE, "txcho_ze", columns=HEAD, header_row=5)
    assert err.value.rule.startswith("workbook cannot be read (")
