"""`quarry ingest PATH...`: load, validate, chunk, embed and store documents."""

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quarry.agent.cli.arguments import group_list, when
from quarry.errors import ExitCode

if TYPE_CHECKING:
    from quarry.agent.settings import Settings

_HELP = """\
Documents are Markdown with YAML front matter, .md/.txt files with a sidecar NAME.meta.yaml,
or JSONL records {"text": ..., "metadata": {...}}. Required metadata: title, author, domain,
published_at (timezone-aware), access (groups allowed to read). The flags below supply
defaults for fields a document leaves out; a document's own metadata always wins.
Unchanged documents are skipped; changed ones are replaced whole. Re-ingesting a file is
authoritative: its access, dates and text replace what is stored, and records a file no longer
holds (a JSONL line deleted or edited) are removed. A document may not take an id another file
holds (refused; --force takes it over). Stored documents from under PATH whose files are gone are
reported as vanished; --prune deletes them (and `quarry rm` deletes by id, source or filter)."""


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
    parser.add_argument(
        "--prune", action="store_true", help="delete stored documents from under PATH whose files are gone"
    )
    parser.add_argument(
        "--force", action="store_true", help="let a document take an id that a document from another file holds"
    )
    parser.add_argument("--quiet", action="store_true", help="print only refusals and the summary")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: "Settings") -> int:
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
            report = components.ingestor.ingest_documents(
                results, progress=progress.update, roots=args.paths, prune=args.prune, force=args.force
            )
        counts = components.store.counts()
    print(
        f"{report.summary()}. Corpus: {counts.documents} documents, {counts.chunks} chunks, version {counts.version}."
    )
    if report.vanished and not args.prune:
        print(
            f"{len(report.vanished)} stored document(s) came from files under {' '.join(map(str, args.paths))}"
            " that are gone; run `quarry ingest --prune` with the same paths to delete them:",
            file=sys.stderr,
        )
        for ref in report.vanished:
            print(f"  vanished {ref.id}  ({ref.origin})", file=sys.stderr)
    if report.refused:
        print(f"{len(report.refused)} document(s) refused; fix them and run ingest again.", file=sys.stderr)
        return ExitCode.REFUSED
    return ExitCode.OK
