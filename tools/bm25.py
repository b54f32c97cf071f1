"""Lexical retrieval: BM25 (Okapi) over chunk text, filtered before ranking, cached per corpus version.

The only module importing `rank_bm25`. `BM25Okapi` computes the statistics (IDF with its epsilon
floor, document lengths, average length) when the index is built. Scoring does not loop over
documents: an inverted index holds each term's postings and term frequencies, and one numpy pass
computes exactly what `BM25Okapi.get_batch_scores` would for the chunks containing a query term
(every other chunk scores 0); a test pins the two to the same numbers. rank-bm25 defects guarded
here: an empty corpus (ZeroDivisionError), non-positive IDF in tiny corpora (a term in most
documents would make matching documents rank below non-matching ones), and `tokenizer=`, never
passed (it starts a process pool that leaks).

The index persists as an .npz file (no pickle) under the cache directory, named by schema and
corpus version, written atomically; an unreadable or stale file is rebuilt, never fatal.
"""

import json
import os
import tempfile
import threading
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
from rank_bm25 import BM25Okapi

from quarry.corpus import access
from quarry.corpus.db import Database
from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.store import DocumentStore, corpus_version
from quarry.tools.config import Bm25Config
from quarry.tools.hits import Hit
from quarry.tools.text import tokenize

BuildSource = Literal["built", "disk", "memory"]
Int64s = npt.NDArray[np.int64]
Int32s = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Category = TypeVar("Category", bound=Hashable)
_FORMAT = 1
_IDF_FLOOR = 1e-3


@dataclass
class Bm25Index:
    """Postings in CSR form plus per-chunk filter columns, all numpy arrays."""

    version: int
    chunk_ids: Int64s  # int64 [n]
    doc_len: Floats  # float64 [n]
    avgdl: float
    vocab: dict[str, int]
    idf: Floats  # float64 [terms]
    offsets: Int64s  # int64 [terms + 1]
    positions: Int32s  # int32 [postings]
    tfs: Floats  # float64 [postings]
    access_id: Int32s  # int32 [n] → access_sets
    tags_id: Int32s  # int32 [n] → tag_sets
    domain_id: Int32s  # int32 [n] → domains
    author_id: Int32s  # int32 [n] → authors
    published: Floats  # float64 [n] epoch seconds
    access_sets: list[frozenset[str]]
    tag_sets: list[frozenset[str]]
    domains: list[str]
    authors: list[str]

    @property
    def size(self) -> int:
        return len(self.chunk_ids)


class Bm25Search:
    def __init__(self, db: Database, config: Bm25Config, cache_dir: Path) -> None:
        self.db = db
        self.store = DocumentStore(db)
        self.config = config
        self.cache_dir = cache_dir
        self._index: Bm25Index | None = None
        self._lock = threading.Lock()
        self.last_build_source: BuildSource | None = None

    def search(self, query: str, *, k: int, principal: Principal, filters: SearchFilters | None = None) -> list[Hit]:
        index = self.index()
        filters = filters or SearchFilters()
        scores = self.score_all(index, tokenize(query, stop_words=self.config.stop_words))
        if scores is None:
            return []
        allowed = allowed_mask(index, filters, principal)
        candidates = np.flatnonzero((scores > 0) & allowed)
        if candidates.size == 0:
            return []
        top = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
        ids, top_scores = [int(index.chunk_ids[p]) for p in top], [float(scores[p]) for p in top]
        return self.store.hits(ids, top_scores, filters, principal)

    def score_all(self, index: Bm25Index, terms: list[str]) -> Floats | None:
        """BM25 score of every chunk for the query terms (0 where no term occurs); None if nothing matches."""
        term_ids = [index.vocab[t] for t in terms if t in index.vocab]
        if not term_ids or index.size == 0:
            return None
        k1, b = self.config.k1, self.config.b
        scores = np.zeros(index.size, dtype=np.float64)
        norm = k1 * (1 - b + b * index.doc_len / index.avgdl)
        for term in term_ids:  # repeated query terms count again, as in rank-bm25
            start, end = index.offsets[term], index.offsets[term + 1]
            where, tf = index.positions[start:end], index.tfs[start:end]
            scores[where] += index.idf[term] * (tf * (k1 + 1) / (tf + norm[where]))
        return scores

    def index(self) -> Bm25Index:
        """The index for the current corpus version: from memory, else disk, else built."""
        version = corpus_version(self.db)
        with self._lock:
            if self._index is not None and self._index.version == version:
                self.last_build_source = "memory"
                return self._index
            index = self._load(version)
            if index is None:
                index = self._build(version)
                self._save(index)
                self.last_build_source = "built"
            else:
                self.last_build_source = "disk"
            self._index = index
            return index

    def _build(self, version: int) -> Bm25Index:
        return build_index(version, self.store.lexical_rows(), self.config)

    def _path(self, version: int) -> Path:
        return self.cache_dir / f"{self.db.schema}-v{version}.bm25.npz"

    def _load(self, version: int) -> Bm25Index | None:
        path = self._path(version)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                if (
                    meta["format"] != _FORMAT
                    or meta["version"] != version
                    or meta["config"] != self.config.model_dump()
                ):
                    return None
                return Bm25Index(
                    version=version,
                    chunk_ids=data["chunk_ids"],
                    doc_len=data["doc_len"],
                    avgdl=meta["avgdl"],
                    vocab={t: i for i, t in enumerate(meta["terms"])},
                    idf=data["idf"],
                    offsets=data["offsets"],
                    positions=data["positions"],
                    tfs=data["tfs"],
                    access_id=data["access_id"],
                    tags_id=data["tags_id"],
                    domain_id=data["domain_id"],
                    author_id=data["author_id"],
                    published=data["published"],
                    access_sets=[frozenset(s) for s in meta["access_sets"]],
                    tag_sets=[frozenset(s) for s in meta["tag_sets"]],
                    domains=meta["domains"],
                    authors=meta["authors"],
                )
        except (OSError, ValueError, KeyError, json.JSONDecodeError, EOFError):
            return None  # corrupt or foreign file: rebuild and overwrite

    def _save(self, index: Bm25Index) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        terms = [t for t, _ in sorted(index.vocab.items(), key=lambda item: item[1])]
        meta = {
            "format": _FORMAT,
            "version": index.version,
            "avgdl": index.avgdl,
            "terms": terms,
            "config": self.config.model_dump(),
            "access_sets": [sorted(s) for s in index.access_sets],
            "tag_sets": [sorted(s) for s in index.tag_sets],
            "domains": index.domains,
            "authors": index.authors,
        }
        handle, temp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(
                    out,
                    meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                    chunk_ids=index.chunk_ids,
                    doc_len=index.doc_len,
                    idf=index.idf,
                    offsets=index.offsets,
                    positions=index.positions,
                    tfs=index.tfs,
                    access_id=index.access_id,
                    tags_id=index.tags_id,
                    domain_id=index.domain_id,
                    author_id=index.author_id,
                    published=index.published,
                )
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self._path(index.version))
        except OSError:
            Path(temp).unlink(missing_ok=True)
            return  # a cache that cannot be written only costs a rebuild next start
        for stale in self.cache_dir.glob(f"{self.db.schema}-v*.bm25.npz"):
            if stale != self._path(index.version):
                stale.unlink(missing_ok=True)


def build_index(version: int, rows: list[dict[str, Any]], config: Bm25Config) -> Bm25Index:
    """Index `rows` (id, body, access, tags, domain, author, ts); rank-bm25 supplies the statistics."""
    documents = [tokenize(row["body"], stop_words=config.stop_words) for row in rows]
    vocab: dict[str, int] = {}
    postings: list[dict[int, int]] = []
    for position, tokens in enumerate(documents):
        counts: dict[str, int] = {}
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
        for token, count in counts.items():
            term = vocab.setdefault(token, len(vocab))
            if term == len(postings):
                postings.append({})
            postings[term][position] = count
    idf = np.zeros(len(vocab), dtype=np.float64)
    doc_len = np.array([len(d) for d in documents], dtype=np.float64)
    avgdl = 1.0
    if rows and doc_len.sum() > 0:  # BM25Okapi([]) divides by zero; all-empty chunks do too
        okapi = BM25Okapi(documents, k1=config.k1, b=config.b, epsilon=config.epsilon)
        avgdl = float(okapi.avgdl)
        guarded = guarded_idf(okapi.idf)
        for token, term in vocab.items():
            idf[term] = guarded[token]
    offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(p) for p in postings]) if postings else []
    positions = np.fromiter((pos for p in postings for pos in p), dtype=np.int32, count=int(offsets[-1]))
    tfs = np.fromiter((tf for p in postings for tf in p.values()), dtype=np.float64, count=int(offsets[-1]))
    access_sets, access_id = _categorise(frozenset(row["access"]) for row in rows)
    tag_sets, tags_id = _categorise(frozenset(row["tags"]) for row in rows)
    domains, domain_id = _categorise(row["domain"] for row in rows)
    authors, author_id = _categorise(row["author"] for row in rows)
    return Bm25Index(
        version=version,
        chunk_ids=np.array([row["id"] for row in rows], dtype=np.int64),
        doc_len=doc_len,
        avgdl=avgdl,
        vocab=vocab,
        idf=idf,
        offsets=offsets,
        positions=positions,
        tfs=tfs,
        access_id=access_id,
        tags_id=tags_id,
        domain_id=domain_id,
        author_id=author_id,
        published=np.array([row["ts"] for row in rows], dtype=np.float64),
        access_sets=access_sets,
        tag_sets=tag_sets,
        domains=domains,
        authors=authors,
    )


def guarded_idf(idf: dict[str, float]) -> dict[str, float]:
    """rank-bm25 floors negative IDF at epsilon × mean IDF, which is itself ≤ 0 when most terms are in
    most documents (tiny corpora); keep every IDF positive so a match never scores below no match."""
    positive = [v for v in idf.values() if v > 0]
    floor = max(_IDF_FLOOR, 0.1 * min(positive)) if positive else _IDF_FLOOR
    return {term: value if value > 0 else floor for term, value in idf.items()}


def allowed_mask(index: Bm25Index, filters: SearchFilters, principal: Principal) -> Mask:
    """Boolean mask of chunks `principal` may read and `filters` admit; mirrors corpus.store.chunk_predicate
    (the reader rule's numpy form comes from corpus/access.py)."""
    mask = access.readable_mask(principal.groups, index.access_sets)[index.access_id]
    if filters.domains:
        mask &= _category_mask(index.domain_id, [d in filters.domains for d in index.domains])
    if filters.authors:
        mask &= _category_mask(index.author_id, [a in filters.authors for a in index.authors])
    if filters.tags:
        wanted = set(filters.tags)
        mask &= _category_mask(index.tags_id, [bool(wanted & s) for s in index.tag_sets])
    if filters.published_after:
        mask &= index.published >= filters.published_after.timestamp()
    if filters.published_before:
        mask &= index.published < filters.published_before.timestamp()
    return mask


def _category_mask(ids: Int32s, allowed_by_category: list[bool]) -> Mask:
    if not allowed_by_category:
        return np.zeros(len(ids), dtype=np.bool_)
    mask: Mask = np.array(allowed_by_category, dtype=np.bool_)[ids]
    return mask


def _categorise(values: Iterable[Category]) -> tuple[list[Category], Int32s]:
    categories: dict[Category, int] = {}
    ids = [categories.setdefault(value, len(categories)) for value in values]
    return list(categories), np.array(ids, dtype=np.int32)
