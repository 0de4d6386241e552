"""Has a live source published a new release? Cheap checks for the source-release sensors.

Each source with a live endpoint declares in the catalogue (``live.release_check``) how to tell
its releases apart without downloading them:

- ``head``: a ``HEAD`` request per file of the source; the release is the set of ``ETag`` (or,
  without one, ``Last-Modified``) values the server answers. A server that sends neither gets a
  ``GET`` of the file instead, and its content digest (SHA-256 of the body) is the evidence: a
  whole download, but only at the source's cadence (the sensor's minimum interval,
  ``check_every_hours`` in ``cadences.yaml``), so a new release is still seen;
- ``melodi_catalog``: INSEE Melodi's catalogue entry of the data set
  (``https://api.insee.fr/melodi/catalog/<DATASET>``, a small JSON document); the release is its
  ``modified`` field;
- ``sdmx_last_observations``: the last observation of every series of a BDM SDMX dataflow
  (``?lastNObservations=1``, a few kilobytes); the release is the set of (series, last period,
  value, status): a new quarter, or a revised last quarter, is a new release.

``latest_version`` (optional, the COG package) is the npm registry's ``latest`` entry of a package
published as immutable versions: a version the catalogue does not list yet is reported, never
ingested on a guess (a COG year needs its vintage and witness population in the catalogue).

Every request goes through :class:`barometre.http.HttpClient` (so ``BAROMETRE_MIRROR`` applies)
with short timeouts and one retry (:func:`check_settings`): a check must end well within a
sensor tick (Dagster's 60 s timeout). There is no overall deadline: the requests of a ``head``
check are made one after another (28 for the CGET tool), so a slow server can push the tick past
the timeout; Dagster then fails the tick and the next one checks again (docs/orchestration.md).
A check that cannot be made raises :class:`ReleaseCheckError` naming the URL and the reason; the
sensor then skips and keeps what it had seen.

The version of a release is the first 16 hex digits of the SHA-256 of its evidence, so the same
files always give the same version (the sensors' run key).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from barometre.http import FetchError, HttpClient, HttpSettings
from barometre.landing import LIVE, LiveConfigError, live_registry

METHODS = ("head", "melodi_catalog", "sdmx_last_observations")


class ReleaseCheckError(RuntimeError):
    """A release check could not be made; the message names the URL and what went wrong."""


@dataclass(frozen=True)
class ReleaseCheck:
    """How to check one source for a new release (from its catalogue ``release_check``)."""

    source_id: str
    method: str
    urls: tuple[str, ...]
    latest_version_url: str | None = None
    known_versions: tuple[str, ...] = ()

    def describe(self) -> str:
        what = {"head": "HEAD", "melodi_catalog": "Melodi catalogue 'modified' of",
                "sdmx_last_observations": "last observations of"}[self.method]
        where = self.urls[0] if len(self.urls) == 1 else f"{len(self.urls)} files ({self.urls[0]} …)"
        return f"{what} {where}"


@dataclass(frozen=True)
class Release:
    """What a check saw: the evidence per URL and the version derived from it."""

    source_id: str
    evidence: Mapping[str, str]          # URL → what the server said (ETag, Last-Modified, modified…)
    label: str                           # one line for people: 'ETag "3f2a…"', 'modified 2025-12-18T12:00:16'
    notes: tuple[str, ...] = field(default=())

    @property
    def version(self) -> str:
        return release_version(self.evidence)

    @property
    def run_key(self) -> str:
        return f"{self.source_id}@{self.version}"


def release_version(evidence: Mapping[str, str]) -> str:
    """16 hex digits of the SHA-256 of the evidence (order-independent)."""
    text = json.dumps(sorted(evidence.items()), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_settings(mirror: str | None = None) -> HttpSettings:
    """Short timeouts and a single retry: a check is cheap or it fails, well inside a sensor tick."""
    return HttpSettings(connect_timeout=5.0, read_timeout=10.0, retries=1, backoff_factor=0.5, backoff_jitter=0.5,
                        backoff_max=5.0, retry_after_max=10.0, mirror=mirror or None)


def release_checks(catalogue) -> dict[str, ReleaseCheck]:
    """The release check of every source that has a live endpoint (the catalogue must declare one)."""
    registry = live_registry(catalogue)
    out = {}
    for source_id, live in registry.items():
        if live.status != LIVE:
            continue
        source = catalogue.source(source_id)
        block = source.extra["live"].get("release_check")
        where = f"catalogue source {source_id}: live.release_check"
        if not isinstance(block, Mapping):
            raise LiveConfigError(f"{where}: missing (a live source says how to detect its releases: "
                                  f"method {' | '.join(METHODS)})")
        method = block.get("method")
        if method not in METHODS:
            raise LiveConfigError(f"{where}: method must be one of {METHODS}, got {method!r}")
        if method == "head":
            if block.get("url"):
                raise LiveConfigError(f"{where}: method head checks the source's own files, it takes no url")
            urls = tuple(dict.fromkeys(f.url for f in live.files))
        else:
            if not block.get("url"):
                raise LiveConfigError(f"{where}: method {method} needs a url")
            urls = (str(block["url"]),)
        latest = block.get("latest_version")
        known = ()
        if latest:
            known = tuple(str(v) for v in (source.extra.get("vintages") or {}).values())
            if not known:
                raise LiveConfigError(f"{where}: latest_version needs the source's vintages (year → version)")
        out[source_id] = ReleaseCheck(source_id, method, urls, latest or None, known)
    return out


def check_release(check: ReleaseCheck, client: HttpClient) -> Release:
    """Ask the publisher (or the mirror) what its current release is; raises :class:`ReleaseCheckError`."""
    if check.method == "head":
        evidence = {url: _head_validator(client, url) for url in check.urls}
        if len(evidence) == 1:
            label = next(iter(evidence.values()))
        else:
            label = f"{len(evidence)} files, release {release_version(evidence)}"
    elif check.method == "melodi_catalog":
        (url,) = check.urls
        doc = _get_json(client, url)
        modified = doc.get("modified") if isinstance(doc, dict) else None
        if not isinstance(modified, str) or not modified.strip():
            raise ReleaseCheckError(f"{url}: the Melodi catalogue entry has no 'modified' date "
                                    f"(keys: {sorted(doc)[:12] if isinstance(doc, dict) else type(doc).__name__})")
        evidence = {url: f"modified {modified.strip()}"}
        label = evidence[url]
    else:
        (url,) = check.urls
        evidence, label = _sdmx_last_observations(client, url)
    notes = (_latest_version_note(check, client),) if check.latest_version_url else ()
    return Release(check.source_id, evidence, label, tuple(n for n in notes if n))


def _head_validator(client: HttpClient, url: str) -> str:
    try:
        response = client.head(url, headers={"Accept": "*/*"})
    except FetchError as exc:
        raise ReleaseCheckError(str(exc)) from None
    with response:
        if response.status_code != 200:
            raise ReleaseCheckError(f"{url}: HEAD answered HTTP {response.status_code} {response.reason}")
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    if etag:
        return f"ETag {etag}"
    if modified:
        return f"Last-Modified {modified}"
    # Neither validator: the content itself tells releases apart (a download per sensor tick).
    return f"SHA-256 {hashlib.sha256(_get(client, url, '*/*')).hexdigest()}"


def _get(client: HttpClient, url: str, accept: str) -> bytes:
    try:
        response = client.get(url, headers={"Accept": accept})
    except FetchError as exc:
        raise ReleaseCheckError(str(exc)) from None
    with response:
        if response.status_code != 200:
            raise ReleaseCheckError(f"{url}: HTTP {response.status_code} {response.reason}")
        try:
            return response.content
        except Exception as exc:  # a body cut short: requests' ChunkedEncodingError, ConnectionError…
            raise ReleaseCheckError(f"{url}: body not received ({type(exc).__name__})") from None


def _get_json(client: HttpClient, url: str) -> Any:
    raw = _get(client, url, "application/json")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReleaseCheckError(f"{url}: not a JSON document ({type(exc).__name__}: {str(exc)[:120]})") from None


def _sdmx_last_observations(client: HttpClient, url: str) -> tuple[dict[str, str], str]:
    from barometre.sources._csv import SourceFormatError
    from barometre.sources._sdmx import observations

    raw = _get(client, url, "application/xml, text/xml;q=0.9, */*;q=0.1")
    try:
        obs = observations(raw, url)
    except SourceFormatError as exc:
        raise ReleaseCheckError(f"{url}: {exc}") from None
    series_columns = [c for c in obs.columns if c not in ("TIME_PERIOD", "OBS_VALUE", "OBS_STATUS")]
    if not series_columns:
        raise ReleaseCheckError(f"{url}: the SDMX series have no attributes (no series key), so their last "
                                f"observations cannot be told apart")
    if obs["TIME_PERIOD"].isna().all():
        raise ReleaseCheckError(f"{url}: no observation of the SDMX answer has a TIME_PERIOD")
    try:
        # The last observation of each series (whether or not the server honoured lastNObservations).
        latest = (obs.sort_values("TIME_PERIOD").groupby(series_columns, dropna=False, sort=True).tail(1))
        evidence = {}
        for values in latest.to_dict("records"):
            series = values.get("IDBANK") or ".".join(str(values[c]) for c in series_columns
                                                      if not c.startswith("TITLE") and values[c] == values[c])
            status = values["OBS_STATUS"] if isinstance(values["OBS_STATUS"], str) else ""
            evidence[f"{url}#{series}"] = f"{values['TIME_PERIOD']} {values['OBS_VALUE']:g} {status}".strip()
        periods = sorted(latest["TIME_PERIOD"].dropna().unique())
        return evidence, f"last period {periods[-1]} over {len(evidence)} series"
    except (KeyError, ValueError, IndexError, TypeError) as exc:  # an answer shaped unlike any seen: skip the tick
        raise ReleaseCheckError(f"{url}: unexpected SDMX answer ({type(exc).__name__}: {str(exc)[:120]})") from None


def _latest_version_note(check: ReleaseCheck, client: HttpClient) -> str | None:
    """A note when the registry's latest version is not in the catalogue (None when it is)."""
    url = check.latest_version_url
    try:
        doc = _get_json(client, url)
    except ReleaseCheckError as exc:
        return f"could not read the latest version ({exc})"
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str):
        return f"{url}: no 'version' field in the registry's answer"
    if version in check.known_versions:
        return None
    return (f"{check.source_id}: version {version} is published ({url}) but the catalogue reads only "
            f"{', '.join(check.known_versions)}; add it to the source's vintages (and the population year of its "
            f"witness commune) to ingest it — the pipeline does not guess a COG year")
