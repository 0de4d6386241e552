"""Strict reader of spreadsheets (XLS and XLSX), beside the text reader of :mod:`._csv`.

Bytes in, a frame of text cells out, or a :class:`SpreadsheetFormatError` (a
:class:`~barometre.sources._csv.SourceFormatError`) naming the file, the sheet, the column and the
rule that failed. Workbooks are read with pandas' ``calamine`` engine (``python-calamine``), which
reads both the XLSX (Office Open XML, a ZIP) and the XLS (BIFF) formats; the format is told by the
file's signature, not its name.

Cells are returned as text, the way the parsers read CSV cells: a text cell as written (``0051``
stays ``0051``), a number as its shortest text (``7``, ``7.4``: a code that lost its zero in a
numeric cell reads ``51`` and is refused by the parser's code check), an empty cell missing.
Numbers are then parsed with :func:`barometre.sources._csv.to_number`.
"""

from __future__ import annotations

import datetime as _dt
import io
import math

import pandas as pd

from barometre.sources._csv import SourceFormatError

XLSX_SIGNATURE = b"PK\x03\x04"
XLS_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class SpreadsheetFormatError(SourceFormatError):
    """A workbook does not have the format its parser declares; ``sheet`` is the sheet at fault."""

    def __init__(self, file: str, sheet: str | None, column: str | None, rule: str, examples: list | None = None):
        self.workbook, self.sheet = file, sheet
        super().__init__(f"{file}, sheet {sheet!r}" if sheet else file, column, rule, examples)


def workbook_format(raw: bytes, file: str) -> str:
    """``xlsx`` or ``xls``, from the bytes' signature; anything else is an error."""
    if not raw:
        raise SpreadsheetFormatError(file, None, None, "file is empty")
    if raw.startswith(XLSX_SIGNATURE):
        return "xlsx"
    if raw.startswith(XLS_SIGNATURE):
        return "xls"
    raise SpreadsheetFormatError(file, None, None, f"not an XLS or XLSX workbook (starts {raw[:8]!r})")


def _open(raw: bytes, file: str) -> pd.ExcelFile:
    workbook_format(raw, file)
    try:
        return pd.ExcelFile(io.BytesIO(raw), engine="calamine")
    except Exception as exc:  # calamine raises its own error types for damaged workbooks
        raise SpreadsheetFormatError(file, None, None, f"workbook cannot be read ({type(exc).__name__}: "
                                                       f"{str(exc)[:200]})") from None


def sheet_names(raw: bytes, file: str) -> list[str]:
    """The workbook's sheets, in order."""
    return list(_open(raw, file).sheet_names)


def _text(cell) -> str | None:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, (_dt.datetime, _dt.date)):
        return cell.isoformat()
    text = str(cell)
    return text if text.strip() else None


def read_sheet(raw: bytes, file: str, sheet: str, *, columns: list[str], header_row: int,
               header_prefix_only: bool = False) -> pd.DataFrame:
    """The rows of ``sheet`` below its header, every cell as text (empty cells missing).

    ``header_row`` is the 0-based row of the header (the rows above are titles); the header must
    equal ``columns`` exactly, or start with them when ``header_prefix_only`` (only those columns
    are then returned). Rows whose cells are all empty are dropped (the end of a sheet).
    """
    book = _open(raw, file)
    if sheet not in book.sheet_names:
        raise SpreadsheetFormatError(file, sheet, None, f"no such sheet (sheets: {list(book.sheet_names)})")
    try:
        cells = book.parse(sheet_name=sheet, header=None, dtype=object)
    except Exception as exc:
        raise SpreadsheetFormatError(file, sheet, None, f"sheet cannot be read ({type(exc).__name__}: "
                                                        f"{str(exc)[:200]})") from None
    if len(cells) <= header_row:
        raise SpreadsheetFormatError(file, sheet, None, f"sheet has no header row (expected on row {header_row + 1})")
    header = [_text(c) or "" for c in cells.iloc[header_row].tolist()]
    while header and header[-1] == "":
        header.pop()
    got = header[: len(columns)] if header_prefix_only else header
    if got != columns:
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns] if not header_prefix_only else []
        detail = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
        raise SpreadsheetFormatError(file, sheet, (missing or extra or [None])[0],
                                     f"header on row {header_row + 1} does not match: "
                                     + ("; ".join(detail) or f"order differs: {header}"))
    body = cells.iloc[header_row + 1:, : len(columns)]
    frame = pd.DataFrame([[_text(c) for c in row] for row in body.itertuples(index=False)], columns=columns,
                         dtype="object")
    frame = frame[frame.notna().any(axis=1)].reset_index(drop=True)
    if frame.empty:
        raise SpreadsheetFormatError(file, sheet, None, "sheet has a header but no data row")
    return frame
