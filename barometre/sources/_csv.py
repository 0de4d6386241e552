"""Strict readers shared by the source modules: bytes in, typed frame out, or a clear error.

A source file that cannot be read as declared raises :class:`SourceFormatError`, whose message
names the file, the column, the rule that failed and example rows, never a bare pandas traceback.
Codes are always read as strings: ``01`` stays ``01``.

One reader for every text source (:func:`text_lines`): the declared encoding (strict), a BOM
dropped, LF, CRLF and old-Mac CR line endings alike, and — for a publisher that ends its files
with a newline, as every text file of the snapshot does — a missing final newline refused as a
truncated file.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
from pandas.api.types import infer_dtype

from barometre.geography import invalid_codes


class SourceFormatError(ValueError):
    """A source file does not have the format its parser declares."""

    def __init__(self, file: str, column: str | None, rule: str, examples: list | None = None):
        self.file, self.column, self.rule = file, column, rule
        self.examples = list(examples or [])[:5]
        where = f"{file}: column {column!r}" if column else file
        text = f"{where}: {rule}"
        if self.examples:
            text += f"; e.g. {self.examples}"
        super().__init__(text)


def decode(raw: bytes, file: str, encoding: str = "utf-8") -> str:
    """Decode strictly: a Latin-1 file declared UTF-8 is an error, not mojibake."""
    if not raw.strip():
        raise SourceFormatError(file, None, "file is empty")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        start = max(raw.rfind(b"\n", 0, exc.start) + 1, 0)
        end = raw.find(b"\n", exc.start)
        line = raw[start : end if end != -1 else None].decode(encoding, errors="replace")
        raise SourceFormatError(
            file, None, f"not valid {encoding} (byte {raw[exc.start]:#x} at offset {exc.start})", [line]
        ) from None
    return text.lstrip("\ufeff")


def text_lines(raw: bytes, file: str, encoding: str = "utf-8", *, final_newline: bool = True) -> list[str]:
    """The lines of a text file: decoded strictly (:func:`decode`, BOM dropped), split on LF,
    CRLF or CR alike. ``final_newline``: the publisher ends the file with a newline, so a file
    without one was cut short (its last line is then named)."""
    text = decode(raw, file, encoding)
    lines = text.splitlines()
    if final_newline and not text.endswith(("\n", "\r")):
        raise _no_final_newline(file, lines)
    return lines


def _no_final_newline(file: str, lines: list[str]) -> SourceFormatError:
    return SourceFormatError(file, None, f"the file does not end with a newline, as its publisher's files do "
                                         f"(truncated file?): last line {len(lines)}", [lines[-1][-60:]])


def read_delimited(
    raw: bytes,
    file: str,
    *,
    sep: str,
    columns: list[str],
    skiprows: int = 0,
    encoding: str = "utf-8",
    usecols: int | None = None,
    header_prefix_only: bool = False,
    final_newline: bool = True,
) -> pd.DataFrame:
    """Read a delimited file whose header must equal ``columns`` exactly; every cell as a string.

    ``usecols`` keeps only the first N fields of each row (files whose rows are wider than their
    header, such as the Ministry's repeated candidate blocks); ``header_prefix_only`` then accepts
    a header that starts with ``columns``. Lines are read by :func:`text_lines` (any line ending,
    BOM, ``final_newline``). A header line repeated in the body (files concatenated) and a
    separator ending every line are refused as such.
    """
    text = decode(raw, file, encoding)
    lines = text.splitlines()  # text_lines(raw, file, encoding, final_newline=False), the text kept
    if len(lines) <= skiprows:
        raise SourceFormatError(file, None, f"file has no header line (expected after {skiprows} line(s))")
    rows = list(csv.reader(io.StringIO("\n".join(lines[skiprows:])), delimiter=sep))
    header, body = rows[0], [r for r in rows[1:] if r]
    if len(header) == 1 and len(columns) > 1:
        other = [s for s in (";", ",", "\t") if s != sep and s in lines[skiprows]]
        hint = f" (the header contains {other[0]!r}: wrong separator?)" if other else ""
        raise SourceFormatError(file, None, f"expected {sep!r}-separated columns {columns}{hint}", [lines[skiprows]])
    if len(header) > 1 and header[-1] == "" and header[:-1] == columns[: len(header) - 1] and "" not in columns:
        trailing = sum(1 for r in body if r and r[-1] == "")
        raise SourceFormatError(
            file, None, f"the header ends with a separator {sep!r} (an empty column name after {header[-2]!r}); "
                        f"{trailing} of {len(body)} data lines end with one too", [f"line {skiprows + 1}: {lines[skiprows]}"])
    got = header[: len(columns)] if header_prefix_only else header
    if got != columns:
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns] if not header_prefix_only else []
        detail = []
        if missing:
            detail.append(f"missing {missing}")
        if extra:
            detail.append(f"unexpected {extra}")
        if not detail:
            detail.append(f"order differs: {header}")
        raise SourceFormatError(file, (missing or extra or [None])[0], "header does not match: " + "; ".join(detail))
    # (a row is sliced only when its first field is the header's)
    repeated = [skiprows + 2 + n for n, r in enumerate(body) if r[0] == header[0] and r[: len(header)] == header]
    if repeated:
        raise SourceFormatError(file, None, f"the header line is repeated at line {repeated[0]} ({len(repeated)} "
                                            "times: files concatenated?)", [f"line {repeated[0]}: {lines[skiprows]}"])
    width = usecols or len(columns)
    lengths = list(map(len, body))
    short = [(skiprows + 2 + n, body[n]) for n, k in enumerate(lengths) if k < width] if min(lengths, default=width) < width else []
    if short:
        line_no, row = short[0]
        raise SourceFormatError(
            file, columns[len(row) - 1] if row else None,
            f"row has {len(row)} fields, expected {width} (truncated file?)", [f"line {line_no}: {sep.join(row)}"],
        )
    if usecols is None:
        wide = [(skiprows + 2 + n, body[n]) for n, k in enumerate(lengths) if k > width] if max(lengths, default=width) > width else []
        if wide:
            line_no, row = wide[0]
            raise SourceFormatError(file, None, f"row has {len(row)} fields, expected {width}", [f"line {line_no}: {sep.join(row)}"])
    if final_newline:  # every row is complete, but the file may still be cut short in its last value
        if not text.endswith(("\n", "\r")):
            exc = _no_final_newline(file, lines)
            last = body[-1] if body else []
            raise SourceFormatError(file, columns[min(len(last), width) - 1] if last else None, exc.rule,
                                    exc.examples) from None
    # every row has at least ``width`` fields: only the longer ones are cut
    frame = pd.DataFrame([r if k == width else r[:width] for r, k in zip(body, lengths)], columns=columns[:width],
                         dtype="object")
    if frame.empty:
        raise SourceFormatError(file, None, "file has a header but no data row")
    return frame


def to_number(frame: pd.DataFrame, column: str, file: str, *, decimal: str = ".", integer: bool = False,
              key: list[str] | None = None) -> pd.Series:
    """Parse a column of strings into numbers; empty cells become missing (never 0).

    A decimal comma in a file declared with a decimal point (or the reverse) is an error that
    shows the offending rows.
    """
    cells = frame[column]
    if infer_dtype(cells, skipna=False) == "string":
        # every cell a Python str (the text readers' cells): the same steps by list comprehension,
        # the text handed to pd.to_numeric as the same "string" Series
        stripped = [c.strip() for c in cells.tolist()]
        empty = pd.Series([c == "" for c in stripped], index=cells.index, dtype=bool)
        sep = "." if decimal == "," else ","
        bad_sep = pd.Series([sep in c for c in stripped], index=cells.index, dtype=bool)
        if decimal == ",":
            stripped = [c.replace(",", ".") for c in stripped]
        text = pd.Series([None if e or b else c for c, e, b in zip(stripped, empty.tolist(), bad_sep.tolist())],
                         index=cells.index, dtype="string", name=cells.name)
        values = pd.to_numeric(text, errors="coerce")
    else:
        raw = cells.astype("string").str.strip()
        empty = raw.isna() | (raw == "")
        text = raw.where(~empty)
        if decimal == ",":
            bad_sep = text.str.contains(r"\.", regex=True, na=False)
            text = text.str.replace(",", ".", regex=False)
        else:
            bad_sep = text.str.contains(",", regex=False, na=False)
        values = pd.to_numeric(text.where(~bad_sep), errors="coerce")
    bad = (~empty & values.isna()) | bad_sep
    if bad.any():
        rule = (f"decimal separator must be {decimal!r}" if bad_sep.any() else "not a number")
        cols = (key or []) + [column]
        raise SourceFormatError(file, column, rule, frame.loc[bad, cols].head(5).values.tolist())
    if integer:
        frac = values.notna() & (values % 1 != 0)
        if frac.any():
            cols = (key or []) + [column]
            raise SourceFormatError(file, column, "count must be an integer", frame.loc[frac, cols].head(5).values.tolist())
        return values.astype("Int64")
    return values.astype("float64")


def read_departement_panel(raw: bytes, file: str, value_columns: dict[str, str], *,
                           extra_text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a ``dep_code;year;…`` panel (Régions Inégales compilation: ``;``, ``.`` decimal, UTF-8).

    ``value_columns`` maps each value column to ``"int"`` (a count), ``"float"`` or ``"bool"``.
    Returns ``code_departement`` (string, leading zeros kept), ``year`` and the typed values.
    """
    columns = ["dep_code", "year", *extra_text_columns, *value_columns]
    frame = read_delimited(raw, file, sep=";", columns=columns)
    frame["dep_code"] = frame["dep_code"].str.strip()
    bad = invalid_codes(frame["dep_code"], "departement")
    if len(bad):
        raise SourceFormatError(file, "dep_code", "invalid département code (lost leading zero? '20' for Corsica?)",
                                frame.loc[bad.index, ["dep_code", "year"]].head(5).values.tolist())
    out = pd.DataFrame({"code_departement": frame["dep_code"]})
    years = to_number(frame, "year", file, integer=True, key=["dep_code"])
    if years.isna().any():
        raise SourceFormatError(file, "year", "missing year", frame.loc[years.isna(), ["dep_code"]].head(5).values.tolist())
    out["year"] = years.astype("int64")
    for col in extra_text_columns:
        out[col] = frame[col]
    for col, kind in value_columns.items():
        if kind == "bool":
            out[col] = frame[col].map({"True": True, "False": False}).astype("boolean")
        else:
            out[col] = to_number(frame, col, file, integer=(kind == "int"), key=["dep_code", "year"])
    dup = out.duplicated(["code_departement", "year"], keep=False)
    if dup.any():
        raise SourceFormatError(file, "dep_code", "duplicated (code, year)",
                                out.loc[dup, ["code_departement", "year"]].head(5).values.tolist())
    return out
