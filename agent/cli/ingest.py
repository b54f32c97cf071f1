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
JSONL records {"text": ..., "metadata": {...}}, PDF, HTML and Word (.docx) files (recognised by
their content, not only their name), and web pages by http(s) URL. Required metadata: title, author,
domain, published_at (timezone-aware), access (groups allowed to read).

Where each field comes from, first found wins: --title / --published-at (overrides); the front
matter, or the sidecar NAME.meta.yaml; for PDF/HTML/Word the file's own properties (PDF Info/XMP,
the page's <title> and <meta>, DOCX core properties); the other flags below (defaults for what a
document leaves out); for the title, the first heading, then the file name.
--dry-run shows what each document would get and from where, writing nothing.

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
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="files or folders (walked recursively), or http(s) URLs of web pages"
    )
    parser.add_argument("--author", help="default author")
    parser.add_argument("--domain", help="default domain")
    parser.add_argument("--access", type=group_list, metavar="GROUPS", help="default access groups, comma-separated")
    parser.add_argument("--tags", type=group_list, metavar="TAGS", help="default tags, comma-separated")
    parser.add_argument("--language", help="default language code, e.g. en")
    parser.add_argument(
        "--published-at", type=when, metavar="WHEN", help="publication date: overrides what the documents say"
    )
    parser.add_argument("--title", help="title: overrides what the documents say (meant for one document)")
    parser.add_argument(
        "--encoding", metavar="NAME", help="decode .txt/.md files as NAME (e.g. windows-1252), not UTF-8"
    )
    parser.add_argument("--pdf-password", metavar="PASSWORD", help="password to open encrypted PDFs")
    parser.add_argument(
        "--allow-private-urls",
        action="store_true",
        help="let URLs reach loopback and private addresses (refused by default: SSRF guard)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what each document would get and from where; write nothing"
    )
    parser.add_argument(
        "--prune", action="store_true", help="delete stored documents from under PATH whose files are gone"
    )
    parser.add_argument(
        "--force", action="store_true", help="let a document take an id that a document from another file holds"
    )
    parser.add_argument("--quiet", action="store_true", help="print only refusals and the summary")
    parser.set_defaults(run=run, interrupted_note="every document written so far is complete")


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.cli.ingest_plan import print_plan
    from quarry.corpus.documents import ReadOptions
    from quarry.corpus.loaders import load_paths
    from quarry.corpus.web import is_url, load_urls

    defaults: dict[str, Any] = {
        key: value
        for key, value in {
            "author": args.author,
            "domain": args.domain,
            "access": args.access,
            "tags": args.tags,
            "language": args.language,
        }.items()
        if value is not None
    }
    overrides = {key: value for key, value in (("title", args.title), ("published_at", args.published_at)) if value}
    options = ReadOptions(
        overrides=overrides,
        pdf_password=args.pdf_password,
        encoding=args.encoding,
        max_pdf_pages=settings.ingest.max_pdf_pages,
        max_file_bytes=settings.ingest.max_file_bytes,
    )
    urls = [p for p in args.paths if is_url(p)]
    results = list(
        load_urls(
            urls,
            defaults=defaults,
            options=options,
            max_bytes=settings.ingest.max_document_bytes,
            allow_private=args.allow_private_urls,
        )
        if urls
        else ()
    ) + list(
        load_paths(
            [Path(p) for p in args.paths if not is_url(p)],
            defaults=defaults,
            max_bytes=settings.ingest.max_document_bytes,
            max_asset_bytes=settings.ingest.max_asset_bytes,
            options=options,
        )
    )
    if args.dry_run:
        ready, refused, skipped = print_plan(results)
        print(f"dry run: {ready} would be ingested, {refused} refused, {skipped} skipped; nothing was written.")
        return ExitCode.REFUSED if refused else ExitCode.OK
    from quarry.agent.cli.progress import IngestProgress  # the database and model stack: not for a dry run
    from quarry.agent.components import Components

    with Components(settings) as components:
        swept = components.collect_garbage()  # what an interrupted earlier ingest left behind
        if swept.deleted and not args.quiet:
            print(f"gc: removed {swept.deleted} unreferenced blob(s) left by interrupted writes", file=sys.stderr)
        with IngestProgress(total=len(results), quiet=args.quiet) as progress:
            report = components.ingestor.ingest_documents(
                results,
                progress=progress.update,
                roots=[Path(p) for p in args.paths if not is_url(p)],
                prune=args.prune,
                force=args.force,
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
