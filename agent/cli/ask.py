"""`quarry ask "question"`: one research run within a budget; progress on stderr, the answer on stdout.

Start-up (the database, the embedding model, the tokenizer, the BM25 index and the knowledge graph)
happens before the run's clock starts and is reported apart from it, so --max-seconds buys research,
not loading. The answer is printed within ANSWER_TOLERANCE_S of the deadline, and work the run
abandoned at its deadline is never waited for (agent/loop.py: run_abandoning), so the command exits
within EXIT_TOLERANCE_S of the answer.
"""

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import add_budget_arguments, add_filter_arguments, filters_from, limits_from
from quarry.agent.cli.citing import citation_line
from quarry.errors import ExitCode

if TYPE_CHECKING:
    from quarry.agent.components import Components
    from quarry.agent.settings import Settings
    from quarry.graph.answer import Answer
    from quarry.graph.engine import ResearchRequest
    from quarry.graph.events import RunEvent

ANSWER_TOLERANCE_S = 0.5
"""The answer is printed at most this long after the run's deadline (the run's clock starts after start-up)."""
EXIT_TOLERANCE_S = 1.0
"""The command exits at most this long after printing the answer (closing the database, the interpreter's exit)."""


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "ask",
        help="answer a research question with citations, within a budget",
        description="Plan, search (dense + BM25 + knowledge graph), rerank, synthesize with verified citations, "
        "and search again for what is missing, until the answer is complete or a limit stops the run. A limit "
        "never fails the command: the best answer so far is printed, marked partial, with the limit that stopped it.",
        epilog="Limits default to the research.budget section of config.yaml. --max-seconds is the run's: it "
        "starts once the database, the embedding model and the indexes are loaded (start-up, reported apart), "
        f"and the answer is printed within {ANSWER_TOLERANCE_S:g} s of it. Without ANTHROPIC_API_KEY the "
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
        "--json", action="store_true", help="print one JSON object (answer, citations, spend, cache_hit, …)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.components import Components
    from quarry.corpus.filters import Principal
    from quarry.graph.engine import ResearchRequest, validate_question
    from quarry.graph.events import NodeFinished

    started = time.perf_counter()
    validate_question(args.question)  # an InvalidQuestion exits 2 (quarry.agent.cli.main)
    request = ResearchRequest(
        question=args.question,
        budget=limits_from(args, settings.research.budget),
        filters=filters_from(args),
        principal=Principal(id=args.principal, groups=args.groups),
        use_cache=not args.no_cache,
    )

    def progress(event: "RunEvent") -> None:
        if args.quiet or not isinstance(event, NodeFinished):
            return
        span = event.span
        cost = f", {span.tokens} tokens, ${span.usd:.6f}" if span.tokens else ""
        note = f" — {span.detail}" if span.detail else ""
        print(f"[{(span.start_ms + span.ms) / 1000:6.2f}s] {span.node:<13} {span.outcome}{cost}{note}", file=sys.stderr)

    def ready(startup_s: float) -> None:
        if not args.quiet:
            print(
                f"[start-up {startup_s:.2f}s] database, model and indexes ready; the run's clock starts",
                file=sys.stderr,
            )

    with Components(settings) as components:
        answer, startup_s = answer_after_start_up(
            components, request, started=started, on_ready=ready, on_event=progress
        )
        if args.json:
            print(json.dumps({**answer.dump(), "startup_s": round(startup_s, 3)}, indent=2))
        else:
            show_answer(answer, startup_s)
        sys.stdout.flush()
    return ExitCode.OK


def answer_after_start_up(
    components: "Components",
    request: "ResearchRequest",
    *,
    started: float,
    on_ready: Callable[[float], None],
    on_event: "Callable[[RunEvent], None]",
) -> "tuple[Answer, float]":
    """Warm everything the run reads, then run `request`; returns the answer and the start-up seconds
    (from `started`, a perf_counter reading, to the run's start). The run's blocking calls run on daemon
    threads, so the answer comes as soon as the run ends, whatever it abandoned at its deadline."""
    from quarry.agent.loop import run_abandoning
    from quarry.graph.events import FinalAnswer

    components.warm_up(request.principal)
    startup_s = time.perf_counter() - started
    on_ready(startup_s)

    async def research() -> "Answer":
        final: Answer | None = None
        async with components.engine as engine:
            async for event in engine.stream(request):
                on_event(event)
                if isinstance(event, FinalAnswer):
                    final = event.answer
        assert final is not None, "a run always ends with its final answer"
        return final

    return run_abandoning(research()), startup_s


def show_answer(answer: "Answer", startup_s: float | None = None) -> None:
    """The answer as `quarry ask` prints it: text, sources, outcome, spend (also for a server's answer,
    which has no local start-up)."""
    print(answer.text)
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            print(f"  {citation_line(c)} (document {c.document_id})")
            if c.image is not None:
                print(f"      image {c.image.name} ({c.image.mime}, {c.image.width}×{c.image.height}): {c.image.path}")
    if answer.cache_hit:
        print(
            f"\nServed from the semantic cache (answer of run {answer.cached_from or 'unknown'}; saved ${answer.saved_usd:.6f})."
        )
    elif answer.partial:
        print(f"\nPartial answer: stopped by {answer.stopped_by} after {answer.hops} hop(s). {answer.stop_detail}")
    else:
        print(f"\nComplete after {answer.hops} hop(s).")
    if answer.gaps:
        print("Still open: " + "; ".join(answer.gaps))
    stats = answer.citation_stats
    if stats.unresolved or stats.unsupported:
        print(f"Citations dropped: {stats.unresolved} unresolved, {stats.unsupported} unsupported by their passage.")
    _print_spend(answer, startup_s)


def _print_spend(answer: "Answer", startup_s: float | None) -> None:
    total = answer.spend.total()
    startup = f" (+ {startup_s:.2f} s start-up)" if startup_s is not None else ""
    print(
        f"Spend: ${total.usd:.6f} · {total.input_tokens} tokens in / {total.output_tokens} out · "
        f"{total.calls} LLM call(s) · {answer.elapsed_s:.2f} s{startup} · "
        f"model {answer.model or 'none'} · run {answer.run_id}"
    )
    for node, spent in answer.spend.by_node.items():
        print(
            f"  {node:<11} ${spent.usd:.6f}  {spent.input_tokens:>6} in  {spent.output_tokens:>5} out  {spent.calls} call(s)"
        )
