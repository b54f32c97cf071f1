"""`quarry ask/chat/search/runs/spend` against a server (QUARRY_URL + QUARRY_API_KEY): the same
arguments and output as in-process, the work done by the server as the key's principal. Flags that
would name an identity (--groups, --principal) are refused: over HTTP the key decides them."""

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from quarry.agent.client.http import RemoteClient
from quarry.errors import ExitCode, UsageError


def run_remote(args: argparse.Namespace, client: RemoteClient) -> int:
    _refuse_identity_flags(args)
    handlers: dict[str, Callable[[argparse.Namespace, RemoteClient], int]] = {
        "ask": _ask,
        "chat": _chat,
        "search": _search,
        "runs": _runs,
        "spend": _spend,
    }
    with client:
        return handlers[args.command](args, client)


def _refuse_identity_flags(args: argparse.Namespace) -> None:
    if tuple(getattr(args, "groups", ("public",))) != ("public",):
        raise UsageError("--groups cannot be used with QUARRY_URL: the API key's groups apply (see: quarry keys)")
    if getattr(args, "principal", None) not in (None, "cli"):
        raise UsageError("--principal cannot be used with QUARRY_URL: the API key names the principal")


def _budget(args: argparse.Namespace) -> dict[str, Any] | None:
    keys = ("max_seconds", "max_hops", "max_tokens", "max_usd")
    given = {key: getattr(args, key) for key in keys if getattr(args, key, None) is not None}
    return given or None


def _filters(args: argparse.Namespace) -> dict[str, Any] | None:
    found: dict[str, Any] = {
        "domains": list(args.domain),
        "authors": list(args.author),
        "tags": list(args.tag),
        "published_after": args.after.isoformat() if args.after else None,
        "published_before": args.before.isoformat() if args.before else None,
    }
    given = {key: value for key, value in found.items() if value}
    return given or None


def _progress(name: str, data: dict[str, Any]) -> None:
    if name == "node_finished":
        span = data["span"]
        cost = f", {span['tokens']} tokens, ${span['usd']:.6f}" if span["tokens"] else ""
        note = f" — {span['detail']}" if span["detail"] else ""
        print(
            f"[{(span['start_ms'] + span['ms']) / 1000:6.2f}s] {span['node']:<13} {span['outcome']}{cost}{note}",
            file=sys.stderr,
        )
    elif name == "error":
        print(f"quarry: the run failed on the server: {data['error']['message']}", file=sys.stderr)


def _answer_of(client: RemoteClient, path: str, body: dict[str, Any], *, quiet: bool) -> dict[str, Any]:
    from quarry.errors import ServiceError

    answer: dict[str, Any] | None = None
    for name, data in client.events(path, body):
        if not quiet:
            _progress(name, data)
        if name == "answer":
            answer = data
        elif name == "error":
            raise ServiceError(f"the run failed on the server: {data['error']['message']}")
    if answer is None:
        raise ServiceError("the server's event stream ended without an answer (was it restarted?)")
    return answer


def _ask(args: argparse.Namespace, client: RemoteClient) -> int:
    from quarry.agent.cli.ask import show_answer
    from quarry.graph.answer import Answer

    body = {
        "question": args.question,
        "budget": _budget(args),
        "filters": _filters(args),
        "use_cache": not args.no_cache,
    }
    answer = _answer_of(client, "/v1/ask", {k: v for k, v in body.items() if v is not None}, quiet=args.quiet)
    show_answer(Answer.load(answer), output=args.format)
    return ExitCode.OK


def _search(args: argparse.Namespace, client: RemoteClient) -> int:
    if not args.query.strip():
        raise UsageError("the query is empty")
    if args.after or args.before:
        raise UsageError("--after/--before are not available with QUARRY_URL yet; use --domain, --author, --tag")
    params: dict[str, Any] = {"q": args.query, "k": args.k, "mode": args.mode, "rerank": not args.no_rerank}
    params |= {"domain": args.domain or None, "author": args.author or None, "tag": args.tag or None}
    hits: list[dict[str, Any]] = client.get("/v1/search", **params)["hits"]
    if args.json:
        print(json.dumps(hits, indent=2))
        return ExitCode.OK
    if not hits:
        print("no passages found (check the key's groups and filters; is the corpus ingested?)")
    for rank, hit in enumerate(hits, start=1):
        snippet = " ".join(hit["text"].split())
        found_by = ", ".join(f"{name} #{r}" for name, r in hit["retrievers"].items())
        print(f"{rank:>2}. {hit['title']}  [{hit['score']:.3f}; {found_by}]")
        print(
            f"    {hit['source']}:{hit['start_char']}-{hit['end_char']}  "
            f"({hit['domain']}, {hit['author']}, {hit['published_at'][:10]})"
        )
        print(f"    {snippet[:240]}{'…' if len(snippet) > 240 else ''}")
        if hit.get("graph_path"):
            print(f"    via {' '.join(hit['graph_path'])}")
    return ExitCode.OK


def _runs(args: argparse.Namespace, client: RemoteClient) -> int:
    from datetime import datetime

    from quarry.agent.cli.runs import list_runs, show_run
    from quarry.agent.cli.tables import console_for_stdout
    from quarry.agent.ledger_view import CallRow, RunRecord, RunSummary
    from quarry.graph.trace import Span

    def summary(data: dict[str, Any]) -> RunSummary:
        return RunSummary(**{**data, "started_at": datetime.fromisoformat(data["started_at"])})

    console = console_for_stdout()
    if not args.run_id:
        rows = client.get("/v1/runs", limit=args.limit)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            list_runs(console, [summary(r) for r in rows])
        return ExitCode.OK
    run = client.get(f"/v1/runs/{args.run_id}")
    trace = client.get(f"/v1/runs/{args.run_id}/trace")
    if args.json:
        print(json.dumps({**run, "trace": trace["spans"], "calls": trace["calls"]}, indent=2))
        return ExitCode.OK
    record = RunRecord(
        summary(run["summary"]),
        run["limits"],
        run["corpus_version"],
        run["answer"],
        tuple(Span.load(s) for s in trace["spans"]),
        tuple(CallRow(**c) for c in trace["calls"]),
    )
    show_run(console, record, args.hits)
    return ExitCode.OK


def _spend(args: argparse.Namespace, client: RemoteClient) -> int:
    from quarry.agent.cli.spend import show_spend
    from quarry.agent.cli.tables import console_for_stdout
    from quarry.agent.ledger_view import SpendRow

    if args.by == "principal":
        raise UsageError("--by principal is the operator's view; over QUARRY_URL a key sees only its own spend")
    data = client.get("/v1/spend", by=args.by, since=args.since.isoformat() if args.since else None)
    if args.json:
        print(json.dumps(data["rows"], indent=2))
        return ExitCode.OK
    stats = client.get("/v1/cache/stats")
    rows = [SpendRow(**row) for row in data["rows"]]
    show_spend(console_for_stdout(), rows, args.by, args.since, stats["your_hit_runs"], stats["your_saved_usd"])
    return ExitCode.OK


def _chat(args: argparse.Namespace, client: RemoteClient) -> int:
    """A plain line-by-line chat: each line is the session's next turn, streamed; /quit leaves."""
    from quarry.agent.cli.ask import show_answer
    from quarry.agent.cli.chat import PROMPT
    from quarry.graph.answer import Answer

    if args.session:
        session = args.session
        client.get(f"/v1/sessions/{session}/messages")  # 404 now rather than at the first question
    else:
        budget = {k.removeprefix("session_"): getattr(args, k) for k in vars(args) if k.startswith("session_max_")}
        given = {k: v for k, v in budget.items() if v is not None}
        session = client.post("/v1/sessions", {"budget": given} if given else None)["session_id"]
    print(f"Session {session} on {client.url} (resume with: quarry chat --session {session}); /quit to leave.")
    while True:
        try:
            line = input(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            break
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        if line.startswith("/"):
            print("over QUARRY_URL only questions and /quit are understood")
            continue
        body = {"question": line, "budget": _budget(args), "filters": _filters(args), "use_cache": not args.no_cache}
        answer = _answer_of(
            client, f"/v1/sessions/{session}/messages", {k: v for k, v in body.items() if v is not None}, quiet=False
        )
        show_answer(Answer.load(answer))
    print(f"Session {session} saved.")
    return ExitCode.OK
