"""A small HTTP client of the service's API: JSON calls, Server-Sent Event streams, and the
service's errors turned back into the QuarryError (and so the exit code) they stand for.

It uses the standard library's http.client rather than httpx: importing httpx costs 0.1–0.3 s on
this machine (its package import loads its own command line, with click, rich and pygments), which
is most of the client's cold-start budget (bench/bench_service.py), and one connection doing
one request at a time needs nothing httpx adds.
"""

import http.client
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from quarry.errors import (
    AuthenticationFailed,
    BudgetSpent,
    Forbidden,
    InvalidInput,
    NotFound,
    QuarryError,
    RequestTooLarge,
    ServiceError,
    ServiceUnreachable,
    TooManyAuthFailures,
    UsageError,
)

URL_ENV = "QUARRY_URL"
KEY_ENV = "QUARRY_API_KEY"
READ_TIMEOUT_S = 600.0
"""A stream waits this long for its next event (a run streams within its own deadline)."""
_ERRORS: dict[int, type[QuarryError]] = {
    400: UsageError,
    401: AuthenticationFailed,
    402: BudgetSpent,
    403: Forbidden,
    404: NotFound,
    413: RequestTooLarge,
    422: InvalidInput,
    503: ServiceUnreachable,
}


class RemoteClient:
    def __init__(self, url: str, key: str) -> None:
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{URL_ENV} '{url}' is not an http:// or https:// URL (e.g. http://127.0.0.1:8080)")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Authorization": f"Bearer {key}", "User-Agent": "quarry-cli"}
        self._conn: http.client.HTTPConnection | None = None

    def get(self, path: str, **params: Any) -> Any:
        query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        return self._json("GET", f"{path}?{query}" if query else path, None)

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return self._json("POST", path, body)

    def events(self, path: str, body: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """POST `body` asking for Server-Sent Events; yields (event, data) pairs as they arrive."""
        response = self._send("POST", path, body, accept="text/event-stream")
        if response.status >= 400:
            raise _error(response.status, response.read(), response.getheader("retry-after"))
        name, data = "message", []
        try:
            while raw := response.readline():
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif not line and data:
                    yield name, json.loads("\n".join(data))
                    name, data = "message", []
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from None

    def _json(self, method: str, path: str, body: Mapping[str, Any] | None) -> Any:
        response = self._send(method, path, body, accept="application/json")
        payload = response.read()
        if response.status >= 400:
            raise _error(response.status, payload, response.getheader("retry-after"))
        return json.loads(payload)

    def _send(self, method: str, path: str, body: Mapping[str, Any] | None, *, accept: str) -> http.client.HTTPResponse:
        headers = {**self._headers, "Accept": accept}
        data = None
        if body is not None:
            data = json.dumps(dict(body)).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn = self._connection()
            conn.request(method, self._prefix + path, body=data, headers=headers)
            return conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise self._unreachable(exc) from None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = kind(self._host, self._port, timeout=READ_TIMEOUT_S)
        return self._conn

    def _unreachable(self, exc: BaseException) -> ServiceUnreachable:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return ServiceUnreachable(
            f"cannot reach the Quarry server at {self.url}: {reason} (check {URL_ENV}, or unset it)"
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "RemoteClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remote_from_environment(environ: Mapping[str, str] | None = None) -> RemoteClient | None:
    """A client when both QUARRY_URL and QUARRY_API_KEY are set; None to run in-process."""
    env = os.environ if environ is None else environ
    url, key = env.get(URL_ENV, "").strip(), env.get(KEY_ENV, "").strip()
    if not url and not key:
        return None
    if not url or not key:
        missing = URL_ENV if not url else KEY_ENV
        raise UsageError(f"{missing} is not set: set both {URL_ENV} and {KEY_ENV} to use a server, or neither")
    return RemoteClient(url, key)


def _error(status: int, payload: bytes, retry_after: str | None) -> QuarryError:
    try:
        detail = json.loads(payload)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        detail = payload.decode("utf-8", "replace")[:200] or f"HTTP {status}"
    message = f"server answered {status}: {detail}"
    if status == 429:
        return TooManyAuthFailures(message, retry_after=int(retry_after or 60))
    return _ERRORS.get(status, ServiceError)(message)
