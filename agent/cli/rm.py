"""`quarry rm`: delete documents by id, by source, or by metadata filter."""

import argparse
import sys
from pathlib import Path

from quarry.agent.cli.arguments import when
from quarry.agent.settings import Settings
from quarry.errors import ExitCode

_HELP = """\
Deletes each document every given selector admits: the IDs listed, --source (a file or folder the
documents were ingested from, or a declared source such as a URL), and the metadata filters.
A deleted document's chunks, graph evidence and BM25 entries go at once, and so does every cached
answer that cites it; its images' blobs go at the next `quarry gc` (or ingest) once no document
references them. If an ID names no document, nothing is deleted (exit 2). Use --dry-run to list
what would go. To drop documents whose files were deleted, `quarry ingest --prune FOLDER`."""


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "rm",
        help="delete documents (by id, source or filter)",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="document ids (as shown in hits and citations)")
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="PATH_OR_URI",
        help="documents ingested from this file or from under this folder, or declaring this source (repeatable)",
    )
    parser.add_argument("--domain", action="append", default=[], help="only this domain (repeatable)")
    parser.add_argument("--author", action="append", default=[], help="only this author (repeatable)")
    parser.add_argument("--tag", action="append", default=[], help="only documents with this tag (repeatable)")
    parser.add_argument("--after", type=when, metavar="WHEN", help="published at or after")
    parser.add_argument("--before", type=when, metavar="WHEN", help="published before")
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from quarry.agent import lifecycle
    from quarry.agent.cli.arguments import filters_from
    from quarry.agent.components import Components

    filters = filters_from(args)
    sources: list[str | Path] = [s if "://" in s or s.startswith("urn:") else Path(s) for s in args.source]
    with Components(settings) as components:
        chosen = lifecycle.select(components.store, ids=args.ids, sources=sources, filters=filters)
        if args.dry_run:
            deletion = lifecycle.Deletion(documents=tuple(chosen), cache_entries=0, dry_run=True)
        else:
            deletion = lifecycle.delete(components.store, components.cache, chosen)
        counts = components.store.counts()
    if not args.quiet:
        for ref in deletion.documents:
            print(f"{'would delete' if args.dry_run else 'deleted'} {ref.id}  {ref.title}  ({ref.origin})")
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"{verb} {len(deletion.documents)} document(s)"
        + ("" if args.dry_run else f", {deletion.cache_entries} cached answer(s) citing them")
        + f". Corpus: {counts.documents} documents, version {counts.version}.",
    )
    if not args.dry_run and deletion.documents:
        print("their images' blobs are removed by `quarry gc` once unreferenced", file=sys.stderr)
    return ExitCode.OK
