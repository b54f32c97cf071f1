"""BM25's inverted index: postings and per-chunk columns in numpy arrays, persisted as .npz (no pickle).

The index holds counts only (which chunk holds which term how often, how long each chunk is, its
access and filter columns); it carries no corpus-wide statistic. IDF, N and the average length are
computed per reader view in tools/bm25.py, so nothing here depends on who may read what.

The file is named and checked by the database's identity (corpus/store.database_identity: cluster
system identifier, database OID and name, and a random id stored in the schema at creation), the
schema and the corpus version: two databases sharing a data dir, or a database dropped and
recreated, never serve each other's index. Written atomically; an unreadable, foreign or stale file
is rebuilt, never fatal.
"""

import hashlib
import json
import os
import tempfile
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from quarry.tools.config import Bm25Config
from quarry.tools.text import tokenize

Int64s = npt.NDArray[np.int64]
Int32s = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]
Category = TypeVar("Category", bound=Hashable)
_FORMAT = 2
_ARRAYS = (
    "chunk_ids",
    "doc_len",
    "offsets",
    "positions",
    "tfs",
    "access_id",
    "tags_id",
    "domain_id",
    "author_id",
    "published",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Bm25Index:
    """Postings in CSR form (term t's chunks are positions[offsets[t]:offsets[t+1]]) plus per-chunk columns."""

    version: int
    chunk_ids: Int64s  # [n]
    doc_len: Floats  # [n] tokens per chunk
    vocab: dict[str, int]
    offsets: Int64s  # [terms + 1]
    positions: Int32s  # [postings] chunk position
    tfs: Floats  # [postings] term frequency
    access_id: Int32s  # [n] → access_sets
    tags_id: Int32s  # [n] → tag_sets
    domain_id: Int32s  # [n] → domains
    author_id: Int32s  # [n] → authors
    published: Floats  # [n] epoch seconds
    access_sets: list[frozenset[str]]
    tag_sets: list[frozenset[str]]
    domains: list[str]
    authors: list[str]

    @property
    def size(self) -> int:
        return len(self.chunk_ids)


def build_index(version: int, rows: list[dict[str, Any]], config: Bm25Config) -> Bm25Index:
    """Index `rows` (id, body, access, tags, domain, author, ts)."""
    vocab: dict[str, int] = {}
    postings: list[dict[int, int]] = []
    lengths: list[int] = []
    for position, row in enumerate(rows):
        tokens = tokenize(row["body"], stop_words=config.stop_words)
        lengths.append(len(tokens))
        counts: dict[str, int] = {}
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
        for token, count in counts.items():
            term = vocab.setdefault(token, len(vocab))
            if term == len(postings):
                postings.append({})
            postings[term][position] = count
    offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(p) for p in postings]) if postings else []
    total = int(offsets[-1])
    access_sets, access_id = _categorise(frozenset(row["access"]) for row in rows)
    tag_sets, tags_id = _categorise(frozenset(row["tags"]) for row in rows)
    domains, domain_id = _categorise(row["domain"] for row in rows)
    authors, author_id = _categorise(row["author"] for row in rows)
    return Bm25Index(
        version=version,
        chunk_ids=np.array([row["id"] for row in rows], dtype=np.int64),
        doc_len=np.array(lengths, dtype=np.float64),
        vocab=vocab,
        offsets=offsets,
        positions=np.fromiter((pos for p in postings for pos in p), dtype=np.int32, count=total),
        tfs=np.fromiter((tf for p in postings for tf in p.values()), dtype=np.float64, count=total),
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


class IndexFiles:
    """Where one database's index lives under the cache directory, and how it is read and written."""

    def __init__(self, cache_dir: Path, *, schema: str, identity: str, config: Bm25Config) -> None:
        self.cache_dir = cache_dir
        self.identity = identity
        self.config = config
        tag = hashlib.sha256(identity.encode()).hexdigest()[:16]
        self._schema = schema
        self._prefix = f"{schema}-{tag}"
        self._tokens = {"stop_words": config.stop_words}
        """The settings the index's contents depend on (k1, b, epsilon only enter per-view statistics)."""

    def path(self, version: int) -> Path:
        return self.cache_dir / f"{self._prefix}-v{version}.bm25.npz"

    def load(self, version: int) -> Bm25Index | None:
        path = self.path(version)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                if (
                    meta["format"] != _FORMAT
                    or meta["identity"] != self.identity
                    or meta["version"] != version
                    or meta["tokens"] != self._tokens
                ):
                    return None
                arrays = {name: data[name] for name in _ARRAYS}
            return Bm25Index(
                version=version,
                vocab={t: i for i, t in enumerate(meta["terms"])},
                access_sets=[frozenset(s) for s in meta["access_sets"]],
                tag_sets=[frozenset(s) for s in meta["tag_sets"]],
                domains=meta["domains"],
                authors=meta["authors"],
                **arrays,
            )
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError, EOFError):
            return None  # corrupt or foreign file: rebuild and overwrite

    def save(self, index: Bm25Index) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": _FORMAT,
            "identity": self.identity,
            "version": index.version,
            "terms": [t for t, _ in sorted(index.vocab.items(), key=lambda item: item[1])],
            "tokens": self._tokens,
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
                    **{name: getattr(index, name) for name in _ARRAYS},
                )
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path(index.version))
        except OSError:
            Path(temp).unlink(missing_ok=True)
            return  # a cache that cannot be written only costs a rebuild next start
        for stale in self.cache_dir.glob(f"{self._prefix}-v*.bm25.npz"):
            if stale != self.path(index.version):
                stale.unlink(missing_ok=True)
        for legacy in self.cache_dir.glob(f"{self._schema}-v*.bm25.npz"):  # format 1, keyed by schema alone
            legacy.unlink(missing_ok=True)


def _categorise(values: Iterable[Category]) -> tuple[list[Category], Int32s]:
    categories: dict[Category, int] = {}
    ids = [categories.setdefault(value, len(categories)) for value in values]
    return list(categories), np.array(ids, dtype=np.int32)
