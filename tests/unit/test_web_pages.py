"""`quarry ingest URL` against a web site on loopback: the page read as HTML with the URL as its source,
and each guard's refusal (private address, redirects, size, content type, unreachable host)."""

from collections.abc import Iterator

import pytest

from quarry.corpus.documents import ReadOptions
from quarry.corpus.loaders import Refusal
from quarry.corpus.metadata import SourceDocument
from quarry.corpus.web import MAX_REDIRECTS, load_urls
from tests.support.document_files import page_html
from tests.support.fakes.web_site import WebSite

DEFAULTS = {"domain": "oceans", "access": ["public"]}
PAGE = page_html(
    "Harbour office",
    [("Sampling", "The harbour office samples the water every Thursday.")],
    author="Per Lund",
    published="2024-04-02T09:00:00Z",
).encode()


@pytest.fixture
def site() -> Iterator[WebSite]:
    web = WebSite(
        pages={
            "/harbour": (200, "text/html; charset=utf-8", PAGE, {}),
            "/moved": (301, "text/html", b"", {"location": "/harbour"}),
            "/loop": (302, "text/html", b"", {"location": "/loop"}),
            "/report.pdf": (200, "application/pdf", b"%PDF-1.7", {}),
            "/huge": (200, "text/html", b"<p>x</p>", {"content-length": "99999999"}),
        }
    ).start()
    yield web
    web.stop()


def fetch(url: str, *, allow_private: bool = True, max_bytes: int = 1_000_000) -> SourceDocument | Refusal:
    [result] = list(
        load_urls([url], defaults=DEFAULTS, options=ReadOptions(), max_bytes=max_bytes, allow_private=allow_private)
    )
    return result


def test_a_page_is_fetched_and_read_with_its_url_as_source(site):
    document = fetch(site.url("/moved"))
    assert isinstance(document, SourceDocument)
    assert document.metadata.source == site.url("/moved") and document.label == site.url("/moved")
    assert (document.metadata.title, document.metadata.author) == ("Harbour office", "Per Lund")
    assert "every Thursday" in document.text and "Home" not in document.text
    assert document.sections[-1][1] == "Harbour office › Sampling"
    assert site.requested == ["/moved", "/harbour"]


def test_loopback_is_refused_unless_allowed(site):
    url = site.url("/harbour")
    assert fetch(url, allow_private=False) == Refusal(
        url,
        "'127.0.0.1' resolves to 127.0.0.1, a loopback address: not fetched "
        "(pass --allow-private-urls to fetch from your own network)",
    )
    assert site.requested == [], "nothing is sent to a refused address"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/loop", f"more than {MAX_REDIRECTS} redirects"),
        ("/report.pdf", "is application/pdf, not an HTML page (save it and ingest the file)"),
        (
            "/huge",
            "is 99,999,999 bytes or more, over the 1,000,000-byte limit (raise ingest.max_document_bytes in config.yaml)",
        ),
        ("/missing", "the server answered HTTP 404"),
    ],
)
def test_guards_refuse_in_one_line(site, path, reason):
    assert fetch(site.url(path)) == Refusal(site.url(path), reason)


def test_an_unresolvable_host_is_one_line():
    result = fetch("http://no-such-host.invalid/page")
    assert isinstance(result, Refusal)
    assert result.reason.startswith("cannot fetch: the host 'no-such-host.invalid' does not resolve (")
