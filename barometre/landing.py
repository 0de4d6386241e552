"""Where source files come from: the bundled snapshot, or the publishers' live endpoints.

The pipeline reads every source file through a :class:`SourceStore`, by its *logical path* (the
path of the bundled copy under ``data/snapshot/``, e.g. ``barometre_2018/baro.csv``), and hands
the bytes to the pure parsers of :mod:`barometre.sources`. Which files come from where is
chosen once, by ``BAROMETRE_SOURCES`` (:func:`live_source_ids`):

- ``snapshot`` (default): every file from ``data/snapshot/`` (:class:`SnapshotStore`);
- ``live``: every source that has a live endpoint is downloaded from its publisher, the others
  come from the snapshot;
- ``live:src_a,src_b``: only those sources are downloaded.

Each source declares its live endpoint once, in the catalogue (``live`` block of
``catalogue.yaml``, read by :func:`live_registry`): URL template, format, parser when the live
format differs from the snapshot's, published checksum, or why it stays snapshot-only.

A live file is *landed* by :class:`Landing` under ``data/landing/<source>/<version>/``: downloaded
with the shared client of :mod:`barometre.http` to a temporary file, checked (HTTP status,
Content-Length, published checksum, not an HTML error page, readable as its declared format),
then renamed atomically over the previous copy. A failed or partial download never replaces the
last good file. A conditional GET (``If-None-Match`` / ``If-Modified-Since``) that answers 304
reuses the landed file. Every file read is recorded for ``mart.sources`` (:meth:`SourceStore.describe`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import itertools
import json
import os
import re
import tempfile
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from barometre.http import FetchError, HttpClient, HttpSettings, mirror_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SNAPSHOT_DIR = PROJECT_ROOT / "data" / "snapshot"
DEFAULT_LANDING_DIR = PROJECT_ROOT / "data" / "landing"

SNAPSHOT = "snapshot"
LIVE = "live"
FORMATS = ("csv", "txt", "json", "topojson", "xml", "xls", "xlsx", "zip")
# Binary formats: their bytes are handed to the parser as they are, checked only by their signature.
BINARY_SIGNATURES = {"xlsx": b"PK\x03\x04", "zip": b"PK\x03\x04", "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"}
_ACCEPT = {
    "csv": "text/csv, text/plain;q=0.9, */*;q=0.1",
    "txt": "text/plain, */*;q=0.1",
    "json": "application/json, */*;q=0.1",
    "topojson": "application/json, */*;q=0.1",
    "xml": "application/xml, text/xml;q=0.9, */*;q=0.1",
    "xls": "application/vnd.ms-excel, application/octet-stream;q=0.9, */*;q=0.1",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, application/octet-stream;q=0.9, */*;q=0.1",
    "zip": "application/zip, application/octet-stream;q=0.9, */*;q=0.1",
}
_CHUNK = 1 << 16
MELODI_MAX_RESULT = 100_000  # the largest page (maxResult) Melodi serves


class MissingSourceFile(FileNotFoundError):
    pass


class LiveConfigError(ValueError):
    """``BAROMETRE_SOURCES`` or a catalogue ``live`` block is wrong."""


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# The bundled snapshot
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SnapshotStore:
    root: Path = DEFAULT_SNAPSHOT_DIR

    def read(self, relative_path: str) -> bytes:
        path = Path(self.root) / relative_path
        if not path.is_file():
            raise MissingSourceFile(f"source file {relative_path} not found in snapshot {self.root}")
        return path.read_bytes()

    def glob(self, pattern: str) -> list[str]:
        """Relative paths matching ``pattern`` (e.g. ``barometre_2018/carte_*.csv``), sorted."""
        root = Path(self.root)
        return sorted(str(p.relative_to(root)) for p in root.glob(pattern) if p.is_file())


# --------------------------------------------------------------------------------------------
# The registry of live endpoints (catalogue ``live`` blocks)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LiveFile:
    """One file of a source as its publisher serves it."""

    source_id: str
    path: str                      # logical path: the snapshot file it stands for
    url: str                       # the publisher's URL (before any mirror)
    format: str                    # csv | txt | json | topojson | xml | xls | xlsx | zip
    encoding: str = "utf-8"        # of csv / txt bodies
    version: str = "latest"        # landing sub-folder: a release number, or "latest"
    parser: str | None = None      # "module:function" when the live format differs from the snapshot's
    sha1: str | None = None        # checksum published by the producer, when there is one
    sha256: str | None = None
    snapshot_copy: bool = False    # the bundled snapshot file is a copy of this URL (gzip aside)
    paging: str | None = None      # "melodi": the count, then the pages by number (Landing._land_melodi)
    page_size: int | None = None   # observations per page (maxResult), at most Melodi's 100,000

    @property
    def filename(self) -> str:
        name = PurePosixPath(urlsplit(self.url).path).name or "index"
        return name if "." in name else f"{name}.{self.format}"


@dataclass(frozen=True)
class LiveSource:
    source_id: str
    status: str                    # "live" or "snapshot-only"
    why: str | None
    endpoint: str | None
    format: str | None
    files: tuple[LiveFile, ...] = ()


def _expand(entry: Mapping[str, Any], source: Any) -> list[dict[str, str]]:
    """Bindings of the template variables of one ``files`` entry: ``{name}`` over ``names``,
    ``{vintage}`` and ``{version}`` over the source's ``vintages`` (year → release)."""
    axes: list[list[dict[str, str]]] = []
    if "names" in entry:
        axes.append([{"name": str(n)} for n in entry["names"]])
    text = " ".join(str(entry.get(k, "")) for k in ("path", "url", "version"))
    if "{vintage}" in text or "{version}" in text:
        vintages = source.extra.get("vintages")
        if not vintages:
            raise LiveConfigError(f"source {source.id}: live template uses {{vintage}} but the source has no vintages")
        axes.append([{"vintage": str(y), "version": str(v)} for y, v in sorted(vintages.items())])
    return [dict(itertools.chain.from_iterable(d.items() for d in combo)) for combo in itertools.product(*axes)]


def live_registry(catalogue) -> dict[str, LiveSource]:
    """Every source's live declaration, templates expanded; refuses an inconsistent block."""
    out = {}
    for src in catalogue.sources:
        block = src.extra.get("live")
        where = f"catalogue source {src.id}: live"
        if not isinstance(block, Mapping):
            raise LiveConfigError(f"{where}: missing (declare status: live with files, or status: snapshot-only with why)")
        status = block.get("status")
        if status not in (LIVE, "snapshot-only"):
            raise LiveConfigError(f"{where}: status must be 'live' or 'snapshot-only', got {status!r}")
        files = []
        for entry in block.get("files") or []:
            for binding in _expand(entry, src):
                def fill(key: str, default: str | None = None) -> str | None:
                    value = entry.get(key, default)
                    return None if value is None else str(value).format(**binding)
                fmt = entry.get("format")
                if fmt not in FORMATS:
                    raise LiveConfigError(f"{where}: format {fmt!r} not in {FORMATS}")
                if entry.get("parser"):
                    load_parser(entry["parser"])  # a typo fails here, not in the middle of a run
                paging, page_size = entry.get("paging"), entry.get("page_size")
                if paging not in (None, "melodi"):
                    raise LiveConfigError(f"{where}: paging must be 'melodi' or absent, got {paging!r}")
                if page_size is not None and not (paging and isinstance(page_size, int)
                                                  and 0 < page_size <= MELODI_MAX_RESULT):
                    raise LiveConfigError(f"{where}: page_size needs paging: melodi and is 1 … {MELODI_MAX_RESULT} "
                                          f"(Melodi's largest maxResult), got {page_size!r}")
                files.append(LiveFile(
                    source_id=src.id, path=fill("path"), url=fill("url"), format=fmt,
                    encoding=entry.get("encoding", "utf-8"), version=fill("version", "latest"),
                    parser=entry.get("parser"), sha1=entry.get("sha1"), sha256=entry.get("sha256"),
                    snapshot_copy=bool(entry.get("snapshot_copy", False)), paging=paging,
                    page_size=page_size if paging is None else (page_size or MELODI_MAX_RESULT),
                ))
        if status == LIVE and not files:
            raise LiveConfigError(f"{where}: status live but no files")
        if status != LIVE and (files or not block.get("why")):
            raise LiveConfigError(f"{where}: a snapshot-only source has no files and says why")
        paths = [f.path for f in files]
        if len(set(paths)) != len(paths):
            raise LiveConfigError(f"{where}: duplicated paths")
        out[src.id] = LiveSource(src.id, status, block.get("why"), block.get("endpoint"), block.get("format"),
                                 tuple(files))
    return out


def live_source_ids(value: str | None, registry: Mapping[str, LiveSource]) -> frozenset[str]:
    """Parse ``BAROMETRE_SOURCES``: ``snapshot`` (default), ``live`` or ``live:src_a,src_b``."""
    value = (value or SNAPSHOT).strip()
    live_capable = sorted(s for s, d in registry.items() if d.status == LIVE)
    if value == SNAPSHOT:
        return frozenset()
    if value == LIVE:
        return frozenset(live_capable)
    if value.startswith(f"{LIVE}:"):
        wanted = [s.strip() for s in value[len(LIVE) + 1:].split(",") if s.strip()]
        unknown = [s for s in wanted if s not in registry]
        if unknown:
            raise LiveConfigError(f"BAROMETRE_SOURCES={value!r}: unknown source(s) {unknown}; "
                                  f"sources with a live endpoint: {live_capable}")
        offline = [s for s in wanted if s not in live_capable]
        if offline:
            raise LiveConfigError(f"BAROMETRE_SOURCES={value!r}: {offline} have no live endpoint "
                                  f"(snapshot-only, see docs/sources.md); sources with one: {live_capable}")
        if wanted:
            return frozenset(wanted)
    raise LiveConfigError(f"BAROMETRE_SOURCES={value!r}: expected 'snapshot', 'live' or 'live:source_a,source_b'")


# --------------------------------------------------------------------------------------------
# Landing live files on disk
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LandedFile:
    """A file as landed, with what the server said about it (the ``.meta.json`` sidecar)."""

    source_id: str
    path: str
    url: str
    fetched_url: str
    local_path: str
    retrieved_at: str
    http_status: int
    etag: str | None
    last_modified: str | None
    bytes: int
    sha256: str
    session: str


class Landing:
    """Lands live files under ``root/<source>/<version>/<file>`` with a ``<file>.meta.json``."""

    def __init__(self, root: str | os.PathLike, client: HttpClient):
        self.root = Path(root)
        self.client = client

    def target(self, live: LiveFile) -> Path:
        return self.root / live.source_id / live.version / live.filename

    def last_good(self, live: LiveFile) -> LandedFile | None:
        """The landed copy and its metadata, if both are there and agree (same SHA-256)."""
        target = self.target(live)
        meta = _meta_path(target)
        if not (target.is_file() and meta.is_file()):
            return None
        try:
            landed = LandedFile(**json.loads(meta.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            return None
        if landed.url != live.url or landed.sha256 != _file_sha256(target) or landed.local_path != str(target):
            return None
        return landed

    def land(self, live: LiveFile, session: str) -> LandedFile:
        """Download ``live`` unless this session already did; return the landed file.

        Raises :class:`~barometre.http.FetchError` (naming the URL) when the download fails or
        is rejected; the previously landed copy is then left exactly as it was.
        """
        previous = self.last_good(live)
        if previous is not None and previous.session == session:
            return previous
        if live.paging == "melodi":
            return self._land_melodi(live, session)
        headers = {"Accept": _ACCEPT[live.format]}
        if previous is not None:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        response = self.client.get(live.url, headers=headers)
        with response:
            fetched = response.url
            if response.status_code == 304:
                if previous is None:
                    raise FetchError(live.url, "304 Not Modified but no copy was landed before", fetched_url=fetched,
                                     status=304)
                landed = replace(previous, retrieved_at=_now(), http_status=304, session=session, fetched_url=fetched)
                _write_atomic(_meta_path(self.target(live)), json.dumps(asdict(landed), indent=1).encode())
                return landed
            if response.status_code != 200:
                attempts = len(getattr(getattr(response.raw, "retries", None), "history", ()) or ()) + 1
                tried = f" after {attempts} attempts" if attempts > 1 else ""
                raise FetchError(live.url, f"HTTP {response.status_code} {response.reason}{tried}",
                                 fetched_url=fetched, status=response.status_code)
            return self._download(live, response, session)

    def _land_melodi(self, live: LiveFile, session: str) -> LandedFile:
        """A Melodi data set: its count (``totalCount=TRUE&maxResult=0``), then pages 1 … n by
        number (``maxResult=page_size``), landed as one document (:func:`barometre.sources._melodi.assemble`)
        only when every announced observation came back; otherwise a :class:`FetchError`
        naming the data set, and the last good copy stays."""
        from barometre.sources import _melodi

        dataset = _melodi.dataset_id(live.url)
        size = live.page_size or MELODI_MAX_RESULT
        first = self._melodi_page(live, dataset, _with_query(live.url, totalCount="TRUE", maxResult="0"))
        count = (first.get("paging") or {}).get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise FetchError(live.url, f"Melodi data set {dataset}: the answer to totalCount=TRUE has no count "
                                       f"(paging {first.get('paging')!r})", status=200)
        if count == 0:
            raise FetchError(live.url, f"Melodi data set {dataset}: no observation for this query (count 0)",
                             status=200)
        pages, received = [], 0
        for number in range(1, -(-count // size) + 1):
            page = self._melodi_page(live, dataset, _with_query(live.url, maxResult=str(size), page=str(number)))
            pages.append(page)
            got = len(page.get("observations") or [])
            received += got
            if got == 0:
                break
        if received != count:
            raise FetchError(live.url, f"Melodi data set {dataset}: incomplete answer, {received} observations "
                                       f"received in {len(pages)} page(s) of {size}, Melodi announced {count}",
                             status=200)
        body = json.dumps(_melodi.assemble(first, pages, size), ensure_ascii=False).encode("utf-8")
        target = self.target(live)
        target.parent.mkdir(parents=True, exist_ok=True)
        fetched = mirror_url(live.url, self.client.settings.mirror)
        landed = LandedFile(source_id=live.source_id, path=live.path, url=live.url, fetched_url=fetched,
                            local_path=str(target), retrieved_at=_now(), http_status=200, etag=None,
                            last_modified=None, bytes=len(body), sha256=sha256(body), session=session)
        _write_atomic(target, body)
        _write_atomic(_meta_path(target), json.dumps(asdict(landed), indent=1).encode())
        return landed

    def _melodi_page(self, live: LiveFile, dataset: str, url: str) -> dict:
        response = self.client.get(url, headers={"Accept": _ACCEPT["json"]})
        with response:
            if response.status_code != 200:
                attempts = len(getattr(getattr(response.raw, "retries", None), "history", ()) or ()) + 1
                tried = f" after {attempts} attempts" if attempts > 1 else ""
                text = _head(response.raw.read(300, decode_content=True) or b"")
                hint = (" — an unknown or renamed data set answers so (HTTP 500 since 2026, 400 before): check "
                        f"https://api.insee.fr/melodi/catalog/{dataset}" if response.status_code in (400, 404, 500)
                        else "")
                raise FetchError(url, f"Melodi data set {dataset}: HTTP {response.status_code} {response.reason}"
                                      f"{tried} ({text!r}){hint}", fetched_url=response.url,
                                 status=response.status_code)
            try:
                raw = response.content
            except requests.exceptions.RequestException:
                raise FetchError(url, f"Melodi data set {dataset}: incomplete body (connection broken)",
                                 fetched_url=response.url, status=200) from None
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise FetchError(url, f"Melodi data set {dataset}: not a JSON document ({type(exc).__name__}: "
                                  f"{str(exc)[:120]}; starts {_head(raw)!r})", fetched_url=response.url,
                             status=200) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("observations"), list):
            raise FetchError(url, f"Melodi data set {dataset}: not a Melodi answer (no 'observations' list; starts "
                                  f"{_head(raw)!r})", fetched_url=response.url, status=200)
        return doc

    def _download(self, live: LiveFile, response: requests.Response, session: str) -> LandedFile:
        target = self.target(live)
        target.parent.mkdir(parents=True, exist_ok=True)
        fetched = response.url
        content_type = response.headers.get("Content-Type", "")
        if "text/html" in content_type.lower():
            head = response.raw.read(200, decode_content=True) or b""
            raise FetchError(live.url, f"expected {live.format}, got an HTML page (Content-Type {content_type!r}; "
                                       f"starts {_head(head)!r})", fetched_url=fetched, status=200)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            digests = {"sha256": hashlib.sha256(), "sha1": hashlib.sha1()}
            n_bytes = 0
            with os.fdopen(fd, "wb") as out:
                try:
                    for chunk in response.iter_content(_CHUNK):
                        out.write(chunk)
                        n_bytes += len(chunk)
                        for d in digests.values():
                            d.update(chunk)
                except requests.exceptions.RequestException as exc:
                    expected = response.headers.get("Content-Length")
                    size = f" of Content-Length {expected}" if expected else ""
                    raise FetchError(live.url, f"incomplete body: connection broken after {response.raw.tell()} "
                                               f"bytes{size}", fetched_url=fetched,
                                     status=200) from None
            expected = response.headers.get("Content-Length")
            if expected is not None and expected.isdigit() and int(expected) != response.raw.tell():
                raise FetchError(live.url, f"incomplete body: {response.raw.tell()} bytes received, Content-Length "
                                           f"says {expected}", fetched_url=fetched, status=200)
            for algo in ("sha1", "sha256"):
                published = getattr(live, algo)
                if published and digests[algo].hexdigest() != published.lower():
                    raise FetchError(live.url, f"{algo} {digests[algo].hexdigest()} does not match the published "
                                               f"{algo} {published}", fetched_url=fetched, status=200)
            _check_format(tmp, live, fetched)
            landed = LandedFile(
                source_id=live.source_id, path=live.path, url=live.url, fetched_url=fetched, local_path=str(target),
                retrieved_at=_now(), http_status=200, etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"), bytes=n_bytes,
                sha256=digests["sha256"].hexdigest(), session=session,
            )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        _write_atomic(_meta_path(target), json.dumps(asdict(landed), indent=1).encode())
        return landed


def _with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` set in its query string (replacing the same names)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()), safe="*")))


def _meta_path(target: Path) -> Path:
    return target.with_name(target.name + ".meta.json")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _head(raw: bytes) -> str:
    return " ".join(raw[:80].decode("utf-8", errors="replace").split())


_HTML = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)


def _check_format(path: Path, live: LiveFile, fetched: str) -> None:
    """Reject a body that is not what the URL is declared to serve (an HTML error page sent
    with status 200, a truncated JSON document, bytes in the wrong encoding…)."""
    raw = path.read_bytes()
    text_start = raw[:1024].lstrip(b"\xef\xbb\xbf")
    if not raw.strip():
        raise FetchError(live.url, "empty body", fetched_url=fetched, status=200)
    if _HTML.match(text_start):
        raise FetchError(live.url, f"expected {live.format}, got an HTML page (starts {_head(text_start)!r})",
                         fetched_url=fetched, status=200)
    if live.format in BINARY_SIGNATURES:
        if not raw.startswith(BINARY_SIGNATURES[live.format]):
            raise FetchError(live.url, f"body is not a {live.format} file (starts {raw[:8]!r})", fetched_url=fetched,
                             status=200)
        return
    try:
        if live.format in ("json", "topojson"):
            # Bracketed like a JSON document and UTF-8 (a full parse is the parser's job: a
            # truncated body fails here, and on Content-Length, cheaply).
            body = raw.strip()
            if (body[:1], body[-1:]) not in ((b"[", b"]"), (b"{", b"}")):
                raise ValueError(f"does not start and end like a JSON document ({_head(body)!r} … {body[-20:]!r})")
            raw.decode("utf-8")
        elif live.format == "xml":
            ET.fromstring(raw)
        else:
            raw.decode(live.encoding)
    except (UnicodeDecodeError, ValueError, ET.ParseError) as exc:
        what = f"{live.format} ({live.encoding})" if live.format in ("csv", "txt") else live.format
        raise FetchError(live.url, f"body is not valid {what}: {type(exc).__name__}: {str(exc)[:200]}",
                         fetched_url=fetched, status=200) from None


# --------------------------------------------------------------------------------------------
# The store the assets read from
# --------------------------------------------------------------------------------------------

@dataclass
class SourceStore:
    """Reads source files by logical path, from the snapshot or from their landed live copy.

    ``live`` maps the logical paths of the sources switched to live to their :class:`LiveFile`;
    every other path is read from ``snapshot``. Within one ``session`` (a Dagster run), a live
    file is downloaded at most once: later reads reuse the landed copy.
    """

    snapshot: SnapshotStore
    live: Mapping[str, LiveFile] = field(default_factory=dict)
    landing: Landing | None = None
    session: str = field(default_factory=lambda: uuid.uuid4().hex)
    snapshot_retrieved_at: str = ""
    snapshot_urls: Mapping[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return Path(self.snapshot.root)

    def is_live(self, path: str) -> bool:
        return path in self.live

    def land(self, path: str) -> LandedFile:
        if self.landing is None:
            raise LiveConfigError(f"{path} is live but the store has no landing area")
        return self.landing.land(self.live[path], self.session)

    def read(self, path: str) -> bytes:
        if path in self.live:
            return Path(self.land(path).local_path).read_bytes()
        return self.snapshot.read(path)

    def glob(self, pattern: str) -> list[str]:
        live = [p for p in self.live if fnmatch.fnmatchcase(p, pattern)]
        return sorted(set(live) | set(self.snapshot.glob(pattern)))

    def parse(self, path: str, snapshot_parser: Callable[[bytes, str], Any]):
        """Parse ``path`` with ``snapshot_parser``, or with the live file's own parser when its
        live format differs from the snapshot's (declared in the catalogue)."""
        raw = self.read(path)
        live = self.live.get(path)
        if live is None or not live.parser:
            return snapshot_parser(raw, path)
        from barometre.sources._csv import SourceFormatError

        try:
            return load_parser(live.parser)(raw, path)
        except SourceFormatError as exc:
            raise SourceFormatError(f"{exc.file} (landed from {live.url})", exc.column, exc.rule, exc.examples) from exc

    def describe(self, path: str, source_url: str | None = None) -> dict[str, Any]:
        """The ``mart.sources`` facts of one file: where it came from, when, and its bytes."""
        if path in self.live:
            landed = self.land(path)
            return {"path": path, "url": landed.url, "origin": LIVE, "retrieved_at": landed.retrieved_at,
                    "http_status": landed.http_status, "etag": landed.etag, "last_modified": landed.last_modified,
                    "bytes": landed.bytes, "sha256": landed.sha256, "fetched_url": landed.fetched_url}
        raw = self.snapshot.read(path)
        return {"path": path, "url": self.snapshot_urls.get(path, source_url), "origin": SNAPSHOT,
                "retrieved_at": self.snapshot_retrieved_at, "http_status": None, "etag": None, "last_modified": None,
                "bytes": len(raw), "sha256": sha256(raw), "fetched_url": None}


def load_parser(dotted: str) -> Callable[[bytes, str], Any]:
    """``barometre.sources.filosofi:parse_melodi`` → the function (only under barometre.sources)."""
    module, _, name = dotted.partition(":")
    if not module.startswith("barometre.sources.") or not name:
        raise LiveConfigError(f"parser {dotted!r}: expected 'barometre.sources.<module>:<function>'")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise LiveConfigError(f"parser {dotted!r}: {exc}") from None


def open_store(snapshot_dir: str | os.PathLike = DEFAULT_SNAPSHOT_DIR, *, sources: str | None = SNAPSHOT,
               landing_dir: str | os.PathLike | None = None, client: HttpClient | None = None,
               mirror: str | None = None, session: str | None = None, catalogue=None) -> SourceStore:
    """The store for ``BAROMETRE_SOURCES=sources``: snapshot paths, plus the live files of the
    sources switched to live, landed under ``landing_dir`` with ``client`` (a new one, through
    ``mirror`` if given, when not passed)."""
    if catalogue is None:
        from barometre.catalogue import load_catalogue

        catalogue = load_catalogue()
    registry = live_registry(catalogue)
    live_ids = live_source_ids(sources, registry)
    files = [f for s in registry.values() for f in s.files]
    snapshot_urls = {f.path: f.url for f in files if f.snapshot_copy}
    live = {f.path: f for f in files if f.source_id in live_ids}
    landing = None
    if live:
        client = client or HttpClient(HttpSettings(mirror=mirror or None))
        landing = Landing(landing_dir or DEFAULT_LANDING_DIR, client)
    return SourceStore(SnapshotStore(Path(snapshot_dir)), live=live, landing=landing,
                       session=session or uuid.uuid4().hex, snapshot_retrieved_at=catalogue.snapshot_retrieved_at,
                       snapshot_urls=snapshot_urls)
