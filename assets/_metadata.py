"""Materialisation metadata shared by every asset: row count, column schema, markdown preview."""

import dagster as dg
import pandas as pd

from barometre.warehouse_columns import descriptions_of

_TYPES = {"object": "string", "string": "string", "int64": "integer", "Int64": "integer", "float64": "float",
          "bool": "boolean", "boolean": "boolean"}

def frame_metadata(frame: pd.DataFrame, preview_rows: int = 10, descriptions: dict[str, str] | None = None,
                   **extra) -> dict:
    """``descriptions``: column → meaning, shown in the UI's column schema (for ``mart.*``:
    :func:`mart_descriptions`)."""
    descriptions = descriptions or {}
    schema = dg.TableSchema(columns=[
        dg.TableColumn(name=str(col), type=_TYPES.get(str(dtype), str(dtype)), description=descriptions.get(str(col)))
        for col, dtype in frame.dtypes.items()
    ])
    preview = frame.head(preview_rows).astype(object).where(frame.head(preview_rows).notna(), None)
    return {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": schema,
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
        **extra,
    }


def mart_descriptions(key: dg.AssetKey) -> dict[str, str]:
    """The columns' meanings of a ``mart/<table>`` asset, from docs/warehouse.md (one source,
    barometre/warehouse_columns.py); none for other assets."""
    return descriptions_of(key.path[-1]) if len(key.path) == 2 and key.path[0] == "mart" else {}


_SQL_TYPES = {"VARCHAR": "string", "BIGINT": "integer", "INTEGER": "integer", "DOUBLE": "float", "BOOLEAN": "boolean"}

def table_metadata(con, table: str, columns: dict[str, str], preview_rows: int = 10,
                   descriptions: dict[str, str] | None = None, **extra) -> dict:
    """The metadata of :func:`frame_metadata` for a table written by SQL (``table``: its name in the
    working database; ``columns``: column → DuckDB type, from :mod:`barometre.contract`), read from
    the database: no frame of the whole table."""
    descriptions = descriptions or {}
    schema = dg.TableSchema(columns=[
        dg.TableColumn(name=col, type=_SQL_TYPES.get(sql_type, sql_type.lower()), description=descriptions.get(col))
        for col, sql_type in columns.items()
    ])
    n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    preview = con.execute(f"SELECT * FROM {table} LIMIT {int(preview_rows)}").df()
    preview = preview.astype(object).where(preview.notna(), None)
    return {
        "dagster/row_count": dg.MetadataValue.int(int(n)),
        "dagster/column_schema": schema,
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
        **extra,
    }
