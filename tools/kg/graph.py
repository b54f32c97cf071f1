"""The knowledge graph in memory: networkx, loaded from PostgreSQL once per corpus version.

Every node and edge remembers the access groups of the documents that evidence it. A reader's
view keeps only the nodes and edges with at least one readable piece of evidence, so traversal
can never pass through (or name) an entity known only from a document they may not read.
"""

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TypedDict

import networkx as nx

from quarry.corpus.access import readable
from quarry.corpus.db import Database
from quarry.corpus.graph_store import GraphStore

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


@dataclass
class KnowledgeGraph:
    version: int
    graph: nx.Graph
    by_key: dict[str, int]
    aliases: dict[str, int]
    fuzzy_buckets: dict[str, list[str]] = field(default_factory=dict)
    """One-word keys by their first two letters: candidates for fuzzy linking (typos keep the start)."""
    _views: dict[frozenset[str], nx.Graph] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def view(self, groups: frozenset[str]) -> nx.Graph:
        """The subgraph evidenced by documents readable with `groups`, built once per group set: a lazy
        filtered view would re-check access on every neighbour and degree lookup."""
        with self._lock:
            if groups not in self._views:
                view = nx.Graph()
                view.add_nodes_from(
                    (node, data)
                    for node, data in self.graph.nodes(data=True)
                    if any(readable(groups, access) for access in data["access"])
                )
                for a, b, data in self.graph.edges(data=True):
                    if a in view and b in view:
                        shown = _readable_edge(data["evidence"], groups)
                        if shown is not None:
                            view.add_edge(a, b, **shown)
                for node, neighbours in view.adjacency():
                    view.nodes[node]["degree"] = len(neighbours)
                    view.nodes[node]["strongest"] = sorted(
                        neighbours, key=lambda n: (-neighbours[n]["strength"], -neighbours[n]["count"], n)
                    )[:MAX_NEIGHBOURS]
                self._views[groups] = view
            return self._views[groups]


def load_graph(db: Database, version: int) -> KnowledgeGraph:
    graph = nx.Graph()
    entities, relations = GraphStore(db).load()
    for entity in entities:
        graph.add_node(entity.id, key=entity.key, name=entity.name, kind=entity.kind, access=set(entity.access))
    evidence: dict[tuple[int, int], Evidence] = defaultdict(Counter)
    for relation in relations:
        a, b = relation.source_id, relation.target_id
        if a in graph and b in graph:
            # The label reads from its subject, a; the access says who may learn of this piece of evidence.
            evidence[(min(a, b), max(a, b))][(relation.label, a, relation.access)] += 1
    for (a, b), counts in evidence.items():
        graph.add_edge(a, b, evidence=counts)
    by_key = {data["key"]: node for node, data in graph.nodes(data=True)}
    buckets: dict[str, list[str]] = defaultdict(list)
    for key in by_key:
        if " " not in key:
            buckets[key[:2]].append(key)
    return KnowledgeGraph(version, graph, by_key, _aliases(graph, by_key), dict(buckets))


def _readable_edge(evidence: Evidence, groups: frozenset[str]) -> EdgeView | None:
    """The edge as a reader sees it: its label, strength and count come from readable evidence only,
    so a relation named in a forbidden document ("acquired") never labels a path shown to them."""
    counts: Counter[tuple[str, int]] = Counter()
    for (label, subject, access), count in evidence.items():
        if readable(groups, access):
            counts[(label, subject)] += count
    if not counts:
        return None
    label, subject = max(counts, key=lambda item: (LABEL_STRENGTH.get(item[0], NAMED_STRENGTH), counts[item], item))
    return {
        "label": label,
        "subject": subject,
        "strength": LABEL_STRENGTH.get(label, NAMED_STRENGTH),
        "count": counts.total(),
    }


def _aliases(graph: nx.Graph, by_key: dict[str, int]) -> dict[str, int]:
    """Unambiguous short forms: a multi-word name's last word (surnames) and its initials (acronyms)."""
    proposals: dict[str, set[int]] = defaultdict(set)
    for node, data in graph.nodes(data=True):
        words = data["key"].split()
        if len(words) < 2 or data["kind"] == "title":
            continue
        if len(words[-1]) > 3:
            proposals[words[-1]].add(node)
        proposals["".join(w[0] for w in words)].add(node)
    return {alias: nodes.pop() for alias, nodes in proposals.items() if len(nodes) == 1 and alias not in by_key}
