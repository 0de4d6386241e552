"""A real HTTP server on 127.0.0.1 for tests: serves a directory (and in-memory files) the way
the publishers do, with scripted faults.

- ``GET`` and ``HEAD``; ``Content-Length``, ``Content-Type`` from the extension (or as put);
- a strong ``ETag`` (SHA-256 of the bytes) and ``Last-Modified`` (file mtime, or the time the
  body was put); ``If-None-Match`` / ``If-Modified-Since`` answer ``304 Not Modified``;
- the query string is ignored to find the file (``/melodi/data/DS_X?GEO=DEP`` serves
  ``melodi/data/DS_X``) but kept in the request log, unless a body was put for that exact query
  (``put("/melodi/data/DS_X?GEO=DEP&page=2", …)``: the pages of a paginated API);
- ``validators = False`` answers without ``ETag`` and ``Last-Modified`` (and never 304), as some
  servers do;
- :meth:`FixtureServer.script` queues responses for one path, consumed one per request before
  the normal behaviour resumes: :class:`Status` (any status, headers, body; e.g. 500, 503 with
  ``Retry-After``, 404), :class:`Delay` (sleep before answering: a read timeout), :class:`Truncate`
  (announce the full ``Content-Length``, send fewer bytes, close), :class:`HtmlPage` (200 with an
  HTML error page).

``free_port()`` gives a port nobody listens on (connection refused). Every request is recorded
in :attr:`FixtureServer.requests` (method, path with query, headers).

Usage::

    with FixtureServer(root) as server:
        server.script("/a/b.csv", Status(500), Status(200))   # 500, then a normal answer
        requests.get(server.url + "/a/b.csv")
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

CONTENT_TYPES = {".csv": "text/csv; charset=utf-8", ".txt": "text/plain", ".json": "application/json",
                 ".topojson": "application/json", ".xml": "application/xml", ".gz": "application/gzip"}
ERROR_PAGE = (b"<!DOCTYPE html>\n<html lang=\"fr\"><head><title>Maintenance</title></head>"
              b"<body><h1>Service temporairement indisponible</h1><p>Le site est en maintenance.</p></body></html>\n")


@dataclass(frozen=True)
class Status:
    """Answer with ``code`` (and ``headers``, ``body``) instead of the file."""

    code: int
    headers: dict = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` before answering normally (longer than the client's read timeout: a
    read timeout)."""

    seconds: float


@dataclass(frozen=True)
class Truncate:
    """Send the headers of the full file but only its first ``keep`` bytes, then close."""

    keep: int


@dataclass(frozen=True)
class HtmlPage:
    """Status 200 with an HTML error page (``content_type`` may lie, as some servers do)."""

    content_type: str = "text/html; charset=utf-8"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict


def free_port() -> int:
    """A local port with nothing listening on it (the connection is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FixtureServer:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else None
        self.files: dict[str, tuple[bytes, str, float]] = {}
        self.scripts: dict[str, list] = {}
        self.requests: list[RecordedRequest] = []
        self.validators = True
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fixture-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FixtureServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def put(self, path: str, body: bytes, content_type: str | None = None) -> None:
        """Serve ``body`` at ``path`` (overrides a file of the root); a new body changes the
        ETag and Last-Modified. A ``path`` with a query serves that exact query only."""
        ctype = content_type or CONTENT_TYPES.get(Path(urlsplit(path).path).suffix, "application/octet-stream")
        key = _norm(path) + (f"?{urlsplit(path).query}" if urlsplit(path).query else "")
        with self.lock:
            previous = self.files.get(key)
            stamp = max(time.time(), previous[2] + 1) if previous else time.time()
            self.files[key] = (body, ctype, stamp)

    def script(self, path: str, *responses) -> None:
        with self.lock:
            self.scripts.setdefault(_norm(path), []).extend(responses)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if _norm(r.path) == _norm(path)]

    def _next_scripted(self, path: str):
        with self.lock:
            queue = self.scripts.get(path)
            return queue.pop(0) if queue else None

    def _lookup(self, path: str, query: str = "") -> tuple[bytes, str, float] | None:
        with self.lock:
            if query and f"{path}?{query}" in self.files:
                return self.files[f"{path}?{query}"]
            if path in self.files:
                return self.files[path]
        if self.root is not None:
            file = (self.root / path.lstrip("/")).resolve()
            if file.is_file() and self.root.resolve() in file.parents:
                ctype = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
                return file.read_bytes(), ctype, file.stat().st_mtime
        return None


def _norm(path: str) -> str:
    return "/" + unquote(urlsplit(path).path).lstrip("/")


def _handler_for(server: FixtureServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, head: bool) -> None:
            server.requests.append(RecordedRequest(self.command, self.path, dict(self.headers)))
            path = _norm(self.path)
            step = server._next_scripted(path)
            try:
                if isinstance(step, Status):
                    return self._send(step.code, step.body, step.headers, head)
                if isinstance(step, HtmlPage):
                    return self._send(200, ERROR_PAGE, {"Content-Type": step.content_type}, head)
                if isinstance(step, Delay):
                    time.sleep(step.seconds)
                found = server._lookup(path, urlsplit(self.path).query)
                if found is None:
                    return self._send(404, b"Not Found\n", {"Content-Type": "text/plain"}, head)
                body, ctype, mtime = found
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                last_modified = formatdate(int(mtime), usegmt=True)
                headers = {"Content-Type": ctype, "ETag": etag, "Last-Modified": last_modified}
                if not server.validators:
                    headers = {"Content-Type": ctype}
                elif self._not_modified(etag, int(mtime)):
                    return self._send(304, b"", headers, head=True)
                if isinstance(step, Truncate):
                    headers["Content-Length"] = str(len(body))
                    return self._send(200, body[: step.keep], headers, head, close=True)
                return self._send(200, body, headers, head)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): fine
                self.close_connection = True

        def _not_modified(self, etag: str, mtime: int) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:
                return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
            ims = self.headers.get("If-Modified-Since")
            if ims:
                try:
                    return mtime <= int(parsedate_to_datetime(ims).timestamp())
                except (TypeError, ValueError):
                    return False
            return False

        def _send(self, code: int, body: bytes, headers: dict, head: bool, close: bool = False) -> None:
            self.send_response(code)
            headers = dict(headers)
            headers.setdefault("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if not head and code != 304:
                self.wfile.write(body)
            self.wfile.flush()

    return Handler
