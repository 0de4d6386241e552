"""The one HTTP client of the pipeline: a shared ``requests.Session`` that survives the network.

Everything that leaves the machine goes through :class:`HttpClient`:

- retries with exponential backoff and jitter (``urllib3.util.Retry``) on connection errors, read
  timeouts, 429 and 5xx, honouring ``Retry-After`` (capped, so a server cannot park the run for
  hours); a 429 without ``Retry-After`` waits a whole quota minute; no home-made retry loop;
- connect and read timeouts, a descriptive User-Agent;
- an optional per-host rate limit (INSEE's APIs allow 30 requests per minute), by
  ``requests-ratelimiter`` (a sliding window: at most 30 requests in any 60 s): one slot per
  request the pipeline makes; urllib3's retries of that request happen below the limiter and take
  no slot (hence the minute's wait after a 429);
- fail fast where a 500 means "no such thing": on a route of ``HttpSettings.fail_fast_routes``
  (Melodi's ``/melodi/data/``, where an unknown data set answers 500) a 500 is retried once;
- ``BAROMETRE_MIRROR``: ``https://HOST/PATH`` is fetched from ``$BAROMETRE_MIRROR/HOST/PATH``
  (mirrors, air-gapped installs, tests).

What to do with a response (conditional GET, checksums, landing on disk) is
:mod:`barometre.landing`'s job; this module only moves bytes and says clearly what failed, always
naming the URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests_ratelimiter import LimiterAdapter
from urllib3.exceptions import (ConnectTimeoutError, MaxRetryError, NameResolutionError, NewConnectionError,
                                ProtocolError, ReadTimeoutError, ResponseError)
from urllib3.util import Retry

try:
    _VERSION = version("barometre-cohesion")
except PackageNotFoundError:  # running from a source tree that was not installed
    _VERSION = "0"

DEFAULT_USER_AGENT = (f"barometre-cohesion/{_VERSION} (Barometre de la cohesion des territoires, open-data pipeline; "
                      f"python-requests/{requests.__version__})")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# INSEE documents a quota of 30 requests per minute for Melodi and the BDM (a 429 beyond it).
DEFAULT_RATE_LIMITS = {"api.insee.fr": 30.0, "bdm.insee.fr": 30.0}
QUOTA_WINDOW = 60.0  # seconds a 429 without Retry-After waits before its retry (capped by retry_after_max)
# Routes (host + path prefix, matched through a mirror too) where a 500 is retried once only: an
# unknown or renamed Melodi data set answers 500 since 2026, and retrying it four times only delays
# the error that names it.
FAIL_FAST_ROUTES = ("api.insee.fr/melodi/data/",)


class FetchError(RuntimeError):
    """A download failed; the message names the URL (and the mirror URL when one was used)."""

    def __init__(self, url: str, reason: str, *, fetched_url: str | None = None, status: int | None = None):
        self.url, self.reason, self.fetched_url, self.status = url, reason, fetched_url, status
        where = url if not fetched_url or fetched_url == url else f"{url} (fetched from {fetched_url})"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class HttpSettings:
    """How patient the client is. Defaults suit the publishers; tests shrink every delay."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 4
    backoff_factor: float = 1.0     # sleeps 0, 2, 4, 8 … × factor between attempts (urllib3 2.x)
    backoff_jitter: float = 1.0     # + uniform(0, jitter) seconds
    backoff_max: float = 60.0
    retry_after_max: float = 120.0  # a longer Retry-After is shortened to this; a 429 without one waits
                                    # min(QUOTA_WINDOW, retry_after_max)
    rate_limits: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))  # per rate_window
    rate_window: float = QUOTA_WINDOW  # seconds of the rate limits' sliding window (tests shrink it)
    fail_fast_routes: tuple[str, ...] = FAIL_FAST_ROUTES
    mirror: str | None = None


def mirror_url(url: str, mirror: str | None) -> str:
    """``https://HOST/PATH?QUERY`` → ``MIRROR/HOST/PATH?QUERY`` (unchanged without a mirror).

    >>> mirror_url("https://unpkg.com/a@1/data/x.json", "http://127.0.0.1:8000/")
    'http://127.0.0.1:8000/unpkg.com/a@1/data/x.json'
    """
    if not mirror:
        return url
    parts = urlsplit(url)
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{mirror.rstrip('/')}/{parts.netloc}{rest}"


class _CappedRetry(Retry):
    """``Retry`` with the pipeline's waits after a refusal (the subclass made per client sets
    ``retry_after_cap`` to ``HttpSettings.retry_after_max``):

    - a ``Retry-After`` is honoured up to ``retry_after_cap`` seconds. Not urllib3's own
      ``retry_after_max`` (an instance attribute since urllib3 2.6.3, 6 hours by default, set by
      ``Retry.__init__``: a class attribute of that name would be shadowed);
    - a 429 without ``Retry-After`` waits ``min(QUOTA_WINDOW, retry_after_cap)`` rather than the
      short backoff: the quotas the pipeline meets are per minute, and a retry does not go through
      the rate limiter (it is made inside ``urlopen``, below ``HTTPAdapter.send``), so retrying
      within the same minute would only spend the attempts.

    The error that ends a request (``MaxRetryError``, or the error itself when it may not be
    retried, e.g. a POST's read timeout) gets an ``attempts`` attribute: how many requests were
    actually sent, for :meth:`HttpClient._explain`.
    """

    retry_after_cap: float = 120.0
    fail_fast_routes: tuple[str, ...] = ()

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        if seconds is None:
            return min(QUOTA_WINDOW, self.retry_after_cap) if response.status == 429 else None
        return min(seconds, self.retry_after_cap)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if (response is not None and response.status == 500 and any(h.status == 500 for h in self.history)
                and self._fail_fast(url, _pool)):
            # The second 500 on a fail-fast route ends the retries: urllib3 returns the response.
            exc = MaxRetryError(_pool, url, ResponseError("HTTP 500 twice on a fail-fast route"))
            exc.attempts = len(self.history) + 1
            raise exc
        try:
            return super().increment(method, url, response=response, error=error, _pool=_pool,
                                     _stacktrace=_stacktrace)
        except Exception as exc:
            exc.attempts = len(self.history) + 1  # one history entry per earlier failed attempt
            raise

    def _fail_fast(self, url: str | None, pool) -> bool:
        where = f"{getattr(pool, 'host', '')}{url or ''}" if (url or "").startswith("/") else (url or "")
        where = where.split("://", 1)[-1]
        return any(route in where for route in self.fail_fast_routes)


def build_retry(settings: HttpSettings) -> Retry:
    retry_class = type("CappedRetry", (_CappedRetry,), {"retry_after_cap": settings.retry_after_max,
                                                         "fail_fast_routes": tuple(settings.fail_fast_routes)})
    return retry_class(
        total=settings.retries, connect=settings.retries, read=settings.retries, status=settings.retries,
        other=0, backoff_factor=settings.backoff_factor, backoff_jitter=settings.backoff_jitter,
        backoff_max=settings.backoff_max, status_forcelist=RETRY_STATUSES, allowed_methods={"GET", "HEAD"},
        respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=True,
    )


def build_session(settings: HttpSettings) -> requests.Session:
    """A session whose requests to a host of ``settings.rate_limits`` go through a
    ``requests_ratelimiter.LimiterAdapter`` (at most N requests in any ``rate_window`` seconds,
    waiting for a slot), the others through a plain adapter; both retry with :func:`build_retry`."""
    session = requests.Session()
    retry = build_retry(settings)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    for host, limit in settings.rate_limits.items():
        if not limit:
            continue
        # per_second × burst requests per burst seconds: Rate(limit, rate_window) in pyrate-limiter.
        limited = LimiterAdapter(per_second=limit / settings.rate_window, burst=settings.rate_window, per_host=True,
                                 max_retries=retry)
        for scheme in ("https", "http"):  # the host alone, or with a port
            session.mount(f"{scheme}://{host}/", limited)
            session.mount(f"{scheme}://{host}:", limited)
    session.headers["User-Agent"] = settings.user_agent
    return session


class HttpClient:
    """One session for the whole run (connection reuse, one rate limiter per host)."""

    def __init__(self, settings: HttpSettings | None = None):
        self.settings = settings or HttpSettings()
        self.session = build_session(self.settings)

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> requests.Response:
        """GET ``url`` (through the mirror if configured), streamed: the caller reads the body.

        Returns the final response whatever its status (the caller decides what a 304 or a 404
        means); raises :class:`FetchError` when no response came back after the retries.
        """
        fetched = mirror_url(url, self.settings.mirror)
        try:
            return self.session.get(fetched, headers=dict(headers or {}), stream=True,
                                    timeout=(self.settings.connect_timeout, self.settings.read_timeout))
        except requests.exceptions.RequestException as exc:
            raise FetchError(url, self._explain(exc), fetched_url=fetched) from None

    def head(self, url: str, headers: Mapping[str, str] | None = None) -> requests.Response:
        """HEAD ``url`` (through the mirror if configured): the headers without the body, e.g. to
        compare a source's ``ETag`` / ``Last-Modified`` with the landed copy's. Same retries,
        timeouts, rate limit and errors as :meth:`get`."""
        fetched = mirror_url(url, self.settings.mirror)
        try:
            return self.session.head(fetched, headers=dict(headers or {}), allow_redirects=True,
                                     timeout=(self.settings.connect_timeout, self.settings.read_timeout))
        except requests.exceptions.RequestException as exc:
            raise FetchError(url, self._explain(exc), fetched_url=fetched) from None

    def post_json(self, url: str, payload: object) -> requests.Response:
        """POST ``payload`` as JSON to ``url`` (an alert webhook): never through the mirror, which
        stands for the publishers, and not retried once the request was sent (no duplicate
        alert); a connection that cannot be opened is retried like any other."""
        try:
            return self.session.post(url, json=payload,
                                     timeout=(self.settings.connect_timeout, self.settings.read_timeout))
        except requests.exceptions.RequestException as exc:
            raise FetchError(url, self._explain(exc)) from None

    def _explain(self, exc: requests.exceptions.RequestException) -> str:
        """One line saying what failed and after how many attempts (when requests were sent).

        Never an exception's own text beyond a known cause: it may quote the URL, whose path and
        query can be a secret (the alert webhook's token)."""
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                            requests.exceptions.InvalidSchema)):
            return f"invalid URL ({type(exc).__name__}), no request sent"
        reason = exc.args[0] if exc.args else exc
        inner = getattr(reason, "reason", None) or reason  # urllib3's MaxRetryError.reason
        count = getattr(reason, "attempts", None)
        attempts = "" if count is None else f" after {count} attempt{'' if count == 1 else 's'}"
        if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(inner, ReadTimeoutError):
            return f"read timeout ({self.settings.read_timeout:g} s without data){attempts}"
        if isinstance(inner, NameResolutionError):  # a NewConnectionError: tested first
            return f"cannot resolve the host name{attempts}"
        if isinstance(inner, NewConnectionError):  # a subclass of ConnectTimeoutError in urllib3 2
            cause = "connection refused" if "refused" in str(inner).lower() else str(inner).split(": ", 1)[-1]
            return f"cannot connect ({cause}){attempts}"
        if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(inner, ConnectTimeoutError):
            return f"connection timed out ({self.settings.connect_timeout:g} s){attempts}"
        if isinstance(inner, ProtocolError):
            return f"connection broken ({inner.args[0] if inner.args else type(inner).__name__}){attempts}"
        return f"request failed{attempts} ({type(inner).__name__})"

    def close(self) -> None:
        self.session.close()
