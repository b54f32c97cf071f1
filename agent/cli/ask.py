"""`quarry ask "question"`: one research run within a budget; progress on stderr, the answer on stdout."""

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import add_budget_arguments, add_filter_arguments, filters_from, limits_from
from quarry.agent.settings import Settings
from quarry.errors import ExitCode

if TYPE_CHECKING:
    from quarry.graph.answer import Answer


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "ask",
        help="answer a research question with citations, within a budget",
        description="Plan, search (dense + BM25 + knowledge graph), rerank, synthesize with verified citations, "
        "and search again for what is missing, until the answer is complete or a limit stops the run. A limit "
        "never fails the command: the best answer so far is printed, marked partial, with the limit that stopped it.",
        epilog="Limits default to the research.budget section of config.yaml. Without ANTHROPIC_API_KEY the "
        "offline extractive model answers (no network, $0).",
    )
    parser.add_argument("question", help="what to find out")
    add_budget_arguments(parser)
    add_filter_arguments(parser)
    parser.add_argument("--principal", default="cli", metavar="ID", help="who is asking, for the ledger (default: cli)")
    parser.add_argument(
        "--no-cache", action="store_true", help="research afresh: do not serve or store a cached answer"
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text (default); json: one JSON object (answer, answered, unanswered, citations with quotes, spend, …); "
        "markdown: a report (question, answer, numbered sources with quoted sentences, budget line)",
    )
    parser.add_argument("--json", action="store_const", const="json", dest="format", help="same as --format json")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from quarry.agent.components import Components
    from quarry.agent.filter_spelling import as_stored
    from quarry.corpus.filters import Principal
    from quarry.graph.answer import Answer
    from quarry.graph.engine import Engine, ResearchRequest, validate_question
    from quarry.graph.events import FinalAnswer, NodeFinished
    from quarry.graph.report import outcome_line
    from quarry.graph.trace import Span
    from quarry.tools.sentences import readable

    validate_question(args.question)  # an InvalidQuestion exits 2 (quarry.agent.cli.main)
    request = ResearchRequest(
        question=args.question,
        budget=limits_from(args, settings.research.budget),
        filters=filters_from(args),
        principal=Principal(id=args.principal, groups=args.groups),
        use_cache=not args.no_cache,
    )

    def progress(span: Span) -> None:
        if not args.quiet:
            cost = f", {span.tokens} tokens, ${span.usd:.6f}" if span.tokens else ""
            note = f" — {span.detail}" if span.detail else ""
            print(
                f"[{(span.start_ms + span.ms) / 1000:6.2f}s] {span.node:<13} {span.outcome}{cost}{note}",
                file=sys.stderr,
            )

    async def research(engine: Engine) -> Answer:
        final: Answer | None = None
        async with engine:
            async for event in engine.stream(request):
                if isinstance(event, NodeFinished):
                    progress(event.span)
                elif isinstance(event, FinalAnswer):
                    final = event.answer
        assert final is not None, "a run always ends with its final answer"
        return final

    with Components(settings) as components:
        request = replace(request, filters=as_stored(request.filters, components.store))
        answer = asyncio.run(research(components.engine))
    if args.format == "json":
        print(json.dumps(answer.dump(), indent=2))
        return ExitCode.OK
    if args.format == "markdown":
        print(answer.to_markdown(), end="")
        return ExitCode.OK
    print(answer.text)
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            print(f"  [{c.number}] {c.title} — {c.source}:{c.quote_start}-{c.quote_end} (document {c.document_id})")
            print(f"      “{' '.join(readable(c.quote).split())}”")
            if c.image is not None:
                print(f"      image {c.image.name} ({c.image.mime}, {c.image.width}×{c.image.height}): {c.image.path}")
    print(f"\n{outcome_line(answer)[:1].upper()}{outcome_line(answer)[1:]}")
    if answer.cache_hit:
        print(f"Saved ${answer.saved_usd:.6f}.")
    elif answer.partial and answer.stop_detail:
        print(answer.stop_detail)
    if answer.unanswered:
        print("Not answered: " + "; ".join(answer.unanswered))
    elif answer.gaps and answer.answered is not True:
        print("Still open: " + "; ".join(answer.gaps))
    stats = answer.citation_stats
    if stats.unresolved or stats.unsupported:
        print(f"Citations dropped: {stats.unresolved} unresolved, {stats.unsupported} unsupported by their passage.")
    _print_spend(answer)
    return ExitCode.OK


def _print_spend(answer: "Answer") -> None:
    total = answer.spend.total()
    print(
        f"Spend: ${total.usd:.6f} · {total.input_tokens} tokens in / {total.output_tokens} out · "
        f"{total.calls} LLM call(s) · {answer.elapsed_s:.2f} s · model {answer.model or 'none'} · run {answer.run_id}"
    )
    for node, spent in answer.spend.by_node.items():
        print(
            f"  {node:<11} ${spent.usd:.6f}  {spent.input_tokens:>6} in  {spent.output_tokens:>5} out  {spent.calls} call(s)"
        )
