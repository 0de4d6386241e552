"""How often each source publishes (``cadences.yaml``): freshness windows and check intervals.

The catalogue gives every source a ``cadence`` (``yearly``, ``quarterly``, ``per election``,
``none (publication unique, juillet 2018)``…). This module maps it, through the data file
``cadences.yaml``, to

- the time after which a raw table read from that source is shown *stale* in the UI (a warning,
  then a failure: Dagster freshness policies attached in ``sensors/automation.py``), counted from
  the table's last materialisation — so it measures how long the refresh has not rebuilt the
  table (stopped or failing), not how old the publisher's data are;
- how often the source-release sensor of a live source asks its publisher for a new release.

>>> cadence_kind("yearly (census, rolling five-year surveys)")
'yearly'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml

CADENCES_PATH = Path(__file__).with_name("cadences.yaml")


class CadenceError(ValueError):
    """A source's cadence is not in ``cadences.yaml``, or the file is inconsistent."""


@dataclass(frozen=True)
class Cadence:
    kind: str
    warn_after: timedelta | None    # None: the source cannot become stale (a single publication)
    fail_after: timedelta | None
    check_every: timedelta
    why: str


def cadence_kind(text: str) -> str:
    """The cadence of a catalogue source up to its first parenthesis, lower-cased."""
    return text.split("(", 1)[0].strip().lower()


def _days(entry: dict, key: str, where: str) -> timedelta | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or value <= 0:
        raise CadenceError(f"{where}: {key} must be a positive number of days or null, got {value!r}")
    return timedelta(days=value)


@functools.cache
def load_cadences(path: Path = CADENCES_PATH) -> dict[str, Cadence]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    out = {}
    for kind, entry in (doc.get("cadences") or {}).items():
        where = f"{path.name}: cadence {kind!r}"
        warn, fail = _days(entry, "warn_after_days", where), _days(entry, "fail_after_days", where)
        if (warn is None) != (fail is None) or (warn is not None and warn >= fail):
            raise CadenceError(f"{where}: warn_after_days must be below fail_after_days (or both null)")
        hours = entry.get("check_every_hours")
        if not isinstance(hours, int) or hours <= 0:
            raise CadenceError(f"{where}: check_every_hours must be a positive number of hours, got {hours!r}")
        why = " ".join(str(entry.get("why", "")).split())
        out[str(kind)] = Cadence(str(kind), warn, fail, timedelta(hours=hours), why)
    return out


def cadence_of(source) -> Cadence:
    """The :class:`Cadence` of a catalogue :class:`~barometre.catalogue.Source`."""
    cadences = load_cadences()
    kind = cadence_kind(source.cadence)
    if kind not in cadences:
        raise CadenceError(f"catalogue source {source.id}: cadence {source.cadence!r} (read as {kind!r}) is not in "
                           f"{CADENCES_PATH.name}, which knows {sorted(cadences)}")
    return cadences[kind]
