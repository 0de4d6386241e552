"""Reader of INSEE Melodi API responses (``https://api.insee.fr/melodi/data/<DATASET>``).

A response is a JSON document ``{"identifier", "title", "observations": [...], "paging": {...}}``
where each observation carries ``dimensions`` (``GEO`` as ``"<geography year>-<level>-<code>"``,
e.g. ``"2025-DEP-69"``, ``TIME_PERIOD``, the data set's own measure dimension…), optional
``attributes`` and one measure, ``measures.<name>.value`` (``"OBS_VALUE_NIVEAU": {}`` when the
value is not published). The measure is named after its kind: :data:`MEASURES` lists the names
met in INSEE's real answers; any other name is refused rather than read as missing.

Completeness. Since 2026 Melodi's ``paging`` carries neither ``isLast`` nor ``next`` (only
``first``, and ``count`` when the request asks ``totalCount=TRUE``), so a page cannot say that it
is the last. The pipeline therefore asks the count first (``totalCount=TRUE&maxResult=0``, as
INSEE's own ``melodi`` R package does), then follows the pages by number (``page=1, 2 …``,
``maxResult`` up to :data:`MAX_RESULT`), and lands one document: every observation received and
``paging.count``, the total Melodi announced (:func:`assemble`, used by
:class:`barometre.landing.Landing`). :func:`observations` refuses a document whose number of
observations differs from its ``paging.count``, one without a count, and one of the 2025 format
that says ``isLast: false``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from barometre.sources._csv import SourceFormatError

_GEO = re.compile(r"^(?:(?P<vintage>\d{4})-)?(?P<level>[A-Z0-9]+)-(?P<code>[0-9A-Za-z]+)$")

# Measure names met in Melodi's answers (InseeFrLab/melodi recordings, 2025–2026): a level (counts,
# euros, rates…) and a price index (DS_IPC_PRINC). Another name is refused, never read as missing.
MEASURES = ("OBS_VALUE_NIVEAU", "OBS_VALUE_INDICE_DE_PRIX")
# The largest page Melodi serves (maxResult), as INSEE's melodi R package uses it.
MAX_RESULT = 100_000


def dataset_id(url: str) -> str:
    """``https://api.insee.fr/melodi/data/DS_FILOSOFI_CC?GEO=DEP`` → ``DS_FILOSOFI_CC``."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def assemble(count_answer: Mapping[str, Any], pages: Iterable[Mapping[str, Any]], page_size: int) -> dict:
    """One document from the count answer (``totalCount=TRUE&maxResult=0``) and the pages: the
    observations of every page in order, and ``paging.count`` as Melodi announced it."""
    pages = list(pages)
    observations = [obs for page in pages for obs in (page.get("observations") or [])]
    return {"identifier": count_answer.get("identifier"), "title": count_answer.get("title"),
            "observations": observations,
            "paging": {"count": (count_answer.get("paging") or {}).get("count"), "pages": len(pages),
                       "maxResult": page_size}}


def observations(raw: bytes, file: str, measure_dimension: str | None) -> pd.DataFrame:
    """One row per observation: ``level``, ``code``, ``geo_vintage``, ``time_period``,
    ``measure`` (the value of ``measure_dimension``, None without one), ``value`` (NaN when the
    observation has no value), every code as a string."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceFormatError(file, None, f"not a Melodi JSON document ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("observations"), list):
        raise SourceFormatError(file, None, "not a Melodi response: no 'observations' list",
                                [str(doc)[:120]])
    dataset = doc.get("identifier") or "?"
    paging = doc.get("paging") or {}
    if paging.get("isLast") is False:
        raise SourceFormatError(file, "paging", f"incomplete Melodi answer for data set {dataset}: more than one "
                                                f"page (count {paging.get('count')}) and only one received",
                                [paging.get("next")])
    count, received = paging.get("count"), len(doc["observations"])
    if not isinstance(count, int) or isinstance(count, bool):
        raise SourceFormatError(file, "paging.count", f"Melodi answer for data set {dataset} without a total count "
                                                      f"(request it with totalCount=TRUE): a short answer could not "
                                                      f"be told from a complete one", [paging])
    if count != received:
        raise SourceFormatError(file, "paging.count", f"incomplete Melodi answer for data set {dataset}: "
                                                      f"{received} observations received, Melodi announced {count}",
                                [paging])
    rows = []
    for obs in doc["observations"]:
        dims = obs.get("dimensions") or {}
        geo = _GEO.match(str(dims.get("GEO", "")))
        if geo is None or "TIME_PERIOD" not in dims or (measure_dimension and measure_dimension not in dims):
            raise SourceFormatError(file, "GEO" if geo is None else measure_dimension or "TIME_PERIOD",
                                    "observation without GEO '<level>-<code>', TIME_PERIOD or measure", [obs])
        measures = obs.get("measures") or {}
        unknown = sorted(set(measures) - set(MEASURES))
        if unknown or len(measures) > 1:
            raise SourceFormatError(file, "measures", f"unknown Melodi measure name {unknown or sorted(measures)} "
                                                      f"in data set {dataset} (known: {', '.join(MEASURES)}; one "
                                                      f"per observation)", [obs])
        value = next(iter(measures.values()), None) or {}
        rows.append((geo["level"], geo["code"], geo["vintage"], str(dims["TIME_PERIOD"]),
                     str(dims[measure_dimension]) if measure_dimension else None, value.get("value")))
    if not rows:
        raise SourceFormatError(file, None, f"Melodi answer for data set {dataset} has no observation")
    out = pd.DataFrame(rows, columns=["level", "code", "geo_vintage", "time_period", "measure", "value"],
                       dtype="object")
    values = pd.to_numeric(out["value"], errors="coerce")
    bad = out["value"].notna() & values.isna()
    if bad.any():
        raise SourceFormatError(file, "measures", "not a number",
                                out.loc[bad, ["code", "time_period", "measure", "value"]].head(5).values.tolist())
    out["value"] = values.astype("float64")
    return out
