"""Graph retrieval: link the query's entities, expand to bridge entities, return the chunks that
mention them, each with the path that led there ("Ledgerline —owned by→ Payments Core")."""

import heapq
import math
import threading
from dataclasses import dataclass, field

from quarry.corpus.db import Database
from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.graph_store import GraphStore
from quarry.corpus.store import DocumentStore, corpus_stamp
from quarry.tools.config import GraphConfig
from quarry.tools.hits import Hit
from quarry.tools.kg.graph import EdgeView, KnowledgeGraph, ReaderView, load_graph
from quarry.tools.kg.linking import LinkedEntity, link_entities

SEED_SCORE = 1.0
OTHER_ENTITY_SHARE = 0.25

WalkPath = tuple[int | str, ...]
"""A walk through a reader's view: node ids alternating with the edge labels between them (`_arrow`)."""


@dataclass(frozen=True)
class GraphResult:
    hits: list[Hit]
    paths: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """chunk id → alternating entity names and edge labels, from a query entity to the one in the chunk."""
    linked: list[LinkedEntity] = field(default_factory=list)


class GraphSearch:
    def __init__(self, db: Database, config: GraphConfig) -> None:
        self.db = db
        self.store = DocumentStore(db)
        self.graph_store = GraphStore(db)
        self.config = config
        self._graph: KnowledgeGraph | None = None
        self._lock = threading.Lock()

    def knowledge_graph(self) -> KnowledgeGraph:
        """The in-memory knowledge graph of the current database and corpus version (loaded once per version)."""
        stamp = corpus_stamp(self.db)
        with self._lock:
            graph = self._graph
            if graph is None or (graph.identity, graph.version) != (stamp.identity, stamp.version):
                graph = load_graph(self.db, identity=stamp.identity, version=stamp.version, config=self.config)
                self._graph = graph
            return graph

    def search(self, query: str, *, k: int, principal: Principal, filters: SearchFilters | None = None) -> GraphResult:
        kg = self.knowledge_graph()
        view = kg.view(principal.groups)
        linked = link_entities(query, view, fuzzy_threshold=self.config.fuzzy_threshold)
        if not linked:
            return GraphResult([])
        scores, paths = self._expand(view, [entity.node for entity in linked])
        chunk_scores, chunk_entity = self._chunks(view, scores, paths, filters or SearchFilters(), principal)
        ranked = sorted(chunk_scores, key=lambda c: (-chunk_scores[c], c))[:k]
        hits = self.store.hits(ranked, [chunk_scores[c] for c in ranked], filters or SearchFilters(), principal)
        rendered: dict[int, tuple[str, ...]] = {}
        for hit in hits:
            path = paths[chunk_entity[hit.chunk_id]]
            rendered[hit.chunk_id] = tuple(
                step if isinstance(step, str) else view.graph.nodes[step]["name"] for step in path
            )
        return GraphResult(hits, rendered, linked)

    def _expand(self, reader: ReaderView, seeds: list[int]) -> tuple[dict[int, float], dict[int, WalkPath]]:
        """Best-first walk up to max_depth edges; an entity's score decays with each edge and with its degree
        (hubs that touch everything say little). Returns scores and the path to each entity. Ties go by
        entity key, never by id: ids are assigned in ingest order, which unreadable documents change."""
        view, key = reader.graph, reader.key
        scores = {seed: SEED_SCORE for seed in seeds}
        paths: dict[int, WalkPath] = {seed: (seed,) for seed in seeds}
        frontier = [(-SEED_SCORE, key(seed), seed, 0) for seed in seeds]
        heapq.heapify(frontier)
        while frontier:
            negative, _, node, depth = heapq.heappop(frontier)
            if -negative < scores.get(node, 0) or depth >= self.config.max_depth:
                continue
            for neighbour in view.nodes[node]["strongest"]:
                edge = view.adj[node][neighbour]
                score = -negative * edge["strength"] / math.log2(2 + view.nodes[neighbour]["degree"])
                if score > scores.get(neighbour, 0):
                    scores[neighbour] = score
                    paths[neighbour] = paths[node] + (_arrow(edge, node), neighbour)
                    heapq.heappush(frontier, (-score, key(neighbour), neighbour, depth + 1))
        bridges = sorted((n for n in scores if n not in seeds), key=lambda n: (-scores[n], key(n)))
        bridges = bridges[: self.config.max_expansion]
        kept = set(seeds) | set(bridges)
        return {n: s for n, s in scores.items() if n in kept}, {n: p for n, p in paths.items() if n in kept}

    def _chunks(
        self,
        reader: ReaderView,
        scores: dict[int, float],
        paths: dict[int, WalkPath],
        filters: SearchFilters,
        principal: Principal,
    ) -> tuple[dict[int, float], dict[int, int]]:
        """Chunks mentioning the entities (readable and admitted by filters), scored by the entities they hold."""
        mentions = self.graph_store.mentions(
            list(scores), within=DocumentStore.chunk_scope(filters, principal), groups=principal.groups
        )
        held: dict[int, list[float]] = {}
        best: dict[int, int] = {}
        for chunk, entity in mentions:
            held.setdefault(chunk, []).append(scores[entity])
            best[chunk] = _explaining(reader, best.get(chunk), entity, scores, paths)
        # The strongest entity decides; others add a little, so long chunks naming many entities do not win by bulk.
        # fsum: exact, so the score does not depend on the order of entity ids (which other documents set).
        chunk_scores = {c: max(s) + OTHER_ENTITY_SHARE * (math.fsum(s) - max(s)) for c, s in held.items()}
        return chunk_scores, best


def _explaining(
    reader: ReaderView, current: int | None, candidate: int, scores: dict[int, float], paths: dict[int, WalkPath]
) -> int:
    """The entity that explains why a chunk was reached: the one furthest along its path from the
    query (the bridge), then the best-scored, then the first key for determinism."""
    if current is None:
        return candidate
    return min((current, candidate), key=lambda n: (-len(paths[n]), -scores[n], reader.key(n)))


def _arrow(edge: EdgeView, from_node: int) -> str:
    """The edge as read along the walk: "—owned by→" when the walk follows the label, "←owns—" against it."""
    label = edge["label"]
    return f"—{label}→" if edge["subject"] == from_node else f"←{label}—"
