"""A pooled HTTP client for providers' APIs: requests' behaviour on the wire, without its work
per request.

A `requests.Session` prepares every request anew — hooks, cookies, the environment's proxies
and `.netrc` read again (an `os.environ` walk and three `stat` calls a request), the CA bundle's
path checked on disk — about 0.9 ms of CPU a request on the reference machine, twice what
sending it through urllib3 (requests' own transport) costs. A provider that takes one number
per request (ISMS) pays that once per recipient, in the worker's threads, while the batch's
database work waits for the interpreter lock.

`PooledClient` sends the same requests straight through a urllib3 pool: the same body (form
encoding as requests does it), the same headers (User-Agent, Accept, Accept-Encoding,
Connection), the same certificate check (certifi's bundle, or `REQUESTS_CA_BUNDLE` /
`CURL_CA_BUNDLE`), no retries, and redirects followed as requests follows them (a POST
redirected by 301, 302 or 303 goes on as a GET without its body). Transport failures are raised
as the `requests` exceptions requests would raise, so `http.call` maps them exactly as before.
What the environment decides is read once per host, not once per request: where it gives the
host a proxy or a `.netrc` login, that host's requests go through a `requests.Session` as
before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from urllib.parse import urlencode, urljoin, urlsplit

import certifi
import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from requests.utils import (
    get_encoding_from_headers,
    get_environ_proxies,
    get_netrc_auth,
    select_proxy,
)
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.retry import Retry

# requests' own choices: no retry (HTTPAdapter(max_retries=0) is Retry(0, read=False)), redirects
# followed by the session, at most 30.
NO_RETRY = Retry(0, read=False)
MAX_REDIRECTS = 30
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Answer:
    """What `http.call` reads of an answer, named as requests names it."""

    __slots__ = ("content", "encoding", "headers", "status_code", "url")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes, url: str):
        self.status_code = status_code
        self.headers = CaseInsensitiveDict(headers)
        self.content = content
        self.url = url
        self.encoding = get_encoding_from_headers(self.headers)

    @property
    def text(self) -> str:
        if not self.content:
            return ""
        return str(self.content, self.encoding or "utf-8", errors="replace")


def form_body(data: Mapping[str, object] | None) -> str | None:
    """A form as requests encodes it (`_encode_params`): values that are None are left out,
    anything else is sent as its text, UTF-8 percent-encoded with `+` for a space."""
    if not data:
        return None
    return urlencode([(key, value) for key, value in data.items() if value is not None])


def with_query(url: str, params: Mapping[str, object] | None) -> str:
    """`url` with `params` added to its query string, as requests adds them."""
    query = form_body(params)
    if not query:
        return url
    return f"{url}&{query}" if urlsplit(url).query else f"{url}?{query}"


class PooledClient:
    """Keep-alive connections shared by a batch's threads, `pool_size` per host."""

    def __init__(self, pool_size: int, user_agent: str) -> None:
        self.headers = {
            "User-Agent": user_agent,
            "Accept-Encoding": "gzip, deflate",
            "Accept": "*/*",
            "Connection": "keep-alive",
        }
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        bundle = bundle or certifi.where()
        where = {"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}
        self._pool = urllib3.PoolManager(
            num_pools=4, maxsize=pool_size, block=False, cert_reqs="CERT_REQUIRED", **where
        )
        self._pool_size = pool_size
        self._by_origin: dict[tuple[str, str], requests.Session | None] = {}
        self._lock = threading.Lock()

    def post(self, url: str, data=None, timeout=None):
        return self._send("POST", url, form_body(data), timeout)

    def get(self, url: str, params=None, timeout=None):
        return self._send("GET", with_query(url, params), None, timeout)

    def _send(self, method: str, url: str, body: str | None, timeout):
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._once(method, url, body, connect, read)
            location = answer.headers.get("location")
            if answer.status_code not in REDIRECTS or not location:
                return answer
            url = urljoin(url, location)
            if answer.status_code == 303 or (answer.status_code in (301, 302) and method == "POST"):
                method, body = "GET", None
        raise requests.TooManyRedirects(f"Exceeded {MAX_REDIRECTS} redirects.")

    def _once(self, method: str, url: str, body: str | None, connect, read):
        through_requests = self._session_for(url)
        headers = self.headers
        if body is not None:
            headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        if through_requests is not None:
            return through_requests.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=(connect, read),
                allow_redirects=False,
            )
        try:
            response = self._pool.urlopen(
                method,
                url,
                body=body.encode() if body is not None else None,
                headers=headers,
                redirect=False,
                retries=NO_RETRY,
                timeout=urllib3.Timeout(connect=connect, read=read),
            )
        except MaxRetryError as exc:  # as requests.adapters.HTTPAdapter.send maps them
            reason = exc.reason
            if isinstance(reason, ConnectTimeoutError) and not isinstance(
                reason, NewConnectionError
            ):
                raise requests.ConnectTimeout(exc) from None
            if isinstance(reason, SSLError):
                raise requests.exceptions.SSLError(exc) from None
            raise requests.ConnectionError(exc) from None
        except (ProtocolError, OSError) as exc:
            raise requests.ConnectionError(exc) from None
        except ReadTimeoutError as exc:
            raise requests.ReadTimeout(exc) from None
        except SSLError as exc:
            raise requests.exceptions.SSLError(exc) from None
        except urllib3.exceptions.HTTPError as exc:
            raise requests.RequestException(exc) from None
        return Answer(response.status, response.headers, response.data, url)

    def _session_for(self, url: str) -> requests.Session | None:
        """None when requests would add nothing from the environment for this origin (no
        proxy, no `.netrc` login); else a requests.Session, which does (decided once)."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        try:
            return self._by_origin[origin]
        except KeyError:
            pass
        with self._lock:
            if origin not in self._by_origin:
                session = None
                if select_proxy(url, get_environ_proxies(url)) or get_netrc_auth(url):
                    session = requests.Session()
                    adapter = requests.adapters.HTTPAdapter(
                        pool_connections=4, pool_maxsize=self._pool_size, max_retries=0
                    )
                    session.mount("http://", adapter)
                    session.mount("https://", adapter)
                self._by_origin[origin] = session
            return self._by_origin[origin]
