"""The knowledge graph in memory: networkx, loaded from PostgreSQL once per database and corpus version.

Every node and edge remembers the access groups of the documents that evidence it. A reader's view
keeps only the nodes and edges with at least one readable piece of evidence, so traversal can never
pass through (or name) an entity known only from a document they may not read. Everything a reader
can observe is computed inside their view: the edge labels and strengths, the aliases (a surname is
an alias only if no other *readable* entity shares it) and the fuzzy-match candidates; ties break on
entity keys, never on database ids (whose order unreadable documents can change). So adding or
removing documents a reader cannot read changes nothing they see.

Bounds: at most `graph.max_relations_per_document` relations are loaded per document (the first in
chunk order), so one hostile document cannot blow up the graph every process loads; views are
built once per set of readable access sets and at most `graph.max_views` are kept (LRU).
"""

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypedDict

import networkx as nx

from quarry.corpus.access import readable_mask
from quarry.corpus.db import Database
from quarry.corpus.graph_store import GraphStore
from quarry.tools.config import GraphConfig
from quarry.tools.lru import Lru

# How much an edge says about a connection: a phrase between two names beats bare co-occurrence,
# and "the title mentions X" is the weakest link.
LABEL_STRENGTH = {"mentions": 0.3, "co-mention": 0.5}
NAMED_STRENGTH = 1.0
# Expansion follows at most this many of a node's strongest edges: hubs would otherwise turn a
# two-hop walk into a scan of the whole graph.
MAX_NEIGHBOURS = 64

Evidence = Counter[tuple[str, int, frozenset[str]]]
"""An edge's evidence: how many relations of each (label, subject node, access groups)."""


class EdgeView(TypedDict):
    """An edge as one reader sees it (the attributes of an edge in a view)."""

    label: str
    subject: int
    strength: float
    count: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ReaderView:
    """The graph as one reader sees it, with the lookups linking needs, all from readable evidence."""

    graph: nx.Graph
    by_key: dict[str, int]
    aliases: dict[str, int]
    """Unambiguous short forms among the readable entities: a multi-word name's last word and its initials."""
    fuzzy_buckets: dict[str, list[str]]
    """One-word readable keys by their first two letters: candidates for fuzzy linking (typos keep the start)."""

    def key(self, node: int) -> str:
        return str(self.graph.nodes[node]["key"])


@dataclass
class KnowledgeGraph:
    identity: str
    version: int
    graph: nx.Graph
    max_views: int = 8
    access_sets: list[frozenset[str]] = field(default_factory=list)
    """Every distinct access set of the graph's evidence: a view is keyed by which of them it may read."""
    _views: Lru[bytes, ReaderView] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._views = Lru(self.max_views)

    def view(self, groups: Iterable[str]) -> ReaderView:
        """The subgraph evidenced by documents readable with `groups`, built once per set of readable
        access sets: a lazy filtered view would re-check access on every neighbour and degree lookup."""
        sets = readable_mask(groups, self.access_sets)
        allowed = frozenset(s for s, ok in zip(self.access_sets, sets.tolist()) if ok)
        with self._lock:
            return self._views.get_or_build(sets.tobytes(), lambda: _build_view(self.graph, allowed))

    @property
    def cached_views(self) -> int:
        """How many reader views are held now (at most graph.max_views)."""
        return len(self._views)


def load_graph(db: Database, *, identity: str, version: int, config: GraphConfig) -> KnowledgeGraph:
    graph = nx.Graph()
    entities, relations = GraphStore(db).load(max_relations_per_document=config.max_relations_per_document)
    sets: set[frozenset[str]] = set()
    for entity in entities:
        graph.add_node(entity.id, key=entity.key, name=entity.name, kind=entity.kind, access=set(entity.access))
        sets.update(entity.access)
    evidence: dict[tuple[int, int], Evidence] = defaultdict(Counter)
    for relation in relations:
        a, b = relation.source_id, relation.target_id
        if a in graph and b in graph:
            # The label reads from its subject, a; the access says who may learn of this piece of evidence.
            evidence[(min(a, b), max(a, b))][(relation.label, a, relation.access)] += 1
            sets.add(relation.access)
    for (a, b), counts in evidence.items():
        graph.add_edge(a, b, evidence=counts)
    return KnowledgeGraph(identity, version, graph, config.max_views, sorted(sets, key=sorted))


def _build_view(graph: nx.Graph, allowed: frozenset[frozenset[str]]) -> ReaderView:
    view = nx.Graph()
    view.add_nodes_from(
        (node, data) for node, data in graph.nodes(data=True) if any(access in allowed for access in data["access"])
    )
    keys = {node: data["key"] for node, data in view.nodes(data=True)}
    for a, b, data in graph.edges(data=True):
        if a in view and b in view:
            shown = _readable_edge(data["evidence"], allowed, keys)
            if shown is not None:
                view.add_edge(a, b, **shown)
    for node, neighbours in view.adjacency():
        view.nodes[node]["degree"] = len(neighbours)
        view.nodes[node]["strongest"] = sorted(
            neighbours, key=lambda n: (-neighbours[n]["strength"], -neighbours[n]["count"], keys[n])
        )[:MAX_NEIGHBOURS]
    by_key = {key: node for node, key in keys.items()}
    buckets: dict[str, list[str]] = defaultdict(list)
    for key in sorted(by_key):
        if " " not in key:
            buckets[key[:2]].append(key)
    return ReaderView(graph=view, by_key=by_key, aliases=_aliases(view, by_key), fuzzy_buckets=dict(buckets))


def _readable_edge(evidence: Evidence, allowed: frozenset[frozenset[str]], keys: dict[int, str]) -> EdgeView | None:
    """The edge as a reader sees it: its label, strength and count come from readable evidence only,
    so a relation named in a forbidden document ("acquired") never labels a path shown to them."""
    counts: Counter[tuple[str, int]] = Counter()
    for (label, subject, access), count in evidence.items():
        if access in allowed:
            counts[(label, subject)] += count
    if not counts:
        return None
    label, subject = max(
        counts, key=lambda item: (LABEL_STRENGTH.get(item[0], NAMED_STRENGTH), counts[item], item[0], keys[item[1]])
    )
    return {
        "label": label,
        "subject": subject,
        "strength": LABEL_STRENGTH.get(label, NAMED_STRENGTH),
        "count": counts.total(),
    }


def _aliases(view: nx.Graph, by_key: dict[str, int]) -> dict[str, int]:
    """Unambiguous short forms among the view's entities: a multi-word name's last word (surnames) and
    its initials (acronyms), unless another readable entity shares the form or is called by it."""
    proposals: dict[str, set[int]] = defaultdict(set)
    for node, data in view.nodes(data=True):
        words = data["key"].split()
        if len(words) < 2 or data["kind"] == "title":
            continue
        if len(words[-1]) > 3:
            proposals[words[-1]].add(node)
        proposals["".join(w[0] for w in words)].add(node)
    return {alias: nodes.pop() for alias, nodes in proposals.items() if len(nodes) == 1 and alias not in by_key}
