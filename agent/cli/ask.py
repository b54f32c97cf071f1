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
from dataclasses import replace
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
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text (default); json: one JSON object (answer, answered, unanswered, citations with quotes, spend, …); "
        "markdown: a report (question, answer, numbered sources with quoted sentences, budget line)",
    )
    parser.add_argument("--json", action="store_const", const="json", dest="format", help="same as --format json")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.components import Components
    from quarry.agent.filter_spelling import as_stored
    from quarry.corpus.filters import Principal
    from quarry.graph.engine import ResearchRequest, validate_question
    from quarry.graph.events import DraftReady, NodeFinished, TextDelta

    started = time.perf_counter()
    validate_question(args.question)  # an InvalidQuestion exits 2 (quarry.agent.cli.main)
    request = ResearchRequest(
        question=args.question,
        budget=limits_from(args, settings.research.budget),
        filters=filters_from(args),
        principal=Principal(id=args.principal, groups=args.groups),
        use_cache=not args.no_cache,
        # A streaming model's draft is shown on stderr as it is written; stdout keeps the verified answer.
        stream_text=args.format == "text" and not args.quiet,
    )
    drafting: list[int] = []  # the hop whose draft is being written out, while it is

    def progress(event: "RunEvent") -> None:
        if args.quiet:
            return
        if isinstance(event, TextDelta):
            if drafting != [event.hop]:
                drafting[:] = [event.hop]
                print(f"[draft, hop {event.hop}, unverified] ", end="", file=sys.stderr)
            print(event.text, end="", file=sys.stderr, flush=True)
            return
        if isinstance(event, DraftReady) and drafting:
            drafting.clear()
            checked = f"{event.dropped} citation(s) dropped by" if event.dropped else "citations passed"
            print(
                f"\n[draft, hop {event.hop}: {checked} verification; the answer printed is the checked one]",
                file=sys.stderr,
            )
            return
        if not isinstance(event, NodeFinished):
            return
        if drafting:
            drafting.clear()
            print(file=sys.stderr)
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
        request = replace(request, filters=as_stored(request.filters, components.store))
        answer, startup_s = answer_after_start_up(
            components, request, started=started, on_ready=ready, on_event=progress
        )
        show_answer(answer, startup_s, output=args.format)
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


def show_answer(answer: "Answer", startup_s: float | None = None, *, output: str = "text") -> None:
    """The answer as `quarry ask` prints it in `output` (text, json or markdown); also for a server's
    answer, which has no local start-up."""
    from quarry.graph.report import outcome_line
    from quarry.tools.sentences import readable

    if output == "json":
        startup = {} if startup_s is None else {"startup_s": round(startup_s, 3)}
        print(json.dumps({**answer.dump(), **startup}, indent=2))
        return
    if output == "markdown":
        print(answer.to_markdown(), end="")
        return
    print(answer.text)
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            print(f"  {citation_line(c)} (document {c.document_id})")
            print(f"      “{' '.join(readable(c.quote).split())}”")
            if c.image is not None:
                print(f"      image {c.image.name} ({c.image.mime}, {c.image.width}×{c.image.height}): {c.image.path}")
    outcome = outcome_line(answer)
    print(f"\n{outcome[:1].upper()}{outcome[1:]}")
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
