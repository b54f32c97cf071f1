"""What a retriever returns: a chunk with the provenance a citation needs.

The value is defined beside the SQL that builds it (corpus/store.py, the documents store) and
re-exported here, where the retrievers, fusion and packing import it.
"""

from quarry.corpus.store import Hit

__all__ = ["Hit"]
