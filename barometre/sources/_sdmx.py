"""Reader of INSEE BDM SDMX-ML responses (``https://bdm.insee.fr/series/sdmx/data/<DATAFLOW>``).

SDMX 2.1 *StructureSpecificData*: ``<message:DataSet>`` holds ``<Series …>`` elements whose
attributes are the series key and metadata (``IDBANK``, ``FREQ``, ``REF_AREA``, ``TITLE_FR``…),
each with ``<Obs TIME_PERIOD="2021-Q4" OBS_VALUE="7.0" OBS_STATUS="A" …/>`` children.

Read by ``sdmx1`` (``sdmx.read_sdmx``, which reads StructureSpecificData without its data structure
definition as well as GenericData), after a well-formedness check by ElementTree that gives a
clean error (sdmx1 prints its parser state on a syntax error). docs/sources.md gives the choice
and its measurements.
"""

from __future__ import annotations

import contextlib
import io
import logging
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
    import sdmx  # sdmx1: imported here, the snapshot mode never needs it

    logger = logging.getLogger("sdmx")
    level = logger.level
    logger.setLevel(logging.ERROR)  # "got no structure=… argument for StructureSpecificData": expected
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # sdmx1 prints its parser's state when it fails
            message = sdmx.read_sdmx(io.BytesIO(raw))
        frames = [sdmx.to_pandas(ds, attributes="o", dtype=str) for ds in message.data]
    except Exception as exc:  # an SDMX message shaped unlike the BDM's: say so, naming the file
        raise SourceFormatError(file, None, f"not a readable SDMX-ML data message ({type(exc).__name__}: "
                                            f"{str(exc)[:200]})") from None
    finally:
        logger.setLevel(level)
    frames = [f.reset_index() for f in frames if len(f)]
    if not frames:
        raise SourceFormatError(file, None, "SDMX message has no observation")
    out = pd.concat(frames, ignore_index=True).rename(columns={"value": "OBS_VALUE"})
    for column in ("TIME_PERIOD", "OBS_STATUS"):
        if column not in out:
            out[column] = None
    out = out.astype("object").where(out.notna(), None)
    text = out["OBS_VALUE"].fillna("NaN").astype(str).str.strip()
    missing = text.str.lower().isin(["nan", ""])  # the BDM writes OBS_VALUE="NaN" for an unpublished value
    values = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = ~missing & values.isna()
    if bad.any():
        cols = [c for c in ("REF_AREA", "TIME_PERIOD", "OBS_VALUE") if c in out]
        raise SourceFormatError(file, "OBS_VALUE", "not a number", out.loc[bad, cols].head(5).values.tolist())
    out["OBS_VALUE"] = values.astype("float64")
    return out
