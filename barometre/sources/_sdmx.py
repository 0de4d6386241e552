"""Reader of INSEE BDM SDMX-ML responses (``https://bdm.insee.fr/series/sdmx/data/<DATAFLOW>``).

SDMX 2.1 *StructureSpecificData*: ``<message:DataSet>`` holds ``<Series …>`` elements whose
attributes are the series key and metadata (``IDBANK``, ``FREQ``, ``REF_AREA``, ``TITLE_FR``…),
each with ``<Obs TIME_PERIOD="2021-Q4" OBS_VALUE="7.0" OBS_STATUS="A" …/>`` children. Elements
are matched by local name, whatever their namespace prefix.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd

from barometre.sources._csv import SourceFormatError


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def observations(raw: bytes, file: str) -> pd.DataFrame:
    """One row per observation with its series' attributes (``IDBANK``, ``FREQ``, ``REF_AREA``…)
    and ``TIME_PERIOD``, ``OBS_VALUE`` (float, NaN when absent or ``NaN``), ``OBS_STATUS``."""
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise SourceFormatError(file, None, f"not an XML document ({exc})") from None
    if _local(root.tag) not in ("StructureSpecificData", "GenericData"):
        raise SourceFormatError(file, None, f"not an SDMX-ML data message (root element {_local(root.tag)!r})")
    rows = []
    for series in root.iter():
        if _local(series.tag) != "Series":
            continue
        attrs = dict(series.attrib)
        for obs in series:
            if _local(obs.tag) != "Obs":
                continue
            rows.append({**attrs, "TIME_PERIOD": obs.get("TIME_PERIOD"), "OBS_VALUE": obs.get("OBS_VALUE"),
                         "OBS_STATUS": obs.get("OBS_STATUS")})
    if not rows:
        raise SourceFormatError(file, None, "SDMX message has no observation")
    out = pd.DataFrame(rows, dtype="object")
    text = out["OBS_VALUE"].fillna("NaN").str.strip()
    values = pd.to_numeric(text.where(text != "NaN"), errors="coerce")
    bad = (text != "NaN") & values.isna()
    if bad.any():
        cols = [c for c in ("REF_AREA", "TIME_PERIOD", "OBS_VALUE") if c in out]
        raise SourceFormatError(file, "OBS_VALUE", "not a number", out.loc[bad, cols].head(5).values.tolist())
    out["OBS_VALUE"] = values.astype("float64")
    return out
