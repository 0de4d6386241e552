"""The meaning of every column of the published tables, declared once: the "Table reference" and
"Cohesion marts" tables of docs/warehouse.md (one ``### `mart.<table>``` section per table, a row
``| `column` | TYPE | Meaning |`` per column, several columns sharing a row when they are written
``| `a`, `b` | … |``). The Dagster assets show these descriptions in their column schema
(``dagster/column_schema``), and tests/integration/test_column_docs.py checks that every column of
the published file has one: the docs and the UI cannot drift apart.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "warehouse.md"
_SECTION = re.compile(r"^### `mart\.([a-z_]+)`")
_ROW = re.compile(r"^\|\s*(`[^|]+`)\s*\|\s*([^|]*)\|\s*(.*)\|\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


@functools.lru_cache(maxsize=4)
def column_descriptions(path: str | Path = DOCS) -> dict[str, dict[str, str]]:
    """table (without ``mart.``) → column → its meaning, as docs/warehouse.md writes it (links
    reduced to their text)."""
    out: dict[str, dict[str, str]] = {}
    table = None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = _SECTION.match(line)
        if m:
            table = m.group(1)
            out.setdefault(table, {})
            continue
        if line.startswith("## "):
            table = None
        if table is None:
            continue
        row = _ROW.match(line)
        if row:
            meaning = _LINK.sub(r"\1", row.group(3).strip())
            for column in re.findall(r"`([a-z_0-9]+)`", row.group(1)):
                out[table][column] = meaning
    return out


def descriptions_of(table: str) -> dict[str, str]:
    """column → meaning of ``mart.<table>`` (empty when the docs have no section for it)."""
    return column_descriptions().get(table, {})
