"""What a retriever returns: a chunk with the provenance a citation needs."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    document_id: str
    ordinal: int
    title: str
    source: str
    author: str
    domain: str
    published_at: datetime
    start_char: int
    end_char: int
    text: str
    score: float
