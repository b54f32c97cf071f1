"""Web pages by URL: `quarry ingest https://…` fetches the page and reads it as a saved HTML file would be
read, with the URL as its `source`.

Guards: http and https only; every address the host resolves to, at the first request and at each
redirect, must be public (no loopback, private, link-local, multicast or reserved address) unless
`allow_private` (`--allow-private-urls`) is set; at most `MAX_REDIRECTS` redirects; a timeout on
connecting and on each read; the body streamed and cut off past the size cap; only an HTML content
type is read. A check made before connecting cannot stop a DNS answer that changes between the
check and the connection (rebinding): keep Quarry away from hostile resolvers, or behind an
egress proxy, when that matters.
"""

import ipaddress
import socket
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from quarry.corpus.documents import ReadOptions
from quarry.corpus.loaders import LoadResult, Refusal
from quarry.corpus.metadata import SourceDocument
from quarry.corpus.metadata_sources import Layer, flag_layer, properties_layer, resolve
from quarry.corpus.readers.html import read_html
from quarry.errors import CorpusError

MAX_REDIRECTS = 5
TIMEOUT_S = 15.0
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class _Refused(Exception):
    """Why a URL is not fetched (the message is the refusal's reason)."""


def is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def load_urls(
    urls: Iterable[str],
    *,
    defaults: Mapping[str, Any],
    options: ReadOptions,
    max_bytes: int,
    allow_private: bool = False,
) -> Iterator[LoadResult]:
    import httpx

    with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, headers={"User-Agent": "quarry-ingest"}) as client:
        for url in urls:
            try:
                body = _fetch(client, url, max_bytes=max_bytes, allow_private=allow_private)
                yield _document(url, body, defaults, options)
            except _Refused as exc:
                yield Refusal(url, str(exc))
            except CorpusError as exc:
                yield Refusal(url, str(exc).removeprefix(f"document '{url}': "))


def _fetch(client: Any, url: str, *, max_bytes: int, allow_private: bool) -> bytes:
    import httpx

    current = url
    for _ in range(MAX_REDIRECTS + 1):
        _check_address(current, allow_private)
        try:
            with client.stream("GET", current) as response:
                if response.is_redirect:
                    current = urljoin(current, response.headers.get("location", ""))
                    continue
                if response.status_code != 200:
                    raise _Refused(f"the server answered HTTP {response.status_code}")
                kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind not in _HTML_TYPES:
                    raise _Refused(f"is {kind or 'of no content type'}, not an HTML page (save it and ingest the file)")
                declared = int(response.headers.get("content-length") or 0)
                if declared > max_bytes:
                    raise _Refused(_too_big(declared, max_bytes))
                body = bytearray()
                for piece in response.iter_bytes():
                    body += piece
                    if len(body) > max_bytes:
                        raise _Refused(_too_big(len(body), max_bytes))
                return bytes(body)
        except httpx.TimeoutException:
            raise _Refused(f"cannot fetch: no answer within {TIMEOUT_S:.0f} s") from None
        except httpx.HTTPError as exc:
            raise _Refused(f"cannot fetch: {type(exc).__name__}: {exc}") from None
    raise _Refused(f"more than {MAX_REDIRECTS} redirects")


def _check_address(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Refused("only http(s) URLs with a host are fetched")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise _Refused(f"cannot fetch: the host '{parts.hostname}' does not resolve ({exc})") from None
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            kind = "loopback" if address.is_loopback else "private or reserved"
            raise _Refused(
                f"'{parts.hostname}' resolves to {address}, a {kind} address: not fetched "
                "(pass --allow-private-urls to fetch from your own network)"
            )


def _document(url: str, body: bytes, defaults: Mapping[str, Any], options: ReadOptions) -> SourceDocument:
    extracted = read_html(body, url)
    props = extracted.properties
    path_name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or urlsplit(url).hostname or url
    layers = [
        flag_layer(options.overrides, overrides=True),
        properties_layer(props),
        Layer(name="URL", values={"source": url}),
        flag_layer(defaults, overrides=False),
        Layer(name="first heading", values={"title": extracted.first_heading}),
        Layer(name="URL path", values={"title": path_name}),
    ]
    resolved = resolve(url, layers, where="the page", looked_in=[props.where], fix="fix the page")
    return SourceDocument(
        id=resolved.metadata.document_id(),
        label=url,
        text=extracted.text,
        metadata=resolved.metadata,
        sections=extracted.sections,
        field_sources=resolved.field_sources,
        notes=("fetched as an HTML page", *extracted.notes),
    )


def _too_big(size: int, limit: int) -> str:
    return f"is {size:,} bytes or more, over the {limit:,}-byte limit (raise ingest.max_document_bytes in config.yaml)"
