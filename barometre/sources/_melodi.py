"""Reader of INSEE Melodi API responses (``https://api.insee.fr/melodi/data/<DATASET>``).

A response is a JSON document ``{"identifier", "title", "observations": [...], "paging": {...}}``
where each observation carries ``dimensions`` (``GEO`` as ``"<geography year>-<level>-<code>"``,
e.g. ``"2024-DEP-01"``, ``TIME_PERIOD``, the data set's own measure dimension…), optional
``attributes`` and ``measures.OBS_VALUE_NIVEAU.value`` (absent when the value is not published).
A page is complete when ``paging`` has no ``isLast: false`` (a request is limited to
``maxResult`` observations, at most 10 000).
"""

from __future__ import annotations

import json
import re

import pandas as pd

from barometre.sources._csv import SourceFormatError

_GEO = re.compile(r"^(?:(?P<vintage>\d{4})-)?(?P<level>[A-Z0-9]+)-(?P<code>[0-9A-Za-z]+)$")


def observations(raw: bytes, file: str, measure_dimension: str) -> pd.DataFrame:
    """One row per observation: ``level``, ``code``, ``geo_vintage``, ``time_period``,
    ``measure``, ``value`` (NaN when the observation has no value), every code as a string."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceFormatError(file, None, f"not a Melodi JSON document ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("observations"), list):
        raise SourceFormatError(file, None, "not a Melodi response: no 'observations' list",
                                [str(doc)[:120]])
    paging = doc.get("paging") or {}
    if paging.get("isLast") is False:
        raise SourceFormatError(file, None, f"incomplete Melodi response: more than one page "
                                            f"(count {paging.get('count')}); raise maxResult or narrow the query",
                                [paging.get("next")])
    rows = []
    for n, obs in enumerate(doc["observations"]):
        dims = obs.get("dimensions") or {}
        geo = _GEO.match(str(dims.get("GEO", "")))
        if geo is None or "TIME_PERIOD" not in dims or measure_dimension not in dims:
            raise SourceFormatError(file, "GEO" if geo is None else measure_dimension,
                                    "observation without GEO '<level>-<code>', TIME_PERIOD or measure", [obs])
        value = ((obs.get("measures") or {}).get("OBS_VALUE_NIVEAU") or {}).get("value")
        rows.append((geo["level"], geo["code"], geo["vintage"], str(dims["TIME_PERIOD"]),
                     str(dims[measure_dimension]), value))
    if not rows:
        raise SourceFormatError(file, None, "Melodi response has no observation")
    out = pd.DataFrame(rows, columns=["level", "code", "geo_vintage", "time_period", "measure", "value"],
                       dtype="object")
    values = pd.to_numeric(out["value"], errors="coerce")
    bad = out["value"].notna() & values.isna()
    if bad.any():
        raise SourceFormatError(file, "OBS_VALUE_NIVEAU", "not a number",
                                out.loc[bad, ["code", "time_period", "measure", "value"]].head(5).values.tolist())
    out["value"] = values.astype("float64")
    return out
