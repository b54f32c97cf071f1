"""The knowledge graph retriever: load (networkx, per corpus version), link, expand, retrieve."""

from quarry.tools.kg.graph import KnowledgeGraph, load_graph
from quarry.tools.kg.linking import LinkedEntity, link_entities
from quarry.tools.kg.search import GraphResult, GraphSearch

__all__ = ["GraphResult", "GraphSearch", "KnowledgeGraph", "LinkedEntity", "link_entities", "load_graph"]
