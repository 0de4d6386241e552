"""Compare a SQL mart (barometre/sql.py) with its pandas specification: same columns, same rows
in the same order, numbers equal within 1e-9 (relative and absolute), every other value (ranks,
counts, codes, reasons, booleans) exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd

TOLERANCE = 1e-9


def assert_same(sql: pd.DataFrame, spec: pd.DataFrame, what: str) -> None:
    assert list(sql.columns) == list(spec.columns), f"{what}: columns {list(sql.columns)} != {list(spec.columns)}"
    assert len(sql) == len(spec), f"{what}: {len(sql)} rows in SQL, {len(spec)} in pandas"
    sql, spec = sql.reset_index(drop=True), spec.reset_index(drop=True)
    for column in spec.columns:
        a, b = sql[column], spec[column]
        if pd.api.types.is_float_dtype(b) or pd.api.types.is_float_dtype(a):
            x, y = a.astype(float).to_numpy(), b.astype(float).to_numpy()
            same = np.isclose(x, y, rtol=TOLERANCE, atol=TOLERANCE, equal_nan=True)
        else:
            x, y = a.astype(object).to_numpy(), b.astype(object).to_numpy()
            same = np.array([(pd.isna(u) and pd.isna(v)) if (pd.isna(u) or pd.isna(v)) else u == v
                             for u, v in zip(x, y)], dtype=bool)
        if not same.all():
            bad = np.flatnonzero(~same)[:5]
            rows = pd.DataFrame({"sql": x[bad], "pandas": y[bad]}, index=bad)
            raise AssertionError(f"{what}.{column}: {(~same).sum()} of {len(same)} values differ, first:\n{rows}\n"
                                 f"{spec.iloc[bad].to_string()}")
