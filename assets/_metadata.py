"""Materialisation metadata shared by every asset: row count, column schema, markdown preview."""

import dagster as dg
import pandas as pd

_TYPES = {"object": "string", "string": "string", "int64": "integer", "Int64": "integer", "float64": "float",
          "bool": "boolean", "boolean": "boolean"}

def frame_metadata(frame: pd.DataFrame, preview_rows: int = 10, **extra) -> dict:
    schema = dg.TableSchema(columns=[
        dg.TableColumn(name=str(col), type=_TYPES.get(str(dtype), str(dtype))) for col, dtype in frame.dtypes.items()
    ])
    preview = frame.head(preview_rows).astype(object).where(frame.head(preview_rows).notna(), None)
    return {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": schema,
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
        **extra,
    }
