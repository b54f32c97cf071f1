"""The knowledge graph retriever: load (networkx, per corpus version), link, expand, retrieve."""

from tools.kg.graph import KnowledgeGraph, load_graph
from tools.kg.linking import LinkedEntity, link_entities
from tools.kg.search import GraphResult, GraphSearch

__all__ = ["GraphResult", "GraphSearch", "KnowledgeGraph", "LinkedEntity", "link_entities", "load_graph"]
