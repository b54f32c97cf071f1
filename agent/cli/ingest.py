"""`quarry ingest PATH...`: load, validate, chunk, embed and store documents."""

import argparse
import sys
from pathlib import Path
from typing import Any

from quarry.agent.cli.arguments import group_list, when
from quarry.agent.settings import Settings
from quarry.errors import ExitCode

_HELP = """\
Documents are Markdown with YAML front matter, .md/.txt files with a sidecar NAME.meta.yaml,
or JSONL records {"text": ..., "metadata": {...}}. Required metadata: title, author, domain,
published_at (timezone-aware), access (groups allowed to read). The flags below supply
defaults for fields a document leaves out; a document's own metadata always wins.
Unchanged documents are skipped; changed ones are replaced whole."""


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "ingest",
        help="add documents to the corpus",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders (walked recursively)")
    parser.add_argument("--author", help="default author")
    parser.add_argument("--domain", help="default domain")
    parser.add_argument("--access", type=group_list, metavar="GROUPS", help="default access groups, comma-separated")
    parser.add_argument("--tags", type=group_list, metavar="TAGS", help="default tags, comma-separated")
    parser.add_argument("--language", help="default language code, e.g. en")
    parser.add_argument("--published-at", type=when, metavar="WHEN", help="default publication date")
    parser.add_argument("--quiet", action="store_true", help="print only refusals and the summary")
    parser.set_defaults(run=run, interrupted_note="every document written so far is complete")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from quarry.agent.cli.progress import IngestProgress
    from quarry.agent.components import Components
    from quarry.corpus.loaders import load_paths

    defaults: dict[str, Any] = {
        key: value
        for key, value in {
            "author": args.author,
            "domain": args.domain,
            "access": args.access,
            "tags": args.tags,
            "language": args.language,
            "published_at": args.published_at,
        }.items()
        if value is not None
    }
    results = list(
        load_paths(
            args.paths,
            defaults=defaults,
            max_bytes=settings.ingest.max_document_bytes,
            max_asset_bytes=settings.ingest.max_asset_bytes,
        )
    )
    with Components(settings) as components:
        swept = components.collect_garbage()  # what an interrupted earlier ingest left behind
        if swept.deleted and not args.quiet:
            print(f"gc: removed {swept.deleted} unreferenced blob(s) left by interrupted writes", file=sys.stderr)
        with IngestProgress(total=len(results), quiet=args.quiet) as progress:
            report = components.ingestor.ingest_documents(results, progress=progress.update)
        counts = components.store.counts()
    print(
        f"{report.summary()}. Corpus: {counts.documents} documents, {counts.chunks} chunks, version {counts.version}."
    )
    if report.refused:
        print(f"{len(report.refused)} document(s) refused; fix them and run ingest again.", file=sys.stderr)
        return ExitCode.REFUSED
    return ExitCode.OK
