"""The peer: LangChain's EnsembleRetriever (BM25Retriever + in-memory vector store, equal weights)
over the same chunks and the same stored embeddings. Optional: `pip install -e .[peer]`."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

PEER_NAME = "langchain_ensemble"


class StoredVectors(Embeddings):
    """Hands the peer the vectors Quarry stored and the query vectors Quarry computed, so both sides
    rank with identical embeddings and neither pays for embedding inside the timed call."""

    def __init__(self, by_text: dict[str, list[float]]) -> None:
        self.by_text = by_text
        self.queries: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.by_text[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.queries[text]


def build_peer(
    chunks: Sequence[Mapping[str, Any]], vectors: Sequence[npt.NDArray[np.floating[Any]]], k: int
) -> tuple[BaseRetriever, StoredVectors]:
    """`chunks`: dicts with text and document_id. Returns (retriever, embeddings) or raises ImportError."""
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever
    from langchain_core.vectorstores import InMemoryVectorStore

    texts = [c["text"] for c in chunks]
    metadatas = [{"document_id": c["document_id"]} for c in chunks]
    embeddings = StoredVectors({t: list(map(float, v)) for t, v in zip(texts, vectors)})
    store = InMemoryVectorStore(embedding=embeddings)
    store.add_texts(texts, metadatas=metadatas)
    bm25 = BM25Retriever.from_texts(texts, metadatas=metadatas, k=k)
    ensemble = EnsembleRetriever(retrievers=[bm25, store.as_retriever(search_kwargs={"k": k})], weights=[0.5, 0.5])
    return ensemble, embeddings
