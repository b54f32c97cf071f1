"""Opening a citation: the cited passage in its document's context, for a reader allowed to see it."""

from dataclasses import dataclass

from quarry.corpus.filters import Principal
from quarry.corpus.store import DocumentStore
from quarry.errors import PassageUnavailable
from quarry.graph.answer import Citation


@dataclass(frozen=True)
class CitedPassage:
    citation: Citation
    before: str
    cited: str
    """The supporting sentence(s) the citation quotes."""
    after: str
    changed: bool
    """The document was re-ingested since the answer and the offsets no longer hold the cited text;
    `cited` is then the passage as it was cited, and before/after are empty."""


def open_citation(
    store: DocumentStore, citation: Citation, principal: Principal, *, context_chars: int = 400
) -> CitedPassage:
    document = store.document(citation.document_id)
    # A document the reader may not see is reported as missing: its existence is not disclosed.
    if document is None or not set(document.access) & set(principal.groups):
        raise PassageUnavailable(
            f"document {citation.document_id} is not in the corpus any more, or not readable by '{principal.id}'"
        )
    body = document.body
    if body[citation.start_char : citation.end_char] != citation.text:
        return CitedPassage(citation, "", citation.quote or citation.text, "", changed=True)
    # The supporting sentence(s) are what is cited; the rest of the chunk is context.
    start, end = citation.quote_start, citation.quote_end
    before = body[max(0, start - context_chars) : start]
    after = body[end : end + context_chars]
    return CitedPassage(citation, before, body[start:end], after, changed=False)
