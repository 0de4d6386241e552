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
