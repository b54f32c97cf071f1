"""An ingest process that stops at a chosen point of its work and waits there to be killed:
`python -m tests.support.ingest_child FOLDER POINT` (settings from the QUARRY_* environment).

The points, numbered from 1 in the order the ingest reaches them: embedding the batch, each blob
put, and each document's "blobs_written", "rows_written" (inside the transaction) and "committed"
(the Ingestor's own on_step hook). At point POINT it prints "paused at <name>" and blocks, so the
parent's SIGKILL lands exactly there, however fast either process runs. With fewer points than
POINT it finishes and exits 0. Used by tests/support/kill_loop.py.
"""

import os
import sys
import threading
from pathlib import Path
from typing import Any

from quarry.agent.settings import load_settings
from quarry.corpus.blobs import LocalBlobStore
from quarry.corpus.db import Database
from quarry.corpus.embed import LocalEmbeddings
from quarry.corpus.entities import OfflineExtractor
from quarry.corpus.ingest import Ingestor
from quarry.corpus.store import DocumentStore

PAUSED = "paused at "


class _Points:
    def __init__(self, stop_at: int) -> None:
        self.stop_at = stop_at
        self.reached = 0

    def __call__(self, name: str) -> None:
        self.reached += 1
        if self.reached == self.stop_at:
            print(PAUSED + name, flush=True)
            threading.Event().wait()  # until SIGKILL


class _PausingEmbedder:
    def __init__(self, embedder: LocalEmbeddings, point: _Points) -> None:
        self._embedder, self._point = embedder, point

    def embed_documents(self, texts: list[str]) -> Any:
        self._point("embedding")
        return self._embedder.embed_documents(texts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)


class _PausingBlobs:
    def __init__(self, blobs: LocalBlobStore, point: _Points) -> None:
        self._blobs, self._point = blobs, point

    def put(self, data: bytes) -> str:
        key = self._blobs.put(data)
        self._point("blob_put")
        return key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._blobs, name)


def main(folder: str, stop_at: str) -> int:
    settings = load_settings(Path(os.devnull), environ={k: v for k, v in os.environ.items() if k.startswith("QUARRY_")})
    point = _Points(int(stop_at))
    with Database.open(settings.database, settings.embedding, settings.data_dir) as db:
        ingestor = Ingestor(
            DocumentStore(db),
            _PausingEmbedder(LocalEmbeddings(settings.embedding), point),
            settings.chunking,
            max_document_bytes=settings.ingest.max_document_bytes,
            extractor=OfflineExtractor(settings.entities.gazetteer),
            blobs=_PausingBlobs(LocalBlobStore(settings.data_dir / "blobs"), point),
            max_asset_bytes=settings.ingest.max_asset_bytes,
            on_step=point,
        )
        report = ingestor.ingest_paths([Path(folder)])
    return 1 if report.refused else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
