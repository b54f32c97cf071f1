"""A small HTTP client of the service's API (httpx): JSON calls, Server-Sent Event streams, and the
service's errors turned back into the QuarryError (and so the exit code) they stand for."""

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

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
    def __init__(self, url: str, key: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=httpx.Timeout(30.0, read=None),  # a run streams for as long as its own deadline
            transport=transport,
        )

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return self._call("POST", path, json=dict(body) if body is not None else None)

    def events(self, path: str, body: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """POST `body` asking for Server-Sent Events; yields (event, data) pairs as they arrive."""
        try:
            with self._http.stream("POST", path, json=dict(body), headers={"Accept": "text/event-stream"}) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error(response)
                name, data = "message", []
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
                    elif not line and data:
                        yield name, json.loads("\n".join(data))
                        name, data = "message", []
        except httpx.TransportError as exc:
            raise _unreachable(self.url, exc) from None

    def _call(self, method: str, path: str, **options: Any) -> Any:
        try:
            response = self._http.request(method, path, **options)
        except httpx.TransportError as exc:
            raise _unreachable(self.url, exc) from None
        if response.status_code >= 400:
            raise _error(response)
        return response.json()

    def close(self) -> None:
        self._http.close()

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


def _error(response: httpx.Response) -> QuarryError:
    try:
        detail = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        detail = response.text[:200] or response.reason_phrase
    status = response.status_code
    message = f"server answered {status}: {detail}"
    if status == 429:
        return TooManyAuthFailures(message, retry_after=int(response.headers.get("retry-after", "60")))
    return _ERRORS.get(status, ServiceError)(message)


def _unreachable(url: str, exc: httpx.TransportError) -> ServiceUnreachable:
    return ServiceUnreachable(f"cannot reach the Quarry server at {url}: {exc} (check {URL_ENV}, or unset it)")
