"""`quarry search "query"`: filtered dense search over the corpus, printed or as JSON."""

import argparse
import json
import sys

from agent.cli.arguments import group_list, positive_int, when
from agent.cli.exit_codes import EXIT_OK, EXIT_USAGE
from agent.settings import Settings


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "search", help="find passages (no LLM)", description="Top-k passages by meaning, filtered by metadata and access."
    )
    parser.add_argument("query", help="what to look for")
    parser.add_argument("--k", type=positive_int, help="number of hits (default: retrieval.default_k)")
    parser.add_argument("--domain", action="append", default=[], help="only this domain (repeatable)")
    parser.add_argument("--author", action="append", default=[], help="only this author (repeatable)")
    parser.add_argument("--tag", action="append", default=[], help="only documents with this tag (repeatable)")
    parser.add_argument("--after", type=when, metavar="WHEN", help="published at or after (YYYY-MM-DD or ISO-8601)")
    parser.add_argument("--before", type=when, metavar="WHEN", help="published before")
    parser.add_argument(
        "--groups", type=group_list, default=("public",), metavar="GROUPS",
        help="the reader's access groups, comma-separated (default: public)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON array of hits")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pydantic import ValidationError

    from agent.runtime import Runtime
    from corpus.filters import Principal, SearchFilters

    if not args.query.strip():
        print("quarry search: the query is empty", file=sys.stderr)
        return EXIT_USAGE
    try:
        filters = SearchFilters(
            domains=tuple(args.domain), authors=tuple(args.author), tags=tuple(args.tag),
            published_after=args.after, published_before=args.before,
        )
    except ValidationError as exc:
        print(f"quarry search: {exc.errors()[0]['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return EXIT_USAGE
    principal = Principal(groups=args.groups)
    k = args.k or settings.retrieval.default_k
    with Runtime(settings) as runtime:
        vector = runtime.embedder.embed_query(args.query)
        result = runtime.dense.search(vector, k=k, principal=principal, filters=filters)
    if args.json:
        print(json.dumps([_as_json(hit) for hit in result.hits], indent=2))
        return EXIT_OK
    if not result.hits:
        print("no passages found (check --groups and filters; is the corpus ingested?)")
    for rank, hit in enumerate(result.hits, start=1):
        snippet = " ".join(hit.text.split())
        print(f"{rank:>2}. {hit.title}  [{hit.score:.3f}]")
        print(f"    {hit.source}:{hit.start_char}-{hit.end_char}  ({hit.domain}, {hit.author}, {hit.published_at.date()})")
        print(f"    {snippet[:240]}{'…' if len(snippet) > 240 else ''}")
    return EXIT_OK


def _as_json(hit) -> dict:
    return {
        "chunk_id": hit.chunk_id, "document_id": hit.document_id, "ordinal": hit.ordinal, "title": hit.title,
        "source": hit.source, "author": hit.author, "domain": hit.domain,
        "published_at": hit.published_at.isoformat(), "start_char": hit.start_char, "end_char": hit.end_char,
        "text": hit.text, "score": round(hit.score, 6),
    }
