"""Lexical retrieval: BM25 (Okapi) over chunk text, with statistics computed per reader view.

Non-interference: a reader's scores must not change when documents they cannot read are added or
removed. So N, the average chunk length and every term's document frequency (hence IDF) are
computed over the chunks the reader may read, never over the whole corpus. The inverted index
(tools/bm25_index.py) holds counts only; a reader view's statistics come from it in one numpy pass
over the postings (document frequency = readable postings per term), are keyed by *which access
sets* the reader can read (readers with different groups but the same readable documents share
them), and are kept in an LRU of `bm25.max_views` per index. A reader who may read everything gets
exactly the corpus-wide statistics.

IDF follows rank-bm25's BM25Okapi (a test pins the scores to `get_batch_scores` over the reader's
readable chunks): log(N - df + 0.5) - log(df + 0.5), negative values replaced by epsilon × the mean
IDF of the view's vocabulary. Defects guarded here: an empty view (BM25Okapi divides by zero), and
non-positive IDF in tiny views (a term in most chunks would make matches rank below non-matches).
IDF is computed per distinct df with `math.log` and the mean with `math.fsum`, so a view's numbers
do not depend on the order of terms in the index (which unreadable documents would shift).
Scoring does not loop over documents: one numpy pass over the query terms' postings.
"""

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from quarry.corpus import access
from quarry.corpus.db import Database
from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.store import CorpusStamp, DocumentStore, corpus_stamp
from quarry.tools.bm25_index import Bm25Index, IndexFiles, Int32s, build_index
from quarry.tools.config import Bm25Config
from quarry.tools.hits import Hit
from quarry.tools.lru import Lru
from quarry.tools.text import tokenize

__all__ = ["Bm25Index", "Bm25Search", "ReaderStats", "allowed_mask", "build_index", "guarded_idf", "reader_stats"]

BuildSource = Literal["built", "disk", "memory"]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
_IDF_FLOOR = 1e-3


@dataclass(frozen=True, kw_only=True, slots=True)
class ReaderStats:
    """BM25's statistics over one reader view: the chunks of the access sets it may read."""

    chunks: int
    avgdl: float
    idf: Floats  # [terms]; 0 for terms no readable chunk holds
    norm: Floats  # [n] k1 × (1 - b + b × len / avgdl), the length normalisation of each chunk


class Bm25Search:
    def __init__(self, db: Database, config: Bm25Config, cache_dir: Path) -> None:
        self.db = db
        self.store = DocumentStore(db)
        self.config = config
        self.cache_dir = cache_dir
        self._index: Bm25Index | None = None
        self._stamp: CorpusStamp | None = None
        self._views: Lru[bytes, ReaderStats | None] = Lru(config.max_views)
        self._lock = threading.Lock()
        self.last_build_source: BuildSource | None = None

    def search(self, query: str, *, k: int, principal: Principal, filters: SearchFilters | None = None) -> list[Hit]:
        index = self.index()
        stats = self.stats(index, principal)
        if stats is None:
            return []
        scores = score_all(index, stats, tokenize(query, stop_words=self.config.stop_words), self.config)
        if scores is None:
            return []
        filters = filters or SearchFilters()
        candidates = np.flatnonzero((scores > 0) & allowed_mask(index, filters, principal))
        if candidates.size == 0:
            return []
        top = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
        ids, top_scores = [int(index.chunk_ids[p]) for p in top], [float(scores[p]) for p in top]
        return self.store.hits(ids, top_scores, filters, principal)

    def stats(self, index: Bm25Index, principal: Principal) -> ReaderStats | None:
        """The statistics of `principal`'s view of `index` (None when it can read no words)."""
        sets = access.readable_mask(principal.groups, index.access_sets)
        with self._lock:
            if index is not self._index:  # an index this searcher no longer serves: compute, do not cache
                return reader_stats(index, sets[index.access_id], self.config)
            return self._views.get_or_build(
                sets.tobytes(), lambda: reader_stats(index, sets[index.access_id], self.config)
            )

    @property
    def cached_views(self) -> int:
        """How many reader views' statistics are held now (at most bm25.max_views)."""
        return len(self._views)

    def index(self) -> Bm25Index:
        """The index for the current database and corpus version: from memory, else disk, else built."""
        stamp = corpus_stamp(self.db)
        with self._lock:
            if self._index is not None and self._stamp == stamp:
                self.last_build_source = "memory"
                return self._index
            files = IndexFiles(self.cache_dir, schema=self.db.schema, identity=stamp.identity, config=self.config)
            index = files.load(stamp.version)
            if index is None:
                index = build_index(stamp.version, self.store.lexical_rows(), self.config)
                files.save(index)
                self.last_build_source = "built"
            else:
                self.last_build_source = "disk"
            self._index, self._stamp = index, stamp
            self._views.clear()
            return index


def reader_stats(index: Bm25Index, readable: Mask, config: Bm25Config) -> ReaderStats | None:
    """BM25 statistics over the chunks `readable` marks; None when they hold no words."""
    chunks = int(readable.sum())
    total = float(index.doc_len[readable].sum())
    if chunks == 0 or total == 0:
        return None
    avgdl = total / chunks
    seen = np.zeros(len(index.positions) + 1, dtype=np.int64)
    np.cumsum(readable[index.positions], out=seen[1:])
    df = seen[index.offsets[1:]] - seen[index.offsets[:-1]]
    present = df > 0
    distinct, which = np.unique(df[present], return_inverse=True)
    by_df = np.array([math.log(chunks - d + 0.5) - math.log(d + 0.5) for d in distinct.tolist()], dtype=np.float64)
    raw = by_df[which]
    if raw.size:
        floor = config.epsilon * math.fsum(raw.tolist()) / raw.size
        raw = np.where(raw < 0, floor, raw)
    idf = np.zeros(len(df), dtype=np.float64)
    idf[present] = _positive(raw)
    norm = config.k1 * (1 - config.b + config.b * index.doc_len / avgdl)
    return ReaderStats(chunks=chunks, avgdl=avgdl, idf=idf, norm=norm)


def score_all(index: Bm25Index, stats: ReaderStats, terms: list[str], config: Bm25Config) -> Floats | None:
    """BM25 score of every chunk for the query terms under `stats` (0 where no term occurs); only the
    scores of chunks in the view mean anything. None if no query term is in the index."""
    term_ids = [index.vocab[t] for t in terms if t in index.vocab]
    if not term_ids:
        return None
    scores = np.zeros(index.size, dtype=np.float64)
    for term in term_ids:  # repeated query terms count again, as in rank-bm25
        start, end = index.offsets[term], index.offsets[term + 1]
        where, tf = index.positions[start:end], index.tfs[start:end]
        scores[where] += stats.idf[term] * (tf * (config.k1 + 1) / (tf + stats.norm[where]))
    return scores


def guarded_idf(idf: dict[str, float]) -> dict[str, float]:
    """rank-bm25 floors negative IDF at epsilon × mean IDF, which is itself ≤ 0 when most terms are in
    most documents (tiny corpora); keep every IDF positive so a match never scores below no match."""
    values = np.array(list(idf.values()), dtype=np.float64)
    return dict(zip(idf, _positive(values).tolist()))


def _positive(idf: Floats) -> Floats:
    positive = idf[idf > 0]
    floor = max(_IDF_FLOOR, 0.1 * float(positive.min())) if positive.size else _IDF_FLOOR
    return np.where(idf > 0, idf, floor)


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
