"""`quarry search "query"`: filtered dense search over the corpus, printed or as JSON."""

import argparse
import json
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import add_filter_arguments, filters_from, positive_int
from quarry.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from quarry.agent.settings import Settings


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "search",
        help="find passages (no LLM)",
        description="Top-k passages from hybrid retrieval (dense + BM25 + knowledge graph, fused and reranked), "
        "filtered by metadata and access.",
    )
    parser.add_argument("query", help="what to look for")
    parser.add_argument("--k", type=positive_int, help="number of hits (default: retrieval.default_k)")
    add_filter_arguments(parser)
    parser.add_argument(
        "--mode",
        choices=("dense", "bm25", "kg", "hybrid"),
        default="hybrid",
        help="which retrievers to use (default: hybrid = all, fused)",
    )
    parser.add_argument("--no-rerank", action="store_true", help="keep the fused order (skip the cheap reranker)")
    parser.add_argument("--json", action="store_true", help="print one JSON array of hits")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.components import Components
    from quarry.agent.filter_spelling import as_stored
    from quarry.agent.hit_records import hit_record, hit_score
    from quarry.corpus.filters import Principal

    if not args.query.strip():
        raise UsageError("the query is empty")
    filters = filters_from(args)
    principal = Principal(groups=args.groups)
    k = args.k or settings.retrieval.default_k
    with Components(settings) as components:
        filters = as_stored(filters, components.store)
        result = components.retriever.retrieve(
            args.query, principal=principal, filters=filters, k=k, mode=args.mode, rerank=not args.no_rerank
        )
    if args.json:
        print(json.dumps([hit_record(fused, result) for fused in result.hits], indent=2))
        return ExitCode.OK
    if not result.hits:
        print("no passages found (check --groups and filters; is the corpus ingested?)")
    for rank, fused in enumerate(result.hits, start=1):
        hit = fused.hit
        snippet = " ".join(hit.text.split())
        found_by = ", ".join(f"{name} #{r.rank}" for name, r in fused.ranks.items())
        print(f"{rank:>2}. {hit.title}  [{hit_score(fused, result):.3f}; {found_by}]")
        print(
            f"    {hit.source}:{hit.start_char}-{hit.end_char}  ({hit.domain}, {hit.author}, {hit.published_at.date()})"
        )
        print(f"    {snippet[:240]}{'…' if len(snippet) > 240 else ''}")
        if hit.chunk_id in result.paths:
            print(f"    via {' '.join(result.paths[hit.chunk_id])}")
    return ExitCode.OK
